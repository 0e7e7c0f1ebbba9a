"""The update log keeps each update's chat, so that several processes handle a chat's updates in order

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 05:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('update_log') as batch_op:
        batch_op.add_column(sa.Column('chat_key', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_update_log_chat', ['chat_key', 'update_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('update_log') as batch_op:
        batch_op.drop_index('ix_update_log_chat')
        batch_op.drop_column('chat_key')
