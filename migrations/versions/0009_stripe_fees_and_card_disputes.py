"""stripe fees and card disputes: the charge's balance transaction, the Stripe object of a ledger
posting, the operators' payment alerts

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 06:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payment_charges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('balance_transaction_id', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_payment_charges_balance_transaction_id'),
                                          ['balance_transaction_id'])
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stripe_source', sa.String(length=80), nullable=True))
        batch_op.create_index(batch_op.f('ix_ledger_transactions_stripe_source'), ['stripe_source'], unique=False)
    op.create_table('payment_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_key', sa.String(length=120), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_alerts')),
    sa.UniqueConstraint('item_key', name=op.f('uq_payment_alerts_item_key'))
    )


def downgrade():
    op.drop_table('payment_alerts')
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_transactions_stripe_source'))
        batch_op.drop_column('stripe_source')
    with op.batch_alter_table('payment_charges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_payment_charges_balance_transaction_id'), type_='unique')
        batch_op.drop_column('balance_transaction_id')
