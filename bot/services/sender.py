"""The sender: delivers outbox rows (`bot.services.outbox`) through a channel, paced, most
urgent first. Channel-neutral: it reads and writes only the database and talks to a `Channel`.

What a channel may raise:

    SendError                 base
    ├── RateLimited           the server says "too many requests, retry after N s" (429):
    │                         every send pauses that long; not counted as an attempt
    ├── Blocked               the person blocked the bot or the chat is gone: never retried
    ├── PermanentError        the server refuses this message for good (e.g. too long)
    └── TransientError        anything that may work next time (network, 5xx): retried
                              with exponential backoff, then recorded as failed

A row goes pending → sending → sent | blocked | failed, or sending → retry → sending after a
transient error. A row is marked "sending" (committed) before its send and no more than
`concurrency` rows are ever in "sending", so after a crash those rows are the only ones that
may have reached the person without being recorded: the next sender sends them again, which
bounds duplicates by `concurrency` (one per message in flight), and nothing is lost.

One sender per channel holds a lease row in the database, so two processes never exceed the
rate together: `jiceng run` holds it while it runs; `jiceng notice send` only queues when it
does. Pacing is one `Pace` per bot token, shared with the edits the bot makes directly.

Several bot processes (webhook mode on PostgreSQL) send side by side instead (`shared=True`):
each keeps a member row (`outbox:<channel>#<holder>`) renewed every few seconds; the live members,
in order, split the outbox's 64 shards (a row's shard comes from its address, so a chat is always
sent to by one process, in order, one a second) and the rate. A member with nothing to send says
so in its row and keeps only a small reserve (3 a second, for a sudden reply); the busy ones share
the rest (two busy: 15 each, one busy and one idle: 27 and 3; edits included) — so the last shards of a
broadcast still go out at the full rate. A member lowers its rate before it says it is idle, and
says it is busy one renewal before it raises it, so together they never exceed the token's rate.
When the members change, every member pauses long enough for all of them to see the change
before sending again, and the rows a departed member had in flight are sent again by whoever
owns their shards now.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import os
import socket
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar, TypeVarTuple

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import JicengError
from bot.services import broadcast
from bot.services.faults import is_transient
from bot.services.outbox import (
    BLOCKED,
    FAILED,
    OPEN_STATUSES,
    PENDING,
    RETRY,
    SENDING,
    SENT,
    WAITING_STATUSES,
    Outgoing,
)
from bot.services.pace import Clock, Pace, RealClock, Turns
from bot.services.sql import rowcount
from storage.models import OUTBOX_SHARDS, OutboxMessage, SenderLease, Subscription, shard_of

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_Columns = TypeVarTuple("_Columns")

WANTED = ":wanted"  # lease row name suffix: a sender waits for this lease
MEMBER = "#"        # member lease rows of shared senders: outbox:<channel>#<holder>
IDLE = " idle"      # a member row's holder ends so when that member has nothing to send
MEMBERS_LOCK = 7302  # advisory lock space: shared members renew one at a time
RESERVE_RATE = 3.0  # messages a second an idle shared member may send before it is seen busy

LEASE_HELD = "另一个发送进程（{holder}）正在发送消息；本通知已排队，会由它发出。"
LEASE_LOST = "发送权已被其他进程接管，本进程停止发送。"


class SendError(Exception):
    """What a `Channel` raises when a message did not go out."""


class RateLimited(SendError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after} s")
        self.retry_after = float(retry_after)


class Blocked(SendError):
    """The person blocked the bot, or the chat no longer exists."""


class PermanentError(SendError):
    """The server refuses this message for good; retrying cannot help."""


class TransientError(SendError):
    """May work next time."""


class LeaseHeld(JicengError):
    def __init__(self, holder: str) -> None:
        super().__init__(LEASE_HELD.format(holder=holder))
        self.holder = holder


class LeaseLost(JicengError):
    user_message = LEASE_LOST


class Channel(Protocol):
    name: str  # the channel's name (bot.channels): which outbox rows are its to deliver

    async def send(self, address: str, message: Outgoing) -> int:
        """Deliver one message; returns its message id. Raises the errors above."""


# What a delivery or a failure sets off, by the row's purpose ("kind:argument"). Each runs in
# the transaction that records the row's outcome.
Effect = Callable[[AsyncSession, "Row", int | None], Awaitable[None]]


@dataclass
class Effects:
    on_sent: dict[str, Effect] = field(default_factory=dict)
    on_failed: dict[str, Effect] = field(default_factory=dict)  # blocked or failed for good

    def after_sent(self, row: Row, message_id: int) -> list[Effect]:
        effect = self.on_sent.get(row.purpose.partition(":")[0])
        return [effect] if effect else []

    def after_failed(self, row: Row) -> list[Effect]:
        effect = self.on_failed.get(row.purpose.partition(":")[0])
        return [effect] if effect else []


_senders_made = itertools.count(1)


def default_holder() -> str:
    """"host:pid#n": unique per Sender, so two in one process exclude each other too."""
    return f"{socket.gethostname()}:{os.getpid()}#{next(_senders_made)}"


@dataclass
class Row:
    id: int
    notice_id: int | None
    person_id: int | None
    address: str
    attempts: int
    priority: int
    purpose: str
    body: dict[str, Any] | None
    claimed: bool = False  # marked "sending" by us (still waiting when we read it)

    @property
    def argument(self) -> str:
        return self.purpose.partition(":")[2]


@dataclass
class _Counters:
    sent: int = 0
    undeliverable: int = 0  # blocked or failed for good
    rate_limited: int = 0
    resumed: int = 0   # rows found in "sending" at start: sent again
    samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=8))


ProgressCallback = Callable[[broadcast.ProgressReport], Awaitable[None] | None]


class Sender:
    """Works through the outbox of one channel: paced (`Pace`), most urgent row first, with at
    most `concurrency` messages in flight. `run(notice_id)` sends one notice's rows and stops;
    `run(stop_when_idle=False)` serves everything until cancelled, woken by `wake`."""

    PROGRESS_EVERY = 2.0
    CLAIM_BATCH = 200
    PER_ADDRESS = 3  # rows of one chat read at a time (it takes one a second anyway)
    IDLE_POLL = 1.0

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channel: Channel,
        clock: Clock | None = None,
        *,
        rate: float = 30.0,
        per_chat_interval: float = 1.0,
        pace: Pace | None = None,
        concurrency: int = 8,
        max_attempts: int = 5,
        backoff: float = 2.0,
        max_backoff: float = 300.0,
        holder: str | None = None,
        lease_ttl: float = 15.0,
        effects: Effects | None = None,
        yields: bool = False,
        shared: bool = False,
    ) -> None:
        self._sessions = sessions
        self._channel = channel
        self._clock = clock or RealClock()
        self.pace = pace or Pace(rate, per_chat_interval, self._clock.monotonic)
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.channel_name = channel.name
        self.lease_name = f"outbox:{channel.name}"
        self.lease_ttl = lease_ttl
        self.holder = holder or default_holder()
        self.effects = effects or Effects()
        # A sender that yields (`jiceng notice send` on its own) hands the lease over, as soon as it
        # has finished what is in flight, to a sender that waits for it (a `jiceng run` started later).
        self.yields = yields
        self.yielded = False
        self._lease_deadline = 0.0
        self._took_over = False
        # Sending side by side with other processes: the members seen at the last renewal, and
        # the shards that are this sender's among them.
        self.shared = shared
        self.members: tuple[str, ...] = ()
        self.shards: tuple[int, ...] = tuple(range(OUTBOX_SHARDS))
        self._members_left = False
        self.busy = True                 # has rows to send (the dispatcher says)
        self._busy_said_at: float | None = None  # when our row last said "busy" after saying idle
        self._idle_others = 0
        self._renew_now = asyncio.Event()
        self._notices: dict[int, Outgoing] = {}
        self._seen_notices: set[int] = set()  # what "all notices" reports on
        self._wake = asyncio.Event()
        self.counters = _Counters()

    def wake(self) -> None:
        """New rows are waiting: look at once (an urgent one may jump the queue)."""
        self._wake.set()

    # -- the lease

    async def acquire_lease(self) -> str | None:
        """Take or renew the lease; None when we hold it, else who does."""
        if self.shared:
            return await self._join()
        started = self._clock.monotonic()
        now = self._clock.now()
        expires = now + timedelta(seconds=self.lease_ttl)
        async with self._sessions() as session, session.begin():
            member = await session.scalar(select(SenderLease.holder).where(
                SenderLease.name.startswith(self.lease_name + MEMBER, autoescape=True),
                SenderLease.expires_at > now).limit(1))
            if member is not None:
                return member  # bot processes send side by side: they are this token's senders
            before = await session.scalar(select(SenderLease.holder).where(SenderLease.name == self.lease_name))
            taken = await session.execute(
                update(SenderLease)
                .where(SenderLease.name == self.lease_name,
                       or_(SenderLease.holder == self.holder, SenderLease.expires_at <= now))
                .values(holder=self.holder, expires_at=expires)
            )
            if not rowcount(taken):
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
                self._took_over = bool(before)  # from a sender whose lease ran out (not released)
        self._lease_deadline = started + self.lease_ttl - min(2.0, self.lease_ttl / 3)
        return None

    async def _join(self) -> str | None:
        """Join or stay among the senders that share the channel; None when we are one, else the
        lone sender (`jiceng notice send` on its own) that holds the whole lease."""
        started = self._clock.monotonic()
        now = self._clock.now()
        prefix = self.lease_name + MEMBER
        async with self._sessions() as session, session.begin():
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                # One member renews at a time, so each reads the others' last word, never a stale one.
                await session.execute(select(func.pg_advisory_xact_lock(MEMBERS_LOCK, zlib.crc32(
                    self.lease_name.encode()) - 2**31)))
            lone = await session.get(SenderLease, self.lease_name)
            if lone is not None and lone.holder and lone.expires_at > now and not _dead_here(lone.holder):
                return lone.holder
            mine = await session.get(SenderLease, prefix + self.holder)
            expires = now + timedelta(seconds=self.lease_ttl)
            said = self.holder + ("" if self.busy else IDLE)
            if mine is None:
                session.add(SenderLease(name=prefix + self.holder, holder=said, expires_at=expires))
                self._busy_said_at = started
            else:
                if self.busy and mine.holder.endswith(IDLE):
                    self._busy_said_at = started
                mine.holder, mine.expires_at = said, expires
            live = (await session.scalars(select(SenderLease.holder).where(
                SenderLease.name.startswith(prefix, autoescape=True), SenderLease.expires_at > now))).all()
        self._lease_deadline = started + self.lease_ttl - min(2.0, self.lease_ttl / 3)
        members = tuple(sorted({h.removesuffix(IDLE) for h in live} | {self.holder}))
        self._idle_others = sum(1 for h in live if h.endswith(IDLE) and h.removesuffix(IDLE) != self.holder)
        if self._busy_said_at == started and self._idle_others == len(members) - 1:
            self._busy_said_at = None  # every other member is idle: none counts on our part of the rate
        if members != self.members:
            self._see(members)
        self._set_rate()
        return None

    def _set_rate(self) -> None:
        """This member's part of the rate, as the others last said they were."""
        if not self.members:
            return
        seen_busy = self._busy_said_at is None or (
            self._clock.monotonic() - self._busy_said_at > self.lease_ttl / 3 + 0.5)
        if not self.busy or not seen_busy:
            self.pace.own_rate(min(RESERVE_RATE, self.pace.rate))
            return
        busy = len(self.members) - self._idle_others
        self.pace.own_rate((self.pace.rate - RESERVE_RATE * self._idle_others) / max(1, busy))

    def note_work(self, busy: bool) -> None:
        """The dispatcher found rows to send in our shards (or none): an idle member lowers its
        rate at once and says so at the next renewal; a busy one says so at once and raises later."""
        if not self.shared or busy == self.busy:
            return
        self.busy = busy
        if not busy:
            self.pace.own_rate(min(RESERVE_RATE, self.pace.rate))
        self._renew_now.set()

    def _see(self, members: tuple[str, ...]) -> None:
        """New members, or fewer: take this sender's part of the shards and of the rate."""
        self._members_left = bool(set(self.members) - set(members))
        self.members = members
        count, place = len(members), members.index(self.holder)
        self.shards = tuple(shard for shard in range(OUTBOX_SHARDS) if shard % count == place)
        # Until every member has renewed and seen the same, two may hold the same chats.
        self.pace.pause(self.lease_ttl / 3 + 0.5 + max(1.0, self.pace.per_chat_interval) + Pace.PER_CHAT_MARGIN)
        log.info("sending for %s as %d of %d senders (%d shards)", self.channel_name, place + 1, count,
                 len(self.shards))
        self.wake()  # read the queue again: other shards are ours now

    async def release_lease(self) -> None:
        if self.shared:
            async with self._sessions() as session, session.begin():
                mine = await session.get(SenderLease, self.lease_name + MEMBER + self.holder)
                if mine is not None:
                    await session.delete(mine)
            self._lease_deadline = 0.0
            self.members = ()
            return
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(SenderLease)
                .where(SenderLease.name == self.lease_name, SenderLease.holder == self.holder)
                .values(holder="", expires_at=self._clock.now())
            )
        self._lease_deadline = 0.0

    def _lease_valid(self) -> bool:
        return self._clock.monotonic() < self._lease_deadline

    async def _want_lease(self) -> None:
        """Tell a sender that yields that this one waits for the lease."""
        name, expires = self.lease_name + WANTED, self._clock.now() + timedelta(seconds=self.lease_ttl)
        async with self._sessions() as session, session.begin():
            wanted = await session.get(SenderLease, name)
            if wanted is None:
                session.add(SenderLease(name=name, holder=self.holder, expires_at=expires))
            else:
                wanted.holder, wanted.expires_at = self.holder, expires

    async def _until_renewal(self) -> None:
        """A third of the lease's time, or less when a shared member's work starts or stops."""
        if not self.shared:
            await self._clock.sleep(self.lease_ttl / 3)
            return
        self._renew_now.clear()
        wait = self.lease_ttl / 3
        if self.busy and self._busy_said_at is not None:  # raise the rate as soon as all have seen us busy
            raise_at = self._busy_said_at + self.lease_ttl / 3 + 0.5 - self._clock.monotonic()
            if raise_at > -1.0:
                wait = min(wait, max(0.05, raise_at + 0.05))
        sleeper = asyncio.ensure_future(self._clock.sleep(wait))
        asked = asyncio.ensure_future(self._renew_now.wait())
        try:
            await asyncio.wait({sleeper, asked}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            asked.cancel()

    async def _is_wanted(self) -> bool:
        async with self._sessions() as session:
            expires = await session.scalar(
                select(SenderLease.expires_at).where(SenderLease.name == self.lease_name + WANTED))
        return expires is not None and expires > self._clock.now()

    async def _keep_lease(self) -> None:
        while True:
            await self._until_renewal()
            try:
                holder = await self.acquire_lease()
                if holder is None and self._members_left:
                    self._members_left = False
                    resent = await self._requeue_in_flight()  # what a departed sender had in flight
                    if resent:
                        log.warning("%d messages were in flight at a sender that stopped; sending them again", resent)
                if holder is None and self.yields and await self._is_wanted():
                    log.info("another sender waits for the lease: handing over once in-flight messages are done")
                    self.yielded = True
                    return
            except Exception as error:  # the database is away: try again; the lease outlasts a few misses
                log.warning("could not renew the sender lease: %r", error)
                continue
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
    ) -> broadcast.ProgressReport:
        """Send what is due until nothing is left (or forever, with stop_when_idle=False).
        Raises LeaseHeld when another sender holds the lease and wait_for_lease is false."""
        self._took_over = False
        self.yielded = False
        while (holder := await self.acquire_lease()) is not None:
            if not wait_for_lease:
                raise LeaseHeld(holder)
            await self._want_lease()
            await self._clock.sleep(1.0)
        started = self._clock.monotonic()
        self.counters = _Counters()
        self._seen_notices = set()
        try:
            if self._took_over:
                # Another sender may have sent in the last second, to the same chats too (the
                # rows it had in flight): let the server's windows empty before the first send.
                self.pace.pause(max(1.0, self.pace.per_chat_interval) + Pace.WINDOW_MARGIN + Pace.PER_CHAT_MARGIN)
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
                    await asyncio.shield(self.release_lease())

    async def _requeue_in_flight(self) -> int:
        """Rows left "sending" by a sender that is gone go back to the queue. Shared: only those
        of senders no longer among the live members (read in the same transaction)."""
        async with self._sessions() as session, session.begin():
            stuck = [OutboxMessage.status == SENDING, OutboxMessage.channel == self.channel_name]
            if self.shared:
                live = select(SenderLease.holder).where(
                    SenderLease.name.startswith(self.lease_name + MEMBER, autoescape=True),
                    SenderLease.expires_at > self._clock.now())
                stuck.append(or_(OutboxMessage.sender.is_(None), OutboxMessage.sender.not_in(live)))
            result = await session.execute(update(OutboxMessage).where(*stuck).values(status=PENDING, sender=None))
            return rowcount(result) or 0

    async def _report_loop(self, notice_id: int | None, on_progress: ProgressCallback | None,
                           started: float) -> None:
        while True:
            await self._clock.sleep(self.PROGRESS_EVERY)
            try:
                await self._finish_notices()  # a sender that never stops still closes finished notices
                if on_progress:
                    await _call(on_progress, await self.progress(notice_id, started, done=False))
            except Exception:  # progress display must never stop the sending
                log.exception("progress report failed")

    async def progress(self, notice_id: int | None, started: float, done: bool) -> broadcast.ProgressReport:
        async with self._sessions() as session:
            if notice_id is None:
                found = (await session.scalars(
                    select(OutboxMessage.notice_id).distinct().where(
                        OutboxMessage.status.in_(OPEN_STATUSES), OutboxMessage.notice_id.is_not(None)))).all()
                self._seen_notices |= {notice for notice in found if notice is not None}
            counts, title = await broadcast.notice_counts(session, notice_id, self._seen_notices)
        now = self._clock.monotonic()
        samples = self.counters.samples
        samples.append((now, counts.get(SENT, 0)))
        return broadcast.report(title, counts, samples, now - started, done, self.pace.rate,
                                self.counters.rate_limited)

    async def _finish_notices(self) -> None:
        async with self._sessions() as session, session.begin():
            await broadcast.finish_notices(session, self._clock.now())

    async def message_for(self, row: Row) -> Outgoing:
        """The row's own message, or its notice's (rendered once per notice)."""
        if row.notice_id is None:
            return Outgoing.from_body(row.body or {})
        if row.notice_id not in self._notices:
            async with self._sessions() as session:
                self._notices[row.notice_id] = await broadcast.notice_message(session, row.notice_id)
        return self._notices[row.notice_id]

    def next_attempt_delay(self, attempts: int) -> float:
        delay: float = self.backoff * 2 ** (attempts - 1)
        return min(self.max_backoff, delay)


