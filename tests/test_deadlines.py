"""Deadlines of the service loop: the working calendar, quiet hours, the jobs each move
schedules, and what run_due sends to leaders, staff and farmers (real SQLite, a hand-moved clock)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timezone

import pytest
from sqlalchemy import select, update

from bot.clock import CHINA_TIME
from bot.services import lifecycle
from bot.services.calendar import QuietHours, WorkCalendar
from bot.services.deadlines import DeadlinePolicy, DeadlineService
from bot.services.people import Account, address_of, ensure_person
from bot.telegram.common import account_of
from storage.db import create_engine, session_factory
from storage.models import Demand, ScheduledJob
from tests.conftest import Clock
from tests.factories import make_staff, make_team, person_id

FARMER, LEADER, STAFF_A, STAFF_B = 1001, 2001, 3001, 3002


def cn(y, mo, d, h=0, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=CHINA_TIME)


MONDAY_8 = cn(2026, 11, 30, 8)  # an ordinary Monday morning


class Recorder:
    """An outbox double: remembers what was put in it."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, list[list]]] = []

    async def put(self, session, to, message, priority, **row) -> None:
        """`to` is a person: recorded by the Telegram id they are reached on."""
        account = to if isinstance(to, Account) else await address_of(session, to)
        self.sent.append((int(account.external_id), message.text, [list(r) for r in message.actions]))

    def wake(self) -> None:
        pass

    def to(self, telegram_id: int) -> list[str]:
        return [text for who, text, _ in self.sent if who == telegram_id]


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar.load()


@pytest.fixture
def china_clock() -> Clock:
    return Clock(MONDAY_8)


@pytest.fixture
def deadlines(sessions, calendar, china_clock) -> DeadlineService:
    return DeadlineService(sessions, calendar, DeadlinePolicy(), china_clock)


@pytest.fixture
async def team(sessions):
    return await make_team(sessions, "植保服务团", ["plant_protection"], leader_telegram_id=LEADER)


_numbers = iter(range(1, 10_000))


async def make_demand(sessions, team, *, urgent=False, status=lifecycle.WAITING, text="水稻叶子发黄有病斑") -> Demand:
    async with sessions.begin() as session:
        farmer = await ensure_person(session, account_of(FARMER), "张")
        demand = Demand(tracking_no=f"XQ20261130-{next(_numbers):04d}", text=text, submitter_id=farmer.id,
                        field="plant_protection", confidence=0.9, urgent=urgent, status=status,
                        team_id=team.id if team else None)
        session.add(demand)
    return demand


async def hook(sessions, name: str, deadlines: DeadlineService, demand_id: int, **changes) -> Demand:
    """Run one hook in its own transaction, as the loop's services do after a move."""
    async with sessions.begin() as session:
        demand = await session.get(Demand, demand_id)
        for key, value in changes.items():
            setattr(demand, key, value)
        await getattr(deadlines, name)(session, demand)
        return demand


async def jobs(sessions, demand_id: int, status: str | None = "pending") -> list[tuple[str, datetime]]:
    async with sessions() as session:
        query = select(ScheduledJob).where(ScheduledJob.demand_id == demand_id)
        if status:
            query = query.where(ScheduledJob.status == status)
        rows = (await session.scalars(query.order_by(ScheduledJob.due_at, ScheduledJob.id))).all()
    return [(job.kind, job.due_at) for job in rows]


# ---- the calendar ----

def test_weekends_holidays_and_make_up_working_days(calendar):
    assert calendar.is_working_day(date(2026, 11, 30))      # Monday
    assert not calendar.is_working_day(date(2026, 11, 28))  # Saturday
    assert not calendar.is_working_day(date(2026, 10, 1))   # 国庆节, a Thursday
    assert not calendar.is_working_day(date(2026, 2, 16))   # 春节, a Monday
    assert calendar.is_working_day(date(2026, 2, 14))       # 调休: Saturday worked before 春节
    assert calendar.is_working_day(date(2025, 9, 28))       # 调休: Sunday worked before 国庆节 2025


