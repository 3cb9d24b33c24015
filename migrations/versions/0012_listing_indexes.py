"""listing indexes: stored search vector, partial indexes on listed tasks and profiles

Browsing at scale (tasks/search.py, profiles/directory.py):
- PostgreSQL: tasks.search_vector, a stored generated tsvector of title and description, with a
  GIN index over listed tasks only; it replaces ix_tasks_fulltext, whose expression was
  evaluated again for every row the planner reached by another index.
- Listed tasks (open and approved) in publication order and by total price, and listed profiles
  (with a rate and a headline) by last update and by displayed rating: partial indexes the
  listing queries walk in order, stopping after a page and a bounded count.
- task_skills (skill_id, task_id) and task_languages (language, task_id): the skill and language
  filters become index-only scans; they replace the single-column indexes.

Revision ID: 0012
Revises: 0007
Create Date: 2026-11-29 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0007'
branch_labels = None
depends_on = None

LISTED_TASK = "status = 'open' AND moderation_status = 'approved'"
LISTED_PROFILE = "hourly_rate IS NOT NULL AND headline <> ''"
# Written exactly as the queries write them (see tasks/search.py PRICE_CEILING and
# profiles/directory.py rating_sort_key) so the planners match the expressions.
PRICE_CEILING = "(CASE WHEN (pricing = 'fixed') THEN budget ELSE max_rate * estimated_hours END)"
RATING_KEY = "((36.0 + rating_sum * 1.0) / (8.0 + rating_count))"


def upgrade():
    op.drop_index('ix_task_skills_skill_id', table_name='task_skills')
    op.create_index('ix_task_skills_skill_task', 'task_skills', ['skill_id', 'task_id'], unique=False)
    op.drop_index('ix_task_languages_language', table_name='task_languages')
    op.create_index('ix_task_languages_language_task', 'task_languages', ['language', 'task_id'], unique=False)
    op.create_index('ix_tasks_listed', 'tasks', ['published_at', 'id'], unique=False,
                    postgresql_where=sa.text(LISTED_TASK), sqlite_where=sa.text(LISTED_TASK))
    op.create_index('ix_freelancer_profiles_listed', 'freelancer_profiles', ['updated_at', 'user_id'], unique=False,
                    postgresql_where=sa.text(LISTED_PROFILE), sqlite_where=sa.text(LISTED_PROFILE))
    op.execute(f"CREATE INDEX ix_tasks_listed_price ON tasks ({PRICE_CEILING}, id) WHERE {LISTED_TASK}")
    op.execute(f"CREATE INDEX ix_freelancer_profiles_listed_rating ON freelancer_profiles "
               f"({RATING_KEY}, rating_count, user_id) WHERE {LISTED_PROFILE}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tasks_fulltext")
        op.execute("ALTER TABLE tasks ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
                   "(to_tsvector('english', title || ' ' || description)) STORED")
        op.execute(f"CREATE INDEX ix_tasks_search_vector ON tasks USING gin (search_vector) WHERE {LISTED_TASK}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tasks_search_vector")
        op.execute("ALTER TABLE tasks DROP COLUMN IF EXISTS search_vector")
        op.create_index("ix_tasks_fulltext", "tasks",
                        [sa.text("to_tsvector('english', title || ' ' || description)")], postgresql_using="gin")
    op.execute("DROP INDEX ix_freelancer_profiles_listed_rating")
    op.execute("DROP INDEX ix_tasks_listed_price")
    op.drop_index('ix_freelancer_profiles_listed', table_name='freelancer_profiles')
    op.drop_index('ix_tasks_listed', table_name='tasks')
    op.drop_index('ix_task_languages_language_task', table_name='task_languages')
    op.create_index('ix_task_languages_language', 'task_languages', ['language'], unique=False)
    op.drop_index('ix_task_skills_skill_task', table_name='task_skills')
    op.create_index('ix_task_skills_skill_id', 'task_skills', ['skill_id'], unique=False)
