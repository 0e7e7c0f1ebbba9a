"""Every message the bot sends is first a row in the outbox.

A service or a handler *puts* a message (text, buttons, a photo or voice note by the channel's
file reference) for a person (reached on the account they used last) or for an account, with a
priority, inside the transaction that
causes it; the sender (`bot.services.sender`) delivers rows, paced, highest priority first.
Nothing is sent from a handler directly, so a 429, a crash or a restart loses nothing: a row
stays until it is sent, refused for good (recorded with its reason), or given up after retries.

A row may carry a request key: writing it again (a replayed update, a retried handler) adds
nothing. A row may carry a purpose ("relay:12", "new_demand:34"): what its delivery or its
failure sets off (`bot.services.sender.Effects`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import CHANNELS
from bot.services.faults import is_transient
from bot.services.notifier import Action
from bot.services.people import Account, address_of
from bot.services.sql import table_of
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

# Priorities, most urgent first.
REPLY = 0      # the answer to a person's own action (they are looking at the chat)
ACTION = 1     # someone who must act: a leader's new demand, an expert's assignment, staff
REMINDER = 2   # reminders, follow-ups, escalations from scheduled jobs
BULK = 3       # training notices to subscribers
PRIORITY_NAMES = {REPLY: "回复", ACTION: "待办通知", REMINDER: "提醒", BULK: "群发"}

MAX_TEXT = 4096  # the longest text a channel takes in one message, unless it says otherwise
PUT_PATIENCE = 600.0  # seconds `send` keeps trying to write a message while the database is away

# Row statuses: pending → sending → sent | blocked | failed; sending → retry → sending.
PENDING, SENDING, RETRY, SENT, BLOCKED, FAILED = "pending", "sending", "retry", "sent", "blocked", "failed"
WAITING_STATUSES = (PENDING, RETRY)
OPEN_STATUSES = (PENDING, RETRY, SENDING)


@dataclass(frozen=True)
class Outgoing:
    """A rendered message, channel-neutral: what a person should see."""

    text: str = ""
    actions: tuple[tuple[Action, ...], ...] = ()
    media: str | None = None  # "photo" or "voice": `file_ref` is the channel's reference to it
    file_ref: str | None = None
    # "phone": ask the person to share their phone number (the one action's label is the button);
    # "done": the question is over (take that button away).
    request: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"text": self.text}
        if self.actions:
            body["actions"] = [[[a.label, a.data] for a in row] for row in self.actions]
        if self.media:
            body["media"], body["file_ref"] = self.media, self.file_ref
        if self.request:
            body["request"] = self.request
        return body

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Outgoing:
        actions = tuple(tuple(Action(label, data) for label, data in row) for row in body.get("actions", ()))
        return cls(body.get("text", ""), actions, body.get("media"), body.get("file_ref"), body.get("request"))


def priority_for(to: int | Account, writer: Account, writer_id: int | None) -> int:
    """While a person's message is handled: what goes back to them is a reply (sent first),
    what goes to anyone else is for someone who must act."""
    return REPLY if to == writer or (writer_id is not None and to == writer_id) else ACTION


def buttons(rows: Sequence[Sequence[Action]]) -> tuple[tuple[Action, ...], ...]:
    return tuple(tuple(row) for row in rows if row)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split on line breaks where possible so that no piece is longer than `limit`."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    pieces.append(text)
    return pieces


class Outbox:
    """Puts messages in the outbox and tells a waiting sender that there is work."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []

    async def put(self, session: AsyncSession, to: int | Account, message: Outgoing, priority: int, *,
                  purpose: str = "", request_key: str | None = None) -> bool:
        """Add the row in the caller's transaction (the caller commits, then calls `wake`) for a
        person (by id: the account they used last) or an account. A text longer than one message
        may be becomes several rows, split at line breaks; the buttons go with the last, and the
        purpose too (what a delivery sets off follows the whole message). False when the person
        has no account to reach them on."""
        account: Account | None
        person_id: int | None
        if isinstance(to, Account):
            account, person_id = to, None
        else:
            person_id, account = to, await address_of(session, to)
            if account is None:
                log.info("person %s has no account to reach them on; message not queued", to)
                return False
        channel = CHANNELS.get(account.channel)
        limit = channel.max_text if channel is not None else MAX_TEXT
        pieces = split_text(message.text, limit) if not message.media else [message.text]
        for n, piece in enumerate(pieces):
            last = n == len(pieces) - 1
            part = replace(message, text=piece, actions=message.actions if last else ())
            key = request_key if request_key is None or len(pieces) == 1 else f"{request_key}.{n}"
            await self._put_one(session, account, part, priority, person_id, purpose if last else "", key)
        return True

    async def _put_one(self, session: AsyncSession, account: Account, message: Outgoing, priority: int,
                       person_id: int | None, purpose: str, request_key: str | None) -> None:
        values = {
            "channel": account.channel, "address": account.external_id, "person_id": person_id,
            "priority": priority,
            "body": message.body(), "purpose": purpose, "request_key": request_key, "status": PENDING,
            "attempts": 0, "last_error": "", "created_at": self._clock(),
        }
        dialect = session.bind.dialect.name if session.bind is not None else ""
        if request_key is not None and dialect in ("sqlite", "postgresql"):
            insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
            await session.execute(insert(OutboxMessage).values(**values)
                                  .on_conflict_do_nothing(index_elements=["request_key"]))
        elif request_key is None or not await session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.request_key == request_key)):
            await session.execute(table_of(OutboxMessage).insert().values(**values))

    async def send(self, to: int | Account, message: Outgoing, priority: int, *, purpose: str = "",
                   request_key: str | None = None) -> None:
        """Put one message in a transaction of its own, and wake the sender.

        A handler puts its messages after the change they report was committed: if the
        database is away now (locked past its busy timeout, restarting), trying the whole
        handler again would find the change made and could say something else, or nothing.
        So the write itself is tried again here, with backoff, until the database is back."""
        waited, tries = 0.0, 0
        while True:
            try:
                async with self._sessions.begin() as session:
                    await self.put(session, to, message, priority, purpose=purpose, request_key=request_key)
                break
            except Exception as error:
                if not is_transient(error) or waited >= PUT_PATIENCE:
                    raise
                tries += 1
                delay = min(4.0, 0.25 * 2 ** (tries - 1)) * random.uniform(0.5, 1.0)
                if tries == 1:
                    log.warning("could not write a message to the outbox yet (%r); trying again", error)
                await asyncio.sleep(delay)
                waited += delay
        self.wake()

    def wake(self) -> None:
        for listener in self._listeners:
            listener()

    def listen(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever new rows were put (the sender of this process)."""
        self._listeners.append(listener)

    def forget(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)


@dataclass(frozen=True)
class QueueStatus:
    waiting: dict[int, int]       # priority → rows waiting or in flight
    oldest_seconds: float | None  # age of the oldest row not yet sent
    failures: list[tuple[str, str, int]]  # (status, reason, rows), most frequent first
    sent: int


async def status(sessions: async_sessionmaker[AsyncSession], now: datetime) -> QueueStatus:
    async with sessions() as session:
        waiting = dict((await session.execute(
            select(OutboxMessage.priority, func.count()).where(OutboxMessage.status.in_(OPEN_STATUSES))
            .group_by(OutboxMessage.priority))).all())
        oldest = await session.scalar(
            select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status.in_(OPEN_STATUSES)))
        failures = (await session.execute(
            select(OutboxMessage.status, OutboxMessage.last_error, func.count())
            .where(OutboxMessage.status.in_((BLOCKED, FAILED)))
            .group_by(OutboxMessage.status, OutboxMessage.last_error)
            .order_by(func.count().desc()))).all()
        sent = await session.scalar(select(func.count()).where(OutboxMessage.status == SENT))
    age = (now - oldest).total_seconds() if oldest is not None else None
    return QueueStatus(waiting, age, [(s, r or "", n) for s, r, n in failures], sent or 0)