class _Workers:
    """One dispatcher feeding at most `concurrency` send tasks, and one writer that commits
    their status changes in groups (a group commit keeps SQLite well ahead of 30 a second)."""

    def __init__(self, sender: Sender, notice_id: int | None) -> None:
        self.s = sender
        self.notice_id = notice_id
        self.slots = asyncio.Semaphore(sender.concurrency)
        self.queue: list[Row] = []  # waiting rows, most urgent first, as last read
        self.fresh = False  # nothing taken from `queue` since it was read
        self.in_flight: dict[int, Row] = {}
        self.busy: set[str] = set()  # addresses with a message in flight
        self.changed = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        self.writer = _GroupWriter(sender._sessions)
        self.turns = Turns(sender.pace, sender._clock)
        self.failure: BaseException | None = None

    async def run(self, stop_when_idle: bool) -> None:
        writer = asyncio.create_task(self.writer.run())
        turns = asyncio.create_task(self.turns.run())
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
            turns.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            with contextlib.suppress(asyncio.CancelledError):
                await turns

    async def _dispatch(self, stop_when_idle: bool) -> None:
        s, clock = self.s, self.s._clock
        while not self.failure and not s.yielded:
            if s._wake.is_set():
                s._wake.clear()
                self.queue = []  # look again: a more urgent row may have come
            if not self.queue and not await self._read(self._refill, False):
                if not self.in_flight:
                    s.note_work(False)
                    wait: float | None = await self._read(self._next_due_in, 0.0)
                    if wait is None and stop_when_idle:
                        return
                    await self._idle(min(wait if wait is not None else s.IDLE_POLL, s.IDLE_POLL))
                else:
                    self.changed.clear()
                    await self._idle(0.2, self.changed)
                continue
            s.note_work(True)
            if not s._lease_valid():
                raise LeaseLost()
            await self.slots.acquire()
            row = self._pick()
            if row is None:
                self.slots.release()
                if not self.fresh:  # rows were taken since the queue was read: more may wait behind
                    self.queue = []
                    continue
                idle = [s.pace.free_at(r.address) for r in self.queue if r.address not in self.busy]
                self.changed.clear()
                wait = min(idle) - clock.monotonic() if idle else 1.0  # else: until a send finishes
                await self._idle(max(0.01, min(1.0, wait)), self.changed)
                continue
            self.in_flight[row.id] = row
            self.busy.add(row.address)
            task = asyncio.create_task(self._deliver(row))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _read(self, read: Callable[[], Awaitable[_T]], default: _T) -> _T:
        """A read of the queue; while the database is away (locked, restarting) the sender waits
        a second and carries on instead of stopping."""
        try:
            return await read()
        except Exception as error:
            if not is_transient(error):
                raise
            log.warning("the outbox waits for the database: %r", error)
            await self._idle(1.0)
            return default

    async def _idle(self, seconds: float, also: asyncio.Event | None = None) -> None:
        """Sleep `seconds`, or less if the sender is woken (or `also` is set)."""
        waits = [asyncio.ensure_future(self.s._clock.sleep(seconds)), asyncio.ensure_future(self.s._wake.wait())]
        if also is not None:
            waits.append(asyncio.ensure_future(also.wait()))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    def _pick(self) -> Row | None:
        now = self.s._clock.monotonic()
        for index, row in enumerate(self.queue):
            if row.address not in self.busy and self.s.pace.free_at(row.address) <= now:
                self.fresh = False
                return self.queue.pop(index)
        return None

    def _waiting(self, query: Select[*_Columns]) -> Select[*_Columns]:
        query = query.where(OutboxMessage.status.in_(WAITING_STATUSES), OutboxMessage.channel == self.s.channel_name)
        if self.s.shared:
            query = query.where(OutboxMessage.shard.in_(self.s.shards))
        if self.notice_id is not None:
            query = query.where(OutboxMessage.notice_id == self.notice_id)
        return query

    async def _refill(self) -> bool:
        """Read the most urgent waiting rows: at most PER_ADDRESS of any one chat (a chat with a
        long queue must not hide everyone else's), none of a chat whose earlier row waits for
        a retry (a chat's messages keep their order)."""
        now = self.s._clock.now()
        rank = func.row_number().over(partition_by=OutboxMessage.address,
                                      order_by=(OutboxMessage.priority, OutboxMessage.id)).label("rank")
        rows = self._waiting(
            select(OutboxMessage.id, OutboxMessage.notice_id, OutboxMessage.person_id, OutboxMessage.address,
                   OutboxMessage.attempts, OutboxMessage.priority, OutboxMessage.purpose, OutboxMessage.body,
                   OutboxMessage.next_attempt_at, rank)
        )
        if self.in_flight:
            rows = rows.where(OutboxMessage.id.not_in(list(self.in_flight)))
        waiting = rows.subquery()
        query = (
            select(waiting.c.id, waiting.c.notice_id, waiting.c.person_id, waiting.c.address, waiting.c.attempts,
                   waiting.c.priority, waiting.c.purpose, waiting.c.body, waiting.c.next_attempt_at)
            .where(waiting.c.rank <= Sender.PER_ADDRESS)
            .order_by(waiting.c.priority, waiting.c.id)
            .limit(Sender.CLAIM_BATCH)
        )
        async with self.s._sessions() as session:
            found = (await session.execute(query)).all()
            # Shared: a chat another sender still has a message in flight to (from before the
            # senders changed) waits until that one is sent or handed back, to keep its order.
            held: set[str] = set() if not self.s.shared else set((await session.scalars(
                select(OutboxMessage.address).where(
                    OutboxMessage.status == SENDING, OutboxMessage.channel == self.s.channel_name,
                    OutboxMessage.shard.in_(self.s.shards), OutboxMessage.sender != self.s.holder))).all())
        # and chats whose next row is not due yet
        self.queue = []
        for r in found:
            if r.address in held:
                continue
            if r.next_attempt_at is not None and r.next_attempt_at > now:
                held.add(r.address)
                continue
            self.queue.append(Row(*r[:8]))
        self.fresh = True
        return bool(self.queue)

    async def _next_due_in(self) -> float | None:
        """Seconds until the next retry is due; None when nothing is waiting at all."""
        query = self._waiting(select(func.min(OutboxMessage.next_attempt_at), func.count()))
        async with self.s._sessions() as session:
            due, count = (await session.execute(query)).one()
        if not count:
            return None
        if due is None:
            return 0.0
        return max(0.0, (due - self.s._clock.now()).total_seconds())

    async def _deliver(self, row: Row) -> None:
        s, clock, pace = self.s, self.s._clock, self.s.pace
        try:
            await self.writer.submit(_mark_sending(row, s.holder))
            if not row.claimed:
                # Another sender has it: this chat's later rows must wait behind it (its order).
                self.queue = [r for r in self.queue if r.address != row.address]
                return
            message = await s.message_for(row)
            while True:
                await self.turns.take(row.priority, row.address)
                if not s._lease_valid():
                    pace.landed(row.address, delivered=False)
                    raise LeaseLost()
                if s.shared and shard_of(row.address) not in s.shards:
                    # Taken before the senders changed; the chat is another's now: it sends it.
                    pace.landed(row.address, delivered=False)
                    await self.writer.submit(_unclaim(row))
                    break
                try:
                    message_id = await _landing(pace, row.address, s._channel.send(row.address, message))
                except RateLimited as error:
                    s.counters.rate_limited += 1
                    log.warning("429 from the chat server: pausing all sending for %.1f s", error.retry_after)
                    pace.pause(error.retry_after)
                    continue  # the same row again, not counted as an attempt
                except Blocked as error:
                    s.counters.undeliverable += 1
                    await self.writer.submit(_record_blocked(row, str(error), s.effects.after_failed(row)))
                except PermanentError as error:
                    s.counters.undeliverable += 1
                    await self.writer.submit(_record_failed(row, str(error), s.effects.after_failed(row)))
                except (TransientError, Exception) as error:
                    if not isinstance(error, SendError):
                        log.exception("unexpected error sending outbox row %s", row.id)
                    attempts = row.attempts + 1
                    if attempts >= s.max_attempts:
                        s.counters.undeliverable += 1
                        await self.writer.submit(
                            _record_failed(row, _describe(error), s.effects.after_failed(row), attempts))
                    else:
                        due = clock.now() + timedelta(seconds=s.next_attempt_delay(attempts))
                        await self.writer.submit(_record_retry(row, _describe(error), attempts, due))
                else:
                    s.counters.sent += 1
                    await self.writer.submit(
                        _record_sent(row, message_id, clock.now(), s.effects.after_sent(row, message_id)))
                if row.purpose and (s.effects.after_failed(row) or s.effects.after_sent(row, 0)):
                    s.wake()  # an effect may have put rows (staff told of an unreachable leader)
                break
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # the run stops and raises it; the row stays "sending"
            if self.failure is None:
                self.failure = error
        finally:
            self.in_flight.pop(row.id, None)
            self.busy.discard(row.address)
            self.slots.release()
            self.changed.set()


