"""service records under review: long ones, and a leader's on a demand they assigned to themselves

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 01:55:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('service_records') as batch_op:
        batch_op.add_column(sa.Column('review', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('service_records') as batch_op:
        batch_op.drop_column('review')
