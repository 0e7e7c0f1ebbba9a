"""The demo directory and its cast: made-up teams and experts loaded through the real import,
one staff member, and the personas the terminal user plays (fixed fake Telegram ids)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import TELEGRAM
from bot.services import directory
from bot.services.people import PeopleService
from bot.telegram.common import account_of
from storage.models import ChannelAccount, Demand, ServiceTeam

FARMER, LEADER, STAFF, EXPERT, VISITOR = "farmer", "leader", "staff", "expert", "visitor"


@dataclass(frozen=True)
class Persona:
    key: str  # what `:as` takes: farmer, leader1, staff, expert
    telegram_id: int
    name: str
    role: str  # FARMER, LEADER, STAFF, EXPERT or VISITOR (any other id typed after :as)
    team: str | None = None


# The ids below are the ones in teams.csv / experts.csv; keep them in step.
PERSONAS = (
    Persona(FARMER, 800001, "张大哥", FARMER),
    Persona("leader1", 900001, "李团长", LEADER, "水稻与植保专家服务团"),
    Persona("leader2", 900002, "王团长", LEADER, "畜牧水产专家服务团"),
    Persona("leader3", 900003, "刘团长", LEADER, "油茶林业与中药材专家服务团"),
    Persona("leader4", 900004, "陈团长", LEADER, "电商与加工专家服务团"),
    Persona(STAFF, 700001, "周干事", STAFF),
    Persona(EXPERT, 600001, "张三", EXPERT, "水稻与植保专家服务团"),
)


@dataclass(frozen=True)
class Loaded:
    """What loading did: the import summaries, or nothing when the data was already there."""

    teams: str | None
    experts: str | None

    @property
    def reused(self) -> bool:
        return self.teams is None


async def load_directory(sessions: async_sessionmaker[AsyncSession]) -> Loaded:
    """Import the demo teams and experts, add the staff member and give everyone a name,
    unless an earlier run of the demo already did (a reused `--data` folder)."""
    if await _loaded_before(sessions):
        return Loaded(None, None)
    files = resources.files("bot.demo")
    with resources.as_file(files / "teams.csv") as teams_csv:
        teams = await directory.import_teams(sessions, teams_csv)
    with resources.as_file(files / "experts.csv") as experts_csv:
        experts = await directory.import_experts(sessions, experts_csv)
    staff = next(p for p in PERSONAS if p.role == STAFF)
    await directory.add_staff(sessions, account_of(staff.telegram_id), staff.name)
    # Imported leaders and experts have no name until they write to the bot; the demo's
    # people have used it before, so cards read "已由 李团长 接单" rather than "团长".
    people = PeopleService(sessions)
    for persona in PERSONAS:
        if persona.role in (LEADER, EXPERT):
            await people.greet(account_of(persona.telegram_id), persona.name)
    return Loaded(teams.summary(), experts.summary())


async def _loaded_before(sessions: async_sessionmaker[AsyncSession]) -> bool:
    first_team = next(p.team for p in PERSONAS if p.role == LEADER)
    async with sessions() as session:
        return await session.scalar(select(ServiceTeam.id).where(ServiceTeam.name == first_team)) is not None


async def leader_of_latest_demand(sessions: async_sessionmaker[AsyncSession]) -> int | None:
    """The Telegram id of the leader whose team's queue most recently got a demand."""
    async with sessions() as session:
        found = await session.scalar(
            select(ChannelAccount.external_id)
            .join(ServiceTeam, ServiceTeam.leader_id == ChannelAccount.person_id)
            .join(Demand, Demand.team_id == ServiceTeam.id)
            .where(ChannelAccount.channel == TELEGRAM.name)
            .order_by(Demand.id.desc())
            .limit(1)
        )
        return int(found) if found is not None else None
