"""listing indexes: stored search vector, partial indexes on listed tasks and profiles

Browsing at scale (tasks/search.py, profiles/directory.py):
- PostgreSQL: tasks.search_vector, a stored generated tsvector of title and description, and
  tasks.skill_ids / tasks.language_codes, copies of the task's task_skills and task_languages
  rows kept up to date by statement-level triggers on those tables; one GIN index over the
  three, for listed tasks only, answers "text + skill + language" without visiting other rows.
  It replaces ix_tasks_fulltext, whose expression was evaluated again for every row the planner
  reached by another index.
- Listed tasks (open and approved) in publication order and by total price, and listed profiles
  (with a rate and a headline) by last update and by displayed rating: partial indexes the
  listing queries walk in order, stopping after a page and a bounded count.
- task_skills (skill_id, task_id) and task_languages (language, task_id): the skill and language
  filters become index-only scans; they replace the single-column indexes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

LISTED_TASK = "status = 'open' AND moderation_status = 'approved'"
LISTED_PROFILE = "hourly_rate IS NOT NULL AND headline <> ''"
# Written exactly as the queries write them (see tasks/search.py PRICE_CEILING and
# profiles/directory.py rating_sort_key) so the planners match the expressions.
PRICE_CEILING = "(CASE WHEN (pricing = 'fixed') THEN budget ELSE max_rate * estimated_hours END)"
RATING_KEY = "((36.0 + rating_sum * 1.0) / (8.0 + rating_count))"


# (table, tasks column, its values): the filter copies kept on PostgreSQL's tasks rows.
FILTER_COPIES = [("task_skills", "skill_ids", "skill_id"), ("task_languages", "language_codes", "language")]


def _copy(table: str, source: str, task_id: str) -> str:
    return f"ARRAY(SELECT {source} FROM {table} WHERE {table}.task_id = {task_id} ORDER BY {source})"


def _refresh_function(table: str, column: str, source: str) -> str:
    """A statement-level trigger function: recompute the copy for every task the statement touched."""
    refresh = (f"UPDATE tasks SET {column} = {_copy(table, source, 'tasks.id')} "
               "WHERE tasks.id IN (SELECT task_id FROM {rows})")
    return f"""
CREATE FUNCTION {table}_refresh_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {refresh.format(rows='new_rows')};
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        {refresh.format(rows='old_rows')};
    END IF;
    RETURN NULL;
END
$$"""


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
        op.execute("ALTER TABLE tasks ADD COLUMN skill_ids integer[] NOT NULL DEFAULT '{}', "
                   "ADD COLUMN language_codes text[] NOT NULL DEFAULT '{}'")
        for table, column, source in FILTER_COPIES:
            op.execute(_refresh_function(table, column, source))
            for event, transitions in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                                       ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
                op.execute(f"CREATE TRIGGER {table}_{event.lower()}_refresh_tasks AFTER {event} ON {table} "
                           f"REFERENCING {transitions} FOR EACH STATEMENT EXECUTE FUNCTION {table}_refresh_tasks()")
        op.execute("UPDATE tasks SET " + ", ".join(f"{column} = {_copy(table, source, 'tasks.id')}"
                                                  for table, column, source in FILTER_COPIES))
        op.execute(f"CREATE INDEX ix_tasks_search ON tasks USING gin (search_vector, skill_ids, language_codes) "
                   f"WHERE {LISTED_TASK}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tasks_search")
        for table, _, _ in FILTER_COPIES:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_refresh_tasks ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_refresh_tasks()")
        op.execute("ALTER TABLE tasks DROP COLUMN IF EXISTS search_vector, DROP COLUMN IF EXISTS skill_ids, "
                   "DROP COLUMN IF EXISTS language_codes")
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
