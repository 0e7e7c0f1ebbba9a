"""The matching hub (政策第二条 “智能匹配”): for one demand, the technology achievements that fit it
and the experts best placed to serve it, each with its reasons."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import achievements, lifecycle, matching
from bot.services.achievements import Match
from bot.services.bases import APPROVED
from bot.services.matching import Candidate
from intents import regions
from storage.models import Demand, DemandAssignment, Expert, ServiceBase


@dataclass(frozen=True)
class Matches:
    demand: Demand
    achievements: list[Match]
    experts: list[Candidate]
    bases: list[ServiceBase]  # approved 专家服务基地 serving the demand's region


async def matches(sessions: async_sessionmaker[AsyncSession], demand_id: int, limit: int = 3) -> Matches | None:
    async with sessions() as session:
        demand = await session.get(Demand, demand_id)
        if demand is None:
            return None
        found = await achievements.for_demand(session, demand, limit)
        experts = (await session.scalars(select(Expert))).all()
        fitting = [e for e in experts if demand.field in (e.fields or [])]
        ranked = matching.rank(fitting, demand, await _open_load(session))[:limit]
        bases = [b for b in (await session.scalars(select(ServiceBase).where(ServiceBase.status == APPROVED))).all()
                 if demand.region_code and b.region_code and regions.covers(b.region_code, demand.region_code)]
    return Matches(demand, found, ranked, bases[:limit])


async def _open_load(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(DemandAssignment.expert_id, func.count()).join(Demand, Demand.id == DemandAssignment.demand_id)
        .where(Demand.status.in_(lifecycle.OPEN)).group_by(DemandAssignment.expert_id))
    return {expert_id: count for expert_id, count in rows.all()}
