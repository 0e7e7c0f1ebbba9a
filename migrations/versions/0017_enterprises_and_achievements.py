"""enterprises (with their 统一社会信用代码) and the technology-achievements registry; demands asked as an enterprise

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 03:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'enterprises',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('credit_code', sa.String(length=18), nullable=False),
        sa.Column('region_code', sa.String(length=12), nullable=True),
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['people.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('credit_code'),
    )
    op.create_index('ix_enterprises_contact_id', 'enterprises', ['contact_id'])
    op.create_table(
        'achievements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('owner', sa.String(length=200), nullable=False),
        sa.Column('expert_id', sa.Integer(), nullable=True),
        sa.Column('field', sa.String(length=40), nullable=False),
        sa.Column('stage', sa.String(length=40), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('routes', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['expert_id'], ['experts.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('demands') as batch_op:
        batch_op.add_column(sa.Column('enterprise_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_demands_enterprise_id', 'enterprises', ['enterprise_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('demands') as batch_op:
        batch_op.drop_constraint('fk_demands_enterprise_id', type_='foreignkey')
        batch_op.drop_column('enterprise_id')
    op.drop_table('achievements')
    op.drop_index('ix_enterprises_contact_id', table_name='enterprises')
    op.drop_table('enterprises')
