"""Payment gateways: one interface, two implementations chosen by configuration.

`SandboxGateway` (the default while STRIPE_SECRET_KEY is unset) moves money
only in the ledger: its checkout is a "test mode" page of our own. The
`StripeGateway` talks to Stripe Connect (separate charges and transfers)
through an injected `stripe.StripeClient`, never a global API key.

Gateways are called only *after* the intent row (amount, idempotency key) has
been committed, and always with that row's idempotency key, so a retry of the
same row can never move money twice.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterator, Protocol

import stripe
from flask import current_app

from marketplace.core.errors import DomainError
from marketplace.payments.keys import idempotency_key

log = logging.getLogger(__name__)

# The Stripe API version this code is written for (objects' shapes, events' payloads): every request
# sends it, and the webhook endpoints must be created with the same version. It is the version
# stripe-python 16.1 is generated for; tests/payments/test_stripe_gateway.py fails when they part.
STRIPE_API_VERSION = "2026-10-28.endive"


class GatewayError(DomainError):
    """The payment provider refused or could not be reached; `message` is safe to show.

    `retryable`: nothing definite happened (network error, 429, 5xx), so the same request with the same
    idempotency key may be sent again later. Otherwise the provider refused (4xx): that key's answer is
    final, and only a new operation, after the cause is fixed, can succeed.
    """

    status_code = 409

    def __init__(self, message: str, *, retryable: bool = False, code: str = "", **kw):
        super().__init__(message, **kw)
        self.retryable = retryable
        self.code = code or ""


class PaymentDeclined(GatewayError):
    """The card was refused. `payment_intent_id`: the PaymentIntent Stripe left behind (off-session charges)."""

    def __init__(self, message: str, *, payment_intent_id: str | None = None, **kw):
        super().__init__(message, **kw)
        self.payment_intent_id = payment_intent_id


@dataclass(frozen=True)
class SavedCard:
    """A card saved for off-session use, as the business sees it (never the number)."""
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    customer_id: str | None = None


@dataclass(frozen=True)
class SetupSession:
    """A Checkout session in setup mode, as the business returns from it."""
    complete: bool
    user_id: str
    customer_id: str | None
    setup_intent_id: str | None


@dataclass(frozen=True)
class OffSessionResult:
    payment_intent_id: str
    status: str              # succeeded | processing | requires_action | requires_payment_method ...
    charge_id: str | None = None


@dataclass(frozen=True)
class CheckoutStart:
    session_id: str
    url: str


@dataclass(frozen=True)
class AccountState:
    ready: bool
    requirements: str = ""


@dataclass(frozen=True)
class RefundState:
    external_id: str
    status: str              # pending | requires_action | succeeded | failed | canceled
    failure_reason: str = ""


@dataclass(frozen=True)
class BalanceTransaction:
    source_id: str
    type: str
    amount: int
    currency: str
    fee: int = 0
    net: int | None = None   # amount - fee when Stripe didn't say
    id: str = ""

    @property
    def net_amount(self) -> int:
        return self.amount - self.fee if self.net is None else self.net


@dataclass(frozen=True)
class FundingCharge:
    """The charge behind a paid PaymentIntent, and its balance transaction once Stripe has one."""
    charge_id: str
    balance_transaction: BalanceTransaction | None = None


class Gateway(Protocol):
    name: str
    test_mode: bool

    def create_checkout(self, charge, engagement, *, success_url: str, cancel_url: str) -> CheckoutStart: ...
    def charge_for_payment_intent(self, payment_intent_id: str) -> str | None: ...
    def transfer(self, transfer, *, source_transaction: str | None, transfer_group: str) -> str: ...
    def refund(self, refund, charge) -> tuple[str, str]: ...
    def refund_state(self, external_id: str) -> RefundState: ...
    def settlement_currency(self, charge_external_id: str) -> str | None: ...
    def reverse(self, reversal, transfer) -> str: ...
    def create_payout_account(self, user) -> str: ...
    def onboarding_url(self, account, *, return_url: str, refresh_url: str) -> str: ...
    def account_state(self, account) -> AccountState: ...
    def balance_transactions(self) -> Iterator[BalanceTransaction]: ...
    def funding_charge(self, payment_intent_id: str) -> FundingCharge | None: ...
    # A payment method on file (marketplace/payments/saved_methods.py, off_session.py).
    def create_customer(self, user) -> str | None: ...
    def create_setup_checkout(self, user, customer_id: str | None, *, success_url: str,
                              cancel_url: str) -> CheckoutStart: ...
    def card_from_setup_intent(self, setup_intent_id: str) -> SavedCard: ...
    def setup_session(self, session_id: str) -> SetupSession: ...
    def set_default_method(self, customer_id: str, payment_method_id: str) -> None: ...
    def detach_method(self, payment_method_id: str) -> None: ...
    def charge_off_session(self, charge, engagement, profile) -> OffSessionResult: ...


# The sandbox's test cards: what an off-session charge on each does, and the error it raises.
SANDBOX_CARDS = {
    "succeeds": ("visa", "4242"),
    "authentication_required": ("visa", "3184"),
    "declined": ("visa", "0341"),
}
SANDBOX_DECLINES = {
    "authentication_required": "Your card was declined. This transaction requires authentication "
                               "(test mode: simulated).",
    "declined": "Your card was declined (test mode: simulated).",
}


class SandboxGateway:
    """Test mode: ids are ours (sbx_...), and money moves only in the ledger."""

    name = "sandbox"
    test_mode = True

    def create_checkout(self, charge, engagement, *, success_url: str, cancel_url: str) -> CheckoutStart:
        from flask import url_for
        return CheckoutStart(f"sbx_cs_{charge.id}", url_for("payments.sandbox_checkout", charge_id=charge.id))

    def charge_for_payment_intent(self, payment_intent_id: str) -> str | None:
        return payment_intent_id.replace("sbx_pi_", "sbx_ch_")

    def transfer(self, transfer, *, source_transaction, transfer_group) -> str:
        return f"sbx_tr_{transfer.id}"

    def refund(self, refund, charge) -> tuple[str, str]:
        return f"sbx_re_{refund.id}", "succeeded"

    def refund_state(self, external_id: str) -> RefundState:
        return RefundState(external_id, "succeeded")

    def settlement_currency(self, charge_external_id: str) -> str | None:
        return None  # the sandbox settles in any currency

    def reverse(self, reversal, transfer) -> str:
        return f"sbx_trr_{reversal.id}"

    def create_payout_account(self, user) -> str:
        return f"sbx_acct_{user.id}"

    def onboarding_url(self, account, *, return_url: str, refresh_url: str) -> str:
        from flask import url_for
        return url_for("payments.sandbox_onboarding")

    def account_state(self, account) -> AccountState:
        return AccountState(ready=account.status == "ready")

    def balance_transactions(self) -> Iterator[BalanceTransaction]:
        return iter(())

    def funding_charge(self, payment_intent_id: str) -> FundingCharge | None:
        return FundingCharge(payment_intent_id.replace("sbx_pi_", "sbx_ch_"))  # no fees in test mode

    def create_customer(self, user) -> str | None:
        return None  # the sandbox keeps the test card on the billing profile itself

    def create_setup_checkout(self, user, customer_id, *, success_url: str, cancel_url: str) -> CheckoutStart:
        from flask import url_for
        return CheckoutStart(f"sbx_setup_{user.id}", url_for("billing.sandbox_card"))

    def card_from_setup_intent(self, setup_intent_id: str) -> SavedCard:
        raise GatewayError("Test mode saves cards on its own page.")

    def setup_session(self, session_id: str) -> SetupSession:
        raise GatewayError("Test mode saves cards on its own page.")

    def set_default_method(self, customer_id: str, payment_method_id: str) -> None:
        pass

    def detach_method(self, payment_method_id: str) -> None:
        pass

    def charge_off_session(self, charge, engagement, profile) -> OffSessionResult:
        intent = f"sbx_pi_{charge.id}"
        if profile.sandbox_behaviour in SANDBOX_DECLINES:
            code = "authentication_required" if profile.sandbox_behaviour == "authentication_required" \
                else "card_declined"
            raise PaymentDeclined(SANDBOX_DECLINES[profile.sandbox_behaviour], code=code, payment_intent_id=intent)
        return OffSessionResult(intent, "succeeded", f"sbx_ch_{charge.id}")


def _message(error: stripe.StripeError) -> str:
    return (getattr(error, "user_message", None) or "The payment service could not complete this. "
            "Nothing was charged twice; please try again in a few minutes.")


def is_retryable(error: stripe.StripeError) -> bool:
    """Network errors, 429 and 5xx may be resent with the same key; any other answer is final for that key."""
    if isinstance(error, (stripe.APIConnectionError, stripe.RateLimitError)):
        return True
    status = getattr(error, "http_status", None)
    return status is None or (status == 409 and not isinstance(error, stripe.IdempotencyError)) or status >= 500


class StripeGateway:
    name = "stripe"

    def __init__(self, client: stripe.StripeClient, *, test_mode: bool = False):
        self.client = client
        self.test_mode = test_mode

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except stripe.CardError as error:
            raise PaymentDeclined(_message(error), code=error.code or "") from error
        except stripe.StripeError as error:
            log.warning("Stripe call failed: %s", error)
            raise GatewayError(_message(error), retryable=is_retryable(error),
                               code=getattr(error, "code", None) or "") from error

    def create_checkout(self, charge, engagement, *, success_url: str, cancel_url: str) -> CheckoutStart:
        metadata = {"engagement_id": str(engagement.id), "charge_id": str(charge.id)}
        session = self._call(self.client.v1.checkout.sessions.create, {
            "mode": "payment",
            "client_reference_id": f"eng_{engagement.id}",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": charge.currency.lower(), "unit_amount": charge.amount,
                "product_data": {"name": engagement.task.title[:200]}}}],
            "payment_intent_data": {"transfer_group": f"eng_{engagement.id}", "metadata": metadata},
            "metadata": metadata,
            "success_url": success_url, "cancel_url": cancel_url,
        }, {"idempotency_key": charge.idempotency_key})
        return CheckoutStart(session.id, session.url)

    def charge_for_payment_intent(self, payment_intent_id: str) -> str | None:
        intent = self._call(self.client.v1.payment_intents.retrieve, payment_intent_id)
        latest = intent.latest_charge
        return latest if isinstance(latest, str) or latest is None else latest.id

    def transfer(self, transfer, *, source_transaction, transfer_group) -> str:
        params = {"amount": transfer.amount, "currency": transfer.currency.lower(),
                  "destination": transfer.destination, "transfer_group": transfer_group,
                  "metadata": {"engagement_id": str(transfer.engagement_id), "transfer_id": str(transfer.id)}}
        if source_transaction:
            params["source_transaction"] = source_transaction
        result = self._call(self.client.v1.transfers.create, params, {"idempotency_key": transfer.idempotency_key})
        return result.id

    def refund(self, refund, charge) -> tuple[str, str]:
        result = self._call(self.client.v1.refunds.create, {
            "payment_intent": charge.payment_intent_id, "amount": refund.amount,
            # The key tells our attempts of one refund row apart (a retried refund is a new Stripe refund).
            "metadata": {"engagement_id": str(refund.engagement_id), "refund_id": str(refund.id),
                         "attempt": refund.idempotency_key},
        }, {"idempotency_key": refund.idempotency_key})
        return result.id, result.status

    def refund_state(self, external_id: str) -> RefundState:
        result = self._call(self.client.v1.refunds.retrieve, external_id).to_dict()
        return RefundState(result["id"], result.get("status") or "", result.get("failure_reason") or "")

    def settlement_currency(self, charge_external_id: str) -> str | None:
        charge = self._call(self.client.v1.charges.retrieve, charge_external_id,
                            {"expand": ["balance_transaction"]}).to_dict()
        txn = charge.get("balance_transaction")
        return txn.get("currency") if isinstance(txn, dict) else None

    def reverse(self, reversal, transfer) -> str:
        result = self._call(self.client.v1.transfers.reversals.create, transfer.external_id,
                            {"amount": reversal.amount}, {"idempotency_key": reversal.idempotency_key})
        return result.id

    def create_payout_account(self, user) -> str:
        account = self._call(self.client.v1.accounts.create, {
            "type": "express", "email": user.email,
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"user_id": str(user.id)},
        }, {"idempotency_key": idempotency_key("account", f"user_{user.id}")})
        return account.id

    def onboarding_url(self, account, *, return_url: str, refresh_url: str) -> str:
        link = self._call(self.client.v1.account_links.create, {
            "account": account.external_id, "type": "account_onboarding",
            "return_url": return_url, "refresh_url": refresh_url})
        return link.url

    def account_state(self, account) -> AccountState:
        return account_state_of(self._call(self.client.v1.accounts.retrieve, account.external_id))

    def balance_transactions(self) -> Iterator[BalanceTransaction]:
        page = self._call(self.client.v1.balance_transactions.list, {"limit": 100})
        for bt in page.auto_paging_iter():
            yield _balance_transaction(bt)

    def funding_charge(self, payment_intent_id: str) -> FundingCharge | None:
        """The PaymentIntent's latest charge with its balance transaction (the fee Stripe kept)."""
        intent = self._call(self.client.v1.payment_intents.retrieve, payment_intent_id,
                            {"expand": ["latest_charge.balance_transaction"]})
        charge = _field(intent, "latest_charge")
        if charge is None:
            return None
        if isinstance(charge, str):
            charge = self._call(self.client.v1.charges.retrieve, charge, {"expand": ["balance_transaction"]})
        bt = _field(charge, "balance_transaction")
        if isinstance(bt, str):
            bt = self._call(self.client.v1.balance_transactions.retrieve, bt)
        return FundingCharge(charge.id, _balance_transaction(bt) if bt is not None else None)


    # --- a payment method on file ---------------------------------------------------------------------

    def create_customer(self, user) -> str | None:
        customer = self._call(self.client.v1.customers.create, {
            "email": user.email, "name": user.full_name[:200], "metadata": {"user_id": str(user.id)},
        }, {"idempotency_key": idempotency_key("customer", f"user_{user.id}")})
        return customer.id

    def create_setup_checkout(self, user, customer_id, *, success_url: str, cancel_url: str) -> CheckoutStart:
        # Cards only: they are what can be charged off-session every week without the business present.
        metadata = {"user_id": str(user.id), "purpose": "saved_payment_method"}
        session = self._call(self.client.v1.checkout.sessions.create, {
            "mode": "setup", "customer": customer_id, "allowed_payment_method_types": ["card"],
            "client_reference_id": f"user_{user.id}", "metadata": metadata,
            "setup_intent_data": {"metadata": metadata, "description": "Card on file for weekly invoices"},
            "success_url": success_url, "cancel_url": cancel_url,
        })
        return CheckoutStart(session.id, session.url)

    def card_from_setup_intent(self, setup_intent_id: str) -> SavedCard:
        intent = self._call(self.client.v1.setup_intents.retrieve, setup_intent_id,
                            {"expand": ["payment_method"]}).to_dict()
        method = intent.get("payment_method")
        if intent.get("status") != "succeeded" or not method:
            raise GatewayError("The card wasn't saved: the bank didn't confirm it. Please try again.")
        if isinstance(method, str):
            method = self._call(self.client.v1.payment_methods.retrieve, method).to_dict()
        card = method.get("card") or {}
        customer = intent.get("customer")
        return SavedCard(method["id"], str(card.get("brand") or method.get("type") or "card")[:20],
                         str(card.get("last4") or "")[:4], card.get("exp_month"), card.get("exp_year"),
                         customer if isinstance(customer, str) or customer is None else customer.get("id"))

    def setup_session(self, session_id: str) -> SetupSession:
        session = self._call(self.client.v1.checkout.sessions.retrieve, session_id).to_dict()
        intent, customer = session.get("setup_intent"), session.get("customer")
        return SetupSession(session.get("mode") == "setup" and session.get("status") == "complete",
                            str((session.get("metadata") or {}).get("user_id", "")),
                            customer if isinstance(customer, str) or customer is None else customer.get("id"),
                            intent if isinstance(intent, str) or intent is None else intent.get("id"))

    def set_default_method(self, customer_id: str, payment_method_id: str) -> None:
        self._call(self.client.v1.customers.update, customer_id,
                   {"invoice_settings": {"default_payment_method": payment_method_id}})

    def detach_method(self, payment_method_id: str) -> None:
        try:
            self._call(self.client.v1.payment_methods.detach, payment_method_id)
        except GatewayError as error:
            if error.code not in ("resource_missing", "payment_method_unexpected_state"):
                raise
            # Already detached (or gone): what we wanted.

    def charge_off_session(self, charge, engagement, profile) -> OffSessionResult:
        metadata = {"engagement_id": str(engagement.id), "charge_id": str(charge.id), "off_session": "true"}
        try:
            intent = self.client.v1.payment_intents.create({
                "amount": charge.amount, "currency": charge.currency.lower(),
                "customer": profile.customer_id, "payment_method": profile.payment_method_id,
                "allowed_payment_method_types": ["card"], "off_session": True, "confirm": True,
                "transfer_group": f"eng_{engagement.id}", "metadata": metadata,
                "description": f"{engagement.title} ({engagement.task.title})"[:300],
            }, {"idempotency_key": charge.idempotency_key})
        except stripe.CardError as error:
            # authentication_required (SCA) or a decline: Stripe names the PaymentIntent it left behind.
            body = error.json_body if isinstance(error.json_body, dict) else {}
            intent = (body.get("error") or {}).get("payment_intent") or {}
            raise PaymentDeclined(_message(error), code=error.code or "card_declined",
                                  payment_intent_id=intent.get("id") if isinstance(intent, dict) else None) from error
        except stripe.StripeError as error:
            log.warning("Stripe off-session charge failed: %s", error)
            raise GatewayError(_message(error), retryable=is_retryable(error),
                               code=getattr(error, "code", None) or "") from error
        latest = _field(intent, "latest_charge")
        return OffSessionResult(intent.id, intent.status,
                                latest if isinstance(latest, str) or latest is None else latest.id)


