"""专家服务基地: declared against the annex's four conditions, approved, reviewed (复核) with every
step recorded; trainings name the base that hosts them

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 03:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'service_bases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('host', sa.String(length=200), nullable=False),
        sa.Column('region_code', sa.String(length=12), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('conditions', sa.JSON(), nullable=False),
        sa.Column('rectify_by', sa.Date(), nullable=True),
        sa.Column('declared_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['declared_by_id'], ['people.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_service_bases_status', 'service_bases', ['status'])
    op.create_table(
        'base_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('base_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('from_status', sa.String(length=20), nullable=True),
        sa.Column('to_status', sa.String(length=20), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['people.id']),
        sa.ForeignKeyConstraint(['base_id'], ['service_bases.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_base_events_base_id', 'base_events', ['base_id'])
    with op.batch_alter_table('training_notices') as batch_op:
        batch_op.add_column(sa.Column('base_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_training_notices_base_id', 'service_bases', ['base_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('training_notices') as batch_op:
        batch_op.drop_constraint('fk_training_notices_base_id', type_='foreignkey')
        batch_op.drop_column('base_id')
    op.drop_index('ix_base_events_base_id', table_name='base_events')
    op.drop_table('base_events')
    op.drop_index('ix_service_bases_status', table_name='service_bases')
    op.drop_table('service_bases')
