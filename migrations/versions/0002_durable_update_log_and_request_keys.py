"""durable update log and request keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 04:49:36.203177
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('update_log',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('received_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('handled_at', storage.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('update_id')
    )
    with op.batch_alter_table('update_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_update_log_handled_at'), ['handled_at'], unique=False)

    op.drop_table('processed_updates')
    with op.batch_alter_table('demand_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_demand_events_request_key'), ['request_key'], unique=False)

    with op.batch_alter_table('demand_media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_demand_media_request_key'), ['request_key'], unique=True)

    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_demands_request_key'), ['request_key'], unique=True)

    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_drafts_request_key'), ['request_key'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drafts_request_key'))
        batch_op.drop_column('request_key')

    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demands_request_key'))
        batch_op.drop_column('request_key')

    with op.batch_alter_table('demand_media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demand_media_request_key'))
        batch_op.drop_column('request_key')

    with op.batch_alter_table('demand_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demand_events_request_key'))
        batch_op.drop_column('request_key')

    op.create_table('processed_updates',
    sa.Column('update_id', sa.BIGINT(), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('update_id')
    )
    with op.batch_alter_table('update_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_update_log_handled_at'))

    op.drop_table('update_log')
