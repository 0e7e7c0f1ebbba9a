"""Broadcasting training notices (培训通知) through a durable outbox, one row per recipient.

Channel-neutral: the sender talks to a `Channel` and reads and writes only the database.
What a channel may raise:

    BroadcastError            base
    ├── RateLimited           the server says "too many requests, retry after N s" (429)
    ├── Blocked               the person blocked the bot or the chat is gone: never retried,
    │                         their subscriptions are switched off
    ├── PermanentError        the server refuses this message for good (e.g. too long)
    └── TransientError        anything that may work next time (network, 5xx): retried
                              with exponential backoff, then recorded as failed

An outbox row goes pending → sending → sent | blocked | failed, or sending → retry → sending
after a transient error. A row is marked "sending" (committed) before its HTTP call and no
more than `concurrency` rows are ever in "sending", so after a crash those rows are the only
ones that may have reached the person without being recorded: the next sender sends them
again, which bounds duplicates by `concurrency`. One sender at a time holds a lease row in
the database, so two processes never exceed the rate together.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Protocol

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import JicengError
from bot.services.notifier import Action
from intents import regions
from storage.models import OutboxMessage, Person, SenderLease, Subscription, TrainingNotice

log = logging.getLogger(__name__)

CHINA_TIME = timezone(timedelta(hours=8))

# Outbox row statuses.
PENDING, SENDING, RETRY, SENT, BLOCKED, FAILED = "pending", "sending", "retry", "sent", "blocked", "failed"
WAITING_STATUSES = (PENDING, RETRY)
OPEN_STATUSES = (PENDING, RETRY, SENDING)
# Notice statuses this module sets.
NOTICE_SENDING, NOTICE_SENT = "sending", "sent"

SIGNUP_CALLBACK = "sg:{notice_id}"

# --- What the broadcast says ---------------------------------------------------------------

NOTICE_HEADER = "📢 培训通知：{title}"
NOTICE_TIME = "时间：{when}（北京时间）"
NOTICE_DURATION = "时长：约 {hours} 小时"
NOTICE_PLACE = "地点：{place}"
NOTICE_CAPACITY = "名额：{capacity} 人"
NOTICE_NO_LIMIT = "名额：不限"
NOTICE_DEADLINE = "报名截止：{when}"
NOTICE_SIGNUP_HINT = "想参加请点下方“报名”。"
SIGNUP_BUTTON = "报名"

PROGRESS = ("培训通知「{title}」正在发送\n已发送 {sent}，失败 {failed}，剩余 {remaining}\n"
            "速度 {rate:.1f} 条/秒，预计还需 {eta}")
FINAL_REPORT = ("培训通知「{title}」发送完毕\n共 {total} 人：已送达 {sent}，未送达 {failed}"
                "（其中 {blocked} 人已屏蔽机器人或账号已不存在，已停止向其推送）\n用时 {elapsed}")
ALL_NOTICES = "全部待发通知"
LEASE_HELD = "另一个发送进程（{holder}）正在发送培训通知；本通知已排队，会由它发出。"
LEASE_LOST = "发送权已被其他进程接管，本进程停止发送。"


class BroadcastError(Exception):
    """What a `Channel` raises when a message did not go out."""


class RateLimited(BroadcastError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after} s")
        self.retry_after = float(retry_after)


class Blocked(BroadcastError):
    """The person blocked the bot, or the chat no longer exists."""


class PermanentError(BroadcastError):
    """The server refuses this message for good; retrying cannot help."""


class TransientError(BroadcastError):
    """May work next time."""


class LeaseHeld(JicengError):
    def __init__(self, holder: str) -> None:
        super().__init__(LEASE_HELD.format(holder=holder))
        self.holder = holder


class LeaseLost(JicengError):
    user_message = LEASE_LOST


class Channel(Protocol):
    async def send(self, chat_id: int, text: str, buttons: Sequence[Sequence[Action]] = ()) -> int:
        """Deliver one message; returns its message id. Raises the errors above."""


class Clock(Protocol):
    def now(self) -> datetime: ...
    def monotonic(self) -> float: ...
    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


# --- Rendering --------------------------------------------------------------------------


def china(moment: datetime) -> str:
    return moment.astimezone(CHINA_TIME).strftime("%Y年%m月%d日 %H:%M")


def _hours(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def render_notice(notice: TrainingNotice) -> str:
    """The plain Chinese text a recipient gets."""
    lines = [NOTICE_HEADER.format(title=notice.title)]
    if notice.starts_at:
        lines.append(NOTICE_TIME.format(when=china(notice.starts_at)))
    if notice.duration_hours:
        lines.append(NOTICE_DURATION.format(hours=_hours(notice.duration_hours)))
    if notice.place:
        lines.append(NOTICE_PLACE.format(place=notice.place))
    lines.append(NOTICE_CAPACITY.format(capacity=notice.capacity) if notice.capacity else NOTICE_NO_LIMIT)
    if notice.signup_deadline:
        lines.append(NOTICE_DEADLINE.format(when=china(notice.signup_deadline)))
    if notice.content:
        lines += ["", notice.content.strip()]
    lines += ["", NOTICE_SIGNUP_HINT]
    return "\n".join(lines)


def notice_buttons(notice: TrainingNotice) -> list[list[Action]]:
    return [[Action(SIGNUP_BUTTON, SIGNUP_CALLBACK.format(notice_id=notice.id))]]


def duration_text(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} 秒"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} 分 {seconds} 秒"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} 小时 {minutes} 分"


# --- Recipients and the outbox ------------------------------------------------------------


def subscription_matches(notice_fields: Sequence[str], notice_regions: Sequence[str],
                         field_code: str, region_code: str) -> bool:
    """A subscription gets a notice when its field is one of the notice's (or either side
    says "every field") and its region covers, or is covered by, one of the notice's."""
    field_ok = not notice_fields or field_code == "*" or field_code in notice_fields
    region_ok = not notice_regions or any(
        regions.covers(region_code, r) or regions.covers(r, region_code) for r in notice_regions
    )
    return field_ok and region_ok


