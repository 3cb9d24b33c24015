"""company description: businesses describe their company on their profile

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 10:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('business_profiles') as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('business_profiles') as batch_op:
        batch_op.drop_column('description')
