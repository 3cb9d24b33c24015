"""outbox: delivery attempts, lease and retry time, and the secret body kept apart from the readable copy

A message whose delivery failed is retried a bounded number of times (attempts, next_attempt_at);
a message claimed by a delivery run that never finished is taken again once its lease (claimed_at)
has run out. secret_body holds the mail as the recipient gets it (with reset or confirmation links)
only until it is delivered; body, the copy operators read in /outbox, has those links redacted.

Mail stored before this revision gets its reset and confirmation links redacted the same way
(a reset link mailed an hour before the upgrade would otherwise stay readable while still live).
The downgrade cannot bring those links back; they expire within two days anyway.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 06:40:00

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_body', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_messages_status'), ['status'], unique=False)
    _redact_stored_links()


# Copied on purpose rather than imported: a migration must not change when the app's code does.
REDACTED_LINK = "[link sent to the recipient]"
SECRET_LINK = re.compile(r"https?://\S+?/(?:verify|password/reset)/[A-Za-z0-9_.\-]+")


def _redact_stored_links():
    bind = op.get_bind()
    messages = sa.table('outbox_messages', sa.column('id', sa.Integer), sa.column('body', sa.Text))
    rows = bind.execute(sa.select(messages.c.id, messages.c.body).where(sa.or_(
        messages.c.body.like('%/verify/%'), messages.c.body.like('%/password/reset/%')))).all()
    for row in rows:
        redacted = SECRET_LINK.sub(REDACTED_LINK, row.body)
        if redacted != row.body:
            bind.execute(messages.update().where(messages.c.id == row.id).values(body=redacted))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_status'))
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('secret_body')
