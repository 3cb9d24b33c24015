"""planner statistics: the task's price ceiling (PostgreSQL only)

The budget filter compares the task's total ceiling (the fixed budget, or max rate x estimated
hours: tasks/search.PRICE_CEILING) with a range. PostgreSQL keeps statistics for an expression
only from a non-partial index, and ix_tasks_listed_price is partial, so it guessed that 0.5 % of
the tasks match any range: with 36 % matching "500 to 1,500" it read 18,000 rows through that
index and sorted them (35 ms) instead of walking the newest tasks and stopping at the page
(1.8 ms). Extended statistics on the expression give the planner the real distribution. SQLite
has none: nothing to do there.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-29 17:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

PRICE_CEILING = "(CASE WHEN pricing = 'fixed' THEN budget ELSE max_rate * estimated_hours END)"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE STATISTICS st_tasks_price_ceiling ON ({PRICE_CEILING}) FROM tasks")
    op.execute("ANALYZE tasks")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP STATISTICS IF EXISTS st_tasks_price_ceiling")