def _field(obj, name: str):
    # StripeObject is not a dict: a missing field raises AttributeError rather than returning None.
    return obj[name] if name in obj else None


def _balance_transaction(bt) -> BalanceTransaction:
    source = _field(bt, "source")
    source = source if isinstance(source, str) or source is None else source.id
    return BalanceTransaction(source or bt.id, bt.type, bt.amount, bt.currency, fee=_field(bt, "fee") or 0,
                              net=_field(bt, "net"), id=bt.id)


def account_state_of(account) -> AccountState:
    """Ready when Stripe has enabled transfers to the account; otherwise what it still needs.

    `account` is a StripeObject (from the API) or a plain dict (an event's payload). A StripeObject is not
    a dict (no `.get`), so it is converted once rather than probed field by field.
    """
    data = account.to_dict() if isinstance(account, stripe.StripeObject) else dict(account or {})
    transfers = (data.get("capabilities") or {}).get("transfers")
    due = list((data.get("requirements") or {}).get("currently_due") or [])
    return AccountState(ready=transfers == "active", requirements=", ".join(due)[:500])


def build_stripe_client(api_key: str, *, max_network_retries: int, http_client=None) -> stripe.StripeClient:
    """A StripeClient pinned to STRIPE_API_VERSION (tests pass a fake `http_client`)."""
    return stripe.StripeClient(api_key, stripe_version=STRIPE_API_VERSION, max_network_retries=max_network_retries,
                               http_client=http_client)


def stripe_client(app=None) -> stripe.StripeClient:
    """The app's StripeClient, built once with network retries (tests put their own in app.extensions)."""
    app = app or current_app._get_current_object()
    client = app.extensions.get("stripe_client")
    if client is None:
        client = build_stripe_client(app.config["STRIPE_SECRET_KEY"],
                                     max_network_retries=app.config["STRIPE_MAX_NETWORK_RETRIES"])
        app.extensions["stripe_client"] = client
    return client


def uses_stripe(app=None) -> bool:
    app = app or current_app
    choice = app.config.get("PAYMENTS_GATEWAY", "auto")
    return choice == "stripe" or (choice == "auto" and bool(app.config.get("STRIPE_SECRET_KEY")))


def get_gateway() -> Gateway:
    if uses_stripe():
        key = current_app.config.get("STRIPE_SECRET_KEY") or ""
        return StripeGateway(stripe_client(), test_mode=key.startswith(("sk_test_", "rk_test_")))
    return SandboxGateway()
