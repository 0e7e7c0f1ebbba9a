"""people reached through channel accounts, not a Telegram id on each record

A person gets one or more `channel_accounts(channel, external_id)`. The Telegram ids the schema
kept until now are carried over as accounts on channel "telegram":
- people.telegram_id becomes that person's account;
- a team's imported leader id (service_teams.leader_telegram_id) becomes a person (found by the
  account, or created) set as the team's leader where the team had none bound;
- an expert's imported id (experts.telegram_id) likewise binds the expert to that person, unless
  the person is already another expert.
Then the three columns go, and a relayed copy remembers the person it reached
(demand_messages.recipient_id) instead of a Telegram chat id.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 00:10:00
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

CHANNEL = "telegram"


def upgrade() -> None:
    op.create_table(
        'channel_accounts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('external_id', sa.String(length=64), nullable=False),
        sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
        sa.Column('last_seen_at', storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel', 'external_id', name='uq_channel_account'),
    )
    with op.batch_alter_table('channel_accounts') as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_accounts_person_id'), ['person_id'], unique=False)

    bind = op.get_bind()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    accounts: dict[int, int] = {}  # telegram id -> person id
    for person_id, telegram_id, created_at, updated_at in bind.execute(sa.text(
            "SELECT id, telegram_id, created_at, updated_at FROM people WHERE telegram_id IS NOT NULL")):
        _add_account(bind, person_id, telegram_id, created_at or now, updated_at or now)
        accounts[int(telegram_id)] = person_id

    def person_for(telegram_id: int) -> int:
        if telegram_id not in accounts:
            result = bind.execute(sa.text(
                "INSERT INTO people (display_name, created_at, updated_at) VALUES ('', :now, :now)"), {"now": now})
            person_id = result.lastrowid if result.lastrowid else bind.execute(sa.text(
                "SELECT max(id) FROM people")).scalar_one()
            _add_account(bind, person_id, telegram_id, now, now)
            accounts[telegram_id] = person_id
        return accounts[telegram_id]

    def grant(person_id: int, role: str) -> None:
        if bind.execute(sa.text("SELECT 1 FROM person_roles WHERE person_id = :p AND role = :r"),
                        {"p": person_id, "r": role}).first() is None:
            bind.execute(sa.text("INSERT INTO person_roles (person_id, role) VALUES (:p, :r)"),
                         {"p": person_id, "r": role})

    for team_id, telegram_id in bind.execute(sa.text(
            "SELECT id, leader_telegram_id FROM service_teams"
            " WHERE leader_telegram_id IS NOT NULL AND leader_id IS NULL")).all():
        leader = person_for(int(telegram_id))
        bind.execute(sa.text("UPDATE service_teams SET leader_id = :p WHERE id = :t"), {"p": leader, "t": team_id})
        grant(leader, "leader")
    bound = {row[0] for row in bind.execute(sa.text("SELECT person_id FROM experts WHERE person_id IS NOT NULL"))}
    for expert_id, telegram_id in bind.execute(sa.text(
            "SELECT id, telegram_id FROM experts WHERE telegram_id IS NOT NULL AND person_id IS NULL")).all():
        person = person_for(int(telegram_id))
        if person in bound:
            continue
        bind.execute(sa.text("UPDATE experts SET person_id = :p WHERE id = :e"), {"p": person, "e": expert_id})
        bound.add(person)
        grant(person, "expert")

    with op.batch_alter_table('people') as batch_op:
        batch_op.drop_column('telegram_id')
    with op.batch_alter_table('service_teams') as batch_op:
        batch_op.drop_column('leader_telegram_id')
    with op.batch_alter_table('experts') as batch_op:
        batch_op.drop_column('telegram_id')
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.alter_column('channel', server_default=None, existing_type=sa.String(length=20))
    # A relayed copy remembers the person it reached (a reply to it finds its way back), not a chat.
    with op.batch_alter_table('demand_messages') as batch_op:
        batch_op.add_column(sa.Column('recipient_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_demand_messages_recipient_id', 'people', ['recipient_id'], ['id'])
    op.execute(
        "UPDATE demand_messages SET recipient_id = (SELECT a.person_id FROM channel_accounts a"
        " WHERE a.channel = 'telegram' AND a.external_id = CAST(demand_messages.recipient_chat_id AS VARCHAR(64)))"
        " WHERE recipient_chat_id IS NOT NULL")
    with op.batch_alter_table('demand_messages') as batch_op:
        batch_op.drop_column('recipient_chat_id')


def _add_account(bind: sa.Connection, person_id: int, telegram_id: int, created_at: object, seen_at: object) -> None:
    bind.execute(sa.text(
        "INSERT INTO channel_accounts (person_id, channel, external_id, created_at, last_seen_at)"
        " VALUES (:p, :c, :x, :created, :seen)"),
        {"p": person_id, "c": CHANNEL, "x": str(telegram_id), "created": created_at, "seen": seen_at})


def downgrade() -> None:
    with op.batch_alter_table('demand_messages') as batch_op:
        batch_op.add_column(sa.Column('recipient_chat_id', sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE demand_messages SET recipient_chat_id = (SELECT CAST(a.external_id AS BIGINT) FROM channel_accounts a"
        " WHERE a.person_id = demand_messages.recipient_id AND a.channel = 'telegram' ORDER BY a.id LIMIT 1)")
    with op.batch_alter_table('demand_messages') as batch_op:
        batch_op.drop_constraint('fk_demand_messages_recipient_id', type_='foreignkey')
        batch_op.drop_column('recipient_id')
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.alter_column('channel', server_default=CHANNEL, existing_type=sa.String(length=20))
    with op.batch_alter_table('experts') as batch_op:
        batch_op.add_column(sa.Column('telegram_id', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('service_teams') as batch_op:
        batch_op.add_column(sa.Column('leader_telegram_id', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('people') as batch_op:
        batch_op.add_column(sa.Column('telegram_id', sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint('uq_people_telegram_id', ['telegram_id'])
    account = ("(SELECT CAST(external_id AS BIGINT) FROM channel_accounts a"
               " WHERE a.person_id = {person} AND a.channel = 'telegram' ORDER BY a.id LIMIT 1)")
    op.execute(f"UPDATE people SET telegram_id = {account.format(person='people.id')}")
    op.execute(f"UPDATE service_teams SET leader_telegram_id = {account.format(person='service_teams.leader_id')}")
    op.execute(f"UPDATE experts SET telegram_id = {account.format(person='experts.person_id')}")
    op.drop_table('channel_accounts')
