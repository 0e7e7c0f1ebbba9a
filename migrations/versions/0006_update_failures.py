"""update log: attempts and set-aside (poison) updates

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 17:45:00
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('update_log') as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('failed_at', storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_update_log_failed_at'), ['failed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('update_log') as batch_op:
        batch_op.drop_index(batch_op.f('ix_update_log_failed_at'))
        batch_op.drop_column('error')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('attempts')
