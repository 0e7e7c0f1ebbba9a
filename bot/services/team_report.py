"""The yearly team report (服务团年度报表): per service team, the demands it received in the year,
how many it closed and solved, how fast it accepted, its experts' service hours and the ratings
farmers gave — within the staff member's area (a 市州 or county sees the demands asked there)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import CHINA_TIME
from bot.services import lifecycle
from bot.services.scope import Scope
from bot.services.tabular import write_table
from storage.models import Demand, Person, ServiceRecord, ServiceTeam

HEADERS = ("服务团", "团长", "收到需求(件)", "已办结(件)", "农户确认解决(件)", "接单用时中位数(小时)",
           "服务时长(小时)", "评分(条)", "平均评分", "五星(条)", "一至二星(条)")
NO_TEAM = "（未分派服务团）"


@dataclass
class TeamYear:
    team: str
    leader: str
    received: int = 0
    closed: int = 0
    solved: int = 0
    accept_hours: list[float] = field(default_factory=list)
    service_hours: float = 0.0
    ratings: list[int] = field(default_factory=list)

    @property
    def average_rating(self) -> float | None:
        return round(sum(self.ratings) / len(self.ratings), 2) if self.ratings else None

    @property
    def median_accept_hours(self) -> float | None:
        return round(statistics.median(self.accept_hours), 1) if self.accept_hours else None


async def yearly(sessions: async_sessionmaker[AsyncSession], year: int,
                 scope: Scope | None = None) -> list[TeamYear]:
    """One row per team with demands asked in `year` (China time) within `scope`, busiest first."""
    scope = scope or Scope.province()
    start = datetime.combine(date(year, 1, 1), time(0), CHINA_TIME)
    end = datetime.combine(date(year + 1, 1, 1), time(0), CHINA_TIME)
    async with sessions() as session:
        demands = (await session.scalars(select(Demand).where(
            scope.clause(), Demand.created_at >= start, Demand.created_at < end))).all()
        teams = {t.id: t for t in (await session.scalars(select(ServiceTeam))).all()}
        leaders = {p.id: p.display_name or "" for p in (await session.scalars(select(Person).where(
            Person.id.in_([t.leader_id for t in teams.values() if t.leader_id])))).all()}
        hours = await _hours(session, [d.id for d in demands])
    rows: dict[int | None, TeamYear] = {}
    for demand in demands:
        team = teams.get(demand.team_id or 0)
        row = rows.get(demand.team_id)
        if row is None:
            row = rows[demand.team_id] = TeamYear(
                team.name if team else NO_TEAM, leaders.get(team.leader_id or 0, "") if team else "")
        row.received += 1
        row.closed += demand.status == lifecycle.CLOSED
        row.solved += bool(demand.solved)
        if demand.accepted_at is not None:
            row.accept_hours.append((demand.accepted_at - demand.created_at).total_seconds() / 3600)
        row.service_hours += hours.get(demand.id, 0.0)
        if demand.rating:
            row.ratings.append(demand.rating)
    return sorted(rows.values(), key=lambda r: (r.team == NO_TEAM, -r.received, r.team))


async def _hours(session: AsyncSession, demand_ids: list[int]) -> dict[int, float]:
    counted: dict[int, float] = {}
    for start in range(0, len(demand_ids), 500):  # SQLite's limit on bound parameters
        chunk = demand_ids[start:start + 500]
        for record in (await session.scalars(select(ServiceRecord).where(
                ServiceRecord.demand_id.in_(chunk)))).all():
            if record.review in (None, "approved"):
                counted[record.demand_id] = counted.get(record.demand_id, 0.0) + record.hours
    return counted


def write_report(rows: list[TeamYear], path: str | Path) -> Path:
    cells = [[r.team, r.leader, r.received, r.closed, r.solved,
              "" if r.median_accept_hours is None else r.median_accept_hours, round(r.service_hours, 2),
              len(r.ratings), "" if r.average_rating is None else r.average_rating,
              sum(1 for x in r.ratings if x == 5), sum(1 for x in r.ratings if x <= 2)] for r in rows]
    return write_table(path, HEADERS, cells, sheet_title="服务团年度报表", widths=(26, 10) + (14,) * 9)
