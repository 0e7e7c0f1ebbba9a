"""Each expert's yearly service record (年度服务记录), the evidence for 职称评审 and 继续教育学时:
every demand they served — with their own hours whether or not they closed it — the trainings they
lectured with their hours, and the ratings farmers gave the demands they served. A 市州 or county
version counts only the demands asked in its area and the trainings held for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import CHINA_TIME
from bot.services.expert import APPROVED
from bot.services.scope import Scope
from bot.services.tabular import write_table
from storage.models import Demand, DemandAssignment, Expert, ServiceRecord, ServiceTeam, TrainingNotice

HEADERS = ("姓名", "职称", "工作单位", "所属服务团", "服务需求(件)", "其中本人办结(件)", "服务时长(小时)",
           "讲课(次)", "讲课时长(小时)", "合计时长(小时)", "收到评分(条)", "平均评分")


@dataclass
class YearRecord:
    expert_id: int
    name: str
    title: str
    employer: str
    team: str
    demands: list[tuple[str, float, bool]] = field(default_factory=list)  # tracking no, own hours, closed it
    lectures: list[tuple[str, float]] = field(default_factory=list)       # training title, hours
    ratings: list[int] = field(default_factory=list)

    @property
    def service_hours(self) -> float:
        return sum(hours for _, hours, _ in self.demands)

    @property
    def lecture_hours(self) -> float:
        return sum(hours for _, hours in self.lectures)


async def yearly(sessions: async_sessionmaker[AsyncSession], year: int,
                 scope: Scope | None = None) -> list[YearRecord]:
    scope = scope or Scope.province()
    async with sessions() as session:
        experts = (await session.scalars(select(Expert).order_by(Expert.name))).all()
        teams = {t.id: t.name for t in (await session.scalars(select(ServiceTeam))).all()}
        records = {e.id: YearRecord(e.id, e.name, e.title or "", e.employer or "", teams.get(e.team_id or 0, ""))
                   for e in experts}
        await _demands(session, year, scope, records)
        await _lectures(session, year, scope, records)
    return [r for r in records.values() if r.demands or r.lectures]


async def _demands(session: AsyncSession, year: int, scope: Scope, records: dict[int, YearRecord]) -> None:
    served = (await session.execute(select(DemandAssignment.expert_id, Demand).join(
        Demand, Demand.id == DemandAssignment.demand_id).where(scope.clause()))).all()
    all_records = (await session.scalars(select(ServiceRecord).order_by(ServiceRecord.id))).all()
    own = {(r.expert_id, r.demand_id): r for r in all_records if r.review in (None, APPROVED)}
    # Other experts log their hours only after the demand is closed: the first record is the closer's.
    closer: dict[int, int] = {}
    for r in all_records:
        closer.setdefault(r.demand_id, r.expert_id)
    for expert_id, demand in served:
        moment = demand.closed_at or demand.created_at
        if expert_id not in records or _year(moment) != year:
            continue
        record = own.get((expert_id, demand.id))
        entry = records[expert_id]
        entry.demands.append((demand.tracking_no, record.hours if record else 0.0, closer.get(demand.id) == expert_id))
        if demand.rating:
            entry.ratings.append(demand.rating)


async def _lectures(session: AsyncSession, year: int, scope: Scope, records: dict[int, YearRecord]) -> None:
    notices = (await session.scalars(select(TrainingNotice).where(TrainingNotice.lecturers.is_not(None)))).all()
    for notice in notices:
        if (notice.status == "cancelled" or notice.starts_at is None or _year(notice.starts_at) != year
                or not scope.reaches(notice.regions)):
            continue
        for expert_id in notice.lecturers or []:
            if expert_id in records:
                records[expert_id].lectures.append((notice.title, float(notice.duration_hours or 0)))


def _year(moment: datetime) -> int:
    return moment.astimezone(CHINA_TIME).year


def write_report(rows: list[YearRecord], path: str | Path) -> Path:
    cells = [[r.name, r.title, r.employer, r.team, len(r.demands), sum(1 for _, _, closed in r.demands if closed),
              r.service_hours, len(r.lectures), r.lecture_hours, r.service_hours + r.lecture_hours, len(r.ratings),
              round(sum(r.ratings) / len(r.ratings), 2) if r.ratings else ""] for r in rows]
    return write_table(path, HEADERS, cells, sheet_title="专家年度服务记录", widths=(12, 14, 26, 24) + (12,) * 8)
