"""Service-level deadlines of the loop: 接单 within a working day, the first answer within
three, urgent demands within hours; reminders to the 团长 at half-time and at the deadline,
督办 to every staff member when a deadline passes, and the 回访 a week after 办结; it also
sends the day-before reminders of training sign-ups (`bot.services.signups.reminder_for`).

Every reminder, escalation and follow-up is a `ScheduledJob` row written in the same
transaction as the move that caused it, so it survives restarts; whatever drives
`run_due` (the channel's job queue, a cron, a test) is only the pulse. A job is
claimed (pending → done, conditional UPDATE) before anything is sent: two runners never
both send it, and a crash between the claim and the send loses that one message
rather than repeating it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.buttons import FollowUpNotSolved, FollowUpSolved
from bot.services import lifecycle, signups
from bot.services.calendar import QuietHours, WorkCalendar, china_time
from bot.services.hooks import LoopHooks
from bot.services.notifier import Action
from bot.services.outbox import REMINDER, Outbox, Outgoing, buttons
from bot.services.people import staff_ids
from bot.services.sql import rowcount
from storage.models import Demand, ScheduledJob, ServiceTeam

log = logging.getLogger(__name__)

# What the bot says. {no} tracking number, {text} the start of the question, {due} China time.
URGENT_MARK = "【紧急】"
REMIND_ACCEPT_HALF = "⏰ 提醒：需求 {no}「{text}」还没有接单，接单时限是 {due}，请及时接单或转派。"
REMIND_ACCEPT_DUE = "⏰ 提醒：需求 {no}「{text}」的接单时限 {due} 已到，请尽快接单或转派。"
REMIND_ANSWER_HALF = "⏰ 提醒：需求 {no}「{text}」还没有首次答复农户，答复时限是 {due}，请安排专家及时答复。"
REMIND_ANSWER_DUE = "⏰ 提醒：需求 {no}「{text}」的首次答复时限 {due} 已到，请尽快安排专家答复农户。"
ESCALATION_HEAD = "📋 督办：以下 {count} 条需求已超过办理时限，请跟进："
ESCALATION_LINE = "{mark}{no}（{team}）：{stage}超时 {late}，时限 {due}"
NO_TEAM = "未分配服务团"
FOLLOW_UP = "回访：您的需求 {no} 办结已经一周了，问题还解决着吗？"
FOLLOW_UP_SOLVED = "解决了"
FOLLOW_UP_NOT_SOLVED = "没有，还有问题"
STAGE_ACCEPT = "接单"
STAGE_ANSWER = "首次答复"
WEEKDAYS = "一二三四五六日"
JUST_DUE = "刚到期"

# Job kinds, as stored in scheduled_jobs.kind.
REMIND_ACCEPT_HALF_KIND = "remind_accept_half"
REMIND_ACCEPT_DUE_KIND = "remind_accept_due"
ESCALATE_ACCEPT = "escalate_accept"
REMIND_ANSWER_HALF_KIND = "remind_answer_half"
REMIND_ANSWER_DUE_KIND = "remind_answer_due"
ESCALATE_ANSWER = "escalate_answer"
FOLLOW_UP_KIND = "follow_up"
ACCEPT_JOBS = (REMIND_ACCEPT_HALF_KIND, REMIND_ACCEPT_DUE_KIND, ESCALATE_ACCEPT)
ANSWER_JOBS = (REMIND_ANSWER_HALF_KIND, REMIND_ANSWER_DUE_KIND, ESCALATE_ANSWER)
ESCALATIONS = (ESCALATE_ACCEPT, ESCALATE_ANSWER)
HALF_TIME = (REMIND_ACCEPT_HALF_KIND, REMIND_ANSWER_HALF_KIND)
_REMINDER_TEXT = {
    REMIND_ACCEPT_HALF_KIND: REMIND_ACCEPT_HALF,
    REMIND_ACCEPT_DUE_KIND: REMIND_ACCEPT_DUE,
    REMIND_ANSWER_HALF_KIND: REMIND_ANSWER_HALF,
    REMIND_ANSWER_DUE_KIND: REMIND_ANSWER_DUE,
}
# At equal times the leader's reminder goes before the staff's 督办.
_ORDER = {kind: i for i, kind in enumerate((*ACCEPT_JOBS, *ANSWER_JOBS, FOLLOW_UP_KIND))}

PENDING, DONE, CANCELLED = "pending", "done", "cancelled"
ANSWER_PENDING = frozenset({lifecycle.ACCEPTED, lifecycle.IN_SERVICE, lifecycle.REOPENED})
EXCERPT_CHARS = 20


@dataclass(frozen=True)
class DeadlinePolicy:
    accept_working_days: int = 1
    answer_working_days: int = 3
    urgent_hours: float = 4  # both 接单 and the first answer, counted in clock hours
    follow_up_after: timedelta = timedelta(days=7)
    quiet: QuietHours = field(default_factory=QuietHours)


@dataclass(frozen=True)
class OverdueDemand:
    demand_id: int
    tracking_no: str
    team_name: str
    stage: str            # STAGE_ACCEPT or STAGE_ANSWER
    due_at: datetime
    overdue_by: timedelta
    urgent: bool = False


@dataclass(frozen=True)
class _Outcome:
    messages: tuple[tuple[int, str, tuple[tuple[Action, ...], ...]], ...] = ()
    escalate: bool = False


class DeadlineService(LoopHooks):
    """Sets deadlines and schedules jobs from the loop's hooks (inside the caller's
    transaction), and runs the jobs that are due."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        calendar: WorkCalendar,
        policy: DeadlinePolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._sessions = sessions
        self._calendar = calendar
        self._policy = policy or DeadlinePolicy()
        self._clock = clock

    # ---- hooks: called inside the transaction that moved the demand ----

    async def on_routed(self, session: AsyncSession, demand: Demand) -> None:
        """The demand entered a team's queue (WAITING): a fresh 接单 deadline."""
        now = self._clock()
        await _cancel(session, demand.id, now)
        due, half = self._deadline(now, demand.urgent, self._policy.accept_working_days)
        demand.accept_due_at = due
        await self._schedule_stage(session, demand.id, half, due, ACCEPT_JOBS)

    async def on_accepted(self, session: AsyncSession, demand: Demand) -> None:
        """Accepted (or reopened): the 接单 jobs end and a first-answer deadline starts now."""
        now = self._clock()
        await _cancel(session, demand.id, now)
        due, half = self._deadline(now, demand.urgent, self._policy.answer_working_days)
        demand.answer_due_at = due
        await self._schedule_stage(session, demand.id, half, due, ANSWER_JOBS)

    async def on_answered(self, session: AsyncSession, demand: Demand) -> None:
        await _cancel(session, demand.id, self._clock(), ANSWER_JOBS)

    async def on_closed(self, session: AsyncSession, demand: Demand) -> None:
        """办结: no more reminders; the 回访 a week later (never in the night)."""
        now = self._clock()
        await _cancel(session, demand.id, now)
        at = self._policy.quiet.hold((demand.closed_at or now) + self._policy.follow_up_after)
        await _schedule(session, FOLLOW_UP_KIND, demand.id, at, {})

    async def on_left_team(self, session: AsyncSession, demand: Demand) -> None:
        """转派, 退回 or cancelled: nothing of this team's deadlines stays pending."""
        await _cancel(session, demand.id, self._clock())

    # The loop's services call these names (bot/services/hooks.py).
    routed = on_routed
    accepted = on_accepted
    answered = on_answered
    closed = on_closed
    left_team = on_left_team

    def _deadline(self, now: datetime, urgent: bool, working_days: int) -> tuple[datetime, datetime]:
        if urgent:
            due = now + timedelta(hours=self._policy.urgent_hours)
            return due, now + (due - now) / 2
        due = self._calendar.add_working_days(now, working_days)
        return due, self._calendar.working_midpoint(now, due)

    async def _schedule_stage(self, session: AsyncSession, demand_id: int, half: datetime, due: datetime,
                              kinds: tuple[str, str, str]) -> None:
        half_kind, due_kind, escalate_kind = kinds
        payload = {"deadline": _iso(due)}
        if self._clock() < half < due:
            await _schedule(session, half_kind, demand_id, half, payload)
        await _schedule(session, due_kind, demand_id, due, payload)
        await _schedule(session, escalate_kind, demand_id, due, payload)

    # ---- running due jobs ----

    async def run_due(self, outbox: Outbox) -> int:
        """Run every pending job due by now, each in its own transaction, which also puts its
        messages in the outbox (a job is never done without its message, nor its message
        written twice); returns how many were done (sent, or found no longer needed). Jobs held
        by quiet hours are moved to the morning and not counted. All 督办 due in one run become
        one message per staff member, written with the jobs they close."""
        now = self._clock()
        async with self._sessions() as session:
            rows = (await session.execute(
                select(ScheduledJob.id, ScheduledJob.kind, ScheduledJob.due_at)
                .where(ScheduledJob.status == PENDING, ScheduledJob.due_at <= now)
            )).all()
        rows = sorted(rows, key=lambda r: (r.due_at, _ORDER.get(r.kind, 99), r.id))
        processed, escalations = 0, []
        for row in rows:
            outcome = await self._run_one(row.id, now, outbox)
            if outcome is None:
                continue
            if outcome.escalate:
                escalations.append(row.id)
            else:
                processed += 1
        if escalations:
            processed += await self._escalate(outbox, now, escalations)
        outbox.wake()
        return processed

    async def _run_one(self, job_id: int, now: datetime, outbox: Outbox) -> _Outcome | None:
        """None when another runner has it or quiet hours hold it; else what was done. An
        escalation still due is left pending for `_escalate`, which closes it with its message."""
        async with self._sessions.begin() as session:
            outcome = await self._claim_one(session, job_id, now)
            for n, (address, text, actions) in enumerate(outcome.messages if outcome else ()):
                await outbox.put(session, address, Outgoing(text, buttons(actions)), REMINDER,
                                 purpose=f"job:{job_id}", request_key=f"job:{job_id}#{n}")
            return outcome

    async def _claim_one(self, session: AsyncSession, job_id: int, now: datetime) -> _Outcome | None:
        """The job claimed (marked done) in `session`, and what it has to say."""
        job = await session.get(ScheduledJob, job_id, populate_existing=True)
        if job is None or job.status != PENDING:
            return None
        demand = await session.get(Demand, job.demand_id) if job.demand_id is not None else None
        may_wake = job.kind != FOLLOW_UP_KIND and demand is not None and demand.urgent
        if not may_wake and self._policy.quiet.contains(now):
            await self._hold(session, job, self._policy.quiet.hold(now), now)
            return None
        if job.kind in ESCALATIONS and demand is not None and _still_due(job, demand, now):
            return _Outcome(escalate=True)
        claimed = await session.execute(
            update(ScheduledJob)
            .where(ScheduledJob.id == job.id, ScheduledJob.status == PENDING)
            .values(status=DONE, done_at=now)
            .execution_options(synchronize_session=False)
        )
        if rowcount(claimed) != 1:
            return None
        if job.kind == signups.TRAINING_REMINDER_KIND:
            message = await signups.reminder_for(session, job, now)
            return _Outcome((message,) if message else ())
        if demand is None or not _still_due(job, demand, now):
            return _Outcome()
        if job.kind == FOLLOW_UP_KIND:
            actions = ((Action(FOLLOW_UP_SOLVED, FollowUpSolved(demand.id).encode()),
                        Action(FOLLOW_UP_NOT_SOLVED, FollowUpNotSolved(demand.id).encode())),)
            return _Outcome(((demand.submitter_id, FOLLOW_UP.format(no=demand.tracking_no), actions),))
        team = await session.get(ServiceTeam, demand.team_id) if demand.team_id is not None else None
        leader = team.leader_id if team is not None else None
        if leader is None:
            log.warning("no leader to remind for demand %s (team %s)", demand.id, demand.team_id)
            return _Outcome()
        due = demand.accept_due_at if job.kind in ACCEPT_JOBS else demand.answer_due_at
        text = _REMINDER_TEXT[job.kind].format(
            no=demand.tracking_no, text=_excerpt(demand.text), due=format_time(due))
        return _Outcome(((leader, (URGENT_MARK if demand.urgent else "") + text, ()),))

    async def _hold(self, session: AsyncSession, job: ScheduledJob, until: datetime, now: datetime) -> None:
        twin = None if job.demand_id is None else await session.scalar(select(ScheduledJob.id).where(
            # Jobs about no demand (training reminders) are told apart by their payload: none is a twin.
            ScheduledJob.kind == job.kind, ScheduledJob.demand_id == job.demand_id,
            ScheduledJob.due_at == until, ScheduledJob.id != job.id))
        values = {"due_at": until} if twin is None else {"status": DONE, "done_at": now}  # the twin will speak
        await session.execute(
            update(ScheduledJob)
            .where(ScheduledJob.id == job.id, ScheduledJob.status == PENDING, ScheduledJob.due_at == job.due_at)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def _escalate(self, outbox: Outbox, now: datetime, job_ids: list[int]) -> int:
        """Close the due 督办 jobs and put one message per staff member, in one transaction."""
        async with self._sessions.begin() as session:
            claimed = rowcount(await session.execute(
                update(ScheduledJob).where(ScheduledJob.id.in_(job_ids), ScheduledJob.status == PENDING)
                .values(status=DONE, done_at=now).execution_options(synchronize_session=False)))
            if not claimed:
                return 0
            items = await _overdue(session, now)
            if items:
                text = escalation_text(items)
                for staff in await staff_ids(session):
                    await outbox.put(session, staff, Outgoing(text), REMINDER,
                                     purpose="escalation", request_key=f"escalation:{min(job_ids)}:{staff}")
            return claimed

    async def overdue(self) -> list[OverdueDemand]:
        """Demands past their 接单 or first-answer deadline, the longest overdue first."""
        async with self._sessions() as session:
            return await _overdue(session, self._clock())


def escalation_text(items: Sequence[OverdueDemand]) -> str:
    lines = [ESCALATION_HEAD.format(count=len(items))]
    lines += [
        ESCALATION_LINE.format(mark=URGENT_MARK if item.urgent else "", no=item.tracking_no, team=item.team_name,
                               stage=item.stage, late=format_duration(item.overdue_by), due=format_time(item.due_at))
        for item in items
    ]
    return "\n".join(lines)


def format_time(moment: datetime | None) -> str:
    """11月30日（周一）17:00, China time."""
    if moment is None:
        return ""
    local = china_time(moment)
    return f"{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）{local:%H:%M}"


def format_duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{minutes}分钟" if minutes else f"{hours}小时"
    return f"{minutes}分钟" if minutes else JUST_DUE


async def _overdue(session: AsyncSession, now: datetime) -> list[OverdueDemand]:
    rows = (await session.execute(
        select(Demand, ServiceTeam.name)
        .outerjoin(ServiceTeam, ServiceTeam.id == Demand.team_id)
        .where(or_(
            (Demand.status == lifecycle.WAITING) & (Demand.accept_due_at <= now),
            Demand.status.in_(ANSWER_PENDING) & Demand.first_answer_at.is_(None) & (Demand.answer_due_at <= now),
        ))
    )).all()
    items = []
    for demand, team_name in rows:
        waiting = demand.status == lifecycle.WAITING
        due = demand.accept_due_at if waiting else demand.answer_due_at
        assert due is not None  # the query matched on it
        items.append(OverdueDemand(
            demand_id=demand.id, tracking_no=demand.tracking_no, team_name=team_name or NO_TEAM,
            stage=STAGE_ACCEPT if waiting else STAGE_ANSWER, due_at=due, overdue_by=now - due, urgent=demand.urgent,
        ))
    items.sort(key=lambda item: (item.due_at, item.demand_id))
    return items


def _still_due(job: ScheduledJob, demand: Demand, now: datetime) -> bool:
    """Whether the demand is still where the job expects it, under the same deadline (and,
    for a half-time reminder run late, the deadline has not passed: the due one says it)."""
    if job.kind == FOLLOW_UP_KIND:
        return demand.status == lifecycle.CLOSED
    if job.kind in ACCEPT_JOBS:
        ok, deadline = demand.status == lifecycle.WAITING, demand.accept_due_at
    elif job.kind in ANSWER_JOBS:
        ok = demand.status in ANSWER_PENDING and demand.first_answer_at is None
        deadline = demand.answer_due_at
    else:
        log.warning("unknown scheduled job kind %r (job %s)", job.kind, job.id)
        return False
    expected = (job.payload or {}).get("deadline")
    if not ok or deadline is None or (expected is not None and datetime.fromisoformat(expected) != deadline):
        return False
    return job.kind not in HALF_TIME or now < deadline


async def _schedule(session: AsyncSession, kind: str, demand_id: int, due_at: datetime, payload: dict[str, Any]) -> None:
    """Idempotent: the same job (kind, demand, time) is written once; a cancelled twin revives."""
    existing = await session.scalar(
        select(ScheduledJob)
        .where(ScheduledJob.kind == kind, ScheduledJob.demand_id == demand_id, ScheduledJob.due_at == due_at)
        .execution_options(populate_existing=True)
    )
    if existing is None:
        session.add(ScheduledJob(kind=kind, demand_id=demand_id, due_at=due_at, status=PENDING, payload=payload))
    elif existing.status == CANCELLED:
        existing.status, existing.payload, existing.done_at = PENDING, payload, None
    await session.flush()


async def _cancel(session: AsyncSession, demand_id: int, now: datetime, kinds: Iterable[str] | None = None) -> None:
    query = update(ScheduledJob).where(ScheduledJob.demand_id == demand_id, ScheduledJob.status == PENDING)
    if kinds is not None:
        query = query.where(ScheduledJob.kind.in_(tuple(kinds)))
    await session.execute(query.values(status=CANCELLED, done_at=now).execution_options(synchronize_session=False))


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()
