"""faces, files and people search: avatar tokens, attachments, work-history permission, trigram indexes

- users.avatar_token: names the stored renditions of a specialist's photo or a business's logo.
- attachments: files on a message or on an engagement's delivery (exactly one of the two).
- business_profiles.show_work_history: the business lets specialists list work done for it.
- freelancer_profiles.search_text: name, headline, skill and language names, lower-cased (filled here
  for existing profiles, kept up to date when a profile is saved); on PostgreSQL a pg_trgm GIN index on
  it answers the directory's keyword search (LIKE '%word%') at 100k specialists.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# The language names as profiles/search_text.py writes them (core/reference.py LANGUAGES at this revision).
LANGUAGE_NAMES = {
    "en": "English", "es": "Spanish", "pt": "Portuguese", "fr": "French", "de": "German",
    "it": "Italian", "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "da": "Danish",
    "no": "Norwegian", "fi": "Finnish", "ro": "Romanian", "cs": "Czech", "el": "Greek",
    "tr": "Turkish", "ru": "Russian", "uk": "Ukrainian", "ar": "Arabic", "he": "Hebrew",
    "hi": "Hindi", "bn": "Bengali", "ur": "Urdu", "id": "Indonesian", "ms": "Malay",
    "tl": "Tagalog", "vi": "Vietnamese", "th": "Thai", "zh": "Chinese (Mandarin)",
    "ja": "Japanese", "ko": "Korean", "sw": "Swahili",
}


def _backfill_search_text(dialect: str) -> None:
    aggregate = "string_agg({}, ' ')" if dialect == "postgresql" else "group_concat({}, ' ')"
    language = ("CASE fl.language " + " ".join(f"WHEN '{code}' THEN '{name}'" for code, name in LANGUAGE_NAMES.items())
                + " ELSE fl.language END")
    op.execute(
        "UPDATE freelancer_profiles SET search_text = lower("
        "coalesce((SELECT full_name FROM users WHERE users.id = freelancer_profiles.user_id), '') || ' ' || "
        "headline || ' ' || "
        "coalesce((SELECT " + aggregate.format("s.name") + " FROM freelancer_skills fs JOIN skills s ON s.id = fs.skill_id "
        "WHERE fs.freelancer_id = freelancer_profiles.user_id), '') || ' ' || "
        "coalesce((SELECT " + aggregate.format(language) + " FROM freelancer_languages fl "
        "WHERE fl.freelancer_id = freelancer_profiles.user_id), ''))")


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('avatar_token', sa.String(length=32), nullable=True))
    with op.batch_alter_table('business_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('show_work_history', sa.Boolean(), server_default=sa.false(), nullable=False))
    # A plain ADD COLUMN: batch mode would rebuild the table on SQLite and lose the expression index
    # ix_freelancer_profiles_listed_rating (migration 0012), which it cannot reflect.
    op.add_column('freelancer_profiles', sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    dialect = op.get_bind().dialect.name
    _backfill_search_text(dialect)

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('engagement_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('content_type', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('preview_key', sa.String(length=200), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(message_id IS NULL) <> (engagement_id IS NULL)', name=op.f('ck_attachments_one_owner')),
    sa.CheckConstraint('size > 0', name=op.f('ck_attachments_size_positive')),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_attachments_engagement_id_engagements'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_attachments_message_id_messages'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_attachments_uploader_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_engagement_id'), ['engagement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_uploader_id'), ['uploader_id'], unique=False)

    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_freelancer_profiles_search_trgm ON freelancer_profiles "
                   "USING gin (search_text gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_freelancer_profiles_search_trgm")
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_uploader_id'))
        batch_op.drop_index(batch_op.f('ix_attachments_message_id'))
        batch_op.drop_index(batch_op.f('ix_attachments_engagement_id'))
    op.drop_table('attachments')
    op.drop_column('freelancer_profiles', 'search_text')   # plain DROP COLUMN, for the same reason
    with op.batch_alter_table('business_profiles', schema=None) as batch_op:
        batch_op.drop_column('show_work_history')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('avatar_token')
