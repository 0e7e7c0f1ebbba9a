"""Factories for directory rows, so tests say what matters and nothing else.

Tests name people by their Telegram user id (as the Bot API stand-in does); `person_id` turns
one into the person the services work with."""

from __future__ import annotations

from bot.services.people import LEADER, STAFF, ensure_person, grant_role
from bot.telegram.common import account_of
from storage.models import Person, ServiceTeam


async def person_id(sessions, telegram_id: int, name: str = "") -> int:
    """The person behind a Telegram account (created on first use), as a handler's `me` gives it."""
    async with sessions.begin() as session:
        return (await ensure_person(session, account_of(telegram_id), name)).id


async def make_team(sessions, name: str, fields: list[str], regions: list[str] | None = None,
                    leader_telegram_id: int | None = None, leader_name: str = "团长") -> ServiceTeam:
    async with sessions.begin() as session:
        team = ServiceTeam(name=name, fields=fields, regions=regions or ["430000"])
        if leader_telegram_id is not None:
            leader = await ensure_person(session, account_of(leader_telegram_id), leader_name)
            grant_role(leader, LEADER)
            await session.flush()
            team.leader_id = leader.id
        session.add(team)
    return team


async def make_staff(sessions, telegram_id: int, name: str = "工作人员") -> Person:
    async with sessions.begin() as session:
        person = await ensure_person(session, account_of(telegram_id), name)
        grant_role(person, STAFF)
    return person
