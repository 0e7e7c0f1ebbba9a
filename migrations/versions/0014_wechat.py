"""WeChat: pushes stored before they are acknowledged, each user's 客服消息 window, held messages

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 03:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'wechat_pushes',
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('openid', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('handled_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index('ix_wechat_pushes_handled_at', 'wechat_pushes', ['handled_at'])
    op.create_table(
        'wechat_windows',
        sa.Column('openid', sa.String(length=64), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('closes_at', sa.DateTime(), nullable=False),
        sa.Column('allowance', sa.Integer(), nullable=False),
        sa.Column('used', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('openid'),
    )
    op.create_table(
        'wechat_held',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('openid', sa.String(length=64), nullable=False),
        sa.Column('body', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_wechat_held_openid', 'wechat_held', ['openid'])


def downgrade() -> None:
    op.drop_index('ix_wechat_held_openid', table_name='wechat_held')
    op.drop_table('wechat_held')
    op.drop_table('wechat_windows')
    op.drop_index('ix_wechat_pushes_handled_at', table_name='wechat_pushes')
    op.drop_table('wechat_pushes')
