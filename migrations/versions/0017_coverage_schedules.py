"""coverage schedules: schedule blocks, shifts, shift seats, drops, swaps and iCalendar feeds

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 09:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shift_feeds',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_shift_feeds_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_shift_feeds')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_shift_feeds_token_hash'))
    )
    op.create_table('schedule_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('on_date', sa.Date(), nullable=True),
    sa.Column('start_minute', sa.Integer(), nullable=False),
    sa.Column('end_minute', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(weekday IS NOT NULL AND on_date IS NULL) OR (weekday IS NULL AND on_date IS NOT NULL)', name=op.f('ck_schedule_blocks_weekly_or_one_off')),
    sa.CheckConstraint('seats BETWEEN 1 AND 20', name=op.f('ck_schedule_blocks_seats_range')),
    sa.CheckConstraint('start_minute <> end_minute', name=op.f('ck_schedule_blocks_not_empty')),
    sa.CheckConstraint('start_minute BETWEEN 0 AND 1439 AND end_minute BETWEEN 0 AND 1439', name=op.f('ck_schedule_blocks_minutes_in_day')),
    sa.CheckConstraint('weekday IS NULL OR weekday BETWEEN 0 AND 6', name=op.f('ck_schedule_blocks_weekday_range')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_schedule_blocks_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_blocks'))
    )
    with op.batch_alter_table('schedule_blocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_blocks_task_id'), ['task_id'], unique=False)

    op.create_table('shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('block_id', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('open_alert_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_shifts_ends_after_start')),
    sa.CheckConstraint('seats BETWEEN 1 AND 20', name=op.f('ck_shifts_seats_range')),
    sa.ForeignKeyConstraint(['block_id'], ['schedule_blocks.id'], name=op.f('fk_shifts_block_id_schedule_blocks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_shifts_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shifts')),
    sa.UniqueConstraint('block_id', 'local_date', name='uq_shifts_block_date')
    )
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.create_index('ix_shifts_starts', ['starts_at'], unique=False)
        batch_op.create_index('ix_shifts_task_starts', ['task_id', 'starts_at'], unique=False)

    op.create_table('shift_drops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shift_id', sa.Integer(), nullable=False),
    sa.Column('specialist_id', sa.Integer(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('dropped_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shift_id'], ['shifts.id'], name=op.f('fk_shift_drops_shift_id_shifts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['specialist_id'], ['users.id'], name=op.f('fk_shift_drops_specialist_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_drops'))
    )
    with op.batch_alter_table('shift_drops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shift_drops_shift_id'), ['shift_id'], unique=False)
        batch_op.create_index('ix_shift_drops_specialist', ['specialist_id', 'dropped_at'], unique=False)

    op.create_table('shift_seats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shift_id', sa.Integer(), nullable=False),
    sa.Column('seat_no', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=True),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assigned_by_business', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('followup_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('missed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(holder_id IS NULL) = (contract_id IS NULL)', name=op.f('ck_shift_seats_holder_has_contract')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_shift_seats_contract_id_contracts')),
    sa.ForeignKeyConstraint(['holder_id'], ['users.id'], name=op.f('fk_shift_seats_holder_id_users')),
    sa.ForeignKeyConstraint(['shift_id'], ['shifts.id'], name=op.f('fk_shift_seats_shift_id_shifts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_seats')),
    sa.UniqueConstraint('shift_id', 'holder_id', name='uq_shift_seats_shift_holder'),
    sa.UniqueConstraint('shift_id', 'seat_no', name='uq_shift_seats_shift_seat')
    )
    with op.batch_alter_table('shift_seats', schema=None) as batch_op:
        batch_op.create_index('ix_shift_seats_holder', ['holder_id', 'shift_id'], unique=False)

    op.create_table('shift_swaps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('from_seat_id', sa.Integer(), nullable=False),
    sa.Column('to_seat_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('counterpart_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'cancelled')", name=op.f('ck_shift_swaps_status_known')),
    sa.CheckConstraint('from_seat_id <> to_seat_id', name=op.f('ck_shift_swaps_two_seats')),
    sa.ForeignKeyConstraint(['counterpart_id'], ['users.id'], name=op.f('fk_shift_swaps_counterpart_id_users')),
    sa.ForeignKeyConstraint(['from_seat_id'], ['shift_seats.id'], name=op.f('fk_shift_swaps_from_seat_id_shift_seats'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_shift_swaps_requester_id_users')),
    sa.ForeignKeyConstraint(['to_seat_id'], ['shift_seats.id'], name=op.f('fk_shift_swaps_to_seat_id_shift_seats'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_swaps'))
    )
    with op.batch_alter_table('shift_swaps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shift_swaps_counterpart_id'), ['counterpart_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shift_swaps_requester_id'), ['requester_id'], unique=False)



def downgrade():
    with op.batch_alter_table('shift_swaps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shift_swaps_requester_id'))
        batch_op.drop_index(batch_op.f('ix_shift_swaps_counterpart_id'))

    op.drop_table('shift_swaps')
    with op.batch_alter_table('shift_seats', schema=None) as batch_op:
        batch_op.drop_index('ix_shift_seats_holder')

    op.drop_table('shift_seats')
    with op.batch_alter_table('shift_drops', schema=None) as batch_op:
        batch_op.drop_index('ix_shift_drops_specialist')
        batch_op.drop_index(batch_op.f('ix_shift_drops_shift_id'))

    op.drop_table('shift_drops')
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_index('ix_shifts_task_starts')
        batch_op.drop_index('ix_shifts_starts')

    op.drop_table('shifts')
    with op.batch_alter_table('schedule_blocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_blocks_task_id'))

    op.drop_table('schedule_blocks')
    op.drop_table('shift_feeds')
