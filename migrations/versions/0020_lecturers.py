"""trainings name their lecturers (experts), for the yearly service record's lecture hours

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 04:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('training_notices') as batch_op:
        batch_op.add_column(sa.Column('lecturers', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('training_notices') as batch_op:
        batch_op.drop_column('lecturers')
