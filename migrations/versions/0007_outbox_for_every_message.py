"""one outbox for every message: channel + address, priority, rendered body, request key

The notice-only `notice_outbox` becomes `outbox`: every message the bot sends is a row, written
in the transaction (or the durable update) that causes it. Existing rows are carried over with
channel "telegram", their chat id as the address and the bulk priority.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 21:30:00
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _free_constraint_name(table: str) -> None:
    # On PostgreSQL a unique constraint's name is unique in the schema (SQLite's is per table):
    # the table being replaced gives its name up first.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT uq_outbox_recipient TO uq_{table}_recipient_old")


def upgrade() -> None:
    _free_constraint_name("notice_outbox")
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), server_default='telegram', nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('priority', sa.SmallInteger(), server_default='3', nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.JSON(), nullable=True),
    sa.Column('purpose', sa.String(length=80), server_default='', nullable=False),
    sa.Column('request_key', sa.String(length=160), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('sent_at', storage.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['training_notices.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notice_id', 'channel', 'address', name='uq_outbox_recipient'),
    sa.UniqueConstraint('request_key', name='uq_outbox_request_key'),
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_queue', ['status', 'priority', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_notice_id'), ['notice_id'], unique=False)
    op.execute(
        "INSERT INTO outbox (id, channel, address, person_id, priority, notice_id, purpose, status, attempts,"
        " next_attempt_at, last_error, message_id, sent_at)"
        " SELECT id, 'telegram', CAST(chat_id AS VARCHAR(64)), person_id, 3, notice_id, 'notice', status, attempts,"
        " next_attempt_at, last_error, message_id, sent_at FROM notice_outbox"
    )
    op.drop_table('notice_outbox')


def downgrade() -> None:
    _free_constraint_name("outbox")
    op.create_table('notice_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('sent_at', storage.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['training_notices.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notice_id', 'chat_id', name='uq_outbox_recipient')
    )
    op.execute(
        "INSERT INTO notice_outbox (id, notice_id, person_id, chat_id, status, attempts, next_attempt_at,"
        " last_error, message_id, sent_at) SELECT id, notice_id, person_id, CAST(address AS BIGINT), status,"
        " attempts, next_attempt_at, last_error, message_id, sent_at FROM outbox"
        " WHERE notice_id IS NOT NULL AND channel = 'telegram'"
    )
    with op.batch_alter_table('notice_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_outbox_notice_id'), ['notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_outbox_status'), ['status'], unique=False)
    op.drop_table('outbox')
