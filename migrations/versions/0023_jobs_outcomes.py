"""enterprises report 稳岗扩岗 outcomes of a service

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 04:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('demands') as batch_op:
        batch_op.add_column(sa.Column('jobs_kept', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('jobs_added', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('demands') as batch_op:
        batch_op.drop_column('jobs_added')
        batch_op.drop_column('jobs_kept')
