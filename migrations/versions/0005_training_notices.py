"""training notices

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 05:58:13.305510
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sender_leases',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=False),
    sa.Column('expires_at', storage.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'field', 'region_code', name='uq_subscription')
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriptions_person_id'), ['person_id'], unique=False)

    op.create_table('training_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('starts_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('duration_hours', sa.Float(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('signup_deadline', storage.models.UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('progress_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('progress_message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('sent_at', storage.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['people.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('training_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_notices_status'), ['status'], unique=False)

    op.create_table('notice_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', storage.models.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('sent_at', storage.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['training_notices.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notice_id', 'chat_id', name='uq_outbox_recipient')
    )
    with op.batch_alter_table('notice_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_outbox_notice_id'), ['notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_outbox_status'), ['status'], unique=False)

    op.create_table('notice_signups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attended', sa.Boolean(), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['training_notices.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notice_id', 'person_id', name='uq_signup')
    )
    with op.batch_alter_table('notice_signups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_signups_notice_id'), ['notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_signups_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('notice_signups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_signups_person_id'))
        batch_op.drop_index(batch_op.f('ix_notice_signups_notice_id'))

    op.drop_table('notice_signups')
    with op.batch_alter_table('notice_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_outbox_status'))
        batch_op.drop_index(batch_op.f('ix_notice_outbox_notice_id'))

    op.drop_table('notice_outbox')
    with op.batch_alter_table('training_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_notices_status'))

    op.drop_table('training_notices')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriptions_person_id'))

    op.drop_table('subscriptions')
    op.drop_table('sender_leases')
