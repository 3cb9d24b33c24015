"""saved payment methods: billing profiles, off-session charges, payables whose charge failed

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('billing_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=10), nullable=False),
    sa.Column('customer_id', sa.String(length=80), nullable=True),
    sa.Column('payment_method_id', sa.String(length=80), nullable=True),
    sa.Column('brand', sa.String(length=20), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('exp_month', sa.Integer(), nullable=True),
    sa.Column('exp_year', sa.Integer(), nullable=True),
    sa.Column('sandbox_behaviour', sa.String(length=30), nullable=False),
    sa.Column('detach_pending', sa.String(length=80), nullable=True),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("provider IN ('sandbox', 'stripe')", name=op.f('ck_billing_profiles_provider_known')),
    sa.CheckConstraint("sandbox_behaviour IN ('succeeds', 'authentication_required', 'declined')",
                       name=op.f('ck_billing_profiles_sandbox_behaviour_known')),
    sa.CheckConstraint('exp_month IS NULL OR exp_month BETWEEN 1 AND 12',
                       name=op.f('ck_billing_profiles_exp_month_range')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_billing_profiles_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_profiles')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_billing_profiles_customer_id')),
    sa.UniqueConstraint('payment_method_id', name=op.f('uq_billing_profiles_payment_method_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_billing_profiles_user_id'))
    )
    with op.batch_alter_table('payment_charges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('off_session', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('failure_code', sa.String(length=40), server_default='', nullable=False))
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_failed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_engagements_payment_failed_at'), ['payment_failed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engagements_payment_failed_at'))
        batch_op.drop_column('payment_failed_at')
    with op.batch_alter_table('payment_charges', schema=None) as batch_op:
        batch_op.drop_column('failure_code')
        batch_op.drop_column('off_session')
    op.drop_table('billing_profiles')
