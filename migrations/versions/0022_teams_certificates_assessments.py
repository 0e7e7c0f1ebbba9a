"""teams' terms, experts' role in their team and 聘书 number, yearly assessments (年度考核)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 04:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('service_teams') as batch_op:
        batch_op.add_column(sa.Column('term_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('term_end', sa.Date(), nullable=True))
    with op.batch_alter_table('experts') as batch_op:
        batch_op.add_column(sa.Column('team_role', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('certificate_no', sa.String(length=30), nullable=True))
        batch_op.create_unique_constraint('uq_experts_certificate_no', ['certificate_no'])
    op.create_table(
        'expert_assessments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('expert_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('result', sa.String(length=10), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('assessed_by_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['assessed_by_id'], ['people.id']),
        sa.ForeignKeyConstraint(['expert_id'], ['experts.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('expert_id', 'year', name='uq_assessment_year'),
    )
    op.create_index('ix_expert_assessments_expert_id', 'expert_assessments', ['expert_id'])


def downgrade() -> None:
    op.drop_index('ix_expert_assessments_expert_id', table_name='expert_assessments')
    op.drop_table('expert_assessments')
    with op.batch_alter_table('experts') as batch_op:
        batch_op.drop_constraint('uq_experts_certificate_no', type_='unique')
        batch_op.drop_column('certificate_no')
        batch_op.drop_column('team_role')
    with op.batch_alter_table('service_teams') as batch_op:
        batch_op.drop_column('term_end')
        batch_op.drop_column('term_start')
