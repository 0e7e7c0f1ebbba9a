"""service loop

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 05:22:07.864986
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_states',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=40), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_table('service_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['service_teams.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id', 'title', name='uq_service_item')
    )
    with op.batch_alter_table('service_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_items_team_id'), ['team_id'], unique=False)

    op.create_table('demand_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['people.id'], ),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], ),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('demand_id', 'expert_id', name='uq_assignment')
    )
    with op.batch_alter_table('demand_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demand_assignments_demand_id'), ['demand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_demand_assignments_expert_id'), ['expert_id'], unique=False)

    op.create_table('demand_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('file_id', sa.String(length=300), nullable=True),
    sa.Column('recipient_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('relayed_message_id', sa.BigInteger(), nullable=True),
    sa.Column('request_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], ),
    sa.ForeignKeyConstraint(['sender_id'], ['people.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('demand_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demand_messages_demand_id'), ['demand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_demand_messages_request_key'), ['request_key'], unique=True)

    op.create_table('scheduled_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=True),
    sa.Column('due_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('done_at', storage.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'demand_id', 'due_at', name='uq_scheduled_job')
    )
    with op.batch_alter_table('scheduled_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_jobs_demand_id'), ['demand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduled_jobs_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduled_jobs_status'), ['status'], unique=False)

    op.create_table('service_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('visit_date', sa.Date(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], ),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('service_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_records_demand_id'), ['demand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_records_expert_id'), ['expert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_records_request_key'), ['request_key'], unique=True)

    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_mode', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('visit_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reroutes', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('accept_due_at', storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('answer_due_at', storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('first_answer_at', storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('rating', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('solved', sa.Boolean(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.drop_column('solved')
        batch_op.drop_column('rating')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('first_answer_at')
        batch_op.drop_column('answer_due_at')
        batch_op.drop_column('accept_due_at')
        batch_op.drop_column('reroutes')
        batch_op.drop_column('visit_date')
        batch_op.drop_column('service_mode')

    with op.batch_alter_table('service_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_records_request_key'))
        batch_op.drop_index(batch_op.f('ix_service_records_expert_id'))
        batch_op.drop_index(batch_op.f('ix_service_records_demand_id'))

    op.drop_table('service_records')
    with op.batch_alter_table('scheduled_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_jobs_status'))
        batch_op.drop_index(batch_op.f('ix_scheduled_jobs_due_at'))
        batch_op.drop_index(batch_op.f('ix_scheduled_jobs_demand_id'))

    op.drop_table('scheduled_jobs')
    with op.batch_alter_table('demand_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demand_messages_request_key'))
        batch_op.drop_index(batch_op.f('ix_demand_messages_demand_id'))

    op.drop_table('demand_messages')
    with op.batch_alter_table('demand_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demand_assignments_expert_id'))
        batch_op.drop_index(batch_op.f('ix_demand_assignments_demand_id'))

    op.drop_table('demand_assignments')
    with op.batch_alter_table('service_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_items_team_id'))

    op.drop_table('service_items')
    op.drop_table('chat_states')
