"""What staff see of the province (the console's queries): demands by field × county × month, open,
overdue and escalated counts, median time to accept and to close, ratings, service hours by team,
the demand list with filters, and one demand's whole timeline — always within the staff member's
area. Province staff see everything; a 市州 or county 人社局's staff see their own area only, and a
demand outside it is refused (`NotAllowed`), as if it did not exist to them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import NotAllowed, NotFound
from bot.services import lifecycle
from bot.services.deadlines import DONE, ESCALATE_ACCEPT, ESCALATE_ANSWER
from bot.services.people import STAFF, person_by_id
from bot.services.scope import Scope
from intents import regions
from storage.models import (
    Demand,
    DemandAssignment,
    DemandEvent,
    DemandMessage,
    Expert,
    Person,
    ScheduledJob,
    ServiceRecord,
    ServiceTeam,
)

OPEN = (lifecycle.WAITING, lifecycle.TRIAGE, lifecycle.ACCEPTED, lifecycle.IN_SERVICE, lifecycle.ANSWERED,
        lifecycle.REOPENED)
NOT_STAFF = "只有工作人员可以使用管理后台。"
OUTSIDE = "这条需求不在您负责的地区。"


async def scope_of(session: AsyncSession, person_id: int) -> Scope:
    person = await person_by_id(session, person_id)
    if STAFF not in person.role_names:
        raise NotAllowed(NOT_STAFF)
    return Scope(person.staff_region or regions.PROVINCE_CODE)


@dataclass(frozen=True)
class Filters:
    field: str | None = None
    region: str | None = None     # a city or county within the scope
    status: str | None = None     # a lifecycle status, or "open" / "overdue"
    team_id: int | None = None
    since: date | None = None     # China dates, inclusive
    until: date | None = None
    text: str | None = None       # words in the question or the tracking number


@dataclass
class Dashboard:
    total: int = 0
    open: int = 0
    overdue: int = 0
    escalated: int = 0
    median_accept_hours: float | None = None
    median_close_hours: float | None = None
    average_rating: float | None = None
    rated: int = 0
    by_field: list[tuple[str, int]] = field(default_factory=list)
    by_region: list[tuple[str | None, int]] = field(default_factory=list)
    by_month: list[tuple[str, int]] = field(default_factory=list)
    heat: dict[tuple[str, str | None], int] = field(default_factory=dict)  # (field, region) → demands
    hours_by_team: list[tuple[str, float, int]] = field(default_factory=list)  # team, hours, records


def _where(scope: Scope, filters: Filters, now: datetime) -> list[ColumnElement[bool]]:
    clauses = [scope.clause()]
    if filters.field:
        clauses.append(Demand.field == filters.field)
    if filters.region and scope.contains(filters.region):
        clauses.append(Scope(filters.region).clause())
    if filters.status == "open":
        clauses.append(Demand.status.in_(OPEN))
    elif filters.status == "overdue":
        clauses.append(_overdue(now))
    elif filters.status:
        clauses.append(Demand.status == filters.status)
    if filters.team_id:
        clauses.append(Demand.team_id == filters.team_id)
    if filters.since:
        clauses.append(Demand.created_at >= _utc_start(filters.since))
    if filters.until:
        clauses.append(Demand.created_at < _utc_start(filters.until + timedelta(days=1)))
    if filters.text:
        words = filters.text.strip()[:50]
        clauses.append(or_(Demand.text.contains(words, autoescape=True), Demand.tracking_no == words.upper()))
    return clauses


def _overdue(now: datetime) -> ColumnElement[bool]:
    late_accept = and_(Demand.status.in_((lifecycle.WAITING, lifecycle.TRIAGE)), Demand.accept_due_at < now)
    late_answer = and_(Demand.status.in_((lifecycle.ACCEPTED, lifecycle.IN_SERVICE, lifecycle.REOPENED)),
                       Demand.first_answer_at.is_(None), Demand.answer_due_at < now)
    return or_(late_accept, late_answer)


def _utc_start(day: date) -> datetime:
    from bot.clock import CHINA_TIME

    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TIME)


async def dashboard(sessions: async_sessionmaker[AsyncSession], scope: Scope, filters: Filters,
                    now: datetime) -> Dashboard:
    where = _where(scope, filters, now)
    board = Dashboard()
    async with sessions() as session:
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        row = (await session.execute(select(
            func.count(),
            func.count().filter(Demand.status.in_(OPEN)),
            func.count().filter(_overdue(now)),
            func.avg(Demand.rating), func.count(Demand.rating),
        ).where(*where))).one()
        board.total, board.open, board.overdue = row[0], row[1], row[2]
        board.average_rating, board.rated = (float(row[3]) if row[3] is not None else None), row[4]
        board.escalated = await session.scalar(select(func.count(func.distinct(ScheduledJob.demand_id))).where(
            ScheduledJob.kind.in_((ESCALATE_ACCEPT, ESCALATE_ANSWER)), ScheduledJob.status == DONE,
            ScheduledJob.demand_id.in_(select(Demand.id).where(*where)))) or 0
        board.median_accept_hours = await _median_hours(session, dialect, Demand.created_at, Demand.accepted_at, where)
        board.median_close_hours = await _median_hours(session, dialect, Demand.created_at, Demand.closed_at, where)
        heat = (await session.execute(select(Demand.field, Demand.region_code, func.count())
                                      .where(*where).group_by(Demand.field, Demand.region_code))).all()
        board.heat = {(f, r): n for f, r, n in heat}
        fields: dict[str, int] = {}
        places: dict[str | None, int] = {}
        for (f, r), n in board.heat.items():
            fields[f] = fields.get(f, 0) + n
            places[r] = places.get(r, 0) + n
        board.by_field = sorted(fields.items(), key=lambda item: -item[1])
        board.by_region = sorted(places.items(), key=lambda item: -item[1])
        month = _month(dialect)
        board.by_month = [(m, n) for m, n in (await session.execute(
            select(month, func.count()).where(*where).group_by(month).order_by(month))).all()]
        board.hours_by_team = [(name, float(hours or 0), records) for name, hours, records in (await session.execute(
            select(ServiceTeam.name, func.sum(ServiceRecord.hours), func.count(ServiceRecord.id))
            .join(Demand, Demand.id == ServiceRecord.demand_id).join(ServiceTeam, ServiceTeam.id == Demand.team_id)
            .where(*where).group_by(ServiceTeam.name).order_by(func.sum(ServiceRecord.hours).desc()))).all()]
    return board


def _month(dialect: str) -> ColumnElement[Any]:
    """The China-time month of a demand ("2026-12")."""
    if dialect == "postgresql":
        return func.to_char(Demand.created_at + literal(timedelta(hours=8)), "YYYY-MM")
    return func.strftime("%Y-%m", Demand.created_at, "+8 hours")


async def _median_hours(session: AsyncSession, dialect: str, start: Any, end: Any,
                        where: Sequence[ColumnElement[bool]]) -> float | None:
    if dialect == "postgresql":
        hours: ColumnElement[Any] = func.extract("epoch", end - start) / 3600.0
    else:
        hours = (func.julianday(end) - func.julianday(start)) * 24.0
    done = [*where, end.is_not(None)]
    count = await session.scalar(select(func.count()).where(*done)) or 0
    if not count:
        return None
    query: Select[Any] = select(hours.label("h")).where(*done).order_by(hours).offset((count - 1) // 2).limit(1)
    value = await session.scalar(query)
    return float(value) if value is not None else None


@dataclass(frozen=True)
class DemandRow:
    id: int
    tracking_no: str
    field: str
    region_code: str | None
    status: str
    team: str | None
    created_at: datetime
    text: str
    rating: int | None
    overdue: bool


async def demands(sessions: async_sessionmaker[AsyncSession], scope: Scope, filters: Filters, now: datetime,
                  page: int = 1, per_page: int = 50) -> tuple[list[DemandRow], int]:
    where = _where(scope, filters, now)
    async with sessions() as session:
        total = await session.scalar(select(func.count()).select_from(Demand).where(*where)) or 0
        rows = (await session.execute(
            select(Demand, ServiceTeam.name, _overdue(now)).outerjoin(ServiceTeam, ServiceTeam.id == Demand.team_id)
            .where(*where).order_by(Demand.id.desc()).offset(max(0, page - 1) * per_page).limit(per_page))).all()
    return [DemandRow(d.id, d.tracking_no, d.field, d.region_code, d.status, team, d.created_at, d.text, d.rating,
                      bool(late)) for d, team, late in rows], total


@dataclass(frozen=True)
class Happening:
    at: datetime
    kind: str    # "status" | "message" | "assignment" | "reminder" | "record"
    text: str


@dataclass(frozen=True)
class Timeline:
    demand: Demand
    team: str | None
    submitter: str
    happenings: list[Happening]


async def timeline(sessions: async_sessionmaker[AsyncSession], scope: Scope, demand_id: int) -> Timeline:
    """Every state change, relayed message, assignment, reminder and service record of one demand,
    in time order; refused outside the scope."""
    async with sessions() as session:
        demand = await session.get(Demand, demand_id)
        if demand is None:
            raise NotFound("没有这条需求。")
        if not scope.covers(demand.region_code):
            raise NotAllowed(OUTSIDE)
        names: dict[int, str] = {}
        happenings: list[Happening] = []
        for event in (await session.scalars(select(DemandEvent).where(DemandEvent.demand_id == demand_id))).all():
            who = await _name(session, names, event.actor_id)
            change = f"{event.from_status or '提交'} → {event.to_status}"
            happenings.append(Happening(event.created_at, "status", f"{change}（{who}）{event.note}".strip()))
        for message in (await session.scalars(select(DemandMessage).where(DemandMessage.demand_id == demand_id))).all():
            who = await _name(session, names, message.sender_id)
            what = message.text or ("照片" if message.kind == "photo" else "语音" if message.kind == "voice" else "")
            arrow = "专家 → 农户" if message.direction == "to_farmer" else "农户 → 专家"
            happenings.append(Happening(message.created_at, "message", f"{arrow}（{who}）：{what}"))
        assigned = (await session.execute(select(DemandAssignment, Expert.name).join(
            Expert, Expert.id == DemandAssignment.expert_id).where(DemandAssignment.demand_id == demand_id))).all()
        for assignment, expert in assigned:
            happenings.append(Happening(assignment.created_at, "assignment", f"派专家：{expert}"))
        for job in (await session.scalars(select(ScheduledJob).where(ScheduledJob.demand_id == demand_id,
                                                                    ScheduledJob.status == DONE))).all():
            happenings.append(Happening(job.done_at or job.due_at, "reminder", f"提醒 / 督办：{job.kind}"))
        for record in (await session.scalars(select(ServiceRecord).where(ServiceRecord.demand_id == demand_id))).all():
            happenings.append(Happening(record.created_at, "record",
                                        f"服务记录：{record.mode} {record.hours:g} 小时 {record.summary}"))
        team = await session.get(ServiceTeam, demand.team_id) if demand.team_id else None
        submitter = await _name(session, names, demand.submitter_id)
    happenings.sort(key=lambda h: h.at)
    return Timeline(demand, team.name if team else None, submitter, happenings)


async def _name(session: AsyncSession, cache: dict[int, str], person_id: int | None) -> str:
    if person_id is None:
        return "系统"
    if person_id not in cache:
        person = await session.get(Person, person_id)
        cache[person_id] = (person.display_name if person else "") or f"#{person_id}"
    return cache[person_id]
