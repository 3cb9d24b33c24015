from sqlalchemy import func, select

from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import verify_password
from marketplace.demo import DEMO_LOGINS, DEMO_PASSWORD, seed_demo
from marketplace.extensions import db
from marketplace.profiles.models import FreelancerLanguage, FreelancerProfile, FreelancerSkill


def _generated_names():
    return list(db.session.scalars(select(User.full_name).where(User.email.like("specialist%@example.net"))
                                   .order_by(User.email)))


def test_seed_demo_creates_logins_and_realistic_profiles():
    seed_demo(freelancers=25, businesses=5, seed=3)
    for role, email in DEMO_LOGINS.items():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user.role == Role(role) and verify_password(user.password_hash, DEMO_PASSWORD)
    generated = db.session.scalar(select(func.count()).select_from(FreelancerProfile)
                                  .join(User).where(User.email.like("specialist%@example.net")))
    assert generated == 25
    assert db.session.scalar(select(func.count()).select_from(FreelancerLanguage)
                             .where(FreelancerLanguage.proficiency == "native")) >= 25
    assert db.session.scalar(select(func.min(FreelancerSkill.level))) >= 1


def test_seed_demo_is_deterministic_and_adds_without_clashing():
    with db.session.begin_nested() as first:
        seed_demo(freelancers=10, businesses=0, seed=42)
        names_first = _generated_names()
        first.rollback()
    seed_demo(freelancers=10, businesses=0, seed=42)
    assert _generated_names() == names_first
    seed_demo(freelancers=5, businesses=2, seed=42)  # a second run adds more, no unique clash
    assert len(_generated_names()) == 15


def test_seed_demo_command_if_empty(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--freelancers", "3", "--businesses", "1"])
    assert result.exit_code == 0, result.output
    assert "freelancer@example.com" in result.output
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "left as it is" in again.output


def test_seed_demo_includes_an_ended_milestone_contract_with_one_approved_and_one_refunded_milestone():
    from marketplace.contracts.models import Contract
    from marketplace.engagements.models import Engagement
    from marketplace.payments import ledger
    from marketplace.payments.models import Refund

    seed_demo(freelancers=12, businesses=2, seed=7)
    specialist = db.session.scalar(select(User).where(User.email == DEMO_LOGINS["freelancer"]))
    contracts = [c for c in db.session.scalars(select(Contract).where(Contract.freelancer_id == specialist.id))
                 if len(c.payables) == 2]
    assert len(contracts) == 1
    contract = contracts[0]
    assert contract.status.value == "ended" and contract.task.status.value == "completed"
    first, second = contract.payables
    assert (first.title, first.status.value, first.amount) == ("Stage 1: refunds", "completed", 50_000)
    assert (second.title, second.status.value, second.amount) == ("Stage 2: exchanges", "cancelled", 34_000)
    assert db.session.scalar(select(func.sum(Refund.amount)).where(Refund.engagement_id == second.id)) == 34_000
    assert db.session.scalar(select(func.count()).select_from(Engagement)
                             .where(Engagement.contract_id == contract.id)) == 2
    assert ledger.check() == []


def test_seed_demo_includes_an_hourly_contract_with_paid_disputed_and_failed_then_paid_weeks():
    from marketplace.contracts.models import Contract, ContractKind
    from marketplace.engagements.models import EngagementStatus as S
    from marketplace.invoicing.models import WeeklyInvoice
    from marketplace.payments import ledger

    seed_demo(freelancers=12, businesses=2, seed=7)
    specialist = db.session.scalar(select(User).where(User.email == DEMO_LOGINS["freelancer"]))
    contract = db.session.scalar(select(Contract).where(Contract.freelancer_id == specialist.id,
                                                        Contract.kind == ContractKind.HOURLY))
    invoices = db.session.scalars(select(WeeklyInvoice).where(WeeklyInvoice.contract_id == contract.id)
                                  .order_by(WeeklyInvoice.week_start)).all()
    assert len(invoices) == 4
    paid, disputed, failed, last = invoices
    assert paid.engagement.status == S.COMPLETED
    assert disputed.engagement.status == S.RESOLVED and any(line.disputed for line in disputed.lines)
    assert failed.payment_failed_at is not None and failed.engagement.status == S.COMPLETED
    assert last.over_limit_minutes == 90 and last.engagement.status in (S.DELIVERED, S.COMPLETED)
    assert ledger.check() == []


def test_seed_demo_includes_a_coverage_schedule_with_holders_a_gap_and_a_past_record():
    from marketplace.core.time import utcnow
    from marketplace.schedules import calendar, records
    from marketplace.schedules.demo import DEMO_SCHEDULE_TITLE
    from marketplace.schedules.models import ScheduleBlock, Shift, ShiftSeat
    from marketplace.tasks.models import Task

    seed_demo(freelancers=4, businesses=1, seed=7)
    task = db.session.scalar(select(Task).where(Task.title == DEMO_SCHEDULE_TITLE))
    assert db.session.scalar(select(func.count()).select_from(ScheduleBlock).where(ScheduleBlock.task_id == task.id)) == 6
    now = utcnow()
    holders = set(db.session.scalars(select(ShiftSeat.holder_id).join(Shift).where(
        Shift.task_id == task.id, Shift.starts_at > now, ShiftSeat.holder_id.is_not(None))))
    assert len(holders) == 3
    saturday_open = [s for s in calendar.open_shifts(task, now) if s.local_date.weekday() == 5]
    assert saturday_open and all(s.open_seats == 1 for s in saturday_open)
    figures = records.records_for(sorted(holders), now)
    assert sum(r.missed for r in figures.values()) == 2 and sum(r.late_drops for r in figures.values()) == 2
    assert all(r.kept > 0 for r in figures.values())
    assert 0 < calendar.coverage(task, now).percent < 100
