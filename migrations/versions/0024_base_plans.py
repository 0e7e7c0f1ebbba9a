"""专家服务基地: each year's training plan (年度培训方案)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 04:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('service_bases') as batch_op:
        batch_op.add_column(sa.Column('plans', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('service_bases') as batch_op:
        batch_op.drop_column('plans')
