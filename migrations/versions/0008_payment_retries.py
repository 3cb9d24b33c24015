"""payment retries: backoff time, one funding charge per engagement, payout account created first

- `next_attempt_at` on transfers, refunds and reversals: a retryable failure is resent with the same
  idempotency key after an exponential backoff; `failed` rows of transfers and reversals (the old
  name for it) become `retrying`.
- A partial unique index: at most one `succeeded` (funding) charge per engagement.
- `payout_accounts.external_id` nullable: the row is written before Stripe creates the account.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 07:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

MOVEMENTS = ('payment_transfers', 'payment_refunds', 'payment_transfer_reversals')
WITH_BACKOFF = MOVEMENTS + ('payment_charges',)  # charges share the movement columns


def upgrade():
    for table in WITH_BACKOFF:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
    for table in ('payment_transfers', 'payment_transfer_reversals'):
        op.execute(f"UPDATE {table} SET status = 'retrying' WHERE status = 'failed'")
    with op.batch_alter_table('payout_accounts', schema=None) as batch_op:
        batch_op.alter_column('external_id', existing_type=sa.String(length=64), nullable=True)
    # Older data may hold a paid-twice engagement with two `succeeded` charges: the later ones were refunded.
    op.execute("UPDATE payment_charges SET status = 'duplicate' WHERE status = 'succeeded' AND id NOT IN "
               "(SELECT first_id FROM (SELECT MIN(id) AS first_id FROM payment_charges WHERE status = 'succeeded' "
               "GROUP BY engagement_id) AS firsts)")
    op.create_index('uq_payment_charges_one_funding', 'payment_charges', ['engagement_id'], unique=True,
                    sqlite_where=sa.text("status = 'succeeded'"), postgresql_where=sa.text("status = 'succeeded'"))


def downgrade():
    op.drop_index('uq_payment_charges_one_funding', table_name='payment_charges',
                  sqlite_where=sa.text("status = 'succeeded'"), postgresql_where=sa.text("status = 'succeeded'"))
    op.execute("UPDATE payment_charges SET status = 'succeeded' WHERE status IN ('duplicate', 'late')")
    op.execute("DELETE FROM payout_accounts WHERE external_id IS NULL")
    with op.batch_alter_table('payout_accounts', schema=None) as batch_op:
        batch_op.alter_column('external_id', existing_type=sa.String(length=64), nullable=False)
    for table in MOVEMENTS:
        op.execute(f"UPDATE {table} SET status = 'failed' WHERE status IN ('retrying', 'refused', 'stuck')")
    for table in WITH_BACKOFF:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('next_attempt_at')