async def _landing(pace: Pace, address: str, send: Awaitable[int]) -> int:
    """`send`, telling the pace the moment it returns, whatever the outcome."""
    try:
        message_id = await send
    except BaseException:
        pace.landed(address, delivered=False)
        raise
    pace.landed(address)
    return message_id


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


# Status changes, each run inside the writer's shared transaction.

_Op = Callable[[AsyncSession], Awaitable[None]]


def _mark_sending(row: Row, holder: str) -> _Op:
    """Claim the row, if it is still waiting: a notice cancelled, or a row another sender took,
    since the queue was read is left alone."""
    async def op(session: AsyncSession) -> None:
        result = await session.execute(update(OutboxMessage).where(
            OutboxMessage.id == row.id, OutboxMessage.status.in_(WAITING_STATUSES)).values(status=SENDING,
                                                                                          sender=holder))
        row.claimed = rowcount(result) == 1
    return op


def _unclaim(row: Row) -> _Op:
    async def op(session: AsyncSession) -> None:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.status == SENDING)
                              .values(status=PENDING, sender=None))
    return op


def _record_sent(row: Row, message_id: int, now: datetime, effects: list[Effect]) -> _Op:
    async def op(session: AsyncSession) -> None:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
            status=SENT, message_id=message_id, sent_at=now, last_error=""))
        await _run_effects(session, row, message_id, effects)
    return op


