"""matching indexes: required task skills by skill; speakers by language and level


matching/service.candidate_task_ids counts, for a specialist's skills, the tasks that require
them and keeps the best-covered ones before reading any task row. This partial index over the
required rows of task_skills (skill_id, task_id) answers that count with an index-only scan;
without it PostgreSQL read every task of the listing (a sequential scan of tasks).

matching/service.candidate_ids, for a task in several languages, starts from the speakers of
each language at a working level: freelancer_languages (language, proficiency, freelancer_id)
answers that with an index-only scan instead of a scan of every profile's language mask.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    # The predicate as each dialect renders a boolean column in WHERE (so the planner matches it).
    op.create_index('ix_task_skills_required', 'task_skills', ['skill_id', 'task_id'], unique=False,
                    postgresql_where=sa.text('required'), sqlite_where=sa.text('required = 1'))
    op.create_index('ix_freelancer_languages_speakers', 'freelancer_languages',
                    ['language', 'proficiency', 'freelancer_id'], unique=False)


def downgrade():
    op.drop_index('ix_freelancer_languages_speakers', table_name='freelancer_languages')
    op.drop_index('ix_task_skills_required', table_name='task_skills')