async def recipients_for(session: AsyncSession, notice: TrainingNotice) -> list[tuple[int, int]]:
    """(person id, chat id) of everyone with an active matching subscription, once each."""
    rows = await session.execute(
        select(Subscription.person_id, Person.telegram_id, Subscription.field, Subscription.region_code)
        .join(Person, Person.id == Subscription.person_id)
        .where(Subscription.active.is_(True), Person.telegram_id.is_not(None))
        .order_by(Subscription.person_id)
    )
    chosen: dict[int, int] = {}
    for person_id, chat_id, field_code, region_code in rows:
        if person_id not in chosen and subscription_matches(notice.fields, notice.regions, field_code, region_code):
            chosen[person_id] = chat_id
    return list(chosen.items())


async def enqueue(session: AsyncSession, notice: TrainingNotice,
                  recipients: Iterable[tuple[int | None, int]]) -> int:
    """Add a pending outbox row per new recipient (a chat already queued for this notice is
    skipped, so enqueueing twice is harmless) and mark the notice "sending". Returns how many
    rows were added. The caller commits."""
    await session.flush()  # the notice needs its id
    existing = set((await session.scalars(
        select(OutboxMessage.chat_id).where(OutboxMessage.notice_id == notice.id))).all())
    rows = []
    for person_id, chat_id in recipients:
        if chat_id in existing:
            continue
        existing.add(chat_id)
        rows.append({"notice_id": notice.id, "person_id": person_id, "chat_id": chat_id, "status": PENDING,
                     "attempts": 0, "last_error": ""})
    if rows:
        await session.execute(OutboxMessage.__table__.insert(), rows)
    notice.status = NOTICE_SENDING
    return len(rows)


# --- Progress ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressReport:
    title: str
    total: int
    sent: int
    failed: int      # blocked included
    blocked: int
    remaining: int
    rate: float      # messages a second lately
    eta_seconds: float
    elapsed: float
    done: bool
    rate_limited: int = 0  # 429s this run received

    def text(self) -> str:
        if self.done:
            return FINAL_REPORT.format(title=self.title, total=self.total, sent=self.sent, failed=self.failed,
                                       blocked=self.blocked, elapsed=duration_text(self.elapsed))
        return PROGRESS.format(title=self.title, sent=self.sent, failed=self.failed, remaining=self.remaining,
                               rate=self.rate, eta=duration_text(self.eta_seconds))


ProgressCallback = Callable[[ProgressReport], Awaitable[None] | None]


# --- The sender -------------------------------------------------------------------------


_senders_made = itertools.count(1)


