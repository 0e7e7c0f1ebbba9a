"""Several sending processes: outbox rows carry their shard and who is sending them; member leases get longer names

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 05:30:00
"""
import zlib

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.add_column(sa.Column('shard', sa.SmallInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('sender', sa.String(length=100), nullable=True))
    with op.batch_alter_table('sender_leases') as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=40), type_=sa.String(length=160))
    connection = op.get_bind()
    outbox = sa.table('outbox', sa.column('id', sa.Integer), sa.column('address', sa.String),
                      sa.column('shard', sa.SmallInteger), sa.column('status', sa.String))
    # Only rows still to be sent need their shard; a sent row's is never read.
    rows = connection.execute(sa.select(outbox.c.id, outbox.c.address).where(
        outbox.c.status.in_(('pending', 'retry', 'sending')))).all()
    for row_id, address in rows:
        connection.execute(outbox.update().where(outbox.c.id == row_id).values(
            shard=zlib.crc32(address.encode()) % 64))


def downgrade() -> None:
    with op.batch_alter_table('sender_leases') as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=160), type_=sa.String(length=40))
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.drop_column('sender')
        batch_op.drop_column('shard')
