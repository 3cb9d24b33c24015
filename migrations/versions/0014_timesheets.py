"""timesheets: time entries on hourly contracts and each week's limit

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('time_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('week_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('memo', sa.String(length=500), nullable=False),
    sa.Column('channel', sa.String(length=20), server_default='', nullable=False),
    sa.Column('source', sa.String(length=10), server_default='manual', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ended_at > started_at', name=op.f('ck_time_entries_ends_after_start')),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_time_entries_minutes_positive')),
    sa.CheckConstraint("source IN ('manual')", name=op.f('ck_time_entries_source_known')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_time_entries_contract_id_contracts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_entries'))
    )
    with op.batch_alter_table('time_entries', schema=None) as batch_op:
        batch_op.create_index('ix_time_entries_contract_week', ['contract_id', 'week_start', 'started_at'],
                              unique=False)

    op.create_table('timesheet_weeks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('week_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('limit_minutes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('limit_minutes BETWEEN 1 AND 10080', name=op.f('ck_timesheet_weeks_limit_range')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_timesheet_weeks_contract_id_contracts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timesheet_weeks')),
    sa.UniqueConstraint('contract_id', 'week_start', name='uq_timesheet_weeks_contract_week')
    )


def downgrade():
    op.drop_table('timesheet_weeks')
    with op.batch_alter_table('time_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_time_entries_contract_week')
    op.drop_table('time_entries')