def test_adding_working_days_skips_holidays_and_counts_make_up_days(calendar):
    # The day before the National Day week: the next working day is 8 October.
    assert calendar.add_working_days(cn(2026, 9, 30, 10), 1) == cn(2026, 10, 8, 10)
    # Friday before 春节: the Saturday is a make-up working day.
    assert calendar.add_working_days(cn(2026, 2, 13, 15), 1) == cn(2026, 2, 14, 15)
    assert calendar.add_working_days(cn(2026, 11, 27, 17), 3) == cn(2026, 12, 2, 17)  # Fri → Wed
    # Started on a day off: counted from Monday 09:00.
    assert calendar.add_working_days(cn(2026, 11, 28, 15), 1) == cn(2026, 12, 1, 9)
    utc_start = cn(2026, 11, 30, 10).astimezone(timezone.utc)
    assert calendar.add_working_days(utc_start, 1).tzinfo == timezone.utc


def test_calendar_data_forms_and_mistakes():
    flat = WorkCalendar.load({"holidays": ["2027-01-01"], "workdays": ["2027-01-02"]})
    assert not flat.is_working_day(date(2027, 1, 1)) and flat.is_working_day(date(2027, 1, 2))
    with pytest.raises(ValueError, match="2027-13-01"):
        WorkCalendar.load({"year": [{"year": 2027, "holidays": ["2027-13-01"]}]})
    with pytest.raises(ValueError, match="both"):
        WorkCalendar.load({"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]})


def test_half_time_counts_only_working_time(calendar):
    # Friday 17:00 → Monday 17:00: seven hours on Friday, seventeen on Monday; half is Monday 05:00.
    assert calendar.working_midpoint(cn(2026, 11, 27, 17), cn(2026, 11, 30, 17)) == cn(2026, 11, 30, 5)


def test_quiet_hours_hold_until_morning():
    quiet = QuietHours()
    assert quiet.hold(cn(2026, 11, 30, 23)) == cn(2026, 12, 1, 7)
    assert quiet.hold(cn(2026, 12, 1, 3, 30)) == cn(2026, 12, 1, 7)
    assert quiet.hold(cn(2026, 11, 30, 22)) == cn(2026, 12, 1, 7)
    assert quiet.hold(cn(2026, 12, 1, 7)) == cn(2026, 12, 1, 7)
    assert quiet.hold(cn(2026, 12, 1, 12)) == cn(2026, 12, 1, 12)
    utc = cn(2026, 11, 30, 23).astimezone(timezone.utc)
    assert quiet.hold(utc) == cn(2026, 12, 1, 7) and quiet.hold(utc).tzinfo == timezone.utc
    assert QuietHours(time(12), time(14)).hold(cn(2026, 12, 1, 13)) == cn(2026, 12, 1, 14)


# ---- scheduling from the loop's moves ----

async def test_routing_sets_the_accept_deadline_and_schedules_reminders(sessions, deadlines, team):
    demand = await make_demand(sessions, team)
    routed = await hook(sessions, "on_routed", deadlines, demand.id)
    assert routed.accept_due_at == cn(2026, 12, 1, 8)
    assert await jobs(sessions, demand.id) == [
        ("remind_accept_half", cn(2026, 11, 30, 20)),
        ("remind_accept_due", cn(2026, 12, 1, 8)),
        ("escalate_accept", cn(2026, 12, 1, 8)),
    ]
    await hook(sessions, "on_routed", deadlines, demand.id)  # a replay schedules nothing new
    assert len(await jobs(sessions, demand.id, status=None)) == 3


async def test_urgent_demands_are_due_in_four_hours(sessions, deadlines, team):
    demand = await make_demand(sessions, team, urgent=True)
    routed = await hook(sessions, "on_routed", deadlines, demand.id)
    assert routed.accept_due_at == cn(2026, 11, 30, 12)
    assert [due for _, due in await jobs(sessions, demand.id)] == [cn(2026, 11, 30, 10), cn(2026, 11, 30, 12),
                                                                   cn(2026, 11, 30, 12)]


async def test_accepting_ends_accept_jobs_and_starts_the_answer_deadline(sessions, deadlines, team, china_clock):
    demand = await make_demand(sessions, team)
    await hook(sessions, "on_routed", deadlines, demand.id)
    china_clock.advance(hours=2)
    accepted = await hook(sessions, "on_accepted", deadlines, demand.id, status=lifecycle.ACCEPTED)
    assert accepted.answer_due_at == cn(2026, 12, 3, 10)  # three working days
    assert [kind for kind, _ in await jobs(sessions, demand.id)] == [
        "remind_answer_half", "remind_answer_due", "escalate_answer"]
    assert [kind for kind, _ in await jobs(sessions, demand.id, "cancelled")] == [
        "remind_accept_half", "remind_accept_due", "escalate_accept"]
    await hook(sessions, "on_answered", deadlines, demand.id, status=lifecycle.ANSWERED)
    assert await jobs(sessions, demand.id) == []


async def test_closing_schedules_the_follow_up_a_week_later_in_daytime(sessions, deadlines, team, china_clock):
    demand = await make_demand(sessions, team, status=lifecycle.IN_SERVICE)
    await hook(sessions, "on_accepted", deadlines, demand.id)
    china_clock.now = cn(2026, 12, 2, 23, 30)
    await hook(sessions, "on_closed", deadlines, demand.id, status=lifecycle.CLOSED, closed_at=china_clock.now)
    assert await jobs(sessions, demand.id) == [("follow_up", cn(2026, 12, 10, 7))]


async def test_leaving_the_team_cancels_everything_pending(sessions, deadlines, team):
    demand = await make_demand(sessions, team)
    await hook(sessions, "on_routed", deadlines, demand.id)
    await hook(sessions, "on_left_team", deadlines, demand.id, status=lifecycle.TRIAGE)
    assert await jobs(sessions, demand.id) == []


# ---- running the jobs ----

async def test_half_time_reminder_reaches_the_leader_once(sessions, deadlines, team, china_clock):
    demand = await make_demand(sessions, team)
    await hook(sessions, "on_routed", deadlines, demand.id)
    notifier = Recorder()
    assert await deadlines.run_due(notifier) == 0
    china_clock.now = cn(2026, 11, 30, 20)
    assert await deadlines.run_due(notifier) == 1
    [text] = notifier.to(LEADER)
    assert demand.tracking_no in text and "接单" in text and "12月1日（周二）08:00" in text
    assert await deadlines.run_due(notifier) == 0
    assert len(notifier.sent) == 1


async def test_quiet_hours_hold_a_non_urgent_reminder_until_seven(sessions, deadlines, team, china_clock):
    china_clock.now = cn(2026, 11, 30, 10)  # half-time falls at 22:00
    demand = await make_demand(sessions, team)
    await hook(sessions, "on_routed", deadlines, demand.id)
    notifier = Recorder()
    china_clock.now = cn(2026, 11, 30, 23)
    assert await deadlines.run_due(notifier) == 0
    assert notifier.sent == []
    assert ("remind_accept_half", cn(2026, 12, 1, 7)) in await jobs(sessions, demand.id)
    china_clock.now = cn(2026, 12, 1, 7)
    assert await deadlines.run_due(notifier) == 1
    assert len(notifier.to(LEADER)) == 1


async def test_urgent_reminders_go_out_at_night(sessions, deadlines, team, china_clock):
    china_clock.now = cn(2026, 11, 30, 21)
    demand = await make_demand(sessions, team, urgent=True)
    await hook(sessions, "on_routed", deadlines, demand.id)
    china_clock.now = cn(2026, 11, 30, 23)
    notifier = Recorder()
    assert await deadlines.run_due(notifier) == 1
    [text] = notifier.to(LEADER)
    assert text.startswith("【紧急】") and demand.tracking_no in text


async def test_escalation_lists_every_overdue_demand_to_every_staff_member(sessions, deadlines, team, china_clock):
    await make_staff(sessions, STAFF_A)
    await make_staff(sessions, STAFF_B)
    waiting = await make_demand(sessions, team)
    await hook(sessions, "on_routed", deadlines, waiting.id)
    serving = await make_demand(sessions, team, status=lifecycle.IN_SERVICE)
    await hook(sessions, "on_accepted", deadlines, serving.id)  # due Thursday 08:00
    answered = await make_demand(sessions, team, status=lifecycle.ANSWERED)
    await hook(sessions, "on_accepted", deadlines, answered.id, first_answer_at=MONDAY_8)

    china_clock.now = cn(2026, 12, 1, 10)  # two hours past the 接单 deadline
    notifier = Recorder()
    assert await deadlines.run_due(notifier) == 3  # stale half-time, the due reminder, the escalation
    [reminder] = notifier.to(LEADER)
    assert waiting.tracking_no in reminder and "已到" in reminder
    assert notifier.to(STAFF_A) == notifier.to(STAFF_B)
    [escalation] = notifier.to(STAFF_A)
    assert escalation.startswith("📋 督办") and waiting.tracking_no in escalation
    assert "植保服务团" in escalation and "接单超时 2小时" in escalation
    assert serving.tracking_no not in escalation

    china_clock.now = cn(2026, 12, 3, 9)
    notifier = Recorder()
    await deadlines.run_due(notifier)
    [escalation] = notifier.to(STAFF_A)
    assert "首次答复超时 1小时" in escalation and "接单超时 2天1小时" in escalation
    assert answered.tracking_no not in escalation
    overdue = await deadlines.overdue()
    assert [(o.tracking_no, o.stage) for o in overdue] == [(waiting.tracking_no, "接单"),
                                                           (serving.tracking_no, "首次答复")]


async def test_jobs_of_a_demand_that_moved_on_finish_silently(sessions, deadlines, team, china_clock):
    await make_staff(sessions, STAFF_A)
    demand = await make_demand(sessions, team)
    await hook(sessions, "on_routed", deadlines, demand.id)
    async with sessions.begin() as session:  # accepted by a path that forgot the hook
        await lifecycle.move(session, demand.id, lifecycle.WAITING, lifecycle.ACCEPTED, actor_id=None,
                             at=china_clock.now)
    china_clock.now = cn(2026, 12, 1, 9)
    notifier = Recorder()
    assert await deadlines.run_due(notifier) == 3
    assert notifier.sent == []
    assert await jobs(sessions, demand.id) == []


async def test_follow_up_reaches_the_farmer_a_week_after_closing(sessions, deadlines, team, china_clock):
    demand = await make_demand(sessions, team, status=lifecycle.CLOSED)
    await hook(sessions, "on_closed", deadlines, demand.id, closed_at=china_clock.now)
    notifier = Recorder()
    china_clock.advance(days=6, hours=23)
    assert await deadlines.run_due(notifier) == 0
    china_clock.advance(hours=1)
    assert await deadlines.run_due(notifier) == 1
    [(who, text, actions)] = notifier.sent
    assert who == FARMER
    assert text == f"回访：您的需求 {demand.tracking_no} 办结已经一周了，问题还解决着吗？"
    assert [(a.label, a.data) for row in actions for a in row] == [
        ("解决了", f"fu:ok:{demand.id}"), ("没有，还有问题", f"fu:no:{demand.id}")]


async def test_a_reopened_demand_gets_no_follow_up(sessions, deadlines, team, china_clock):
    demand = await make_demand(sessions, team, status=lifecycle.CLOSED)
    await hook(sessions, "on_closed", deadlines, demand.id, closed_at=china_clock.now)
    china_clock.advance(days=1)
    await hook(sessions, "on_accepted", deadlines, demand.id, status=lifecycle.REOPENED, closed_at=None)
    assert [kind for kind, _ in await jobs(sessions, demand.id)] == [
        "remind_answer_half", "remind_answer_due", "escalate_answer"]
    china_clock.advance(days=7)
    notifier = Recorder()
    await deadlines.run_due(notifier)
    assert notifier.to(FARMER) == []


async def test_concurrent_runners_send_each_job_once(sessions, deadlines, team, china_clock, calendar):
    await make_staff(sessions, STAFF_A)
    demand = await make_demand(sessions, team)
    await hook(sessions, "on_routed", deadlines, demand.id)
    china_clock.now = cn(2026, 12, 1, 8)
    other = DeadlineService(sessions, calendar, DeadlinePolicy(), china_clock)
    notifier = Recorder()
    counts = await asyncio.gather(deadlines.run_due(notifier), other.run_due(notifier), deadlines.run_due(notifier))
    assert sum(counts) == 3
    assert len(notifier.to(LEADER)) == 1  # the due reminder; the half-time one is stale
    assert len(notifier.to(STAFF_A)) == 1


async def test_jobs_survive_a_restart(db_url, sessions, deadlines, team, china_clock, calendar):
    demand = await make_demand(sessions, team)
    await hook(sessions, "on_routed", deadlines, demand.id)
    engine = create_engine(db_url)  # a new process: new engine, new service, same database
    try:
        restarted = DeadlineService(session_factory(engine), calendar, DeadlinePolicy(), china_clock)
        china_clock.now = cn(2026, 11, 30, 20)
        notifier = Recorder()
        assert await restarted.run_due(notifier) == 1
        assert len(notifier.to(LEADER)) == 1
    finally:
        await engine.dispose()


async def test_a_held_job_with_a_twin_at_the_morning_is_not_sent_twice(sessions, deadlines, team, china_clock):
    demand = await make_demand(sessions, team)
    await hook(sessions, "on_routed", deadlines, demand.id)
    async with sessions.begin() as session:  # two copies of the reminder, one already at 07:00
        job = await session.scalar(select(ScheduledJob).where(ScheduledJob.kind == "remind_accept_half"))
        session.add(ScheduledJob(kind=job.kind, demand_id=demand.id, due_at=cn(2026, 12, 1, 7), payload=job.payload))
        await session.execute(update(ScheduledJob).where(ScheduledJob.id == job.id).values(due_at=cn(2026, 11, 30, 22)))
    china_clock.now = cn(2026, 11, 30, 23)
    notifier = Recorder()
    await deadlines.run_due(notifier)
    china_clock.now = cn(2026, 12, 1, 7)
    await deadlines.run_due(notifier)
    assert len(notifier.to(LEADER)) == 1


async def test_the_loop_services_call_the_deadlines(sessions, understander, knowledge, team, china_clock, calendar):
    from bot.services.intake import IntakeService
    from bot.services.leader import LeaderService

    deadlines = DeadlineService(sessions, calendar, DeadlinePolicy(), china_clock)
    intake = IntakeService(sessions, understander, knowledge, china_clock, deadlines)
    farmer = await person_id(sessions, FARMER, "张")
    draft = (await intake.new_question(farmer, "水稻稻瘟病打什么药")).draft
    demand = (await intake.submit(draft.id, farmer)).demand
    assert [kind for kind, _ in await jobs(sessions, demand.id)] == [
        "remind_accept_half", "remind_accept_due", "escalate_accept"]
    await LeaderService(sessions, china_clock, deadlines).accept(demand.id, await person_id(sessions, LEADER))
    async with sessions() as session:
        stored = await session.get(Demand, demand.id)
    assert stored.accept_due_at == cn(2026, 12, 1, 8) and stored.answer_due_at == cn(2026, 12, 3, 8)
    assert [kind for kind, _ in await jobs(sessions, demand.id)] == [
        "remind_answer_half", "remind_answer_due", "escalate_answer"]

