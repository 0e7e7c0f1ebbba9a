"""the web chat: each account's transcript, and sign-in codes sent by SMS

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 03:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=40), nullable=False),
        sa.Column('sender', sa.String(length=8), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('choices', sa.JSON(), nullable=False),
        sa.Column('media', sa.String(length=10), nullable=True),
        sa.Column('file_ref', sa.String(length=300), nullable=True),
        sa.Column('rev', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_web_messages_address_rev', 'web_messages', ['address', 'rev'])
    op.create_table(
        'sms_codes',
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('sent_day', sa.String(length=10), nullable=False),
        sa.Column('sent_count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('phone'),
    )


def downgrade() -> None:
    op.drop_table('sms_codes')
    op.drop_index('ix_web_messages_address_rev', table_name='web_messages')
    op.drop_table('web_messages')