def default_holder() -> str:
    """"host:pid#n": unique per Sender, so two in one process exclude each other too."""
    return f"{socket.gethostname()}:{os.getpid()}#{next(_senders_made)}"


@dataclass
class _Row:
    id: int
    notice_id: int
    person_id: int | None
    chat_id: int
    attempts: int


@dataclass
class _Counters:
    rate_limited: int = 0
    resumed: int = 0   # rows found in "sending" at start: sent again
    samples: deque = field(default_factory=lambda: deque(maxlen=8))


class Sender:
    """Works through the outbox: paced at `rate` messages a second overall (never more than
    `rate` in any second, spaced 1/rate apart) and one message per `per_chat_interval` to a
    chat, with at most `concurrency` messages in flight."""

    PROGRESS_EVERY = 2.0
    CLAIM_BATCH = 200
    IDLE_POLL = 1.0
    # Reserve a little slack over the server's one-second window for network jitter.
    WINDOW_MARGIN = 0.03
    PER_CHAT_MARGIN = 0.05

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channel: Channel,
        clock: Clock | None = None,
        *,
        rate: float = 30.0,
        per_chat_interval: float = 1.0,
        concurrency: int = 8,
        max_attempts: int = 5,
        backoff: float = 2.0,
        max_backoff: float = 300.0,
        lease_name: str = "notices",
        holder: str | None = None,
        lease_ttl: float = 15.0,
    ) -> None:
        self._sessions = sessions
        self._channel = channel
        self._clock = clock or RealClock()
        self.rate = rate
        self.per_chat_interval = per_chat_interval
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.lease_name = lease_name
        self.lease_ttl = lease_ttl
        self.holder = holder or default_holder()
        self._interval = 1.0 / rate
        self._window_size = max(1, int(rate))
        self._window: deque[float] = deque(maxlen=self._window_size)
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._chat_next: dict[int, float] = {}
        self._lease_deadline = 0.0
        self._took_over = False
        self._texts: dict[int, tuple[str, list[list[Action]]]] = {}
        self._seen_notices: set[int] = set()  # what "all notices" reports on
        self.counters = _Counters()

    # -- the lease

    async def acquire_lease(self) -> str | None:
        """Take or renew the lease; None when we hold it, else who does."""
        started = self._clock.monotonic()
        now = self._clock.now()
        expires = now + timedelta(seconds=self.lease_ttl)
        async with self._sessions() as session, session.begin():
            before = await session.scalar(select(SenderLease.holder).where(SenderLease.name == self.lease_name))
            taken = await session.execute(
                update(SenderLease)
                .where(SenderLease.name == self.lease_name,
                       or_(SenderLease.holder == self.holder, SenderLease.expires_at <= now))
                .values(holder=self.holder, expires_at=expires)
            )
            if not taken.rowcount:
                lease = await session.get(SenderLease, self.lease_name)
                if lease is None:
                    session.add(SenderLease(name=self.lease_name, holder=self.holder, expires_at=expires))
                    try:
                        await session.flush()
                    except IntegrityError:  # another process inserted it first (not on SQLite)
                        return "?"
                elif _dead_here(lease.holder):
                    # A sender on this machine that was killed: no need to wait for expiry.
                    log.info("taking over the lease of %s, which is no longer running", lease.holder)
                    lease.holder, lease.expires_at = self.holder, expires
                    self._took_over = True
                else:
                    return lease.holder
            elif before != self.holder:
                self._took_over = before is not None  # from a sender whose lease ran out
        self._lease_deadline = started + self.lease_ttl - 2.0
        return None

    async def release_lease(self) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(SenderLease)
                .where(SenderLease.name == self.lease_name, SenderLease.holder == self.holder)
                .values(expires_at=self._clock.now())
            )
        self._lease_deadline = 0.0

    def _lease_valid(self) -> bool:
        return self._clock.monotonic() < self._lease_deadline

    async def _keep_lease(self) -> None:
        while True:
            await self._clock.sleep(self.lease_ttl / 3)
            holder = await self.acquire_lease()
            if holder is not None:
                log.error("lost the sender lease to %s", holder)
                self._lease_deadline = 0.0
                return

    # -- running

    async def run(
        self,
        notice_id: int | None = None,
        on_progress: ProgressCallback | None = None,
        stop_when_idle: bool = True,
        wait_for_lease: bool = False,
    ) -> ProgressReport:
        """Send what is due until nothing is left (or forever, with stop_when_idle=False).
        Raises LeaseHeld when another sender holds the lease and wait_for_lease is false."""
        self._took_over = False
        while (holder := await self.acquire_lease()) is not None:
            if not wait_for_lease:
                raise LeaseHeld(holder)
            await self._clock.sleep(1.0)
        started = self._clock.monotonic()
        self.counters = _Counters()
        self._seen_notices = set()
        try:
            if self._took_over:
                # Another sender may have sent in the last second, to the same chats too (the
                # rows it had in flight): let the server's windows empty before the first send.
                self.pause(max(1.0, self.per_chat_interval) + self.WINDOW_MARGIN + self.PER_CHAT_MARGIN)
            self.counters.resumed = await self._requeue_in_flight()
            await self.progress(notice_id, started, done=False)  # notes what "all notices" covers
            if self.counters.resumed:
                log.warning("%d messages were in flight when the last sender stopped; sending them again",
                            self.counters.resumed)
            workers = _Workers(self, notice_id)
            keeper = asyncio.create_task(self._keep_lease())
            reporter = asyncio.create_task(self._report_loop(notice_id, on_progress, started))
            try:
                await workers.run(stop_when_idle)
            finally:
                for task in (keeper, reporter):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await self._finish_notices()
            report = await self.progress(notice_id, started, done=True)
            if on_progress:
                await _call(on_progress, report)
            return report
        finally:
            if self._lease_deadline:
                with contextlib.suppress(Exception):
                    await self.release_lease()

    async def _requeue_in_flight(self) -> int:
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(OutboxMessage).where(OutboxMessage.status == SENDING).values(status=PENDING))
            return result.rowcount or 0

    async def _report_loop(self, notice_id, on_progress, started) -> None:
        while True:
            await self._clock.sleep(self.PROGRESS_EVERY)
            try:
                await self._finish_notices()  # a sender that never stops still closes finished notices
                report = await self.progress(notice_id, started, done=False)
                if on_progress:
                    await _call(on_progress, report)
            except Exception:  # progress display must never stop the sending
                log.exception("progress report failed")

    async def progress(self, notice_id: int | None, started: float, done: bool) -> ProgressReport:
        async with self._sessions() as session:
            query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            if notice_id is not None:
                query = query.where(OutboxMessage.notice_id == notice_id)
            else:
                self._seen_notices |= set((await session.scalars(
                    select(OutboxMessage.notice_id.distinct()).where(OutboxMessage.status.in_(OPEN_STATUSES)))).all())
                query = query.where(OutboxMessage.notice_id.in_(sorted(self._seen_notices)))
            counts = dict((await session.execute(query)).all())
            title = ALL_NOTICES
            if notice_id is not None:
                notice = await session.get(TrainingNotice, notice_id)
                title = notice.title if notice else title
        sent, blocked = counts.get(SENT, 0), counts.get(BLOCKED, 0)
        failed = counts.get(FAILED, 0) + blocked
        remaining = sum(counts.get(s, 0) for s in OPEN_STATUSES)
        now = self._clock.monotonic()
        samples = self.counters.samples
        samples.append((now, sent))
        first_t, first_sent = samples[0]
        rate = max(0.0, (sent - first_sent) / (now - first_t)) if now - first_t > 0.5 else 0.0
        eta = remaining / (rate if rate > 0.5 else self.rate)
        return ProgressReport(title=title, total=sum(counts.values()), sent=sent, failed=failed, blocked=blocked,
                              remaining=remaining, rate=rate, eta_seconds=eta, elapsed=now - started,
                              done=done and remaining == 0, rate_limited=self.counters.rate_limited)

    async def _finish_notices(self) -> None:
        open_rows = select(OutboxMessage.id).where(
            OutboxMessage.notice_id == TrainingNotice.id, OutboxMessage.status.in_(OPEN_STATUSES))
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(TrainingNotice)
                .where(TrainingNotice.status == NOTICE_SENDING, ~open_rows.exists())
                .values(status=NOTICE_SENT, sent_at=self._clock.now())
            )

    # -- pacing

    def reserve(self, chat_id: int) -> float:
        """The monotonic time at which a message to `chat_id` may go; the slot is taken."""
        t = max(self._clock.monotonic(), self._next_slot, self._paused_until, self._chat_next.get(chat_id, 0.0))
        if len(self._window) == self._window_size:
            t = max(t, self._window[0] + 1.0 + self.WINDOW_MARGIN)
        self._window.append(t)
        self._next_slot = t + self._interval
        self._chat_next[chat_id] = t + self.per_chat_interval + self.PER_CHAT_MARGIN
        return t

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock.monotonic() + seconds)

    def chat_free_at(self, chat_id: int) -> float:
        return self._chat_next.get(chat_id, 0.0)

    async def text_for(self, notice_id: int) -> tuple[str, list[list[Action]]]:
        if notice_id not in self._texts:
            async with self._sessions() as session:
                notice = await session.get(TrainingNotice, notice_id)
                self._texts[notice_id] = (render_notice(notice), notice_buttons(notice))
        return self._texts[notice_id]

    def next_attempt_delay(self, attempts: int) -> float:
        return min(self.max_backoff, self.backoff * 2 ** (attempts - 1))


