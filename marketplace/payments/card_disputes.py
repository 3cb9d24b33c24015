"""Card disputes (chargebacks): the business's bank takes the payment back through Stripe.

While a dispute is open its engagement is frozen: nothing is released (approval,
auto-approval, a dispute resolution) and nothing refunded, and operators see it
among the payments needing attention.

Money follows the dispute's balance transactions, which Stripe embeds in every
`charge.dispute.*` event (so the order of delivery doesn't matter): the amount
withdrawn (and reinstated) moves between platform_cash and disputed_funds, and
so does the dispute fee. When the dispute closes, what is still withdrawn is
settled: lost -> dispute_losses (the amount and the fee); won -> stripe_fees
(the fee Stripe kept, if it kept one). A lost dispute on money still held for
the engagement is covered by that money: the engagement is cancelled, since
the business already has its money back from its bank.
"""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.core.money import format_money
from marketplace.extensions import db
from marketplace.payments import ledger
from marketplace.payments.ledger import CASH, DISPUTED_FUNDS, DISPUTES, HELD, REFUNDS, STRIPE_FEES, Line
from marketplace.payments.models import (CARD_DISPUTE_CLOSED, CardDispute, Charge, LedgerAccount, LedgerEntry,
                                         LedgerTransaction)

FROZEN = ("The business's bank has opened a card dispute on this payment, so the money stays held until "
          "the dispute is settled. Our team is handling it.")


def _freezing():
    """Open card disputes on the charge that funded their engagement. A dispute on a duplicate or late
    payment (already refunded in full) is the platform's loss alone: the engagement's held money, paid by
    another charge, stays free to move."""
    return (select(CardDispute)
            .join(Charge, (Charge.external_id == CardDispute.charge_external_id)
                  & (Charge.engagement_id == CardDispute.engagement_id))
            .where(Charge.status == "succeeded", CardDispute.status.not_in(CARD_DISPUTE_CLOSED)))


def open_dispute_for(engagement_id: int) -> CardDispute | None:
    return db.session.scalar(_freezing().where(CardDispute.engagement_id == engagement_id)
                             .order_by(CardDispute.id).limit(1))


def frozen_engagement_ids():
    """A subquery of engagements with an open card dispute on their funding charge (auto-approval job)."""
    return _freezing().with_only_columns(CardDispute.engagement_id)


def _funded_by_disputed_charge(dispute: CardDispute) -> bool:
    return dispute.engagement_id is not None and db.session.scalar(
        select(Charge.id).where(Charge.external_id == dispute.charge_external_id,
                                Charge.engagement_id == dispute.engagement_id, Charge.status == "succeeded")) is not None


def _freezes(dispute: CardDispute) -> bool:
    return dispute.status not in CARD_DISPUTE_CLOSED and _funded_by_disputed_charge(dispute)


def _charge_of(obj: dict) -> Charge | None:
    charge = None
    if obj.get("charge"):
        charge = db.session.scalar(select(Charge).where(Charge.external_id == obj["charge"]))
    if charge is None and obj.get("payment_intent"):
        charge = db.session.scalar(select(Charge).where(Charge.payment_intent_id == obj["payment_intent"]))
    return charge


def record_event(obj: dict, kind: str) -> str:
    """Apply one `charge.dispute.*` event (flush only). `obj` has been shape-checked by the webhook."""
    dispute = db.session.scalar(select(CardDispute).where(CardDispute.external_id == obj["id"]))
    created = dispute is None
    if created:
        charge = _charge_of(obj)
        dispute = CardDispute(external_id=obj["id"], charge_external_id=obj.get("charge") or "",
                              engagement_id=charge.engagement_id if charge else None,
                              amount=int(obj.get("amount") or 0), currency=(obj.get("currency") or "usd").upper(),
                              status=obj.get("status") or "needs_response", reason=obj.get("reason") or "")
        db.session.add(dispute)
        db.session.flush()
        _announce(dispute)
    elif obj.get("status") and dispute.status not in CARD_DISPUTE_CLOSED:
        dispute.status = obj["status"]   # a closed dispute stays closed, whatever arrives late
    db.session.flush()
    posted = _post_balance_transactions(dispute, obj.get("balance_transactions") or [])
    if not posted and not obj.get("balance_transactions"):
        _post_without_balance_transactions(dispute, kind)
    if dispute.status in CARD_DISPUTE_CLOSED:
        return _settle(dispute)
    return f"card dispute {dispute.status}"


def _announce(dispute: CardDispute) -> None:
    amount = format_money(dispute.amount, dispute.currency)
    if dispute.status not in CARD_DISPUTE_CLOSED:
        from marketplace.payments import attention
        attention.announce(attention.Item("card_dispute", dispute.id, dispute.engagement_id, dispute.amount,
                                          dispute.currency, dispute.status,
                                          f"{dispute.reason or 'no reason given'}, on charge "
                                          f"{dispute.charge_external_id}; " + (
                                              "the engagement is frozen until it is settled" if _freezes(dispute)
                                              else "a payment already refunded, the engagement is not frozen"),
                                          dispute.created_at))
    if _freezes(dispute):
        from marketplace.engagements import transitions
        from marketplace.engagements.models import Engagement
        engagement = db.session.get(Engagement, dispute.engagement_id)
        transitions._event(engagement, None, engagement.status.value, engagement.status.value,
                           f"Card dispute opened by the business's bank ({amount}): release and "
                           "auto-approval are paused until it is settled")


