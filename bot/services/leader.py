"""The team leader's side: the team's queue and 接单 (accepting a demand)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import AlreadyAccepted, NotAllowed, NotFound, NotTeamLeader
from bot.services import lifecycle
from bot.services.hooks import LoopHooks
from bot.services.people import leads, person_by_id
from storage.models import Demand, DemandEvent, Person, ServiceTeam


@dataclass(frozen=True)
class Acceptance:
    demand: Demand
    leader: Person
    team: ServiceTeam
    submitter_id: int


class LeaderService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime],
                 hooks: LoopHooks | None = None) -> None:
        self._sessions = sessions
        self._clock = clock
        self._hooks = hooks or LoopHooks()

    async def accept(self, demand_id: int, person_id: int, request_key: str | None = None) -> Acceptance:
        """接单. Exactly one of any number of concurrent presses wins; the rest are told
        who accepted it. Only the leader of the demand's own team may accept. The winning
        request replayed (after a crash) gets the same acceptance back."""
        now = self._clock()
        async with self._sessions.begin() as session:
            demand = await session.get(Demand, demand_id)
            if demand is None:
                raise NotFound("没有找到这条需求。")
            person = await person_by_id(session, person_id)
            team = await session.get(ServiceTeam, demand.team_id) if demand.team_id else None
            if team is None or not leads(person, team):
                raise NotTeamLeader()
            if request_key and await _accepted_by_request(session, demand.id, request_key):
                return Acceptance(demand, person, team, demand.submitter_id)
            if demand.status != lifecycle.WAITING:
                raise await _already(session, demand)
            try:
                await lifecycle.move(
                    session, demand.id, lifecycle.WAITING, lifecycle.ACCEPTED,
                    actor_id=person.id, at=now, note="接单", conflict=AlreadyAccepted, request_key=request_key,
                    accepted_by_id=person.id, accepted_at=now,
                )
            except AlreadyAccepted:
                await session.refresh(demand)
                raise await _already(session, demand) from None
            await session.refresh(demand)
            await self._hooks.accepted(session, demand)
        return Acceptance(demand, person, team, demand.submitter_id)

    async def team_names(self, person_id: int) -> list[str]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ServiceTeam.name).where(ServiceTeam.leader_id == person_id).order_by(ServiceTeam.id)
            )
            return list(rows)

    async def queue(self, person_id: int, offset: int, limit: int) -> tuple[list[Demand], int]:
        """The waiting demands of every team this person leads, oldest first."""
        async with self._sessions() as session:
            team_ids = (await session.scalars(select(ServiceTeam.id).where(ServiceTeam.leader_id == person_id))).all()
            if not team_ids:
                raise NotAllowed("只有服务团团长可以查看待接单队列。")
            where = (Demand.team_id.in_(team_ids), Demand.status == lifecycle.WAITING)
            total = await session.scalar(select(func.count()).select_from(Demand).where(*where))
            rows = await session.scalars(
                select(Demand).where(*where).order_by(Demand.created_at, Demand.id).offset(offset).limit(limit)
            )
            return list(rows), total or 0


async def _accepted_by_request(session: AsyncSession, demand_id: int, request_key: str) -> bool:
    event = await session.scalar(
        select(DemandEvent.id).where(
            DemandEvent.demand_id == demand_id, DemandEvent.to_status == lifecycle.ACCEPTED,
            DemandEvent.request_key == request_key,
        )
    )
    return event is not None


async def _already(session: AsyncSession, demand: Demand) -> AlreadyAccepted:
    if demand.status == lifecycle.ACCEPTED and demand.accepted_by_id:
        who = await session.get(Person, demand.accepted_by_id)
        name = who.display_name if who and who.display_name else "其他人"
        return AlreadyAccepted(f"这条需求已由{name}接单。")
    return AlreadyAccepted(f"这条需求现在的状态是「{lifecycle.status_name(demand.status)}」，不能接单。")
