"""bonus form keys: a bonus remembers the one-time key of the form that added it, so a double submit adds one

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-29 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('engagements') as batch_op:
        batch_op.add_column(sa.Column('form_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_engagements_contract_form_key', ['contract_id', 'form_key'])


def downgrade():
    with op.batch_alter_table('engagements') as batch_op:
        batch_op.drop_constraint('uq_engagements_contract_form_key', type_='unique')
        batch_op.drop_column('form_key')