def _record_retry(row: Row, error: str, attempts: int, due: datetime) -> _Op:
    async def op(session: AsyncSession) -> None:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
            status=RETRY, attempts=attempts, next_attempt_at=due, last_error=error))
    return op


def _record_failed(row: Row, error: str, effects: list[Effect], attempts: int | None = None) -> _Op:
    async def op(session: AsyncSession) -> None:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
            status=FAILED, attempts=attempts if attempts is not None else row.attempts + 1, last_error=error))
        await _run_effects(session, row, None, effects)
    return op


def _record_blocked(row: Row, error: str, effects: list[Effect]) -> _Op:
    async def op(session: AsyncSession) -> None:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
            status=BLOCKED, last_error=error[:500]))
        if row.notice_id is not None and row.person_id is not None:
            # a subscriber who blocked the bot gets no more notices
            await session.execute(
                update(Subscription).where(Subscription.person_id == row.person_id).values(active=False))
        await _run_effects(session, row, None, effects)
    return op


async def _run_effects(session: AsyncSession, row: Row, message_id: int | None, effects: list[Effect]) -> None:
    for effect in effects:
        try:
            async with session.begin_nested():
                await effect(session, row, message_id)
        except Exception:  # an effect must never cost the row its outcome
            log.exception("after-send effect for outbox row %s (%s) failed", row.id, row.purpose)


