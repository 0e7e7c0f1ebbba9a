"""experts' employer consent (本人单位同意) and terms (聘期)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 04:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('experts') as batch_op:
        batch_op.add_column(sa.Column('employer_consent', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('term_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('term_end', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('experts') as batch_op:
        batch_op.drop_column('term_end')
        batch_op.drop_column('term_start')
        batch_op.drop_column('employer_consent')
