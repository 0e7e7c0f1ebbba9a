"""agreements recorded for technology achievements, with the agreed split

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 04:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'achievement_agreements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('achievement_id', sa.Integer(), nullable=False),
        sa.Column('party', sa.String(length=200), nullable=False),
        sa.Column('route', sa.String(length=20), nullable=False),
        sa.Column('researchers_share', sa.Float(), nullable=True),
        sa.Column('profit_share', sa.Float(), nullable=True),
        sa.Column('profit_years', sa.Integer(), nullable=True),
        sa.Column('staff_share', sa.Float(), nullable=True),
        sa.Column('signed_on', sa.Date(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id']),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['people.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_achievement_agreements_achievement_id', 'achievement_agreements', ['achievement_id'])


def downgrade() -> None:
    op.drop_index('ix_achievement_agreements_achievement_id', table_name='achievement_agreements')
    op.drop_table('achievement_agreements')
