"""metrics indexes: tasks by publication time, bids by creation time

Covering indexes for the operator metrics (marketplace/moderation/metrics.py): the tasks
posted in a period (published_at, id) and the bids made in it (created_at, task_id,
freelancer_id) are read by index-only scans instead of scanning the wide tables.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 11:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_tasks_published_at', 'tasks', ['published_at', 'id'], unique=False)
    op.create_index('ix_bids_created_at', 'bids', ['created_at', 'task_id', 'freelancer_id'], unique=False)


def downgrade():
    op.drop_index('ix_bids_created_at', table_name='bids')
    op.drop_index('ix_tasks_published_at', table_name='tasks')
