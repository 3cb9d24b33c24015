"""Hypothesis drives random sequences of fund / deliver / approve / refund / split / replay / execute
and checks after every step that the ledger balances and no held balance goes negative."""
from __future__ import annotations

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from marketplace.core.errors import DomainError
from marketplace.engagements import transitions
from marketplace.engagements.models import EngagementStatus as S
from marketplace.extensions import db
from marketplace.payments import executor, ledger, services
from tests import factories
from tests.payments.helpers import ledger_counts


class Money(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.operator = factories.create_operator()
        self.engagements = []
        self.charges = {}

    def _pick(self, i):
        return self.engagements[i % len(self.engagements)] if self.engagements else None

    def _try(self, fn, *args, **kw):
        before = ledger_counts()
        try:
            with db.session.begin_nested():
                return fn(*args, **kw)
        except DomainError:
            assert ledger_counts() == before, "a refused action wrote to the ledger"
            return None

    @rule(amount=st.integers(min_value=1, max_value=5_000_000), fee_bps=st.sampled_from([0, 1, 999, 1000, 2500]),
          ready=st.booleans())
    def hire(self, amount, fee_bps, ready):
        e = factories.create_engagement(amount=amount, fee_bps=fee_bps)
        if ready:
            services.sandbox_connect(e.freelancer)
        self.engagements.append(e)

    @rule(i=st.integers(0, 50))
    def fund(self, i):
        e = self._pick(i)
        if e is None:
            return
        charge = self._try(transitions.begin_funding, e.business, e, "sandbox")
        if charge is not None:
            self.charges.setdefault(e.id, []).append(charge)
            self._try(services.sandbox_pay, e.business, charge)

    @rule(i=st.integers(0, 50))
    def replay_payment(self, i):
        e = self._pick(i)
        for charge in (self.charges.get(e.id, []) if e else []):
            before = ledger_counts()
            self._try(transitions.confirm_funding, charge, payment_intent_id=f"sbx_pi_{charge.id}")
            if charge.status == "succeeded" and e.status != S.AWAITING_FUNDING:
                assert ledger_counts() == before or e.status == S.CANCELLED

    @rule(i=st.integers(0, 50))
    def deliver(self, i):
        e = self._pick(i)
        if e:
            self._try(transitions.deliver, e.freelancer, e, "done")

    @rule(i=st.integers(0, 50))
    def approve(self, i):
        e = self._pick(i)
        if e:
            self._try(transitions.approve, e.business, e)

    @rule(i=st.integers(0, 50))
    def refund(self, i):
        e = self._pick(i)
        if e:
            self._try(transitions.cancel, e.freelancer, e, "stepping back")

    @rule(i=st.integers(0, 50))
    def dispute(self, i):
        e = self._pick(i)
        if e:
            self._try(transitions.open_dispute, e.business, e, "not what we agreed")

    @rule(i=st.integers(0, 50), share=st.integers(-10, 110), extra=st.sampled_from([0, 0, 1, -1]))
    def split(self, i, share, extra):
        e = self._pick(i)
        if e:
            refund = e.amount * share // 100
            self._try(transitions.resolve_dispute, self.operator, e, refund, e.amount - refund + extra)

    @rule()
    def execute(self):
        db.session.flush()
        executor.process_due()

    @invariant()
    def ledger_balances(self):
        problems = ledger.check()
        assert problems == [], problems
        for e in self.engagements:
            assert ledger.held_for(e) >= 0


def test_ledger_stays_balanced_under_random_sequences():
    run_state_machine_as_test(Money, settings=settings(max_examples=int(__import__("os").environ.get("LEDGER_EXAMPLES", 30)), stateful_step_count=20, deadline=None, database=None,
                                                       suppress_health_check=list(HealthCheck)))
