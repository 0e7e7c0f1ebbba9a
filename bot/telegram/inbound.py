"""Taking updates in: many chats at once, each chat in order, nothing stalls.

python-telegram-bot hands every fetched update to `ChatLanes.process_update`, which returns
at once after putting it in its chat's lane (a FIFO). A lane is drained by one task, so a
chat's updates are handled in the order they came; different chats run side by side, at
most `concurrency` updates at a time. What happens to one update:

- flood control first (`FloodGuard`), checked as the update comes in, before any
  understanding or database work: a person over their limit is told once, in order, to
  wait, and is then ignored until the cool-down ends;
- its handlers run; an error they raise is reported here by the error handler;
- a transient error (database locked, connection lost, chat server busy) puts the update
  back at the head of its lane and tries again after a backoff with jitter, for as long
  as it takes — the update stays unhandled in the log meanwhile;
- any other error is retried `poison_attempts` times, then the update is set aside in the
  log with its error, and the sender is told once (`jiceng updates failed` / `replay`);
- finished updates are marked handled in the log in batches, by one flushing task.

Back-pressure: `DurableBot.get_updates` (or the webhook, before it stores an update) waits for
room, so a burst cannot grow memory without bound; what is not taken stays with the chat server.

Several processes on one PostgreSQL database (webhook mode, `chat_locks` given): a chat is handled
by one process at a time (an advisory lock), which first handles the chat's older updates another
process stored, skips an update already handled elsewhere, and marks each handled before letting
the chat go — so each update is handled once and a chat's updates in order, whichever process
received them.
Duplicates (the server delivering again what a replay already holds, or what the log says
is done) are dropped here, so effects happen once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, BaseUpdateProcessor

from bot import messages
from bot.services.chat_locks import ChatLocks
from bot.services.faults import is_transient
from bot.services.flood import MESSAGE_COST, PRESS_COST, FloodGuard, Verdict
from bot.services.update_log import UpdateLog
from bot.telegram.common import request_key, serving, tell
from bot.telegram.context import JicengContext

log = logging.getLogger(__name__)

READMIT_AFTER = timedelta(seconds=30)  # unhandled rows older than this, not held here, are picked up again


@dataclass(frozen=True)
class Backoff:
    first: float = 0.25
    factor: float = 2.0
    most: float = 4.0

    def delay(self, attempt: int) -> float:
        """Seconds before try number `attempt + 1`: exponential, capped, with full jitter
        in its upper half so that many chats waiting on one database do not retry in step."""
        base = min(self.most, self.first * self.factor ** max(0, attempt - 1))
        return base * random.uniform(0.5, 1.0)


@dataclass
class InboundStats:
    """Counters for /metrics and /healthz."""

    received: int = 0
    handled: int = 0
    retried: int = 0
    failed: int = 0
    throttled: int = 0
    duplicates: int = 0
    last_poll: float = field(default_factory=time.monotonic)
    last_progress: float = field(default_factory=time.monotonic)
    waiting_for_room: bool = False


def transient(error: BaseException) -> bool:
    if isinstance(error, BadRequest):
        return False
    return isinstance(error, (RetryAfter, TimedOut, NetworkError)) or is_transient(error)


def lane_key(update: Update) -> Hashable:
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


def chat_of(payload: dict) -> int | None:
    """`lane_key` of an update as stored (its JSON): the chat, else the sender."""
    for kind, body in payload.items():
        if not isinstance(body, dict):
            continue
        place = body.get("message") if kind == "callback_query" else body
        chat = place.get("chat") if isinstance(place, dict) else None
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"])
        sender = body.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
    return None


class ChatLanes(BaseUpdateProcessor):
    def __init__(
        self,
        update_log: UpdateLog,
        clock: Callable[[], datetime],
        *,
        flood: FloodGuard | None = None,
        concurrency: int = 32,
        max_pending: int = 5000,
        poison_attempts: int = 3,
        backoff: Backoff = Backoff(),
        chat_locks: ChatLocks | None = None,
    ) -> None:
        # python-telegram-bot hands us updates one by one (no task per update); we fan out.
        super().__init__(max_concurrent_updates=1)
        self._log = update_log
        self._clock = clock
        self._flood = flood
        self._slots = asyncio.Semaphore(concurrency)
        self._max_pending = max_pending
        self._poison_attempts = poison_attempts
        self._backoff = backoff
        self._chat_locks = chat_locks
        self._set_aside_ids: set[int] = set()  # shared: set aside here, not to be marked handled
        # Shared: at most `concurrency` chats held (or waited for) at once, each on a connection.
        self._holding = asyncio.Semaphore(concurrency)
        self.stats = InboundStats()
        self._application: Application | None = None
        self._lanes: dict[Hashable, deque[tuple[Update, Verdict]]] = {}
        self._drainers: dict[Hashable, asyncio.Task] = {}
        self._held: dict[int, float] = {}       # update id -> when it came; until its mark is flushed
        self._done_in_log: set[int] = set()     # delivered again, but the log says no work is left
        self._errors: dict[int, BaseException] = {}
        self._to_mark: list[int] = []
        self._flusher: asyncio.Task | None = None
        self._room = asyncio.Event()

    def attach(self, application: Application) -> None:
        self._application = application

    # python-telegram-bot's side -------------------------------------------------------

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_process_update(self, update: object, coroutine) -> None:  # pragma: no cover - unused
        await coroutine

    async def process_update(self, update: object, coroutine) -> None:
        coroutine.close()  # we run application.process_update ourselves, once per try
        if not isinstance(update, Update):
            await self._application.process_update(update)
            return
        update_id = update.update_id
        if update_id in self._done_in_log:
            self._done_in_log.discard(update_id)
            self.stats.duplicates += 1
            return
        if update_id in self._held:
            self.stats.duplicates += 1
            return
        self._held[update_id] = time.monotonic()
        key = lane_key(update)
        self._lanes.setdefault(key, deque()).append((update, self._verdict(update)))
        if key not in self._drainers:
            self._drainers[key] = asyncio.create_task(self._drain(key), name=f"lane:{key}")

    # the fetching side (DurableBot) ------------------------------------------------------

    def backlog(self) -> int:
        queued = self._application.update_queue.qsize() if self._application else 0
        return queued + len(self._held)

    async def wait_for_room(self) -> None:
        while self.backlog() >= self._max_pending:
            self.stats.waiting_for_room = True
            self._room.clear()
            await self._room.wait()
        self.stats.waiting_for_room = False

    def arrived(self, updates: Sequence[Update], done_in_log: Collection[int]) -> None:
        self.stats.received += len(updates)
        self.stats.last_poll = time.monotonic()
        self._done_in_log.update(done_in_log)

    async def readmit(self, received_before: datetime | None = None) -> int:
        """Queue again what the log holds unhandled and this process does not (start-up, a
        staff replay, an update a stop left behind)."""
        if self._application.update_queue.qsize():
            return 0  # a backlog is still coming through; look again later
        if self._chat_locks is not None and self._held:
            # With other processes, what is unhandled is mostly their own backlog: take some of
            # it up only once idle (a killed process's updates; a chat that writes again catches up
            # on its own older updates at once).
            return 0
        limit = self._max_pending if self._chat_locks is not None else None
        payloads = await self._log.unhandled(received_before, excluding=set(self._held), limit=limit)
        for payload in payloads:
            await self._application.update_queue.put(Update.de_json(payload, self._application.bot))
        if payloads:
            log.info("queued %d unhandled update(s) from the log", len(payloads))
        return len(payloads)

    # the error handler's side ----------------------------------------------------------

    def note_failure(self, update: Update, error: BaseException) -> None:
        self._errors[update.update_id] = error

    # health ------------------------------------------------------------------------------

    def oldest_pending_age(self) -> float:
        return time.monotonic() - min(self._held.values()) if self._held else 0.0

    def pending(self) -> int:
        return len(self._held)

    # draining ----------------------------------------------------------------------------

    async def _drain(self, key: Hashable) -> None:
        lane = self._lanes[key]
        try:
            while lane:
                if not await self._handle(*lane[0]):
                    break  # stopping while the database is away: left for the next start
                lane.popleft()
        except Exception:  # never lose the lane's task silently
            log.exception("lane %s stopped", key)
        finally:
            del self._drainers[key]
            if lane:
                for update, _ in lane:  # not handled: the log replays them
                    self._held.pop(update.update_id, None)
                self._room.set()
            del self._lanes[key]

    async def _handle(self, update: Update, verdict: Verdict) -> bool:
        key = lane_key(update)
        if self._chat_locks is None or not isinstance(key, int):
            return await self._handle_here(update, verdict)
        tries = 0
        while True:
            try:
                return await self._handle_shared(update, verdict, key)
            except Exception as error:
                tries += 1
                if not transient(error) or (self._stopping() and tries >= 3):
                    raise
                log.warning("update %s: the database is busy (try %d): %r", update.update_id, tries, error)
                await asyncio.sleep(self._backoff.delay(tries))

    async def _handle_shared(self, update: Update, verdict: Verdict, key: int) -> bool:
        """With other processes: hold the chat, catch up on its older updates, then this one."""
        assert self._chat_locks is not None
        async with self._holding, self._chat_locks.hold(key):
            waiting = await self._log.unhandled_of_chat(key, through=update.update_id)
            if not waiting or waiting[-1][0] != update.update_id:
                self.stats.duplicates += 1  # another process handled it (a webhook delivered twice)
                self._release(update.update_id)
                return True
            for _, payload in waiting[:-1]:
                earlier = Update.de_json(payload, self._application.bot)
                if not await self._handle_here(earlier, self._verdict(earlier), batch_mark=False):
                    return False
                await self._mark_now(earlier.update_id)
            if not await self._handle_here(update, verdict, batch_mark=False):
                return False
            await self._mark_now(update.update_id)
            return True

    async def _mark_now(self, update_id: int) -> None:
        """Marked handled before the chat is let go, so the next process holding it skips it (a
        set-aside update stays as it is: staff replay it)."""
        if update_id in self._set_aside_ids:
            self._set_aside_ids.discard(update_id)
            self._release(update_id)
            return
        tries = 0
        while True:
            try:
                await self._log.mark_handled(update_id, self._clock())
                break
            except Exception as error:
                tries += 1
                if not transient(error) or (self._stopping() and tries >= 3):
                    raise
                await asyncio.sleep(self._backoff.delay(tries))
        self._release(update_id)

    def _release(self, update_id: int) -> None:
        self._held.pop(update_id, None)
        self._room.set()

    async def _handle_here(self, update: Update, verdict: Verdict, batch_mark: bool = True) -> bool:
        """Handle one update to the end. False only when the application is stopping and the
        update could not be finished; it stays unhandled in the log. `batch_mark`: marked handled
        by the batching flusher (else the caller marks it)."""
        if verdict is not Verdict.SERVE:
            self.stats.throttled += 1
            if verdict is Verdict.WARN:
                await self._tell(update, messages.TOO_FAST.format(
                    seconds=self._flood.wait_seconds(update.effective_user.id)))
            self._finished(update.update_id, batch_mark)
            return True
        transient_tries = failures = 0
        while True:
            async with self._slots:
                error = await self._run(update)
            if error is None:
                self._finished(update.update_id, batch_mark)
                return True
            if transient(error):
                transient_tries += 1
                self.stats.retried += 1
                if transient_tries == 1 or transient_tries % 10 == 0:
                    log.warning("update %s: transient failure (try %d), will retry: %r",
                                update.update_id, transient_tries, error)
                if self._stopping() and transient_tries >= 3:
                    return False
                await asyncio.sleep(self._backoff.delay(transient_tries))
                continue
            failures += 1
            log.error("update %s failed (%d of %d)", update.update_id, failures, self._poison_attempts,
                      exc_info=error)
            if failures >= self._poison_attempts:
                await self._set_aside(update, error, failures)
                return True
            await asyncio.sleep(self._backoff.delay(failures))

    async def _run(self, update: Update) -> BaseException | None:
        self._errors.pop(update.update_id, None)
        try:
            chat = update.effective_chat
            with serving(chat.id if chat else None, request_key(update)):
                await self._application.process_update(update)
        except Exception as error:  # process_update reports handler errors itself; this is a bug
            return error
        return self._errors.pop(update.update_id, None)

    def _verdict(self, update: Update) -> Verdict:
        """Flood control, as the update comes in: a flood is cut off before it queues up
        behind the replies it has already earned."""
        user = update.effective_user
        if self._flood is None or user is None:
            return Verdict.SERVE
        return self._flood.check(user.id, PRESS_COST if update.callback_query else MESSAGE_COST)

    async def _set_aside(self, update: Update, error: BaseException, attempts: int) -> None:
        self.stats.failed += 1
        if self._chat_locks is not None:
            self._set_aside_ids.add(update.update_id)
        text = f"{type(error).__name__}: {error}"
        while True:
            try:
                await self._log.set_aside(update.update_id, attempts, text, self._clock())
                break
            except Exception as db_error:
                if not transient(db_error) or self._stopping():
                    log.error("could not set update %s aside: %r", update.update_id, db_error)
                    return
                await asyncio.sleep(self._backoff.delay(attempts))
        self._held.pop(update.update_id, None)
        self._room.set()
        await self._tell(update, messages.SET_ASIDE)

    async def _tell(self, update: Update, text: str) -> None:
        """Answer the sender outside any handler (a flood notice, a set-aside update)."""
        context = JicengContext.from_update(update, self._application)
        chat = update.effective_chat
        with serving(chat.id if chat else None, request_key(update) + ":lanes"):
            try:
                await tell(update, context, text)
            except Exception as error:  # the database may be the reason we are here
                log.warning("could not tell update %s's sender: %r", update.update_id, error)

    def _stopping(self) -> bool:
        return self._application is None or not self._application.running

    # marking handled, in batches ---------------------------------------------------------

    def _finished(self, update_id: int, batch_mark: bool = True) -> None:
        self.stats.handled += 1
        self.stats.last_progress = time.monotonic()
        if not batch_mark:
            return  # marked at once by the chat's holder (_mark_now)
        self._to_mark.append(update_id)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="mark-handled")

    async def _flush(self) -> None:
        tries = 0
        while self._to_mark:
            batch, self._to_mark = self._to_mark, []
            try:
                await self._log.mark_handled(batch, self._clock())
            except Exception as error:
                tries += 1
                if transient(error) and not (self._stopping() and tries >= 3):
                    self._to_mark = batch + self._to_mark
                    log.warning("marking %d update(s) handled failed (try %d): %r", len(batch), tries, error)
                    await asyncio.sleep(self._backoff.delay(tries))
                    continue
                # Left unhandled in the log: replayed later, and their effects are keyed once.
                log.error("could not mark %d update(s) handled", len(batch), exc_info=error)
            tries = 0
            for update_id in batch:
                self._held.pop(update_id, None)
            self._room.set()

    async def drain(self, timeout: float = 30) -> None:
        """Wait until every lane is empty and every mark is written (at a stop)."""
        deadline = time.monotonic() + timeout
        while (self._drainers or (self._flusher and not self._flusher.done())) and time.monotonic() < deadline:
            await asyncio.wait([*self._drainers.values(), *([self._flusher] if self._flusher else [])],
                               timeout=max(0.0, deadline - time.monotonic()))
        if self._drainers:
            log.warning("stopped with %d chat(s) still being handled; the log replays them", len(self._drainers))