class _Workers:
    """One dispatcher feeding at most `concurrency` send tasks, and one writer that commits
    their status changes in groups (a group commit keeps SQLite well ahead of 30 a second)."""

    def __init__(self, sender: Sender, notice_id: int | None) -> None:
        self.s = sender
        self.notice_id = notice_id
        self.slots = asyncio.Semaphore(sender.concurrency)
        self.queue: list[_Row] = []
        self.in_flight: dict[int, _Row] = {}
        self.busy_chats: set[int] = set()
        self.changed = asyncio.Event()
        self.tasks: set[asyncio.Task] = set()
        self.writer = _GroupWriter(sender._sessions)
        self.failure: BaseException | None = None

    async def run(self, stop_when_idle: bool) -> None:
        writer = asyncio.create_task(self.writer.run())
        try:
            await self._dispatch(stop_when_idle)
            while self.tasks:
                await asyncio.wait(set(self.tasks))
            if self.failure:
                raise self.failure
        finally:
            for task in self.tasks:
                task.cancel()
            await self.writer.close()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _dispatch(self, stop_when_idle: bool) -> None:
        clock = self.s._clock
        while not self.failure:
            if not self.queue and not await self._refill():
                if not self.in_flight:
                    wait = await self._next_due_in()
                    if wait is None and stop_when_idle:
                        return
                    await clock.sleep(min(wait if wait is not None else self.s.IDLE_POLL, self.s.IDLE_POLL))
                else:
                    self.changed.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.changed.wait(), 0.2)
                continue
            if not self.s._lease_valid():
                raise LeaseLost()
            await self.slots.acquire()
            row = self._pick()
            if row is None:
                self.slots.release()
                soonest = min(self.s.chat_free_at(r.chat_id) for r in self.queue) if self.queue else 0
                await clock.sleep(max(0.01, min(1.0, soonest - clock.monotonic())))
                continue
            self.in_flight[row.id] = row
            self.busy_chats.add(row.chat_id)
            task = asyncio.create_task(self._deliver(row))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def _pick(self) -> _Row | None:
        now = self.s._clock.monotonic()
        for index, row in enumerate(self.queue):
            if row.chat_id not in self.busy_chats and self.s.chat_free_at(row.chat_id) <= now:
                return self.queue.pop(index)
        return None

    async def _refill(self) -> bool:
        now = self.s._clock.now()
        query = (
            select(OutboxMessage.id, OutboxMessage.notice_id, OutboxMessage.person_id, OutboxMessage.chat_id,
                   OutboxMessage.attempts)
            .where(OutboxMessage.status.in_(WAITING_STATUSES),
                   or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
            .order_by(OutboxMessage.id)
            .limit(Sender.CLAIM_BATCH)
        )
        if self.notice_id is not None:
            query = query.where(OutboxMessage.notice_id == self.notice_id)
        if self.in_flight:
            query = query.where(OutboxMessage.id.not_in(list(self.in_flight)))
        async with self.s._sessions() as session:
            self.queue = [_Row(*r) for r in (await session.execute(query)).all()]
        return bool(self.queue)

    async def _next_due_in(self) -> float | None:
        """Seconds until the next retry is due; None when nothing is waiting at all."""
        query = select(func.min(OutboxMessage.next_attempt_at), func.count()).where(
            OutboxMessage.status.in_(WAITING_STATUSES))
        if self.notice_id is not None:
            query = query.where(OutboxMessage.notice_id == self.notice_id)
        async with self.s._sessions() as session:
            due, count = (await session.execute(query)).one()
        if not count:
            return None
        if due is None:
            return 0.0
        return max(0.0, (due - self.s._clock.now()).total_seconds())

    async def _deliver(self, row: _Row) -> None:
        s, clock = self.s, self.s._clock
        try:
            await self.writer.submit(_mark_sending(row.id))
            text, buttons = await s.text_for(row.notice_id)
            while True:
                at = s.reserve(row.chat_id)
                await clock.sleep(at - clock.monotonic())
                if clock.monotonic() < s._paused_until:
                    continue  # a 429 arrived while we waited: queue up again behind the pause
                if not s._lease_valid():
                    raise LeaseLost()
                try:
                    message_id = await s._channel.send(row.chat_id, text, buttons)
                except RateLimited as error:
                    s.counters.rate_limited += 1
                    log.warning("429 from the chat server: pausing all sending for %.1f s", error.retry_after)
                    s.pause(error.retry_after)
                    continue  # the same row again, not counted as an attempt
                except Blocked as error:
                    await self.writer.submit(_record_blocked(row, str(error)))
                except PermanentError as error:
                    await self.writer.submit(_record_failed(row, str(error), clock.now()))
                except (TransientError, Exception) as error:
                    if not isinstance(error, BroadcastError):
                        log.exception("unexpected error sending to %s", row.chat_id)
                    attempts = row.attempts + 1
                    if attempts >= s.max_attempts:
                        await self.writer.submit(_record_failed(row, _describe(error), clock.now(), attempts))
                    else:
                        due = clock.now() + timedelta(seconds=s.next_attempt_delay(attempts))
                        await self.writer.submit(_record_retry(row, _describe(error), attempts, due))
                else:
                    await self.writer.submit(_record_sent(row, message_id, clock.now()))
                break
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # the run stops and raises it; the row stays "sending"
            if self.failure is None:
                self.failure = error
        finally:
            self.in_flight.pop(row.id, None)
            self.busy_chats.discard(row.chat_id)
            self.slots.release()
            self.changed.set()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


# Status changes, each run inside the writer's shared transaction.

def _mark_sending(row_id: int):
    async def op(session: AsyncSession) -> None:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(status=SENDING))
    return op


