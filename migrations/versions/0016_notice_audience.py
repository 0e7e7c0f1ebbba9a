"""training notices addressed to a service team or to the trainees of an earlier training

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 03:25:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('training_notices') as batch_op:
        batch_op.add_column(sa.Column('audience', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('training_notices') as batch_op:
        batch_op.drop_column('audience')
