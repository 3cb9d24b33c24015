"""faces, files and people search: avatar tokens, attachments, work-history permission, trigram indexes

- users.avatar_token: names the stored renditions of a specialist's photo or a business's logo.
- attachments: files on a message or on an engagement's delivery (exactly one of the two).
- business_profiles.show_work_history: the business lets specialists list work done for it.
- PostgreSQL: pg_trgm GIN indexes on users.full_name and freelancer_profiles.headline, so the
  directory's keyword search (ILIKE '%word%') is answered from indexes at 100k specialists.

Revision ID: 0018
Revises: 0014
Create Date: 2026-11-29 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0014'
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = (("ix_users_full_name_trgm", "users", "full_name"),
                   ("ix_freelancer_profiles_headline_trgm", "freelancer_profiles", "headline"))


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('avatar_token', sa.String(length=32), nullable=True))
    with op.batch_alter_table('business_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('show_work_history', sa.Boolean(), server_default=sa.false(), nullable=False))

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

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in TRIGRAM_INDEXES:
            op.execute(f"CREATE INDEX {name} ON {table} USING gin ({column} gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, _, _ in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_uploader_id'))
        batch_op.drop_index(batch_op.f('ix_attachments_message_id'))
        batch_op.drop_index(batch_op.f('ix_attachments_engagement_id'))
    op.drop_table('attachments')
    with op.batch_alter_table('business_profiles', schema=None) as batch_op:
        batch_op.drop_column('show_work_history')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('avatar_token')