def _record_sent(row: _Row, message_id: int, now: datetime):
    async def op(session: AsyncSession) -> None:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
            status=SENT, message_id=message_id, sent_at=now, last_error=""))
    return op


def _record_retry(row: _Row, error: str, attempts: int, due: datetime):
    async def op(session: AsyncSession) -> None:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
            status=RETRY, attempts=attempts, next_attempt_at=due, last_error=error))
    return op


def _record_failed(row: _Row, error: str, now: datetime, attempts: int | None = None):
    async def op(session: AsyncSession) -> None:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
            status=FAILED, attempts=attempts if attempts is not None else row.attempts + 1, last_error=error))
    return op


def _record_blocked(row: _Row, error: str):
    async def op(session: AsyncSession) -> None:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
            status=BLOCKED, last_error=error[:500]))
        person_id = row.person_id
        if person_id is None:
            person_id = await session.scalar(select(Person.id).where(Person.telegram_id == row.chat_id))
        if person_id is not None:
            await session.execute(update(Subscription).where(Subscription.person_id == person_id).values(active=False))
    return op


class _GroupWriter:
    """Runs submitted status changes; whatever queued up while one transaction ran goes
    into the next, so the commit count stays low however many senders wait."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pending: list[tuple[Callable, asyncio.Future]] = []
        self._wake = asyncio.Event()
        self._closed = False
        self.commits = 0

    def submit(self, op) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((op, future))
        self._wake.set()
        return future

    async def close(self) -> None:
        self._closed = True
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                if self._closed:
                    return
                continue
            try:
                async with self._sessions() as session, session.begin():
                    for op, _ in batch:
                        await op(session)
            except Exception as error:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
            else:
                self.commits += 1
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
            if self._closed and not self._pending:
                return


async def _call(callback: ProgressCallback, report: ProgressReport) -> None:
    result = callback(report)
    if inspect.isawaitable(result):
        await result


def _dead_here(holder: str) -> bool:
    """Whether `holder` ("host:pid#n") names a process on this machine that no longer runs."""
    host, _, pid = holder.partition("#")[0].rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
