"""invites expire and can be revoked

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 01:40:00
"""
import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invites') as batch_op:
        batch_op.add_column(sa.Column('expires_at', storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', storage.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('invites') as batch_op:
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('expires_at')
