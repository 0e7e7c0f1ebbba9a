"""People and roles: who is writing, what they may do, and their home region."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import NotFound
from intents import regions
from storage.models import Expert, Person, PersonRole, ServiceTeam

FARMER = "farmer"
ENTERPRISE = "enterprise"
EXPERT = "expert"
LEADER = "leader"
STAFF = "staff"
ROLES = (FARMER, ENTERPRISE, EXPERT, LEADER, STAFF)


async def find_person(session: AsyncSession, telegram_id: int) -> Person | None:
    return await session.scalar(select(Person).where(Person.telegram_id == telegram_id))


async def ensure_person(session: AsyncSession, telegram_id: int, display_name: str = "") -> Person:
    """The person behind a chat account, created on first contact; keeps the name fresh."""
    person = await find_person(session, telegram_id)
    if person is None:
        person = Person(telegram_id=telegram_id, display_name=display_name, roles=[])
        session.add(person)
        await session.flush()
    elif display_name and person.display_name != display_name:
        person.display_name = display_name
    return person


def leads(person: Person, team: ServiceTeam) -> bool:
    """Is this person the team's leader (bound by invite, or named by Telegram id in the import)?"""
    return team.leader_id == person.id or (
        team.leader_telegram_id is not None and team.leader_telegram_id == person.telegram_id
    )


async def leader_chat(session: AsyncSession, team: ServiceTeam | None) -> int | None:
    """Where the team's leader is reached: the bound person's chat, else the imported id."""
    if team is None:
        return None
    if team.leader_id is not None:
        leader = await session.get(Person, team.leader_id)
        if leader is not None and leader.telegram_id is not None:
            return leader.telegram_id
    return team.leader_telegram_id


async def expert_chat(session: AsyncSession, expert: Expert) -> int | None:
    """Where an expert is reached: the bound person's chat, else the imported id."""
    if expert.person_id is not None:
        person = await session.get(Person, expert.person_id)
        if person is not None and person.telegram_id is not None:
            return person.telegram_id
    return expert.telegram_id


def grant_role(person: Person, role: str) -> None:
    if role not in person.role_names:
        person.roles.append(PersonRole(role=role))


async def staff_telegram_ids(session: AsyncSession) -> list[int]:
    rows = await session.scalars(
        select(Person.telegram_id)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == STAFF, Person.telegram_id.is_not(None))
        .order_by(Person.id)
    )
    return list(rows)


class PeopleService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def greet(self, telegram_id: int, display_name: str) -> Person:
        async with self._sessions.begin() as session:
            return await ensure_person(session, telegram_id, display_name)

    async def get(self, telegram_id: int) -> Person | None:
        async with self._sessions() as session:
            return await find_person(session, telegram_id)

    async def privileged(self) -> set[int]:
        async with self._sessions() as session:
            return await privileged_telegram_ids(session)

    async def set_region(self, telegram_id: int, display_name: str, region_code: str) -> Person:
        if regions.get(region_code) is None:
            raise NotFound("没有这个地区，请重新选择。")
        async with self._sessions.begin() as session:
            person = await ensure_person(session, telegram_id, display_name)
            person.region_code = region_code
            return person


async def privileged_telegram_ids(session: AsyncSession) -> set[int]:
    """Staff, team leaders and experts: the people who may send more than a farmer (flood control)."""
    roles = await session.scalars(
        select(Person.telegram_id).join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role.in_((STAFF, LEADER, EXPERT)), Person.telegram_id.is_not(None))
    )
    leaders = await session.scalars(select(ServiceTeam.leader_telegram_id).where(ServiceTeam.leader_telegram_id.is_not(None)))
    experts = await session.scalars(select(Expert.telegram_id).where(Expert.telegram_id.is_not(None)))
    return {*roles, *leaders, *experts}