class _GroupWriter:
    """Runs submitted status changes; whatever queued up while one transaction ran goes
    into the next, so the commit count stays low however many senders wait."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pending: list[tuple[_Op, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._closed = False
        self.commits = 0

    def submit(self, op: _Op) -> asyncio.Future[None]:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((op, future))
        self._wake.set()
        return future

    async def close(self) -> None:
        self._closed = True
        self._wake.set()

    async def run(self) -> None:
        tries = 0
        batch: list[tuple[_Op, asyncio.Future[None]]] = []
        while True:
            if not batch:
                await self._wake.wait()
            self._wake.clear()
            batch, self._pending = batch + self._pending, []
            if not batch:
                if self._closed:
                    return
                continue
            try:
                async with self._sessions() as session, session.begin():
                    for op, _ in batch:
                        await op(session)
            except Exception as error:
                if is_transient(error) and not self._closed:
                    # The database is away (locked, restarting): the same changes go in the next try.
                    tries += 1
                    if tries == 1:
                        log.warning("outbox status changes wait for the database: %r", error)
                    await asyncio.sleep(min(4.0, 0.25 * 2 ** (tries - 1)))
                    continue
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
            else:
                self.commits += 1
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
            tries, batch = 0, []
            if self._closed and not self._pending:
                return


async def _call(callback: ProgressCallback, report: broadcast.ProgressReport) -> None:
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
