"""People and roles: who is writing, what they may do, their home region, and how they are
reached (their channel accounts)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import SHEET_ACCOUNTS
from bot.errors import NotFound
from intents import regions
from storage.models import ChannelAccount, Expert, Person, PersonRole, ServiceTeam

FARMER = "farmer"
ENTERPRISE = "enterprise"
EXPERT = "expert"
LEADER = "leader"
STAFF = "staff"
DIRECTORY_ROLES = frozenset({EXPERT, LEADER, STAFF})  # named by the directory, not by their channel
ROLES = (FARMER, ENTERPRISE, EXPERT, LEADER, STAFF)


@dataclass(frozen=True)
class Account:
    """A person's account on one channel: the channel's name and its own id for the account."""

    channel: str
    external_id: str


async def find_person(session: AsyncSession, account: Account) -> Person | None:
    return await session.scalar(
        select(Person).join(ChannelAccount, ChannelAccount.person_id == Person.id)
        .where(ChannelAccount.channel == account.channel, ChannelAccount.external_id == account.external_id))


async def ensure_person(session: AsyncSession, account: Account, display_name: str = "") -> Person:
    """The person behind a channel account, created on first contact; keeps the name fresh — except
    for experts, leaders and staff, whose name is the one the directory gives
    (a chat nickname must not replace 王建国 in reports and certificates)."""
    person = await find_person(session, account)
    if person is None:
        person = Person(display_name=display_name, roles=[])
        session.add(person)
        await session.flush()
        session.add(ChannelAccount(person_id=person.id, channel=account.channel, external_id=account.external_id))
        await session.flush()
    elif display_name and person.display_name != display_name and (
            not person.display_name or not person.role_names & DIRECTORY_ROLES):
        person.display_name = display_name
    return person


async def person_by_id(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("没有找到您的账号，请发送 /start 重新开始。")
    return person


async def addresses_of(session: AsyncSession, person_ids: Iterable[int]) -> dict[int, Account]:
    """Where each person is reached: the account they used last."""
    wanted = set(person_ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(ChannelAccount.person_id, ChannelAccount.channel, ChannelAccount.external_id)
        .where(ChannelAccount.person_id.in_(wanted))
        .order_by(ChannelAccount.last_seen_at, ChannelAccount.id))
    return {person_id: Account(channel, external_id) for person_id, channel, external_id in rows}


async def address_of(session: AsyncSession, person_id: int) -> Account | None:
    return (await addresses_of(session, (person_id,))).get(person_id)


async def sheet_accounts(session: AsyncSession, person_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Each person's account id on the channel staff's spreadsheets carry (bot.channels.ID_COLUMN)."""
    query = select(ChannelAccount.person_id, ChannelAccount.external_id).where(
        ChannelAccount.channel == SHEET_ACCOUNTS.name).order_by(ChannelAccount.id)
    if person_ids is not None:
        query = query.where(ChannelAccount.person_id.in_(set(person_ids)))
    return {person_id: external_id for person_id, external_id in await session.execute(query)}


def leads(person: Person, team: ServiceTeam) -> bool:
    """Is this person the team's leader?"""
    return team.leader_id == person.id


def grant_role(person: Person, role: str) -> None:
    if role not in person.role_names:
        person.roles.append(PersonRole(role=role))


async def staff_ids(session: AsyncSession) -> list[int]:
    rows = await session.scalars(
        select(PersonRole.person_id).where(PersonRole.role == STAFF).order_by(PersonRole.person_id))
    return list(rows)


async def privileged_accounts(session: AsyncSession, channel: str) -> set[str]:
    """Staff, team leaders and experts on one channel: the people who may send more than a
    farmer (flood control)."""
    roles = select(PersonRole.person_id).where(PersonRole.role.in_((STAFF, LEADER, EXPERT)))
    leaders = select(ServiceTeam.leader_id).where(ServiceTeam.leader_id.is_not(None))
    experts = select(Expert.person_id).where(Expert.person_id.is_not(None))
    rows = await session.scalars(
        select(ChannelAccount.external_id).where(
            ChannelAccount.channel == channel,
            ChannelAccount.person_id.in_(roles.union(leaders, experts).scalar_subquery())))
    return set(rows)


class PeopleService:
    """Who is writing: a channel hands in the account, the core works with the person's id."""

    KNOWN = 100_000  # accounts whose person id (and name) this process remembers

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._known: OrderedDict[Account, tuple[int, str]] = OrderedDict()
        self._agreed: set[int] = set()  # people known to have agreed to the privacy notice

    async def person_id(self, account: Account, display_name: str = "") -> int:
        """The id of the person behind an account, created on first contact. An account never
        moves to another person, so the answer is remembered; the database is written only for
        a new account or a changed name."""
        known = self._known.get(account)
        if known is not None and (not display_name or known[1] == display_name):
            self._known.move_to_end(account)
            return known[0]
        person = await self.greet(account, display_name)
        return person.id

    async def greet(self, account: Account, display_name: str) -> Person:
        async with self._sessions.begin() as session:
            person = await ensure_person(session, account, display_name)
        self._remember(account, person.id, display_name or person.display_name)
        return person

    def _remember(self, account: Account, person_id: int, channel_name: str) -> None:
        # The name the channel gave, so that the next update with the same name needs no write.
        self._known[account] = (person_id, channel_name)
        self._known.move_to_end(account)
        while len(self._known) > self.KNOWN:
            self._known.popitem(last=False)

    def forget(self, person_id: int) -> None:
        """This process stops remembering the person's accounts (their data was deleted: their
        next message starts a new person)."""
        for account in [a for a, (known, _) in self._known.items() if known == person_id]:
            del self._known[account]
        self._agreed.discard(person_id)

    async def agreed_privacy(self, person_id: int) -> bool:
        if person_id in self._agreed:
            return True
        async with self._sessions() as session:
            agreed = await session.scalar(select(Person.privacy_agreed_at).where(Person.id == person_id)) is not None
        if agreed:
            self._agreed.add(person_id)
        return agreed

    async def agree_privacy(self, person_id: int, now: datetime) -> None:
        """The person pressed 同意 under the privacy notice (the first time counts)."""
        if await self.agreed_privacy(person_id):
            return
        async with self._sessions.begin() as session:
            person = await person_by_id(session, person_id)
            if person.privacy_agreed_at is None:
                person.privacy_agreed_at = now
        self._agreed.add(person_id)

    async def get(self, person_id: int) -> Person | None:
        async with self._sessions() as session:
            return await session.get(Person, person_id)

    async def by_account(self, account: Account) -> Person | None:
        async with self._sessions() as session:
            return await find_person(session, account)

    async def address(self, person_id: int) -> Account | None:
        async with self._sessions() as session:
            return await address_of(session, person_id)

    async def privileged(self, channel: str) -> set[str]:
        async with self._sessions() as session:
            return await privileged_accounts(session, channel)

    async def set_region(self, person_id: int, region_code: str) -> Person:
        if regions.get(region_code) is None:
            raise NotFound("没有这个地区，请重新选择。")
        async with self._sessions.begin() as session:
            person = await person_by_id(session, person_id)
            person.region_code = region_code
            return person


__all__ = [
    "Account", "FARMER", "ENTERPRISE", "EXPERT", "LEADER", "STAFF", "ROLES", "PeopleService",
    "address_of", "addresses_of", "ensure_person", "find_person", "grant_role", "leads", "person_by_id",
    "privileged_accounts", "sheet_accounts", "staff_ids",
]
