"""contracts and milestones: every engagement becomes a payable under a contract

A contract holds the terms between one business and one specialist on one task; the existing
engagement row, with its whole money lifecycle, becomes one payable under it (a milestone today,
an invoice or a bonus later).

Data: one contract per existing engagement, with the engagement's id (so the mapping needs no
lookup table): kind from the task's pricing, the hourly rate and a weekly limit from the accepted
proposal (its estimated hours, capped at 60 h), currency and fee copied, `ended` for a completed,
cancelled or resolved engagement (ended at its completion, else its last change), else `active`.
Each engagement becomes its contract's milestone 1, titled like the task. Reviews are anchored on
the contract (one per author per contract). A task's filled seats now count the contracts that
have not ended, and an in-progress task whose contracts have all ended is completed.

Downgrade folds every contract back into its single engagement; it refuses (and changes nothing)
once a contract has more than one payable, which the old schema cannot hold.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 06:51:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

ENDED = "('completed', 'cancelled', 'resolved')"
MAX_WEEKLY_LIMIT_MINUTES = 3600   # marketplace.contracts.models.MAX_WEEKLY_LIMIT_MINUTES, frozen here


def upgrade():
    op.create_table('contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('business_id', sa.Integer(), nullable=False),
    sa.Column('freelancer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('fixed', 'hourly', name='contractkind', native_enum=False, length=20), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fee_bps', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('active', 'paused', 'ended', name='contractstatus', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hourly_rate', sa.Integer(), nullable=True),
    sa.Column('weekly_limit_minutes', sa.Integer(), nullable=True),
    sa.Column('next_weekly_limit_minutes', sa.Integer(), nullable=True),
    sa.Column('weekly_retainer', sa.Integer(), server_default='0', nullable=False),
    sa.Column('manual_time_allowed', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'ended' AND ended_at IS NOT NULL) OR (status <> 'ended' AND ended_at IS NULL)", name=op.f('ck_contracts_ended_at_matches_status')),
    sa.CheckConstraint("kind = 'fixed' OR (hourly_rate > 0 AND weekly_limit_minutes > 0)", name=op.f('ck_contracts_hourly_terms_complete')),
    sa.CheckConstraint('fee_bps BETWEEN 0 AND 10000', name=op.f('ck_contracts_fee_bps_range')),
    sa.CheckConstraint('hourly_rate IS NULL OR hourly_rate > 0', name=op.f('ck_contracts_hourly_rate_positive')),
    sa.CheckConstraint('next_weekly_limit_minutes IS NULL OR next_weekly_limit_minutes BETWEEN 1 AND 10080', name=op.f('ck_contracts_next_weekly_limit_range')),
    sa.CheckConstraint('weekly_limit_minutes IS NULL OR weekly_limit_minutes BETWEEN 1 AND 10080', name=op.f('ck_contracts_weekly_limit_range')),
    sa.CheckConstraint('weekly_retainer >= 0', name=op.f('ck_contracts_weekly_retainer_not_negative')),
    sa.ForeignKeyConstraint(['bid_id'], ['bids.id'], name=op.f('fk_contracts_bid_id_bids')),
    sa.ForeignKeyConstraint(['business_id'], ['users.id'], name=op.f('fk_contracts_business_id_users')),
    sa.ForeignKeyConstraint(['freelancer_id'], ['users.id'], name=op.f('fk_contracts_freelancer_id_users')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_contracts_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('bid_id', name=op.f('uq_contracts_bid_id'))
    )
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contracts_business_id'), ['business_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_freelancer_id'), ['freelancer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_task_id'), ['task_id'], unique=False)

    # New columns start empty, are filled from the data, then become required.
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contract_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('payable_kind', sa.Enum('milestone', 'invoice', 'bonus', name='payablekind', native_enum=False, length=20), server_default='milestone', nullable=False))
        batch_op.add_column(sa.Column('title', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('position', sa.Integer(), nullable=True))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contract_id', sa.Integer(), nullable=True))

    _contracts_from_engagements()

    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.alter_column('contract_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('title', existing_type=sa.String(length=120), nullable=False)
        batch_op.alter_column('position', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('bid_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.drop_constraint(batch_op.f('uq_engagements_bid_id'), type_='unique')
        batch_op.create_index(batch_op.f('ix_engagements_contract_id'), ['contract_id'], unique=False)
        batch_op.create_unique_constraint('uq_engagements_contract_position', ['contract_id', 'position'])
        batch_op.create_check_constraint(op.f('ck_engagements_position_positive'), 'position >= 1')
        batch_op.create_foreign_key(batch_op.f('fk_engagements_contract_id_contracts'), 'contracts', ['contract_id'], ['id'])

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.alter_column('contract_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_reviews_engagement_author'), type_='unique')
        batch_op.create_index(batch_op.f('ix_reviews_contract_id'), ['contract_id'], unique=False)
        batch_op.create_unique_constraint('uq_reviews_contract_author', ['contract_id', 'author_id'])
        batch_op.create_foreign_key(batch_op.f('fk_reviews_contract_id_contracts'), 'contracts', ['contract_id'], ['id'], ondelete='CASCADE')


def _contracts_from_engagements():
    bind = op.get_bind()
    limit = (f"CASE WHEN COALESCE(b.estimated_hours, t.estimated_hours) * 60 > {MAX_WEEKLY_LIMIT_MINUTES} "
             f"THEN {MAX_WEEKLY_LIMIT_MINUTES} ELSE COALESCE(b.estimated_hours, t.estimated_hours) * 60 END")
    op.execute(f"""
        INSERT INTO contracts (id, task_id, bid_id, business_id, freelancer_id, kind, currency, fee_bps, status,
                               created_at, updated_at, ended_at, hourly_rate, weekly_limit_minutes)
        SELECT e.id, e.task_id, e.bid_id, e.business_id, e.freelancer_id, t.pricing, e.currency, e.fee_bps,
               CASE WHEN e.status IN {ENDED} THEN 'ended' ELSE 'active' END,
               e.created_at, e.updated_at,
               CASE WHEN e.status IN {ENDED} THEN COALESCE(e.completed_at, e.updated_at) END,
               CASE WHEN t.pricing = 'hourly' THEN b.amount END,
               CASE WHEN t.pricing = 'hourly' THEN {limit} END
        FROM engagements e JOIN tasks t ON t.id = e.task_id JOIN bids b ON b.id = e.bid_id
    """)
    if bind.dialect.name == "postgresql":
        # Rows were inserted with explicit ids: move the sequence past them.
        op.execute("SELECT setval(pg_get_serial_sequence('contracts', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM contracts), 0) + 1, false)")
    op.execute("""
        UPDATE engagements SET contract_id = id, position = 1,
               title = (SELECT tasks.title FROM tasks WHERE tasks.id = engagements.task_id)
    """)
    op.execute("""
        UPDATE reviews SET contract_id =
            (SELECT engagements.contract_id FROM engagements WHERE engagements.id = reviews.engagement_id)
    """)
    op.execute("""
        UPDATE tasks SET filled_seats = (SELECT COUNT(*) FROM contracts
                                         WHERE contracts.task_id = tasks.id AND contracts.status <> 'ended')
        WHERE EXISTS (SELECT 1 FROM contracts WHERE contracts.task_id = tasks.id)
    """)
    op.execute("""
        UPDATE tasks SET status = 'completed', closed_at = COALESCE(closed_at, updated_at)
        WHERE status = 'in_progress'
          AND EXISTS (SELECT 1 FROM contracts WHERE contracts.task_id = tasks.id)
          AND NOT EXISTS (SELECT 1 FROM contracts WHERE contracts.task_id = tasks.id AND contracts.status <> 'ended')
    """)


def downgrade():
    bind = op.get_bind()
    folded = bind.execute(sa.text(
        "SELECT COUNT(*) FROM engagements WHERE bid_id IS NULL OR contract_id IN "
        "(SELECT contract_id FROM engagements GROUP BY contract_id HAVING COUNT(*) > 1)")).scalar()
    if folded:
        raise RuntimeError(f"Can't downgrade below 0013: {folded} payables belong to contracts with several "
                           "payables (milestones), which the old schema (one engagement per hire) can't hold.")

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reviews_contract_id_contracts'), type_='foreignkey')
        batch_op.drop_constraint('uq_reviews_contract_author', type_='unique')
        batch_op.drop_index(batch_op.f('ix_reviews_contract_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_reviews_engagement_author'), ['engagement_id', 'author_id'])
        batch_op.drop_column('contract_id')

    # Before contracts, every hire kept its seat for good.
    op.execute("""
        UPDATE tasks SET filled_seats = (SELECT CASE WHEN COUNT(*) > tasks.seats THEN tasks.seats ELSE COUNT(*) END
                                         FROM contracts WHERE contracts.task_id = tasks.id)
        WHERE EXISTS (SELECT 1 FROM contracts WHERE contracts.task_id = tasks.id)
    """)

    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_engagements_contract_id_contracts'), type_='foreignkey')
        batch_op.drop_constraint(op.f('ck_engagements_position_positive'), type_='check')
        batch_op.drop_constraint('uq_engagements_contract_position', type_='unique')
        batch_op.drop_index(batch_op.f('ix_engagements_contract_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_engagements_bid_id'), ['bid_id'])
        batch_op.alter_column('bid_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column('position')
        batch_op.drop_column('due_on')
        batch_op.drop_column('title')
        batch_op.drop_column('payable_kind')
        batch_op.drop_column('contract_id')

    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contracts_task_id'))
        batch_op.drop_index(batch_op.f('ix_contracts_status'))
        batch_op.drop_index(batch_op.f('ix_contracts_freelancer_id'))
        batch_op.drop_index(batch_op.f('ix_contracts_business_id'))

    op.drop_table('contracts')
