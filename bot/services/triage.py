"""Staff triage (分诊): demands no team fits or leaders returned, and routing one to a team."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import NotAllowed, NotFound
from bot.services import lifecycle
from bot.services.hooks import LoopHooks
from bot.services.people import STAFF
from storage.models import Demand, Person, ServiceTeam


@dataclass(frozen=True)
class Routed:
    demand: Demand
    team: ServiceTeam
    leader_id: int | None
    submitter_id: int


class TriageService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime],
                 hooks: LoopHooks | None = None) -> None:
        self._sessions = sessions
        self._clock = clock
        self._hooks = hooks or LoopHooks()

    async def queue(self, person_id: int) -> list[Demand]:
        async with self._sessions() as session:
            await _staff(session, person_id)
            rows = await session.scalars(select(Demand).where(Demand.status == lifecycle.TRIAGE)
                                         .order_by(Demand.created_at, Demand.id))
            return list(rows)

    async def teams_for(self, demand_id: int, person_id: int) -> list[ServiceTeam]:
        """Teams serving the demand's field first, then the rest."""
        async with self._sessions() as session:
            await _staff(session, person_id)
            demand = await session.get(Demand, demand_id)
            if demand is None:
                raise NotFound("没有找到这条需求。")
            teams = (await session.scalars(select(ServiceTeam).order_by(ServiceTeam.id))).all()
            return sorted(teams, key=lambda t: (demand.field not in (t.fields or []), t.id))

    async def all_teams(self) -> list[tuple[int, str]]:
        async with self._sessions() as session:
            return [(t.id, t.name) for t in (await session.scalars(select(ServiceTeam).order_by(ServiceTeam.name))).all()]

    async def route(self, demand_id: int, team_id: int, person_id: int, request_key: str | None = None) -> Routed:
        now = self._clock()
        async with self._sessions.begin() as session:
            staff = await _staff(session, person_id)
            demand = await session.get(Demand, demand_id)
            team = await session.get(ServiceTeam, team_id)
            if demand is None or team is None:
                raise NotFound("没有找到这条需求或服务团。")
            if await lifecycle.replayed(session, demand.id, request_key) is not None:  # handled again
                return Routed(demand, team, team.leader_id, demand.submitter_id)
            await lifecycle.move(session, demand.id, lifecycle.TRIAGE, lifecycle.WAITING, actor_id=staff.id, at=now,
                                 note=f"工作人员分派给{team.name}", request_key=request_key, team_id=team.id)
            await session.refresh(demand)
            await self._hooks.routed(session, demand)
            return Routed(demand, team, team.leader_id, demand.submitter_id)


async def _staff(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None or STAFF not in person.role_names:
        raise NotAllowed("只有工作人员可以分派需求。")
    return person
