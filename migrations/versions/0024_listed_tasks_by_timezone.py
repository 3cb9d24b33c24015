"""listing index: listed tasks by time zone, newest first

The browse page's time-zone filter keeps a few percent of the listed tasks. Without an index
for it PostgreSQL read every task and sorted the matches (70 ms at 50,000 listed tasks), and
SQLite walked the newest-first index row by row; this partial index over listed tasks answers
"this zone, newest first" directly (5 ms).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-29 16:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

LISTED = "status = 'open' AND moderation_status = 'approved'"


def upgrade():
    op.create_index('ix_tasks_listed_timezone', 'tasks', ['timezone', 'published_at', 'id'], unique=False,
                    postgresql_where=sa.text(LISTED), sqlite_where=sa.text(LISTED))


def downgrade():
    op.drop_index('ix_tasks_listed_timezone', table_name='tasks')
