"""weekly invoices of hourly contracts and the time entries each covers

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('weekly_invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=True),
    sa.Column('week_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('limit_minutes', sa.Integer(), nullable=False),
    sa.Column('logged_minutes', sa.Integer(), nullable=False),
    sa.Column('billable_minutes', sa.Integer(), nullable=False),
    sa.Column('over_limit_minutes', sa.Integer(), nullable=False),
    sa.Column('hourly_rate', sa.Integer(), nullable=False),
    sa.Column('hours_amount', sa.Integer(), nullable=False),
    sa.Column('retainer', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('closed_early', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('review_ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('charge_attempted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('payment_failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminder_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_contract_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('hours_amount + retainer = amount', name=op.f('ck_weekly_invoices_amount_adds_up')),
    sa.CheckConstraint('billable_minutes >= 0 AND billable_minutes <= limit_minutes',
                       name=op.f('ck_weekly_invoices_billable_within_limit')),
    sa.CheckConstraint('over_limit_minutes >= 0 AND hourly_rate > 0 AND retainer >= 0',
                       name=op.f('ck_weekly_invoices_terms_positive')),
    sa.CheckConstraint('(amount = 0) = (engagement_id IS NULL)', name=op.f('ck_weekly_invoices_payable_iff_amount')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_weekly_invoices_contract_id_contracts')),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'],
                            name=op.f('fk_weekly_invoices_engagement_id_engagements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weekly_invoices')),
    sa.UniqueConstraint('contract_id', 'week_start', name='uq_weekly_invoices_contract_week'),
    sa.UniqueConstraint('engagement_id', name='uq_weekly_invoices_engagement')
    )
    with op.batch_alter_table('weekly_invoices', schema=None) as batch_op:
        batch_op.create_index('ix_weekly_invoices_review_ends_at', ['review_ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_weekly_invoices_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_weekly_invoices_payment_failed_at'), ['payment_failed_at'], unique=False)

    op.create_table('invoice_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('time_entry_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('billable_minutes', sa.Integer(), nullable=False),
    sa.Column('memo', sa.String(length=500), nullable=False),
    sa.Column('disputed', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.CheckConstraint('billable_minutes >= 0 AND billable_minutes <= minutes',
                       name=op.f('ck_invoice_lines_billable_within_minutes')),
    sa.CheckConstraint('ended_at > started_at', name=op.f('ck_invoice_lines_ends_after_start')),
    sa.ForeignKeyConstraint(['invoice_id'], ['weekly_invoices.id'], name=op.f('fk_invoice_lines_invoice_id_weekly_invoices'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['time_entry_id'], ['time_entries.id'],
                            name=op.f('fk_invoice_lines_time_entry_id_time_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_lines')),
    sa.UniqueConstraint('invoice_id', 'time_entry_id', name='uq_invoice_lines_invoice_entry')
    )
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_lines_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_lines_time_entry_id'), ['time_entry_id'], unique=False)


def downgrade():
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_lines_time_entry_id'))
        batch_op.drop_index(batch_op.f('ix_invoice_lines_invoice_id'))
    op.drop_table('invoice_lines')
    with op.batch_alter_table('weekly_invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weekly_invoices_payment_failed_at'))
        batch_op.drop_index(batch_op.f('ix_weekly_invoices_contract_id'))
        batch_op.drop_index('ix_weekly_invoices_review_ends_at')
    op.drop_table('weekly_invoices')