def _post_balance_transactions(dispute: CardDispute, bts: list[dict]) -> int:
    posted = 0
    for bt in bts:
        amount, fee = int(bt.get("amount") or 0), int(bt.get("fee") or 0)
        currency = (bt.get("currency") or dispute.currency).upper()
        if amount:
            _, new = ledger.post(bt["id"], "card_dispute_funds",
                                 [Line(CASH, amount), Line(DISPUTED_FUNDS, -amount)], currency=currency,
                                 engagement_id=dispute.engagement_id, stripe_source=dispute.external_id,
                                 description="Card dispute: funds " + ("withdrawn" if amount < 0 else "reinstated"))
            posted += new
        if fee:
            _, new = ledger.post(f"fee:{bt['id']}", "card_dispute_fee", [Line(DISPUTED_FUNDS, fee), Line(CASH, -fee)],
                                 currency=currency, engagement_id=dispute.engagement_id,
                                 stripe_source=dispute.external_id,
                                 description="Card dispute fee" + (" returned" if fee < 0 else ""))
            posted += new
    return posted


def _post_without_balance_transactions(dispute: CardDispute, kind: str) -> None:
    # An event whose object carries no balance transactions: the amount only, by event kind.
    if kind == "charge.dispute.funds_withdrawn":
        ledger.post(f"{dispute.external_id}:funds_withdrawn", "card_dispute_funds",
                    [Line(DISPUTED_FUNDS, dispute.amount), Line(CASH, -dispute.amount)], currency=dispute.currency,
                    engagement_id=dispute.engagement_id, stripe_source=dispute.external_id,
                    description="Card dispute: funds withdrawn")
    elif kind == "charge.dispute.funds_reinstated":
        ledger.post(f"{dispute.external_id}:funds_reinstated", "card_dispute_funds",
                    [Line(CASH, dispute.amount), Line(DISPUTED_FUNDS, -dispute.amount)], currency=dispute.currency,
                    engagement_id=dispute.engagement_id, stripe_source=dispute.external_id,
                    description="Card dispute: funds reinstated")


def _sum(code: str, dispute: CardDispute, kinds: tuple[str, ...] | None = None) -> int:
    query = (select(func.coalesce(func.sum(LedgerEntry.amount), 0)).join(LedgerAccount)
             .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
             .where(LedgerAccount.code == code, LedgerTransaction.stripe_source == dispute.external_id))
    if kinds:
        query = query.where(LedgerTransaction.kind.in_(kinds))
    return int(db.session.scalar(query))


def _settle(dispute: CardDispute) -> str:
    outstanding = _sum(DISPUTED_FUNDS, dispute)
    if dispute.status == "lost":
        if outstanding > 0:
            ledger.post(f"{dispute.external_id}:lost", "card_dispute_lost",
                        [Line(DISPUTES, outstanding), Line(DISPUTED_FUNDS, -outstanding)], currency=dispute.currency,
                        engagement_id=dispute.engagement_id, stripe_source=dispute.external_id,
                        description="Card dispute lost: amount and dispute fee")
        _cover_from_held(dispute)
        return "card dispute lost"
    if dispute.status == "won" and outstanding > 0:
        fees = _sum(DISPUTED_FUNDS, dispute, ("card_dispute_fee",))
        if outstanding > fees:
            # Won, but the reinstatement isn't in yet: its event (or a later one) settles it.
            return "card dispute won; waiting for the funds to be reinstated"
        ledger.post(f"{dispute.external_id}:won", "card_dispute_won",
                    [Line(STRIPE_FEES, outstanding), Line(DISPUTED_FUNDS, -outstanding)], currency=dispute.currency,
                    engagement_id=dispute.engagement_id, stripe_source=dispute.external_id,
                    description="Card dispute won: the dispute fee Stripe kept")
    return f"card dispute {dispute.status}"


def _cover_from_held(dispute: CardDispute) -> None:
    """The bank returned the money to the business: what is still held for the engagement covers the loss."""
    if dispute.engagement_id is None or not _funded_by_disputed_charge(dispute):
        return
    from marketplace.engagements import transitions
    from marketplace.engagements.models import Engagement, EngagementStatus as S
    engagement = db.session.get(Engagement, dispute.engagement_id)
    held = ledger.held_for(engagement)
    if held <= 0 or engagement.status not in (S.ACTIVE, S.DELIVERED, S.DISPUTED):
        return   # already released: the loss stays with the platform (an operator may reverse the payout)
    covered = min(held, dispute.amount)
    rest = held - covered
    charge = transitions.funded_charge(engagement)
    transitions._move(engagement, (S.ACTIVE, S.DELIVERED, S.DISPUTED), S.CANCELLED, None,
                      f"Cancelled: the business's bank took back {format_money(covered, engagement.currency)} "
                      "in a card dispute" + (f"; the remaining {format_money(rest, engagement.currency)} "
                                             "is refunded" if rest else ""), auto_approve_at=None)
    ledger.post(f"{dispute.external_id}:held", "card_dispute_settlement",
                [Line(HELD, held), Line(DISPUTES, -covered), Line(REFUNDS, -rest)], currency=engagement.currency,
                engagement_id=engagement.id, stripe_source=dispute.external_id,
                description="Lost card dispute covered by the money held for the engagement")
    if rest and charge is not None:
        transitions._new_refund(engagement, charge, rest, "Rest of a payment taken back in a card dispute")
    transitions._notify_other(None, engagement, "dispute_card_lost", f"“{engagement.task.title}” was cancelled",
                              "The business's bank took the payment back in a card dispute, so the engagement "
                              "is closed.")
