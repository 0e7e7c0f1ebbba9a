"""shared answers reviewed before publishing; privacy notice agreed; invites that replace someone confirmed by staff

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 02:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('knowledge_entries') as batch_op:
        # Imported and starter entries were published by staff; an answer a farmer agreed to share
        # waits for the leader or staff ("review"), and may be turned down ("withdrawn").
        batch_op.add_column(sa.Column('status', sa.String(length=12), nullable=False, server_default='published'))
    with op.batch_alter_table('people') as batch_op:
        batch_op.add_column(sa.Column('privacy_agreed_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('invites') as batch_op:
        # "pending": opened, but it would replace a leader or move an expert's account; staff decide.
        batch_op.add_column(sa.Column('confirmation', sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('invites') as batch_op:
        batch_op.drop_column('confirmation')
    with op.batch_alter_table('people') as batch_op:
        batch_op.drop_column('privacy_agreed_at')
    with op.batch_alter_table('knowledge_entries') as batch_op:
        batch_op.drop_column('status')
