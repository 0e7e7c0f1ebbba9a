"""The durable update log: record before acknowledging, mark handled after handling,
set aside what keeps failing, replay what was recorded but never handled, prune what is old.

What people wrote stays here only until it is handled: a handled update keeps its id (so a
redelivery is recognised) and an empty payload; a set-aside one keeps its content for staff."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.sql import rowcount
from storage.models import LoggedUpdate

ERROR_CHARS = 2000


@dataclass(frozen=True)
class FailedUpdate:
    update_id: int
    received_at: datetime
    failed_at: datetime
    attempts: int
    error: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class LogSummary:
    received: int
    handled: int
    failed: int
    unhandled: int
    oldest_unhandled_at: datetime | None


class UpdateLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, updates: Sequence[tuple[int, dict[str, Any]]], now: datetime,
                     chat_of: Callable[[dict[str, Any]], int | None] = lambda payload: None) -> set[int]:
        """Store updates not seen before; committed when this returns. Gives the ids among
        them that need no handling: handled already, or set aside. Several processes may store
        the same update at once (a webhook delivered twice): it is stored once."""
        if not updates:
            return set()
        async with self._sessions.begin() as session:
            ids = [update_id for update_id, _ in updates]
            rows = (await session.execute(
                select(LoggedUpdate.update_id, LoggedUpdate.handled_at, LoggedUpdate.failed_at)
                .where(LoggedUpdate.update_id.in_(ids))
            )).all()
            known = {row.update_id for row in rows}
            done = {row.update_id for row in rows if row.handled_at is not None or row.failed_at is not None}
            new: dict[int, dict[str, Any]] = {}
            for update_id, payload in updates:
                if update_id not in known:
                    known.add(update_id)
                    new[update_id] = {"update_id": update_id, "payload": payload, "received_at": now,
                                      "chat_key": chat_of(payload), "attempts": 0}
            if new:
                dialect = session.bind.dialect.name if session.bind is not None else ""
                insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
                await session.execute(insert(LoggedUpdate).values(list(new.values()))
                                      .on_conflict_do_nothing(index_elements=[LoggedUpdate.update_id]))
        return done

    async def unhandled_of_chat(self, chat_key: int, through: int) -> list[tuple[int, dict[str, Any]]]:
        """The chat's updates up to `through` that nobody has handled or set aside yet (stored by
        another process, or left by one that stopped), oldest first, with their ids: `through`
        itself is last unless it is done already."""
        async with self._sessions() as session:
            rows = (await session.execute(
                select(LoggedUpdate.update_id, LoggedUpdate.payload).where(
                    LoggedUpdate.chat_key == chat_key, LoggedUpdate.update_id <= through,
                    LoggedUpdate.handled_at.is_(None), LoggedUpdate.failed_at.is_(None))
                .order_by(LoggedUpdate.update_id))).all()
        return [(row.update_id, row.payload) for row in rows]

    async def is_handled(self, update_id: int) -> bool:
        async with self._sessions() as session:
            handled_at = await session.scalar(
                select(LoggedUpdate.handled_at).where(LoggedUpdate.update_id == update_id)
            )
        return handled_at is not None

    async def mark_handled(self, update_ids: int | Collection[int], now: datetime) -> None:
        """Mark one update or a batch handled, in one transaction."""
        ids = [update_ids] if isinstance(update_ids, int) else list(update_ids)
        if not ids:
            return
        async with self._sessions.begin() as session:
            await session.execute(
                update(LoggedUpdate)
                .where(LoggedUpdate.update_id.in_(ids), LoggedUpdate.handled_at.is_(None))
                .values(handled_at=now, payload={})  # trimmed: the id alone keeps a redelivery out
            )

    async def set_aside(self, update_id: int, attempts: int, error: str, now: datetime) -> None:
        """A poison update: kept with its error, out of the way of replays, until staff replay it."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(LoggedUpdate).where(LoggedUpdate.update_id == update_id)
                .values(failed_at=now, attempts=attempts, error=error[-ERROR_CHARS:])
            )

    async def failed(self) -> list[FailedUpdate]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(LoggedUpdate).where(LoggedUpdate.failed_at.is_not(None), LoggedUpdate.handled_at.is_(None))
                .order_by(LoggedUpdate.update_id)
            )
            failed = []
            for r in rows:
                assert r.failed_at is not None  # the query asked for set-aside updates only
                failed.append(FailedUpdate(r.update_id, r.received_at, r.failed_at, r.attempts, r.error or "", r.payload))
            return failed

    async def replay(self, update_id: int) -> bool:
        """Put a set-aside update back among the unhandled ones; a running bot picks it up.
        False if there is no such set-aside update."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(LoggedUpdate)
                .where(LoggedUpdate.update_id == update_id, LoggedUpdate.failed_at.is_not(None),
                       LoggedUpdate.handled_at.is_(None))
                .values(failed_at=None, attempts=0)
            )
            return bool(rowcount(result))

    async def unhandled(self, received_before: datetime | None = None,
                        excluding: Collection[int] = (), limit: int | None = None) -> list[dict[str, Any]]:
        """Payloads recorded but neither handled nor set aside (a crash or a stop came first,
        or staff asked for a replay), oldest first."""
        query = select(LoggedUpdate.update_id, LoggedUpdate.payload).where(
            LoggedUpdate.handled_at.is_(None), LoggedUpdate.failed_at.is_(None))
        if received_before is not None:
            query = query.where(LoggedUpdate.received_at < received_before)
        query = query.order_by(LoggedUpdate.update_id)
        if limit is not None:
            query = query.limit(limit + len(excluding))
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        skip = set(excluding)
        return [row.payload for row in rows if row.update_id not in skip]

    async def summary(self) -> LogSummary:
        async with self._sessions() as session:
            received, handled, failed, unhandled, oldest = (await session.execute(select(
                func.count(),
                func.count(LoggedUpdate.handled_at),
                func.count(LoggedUpdate.failed_at),
                func.count().filter(LoggedUpdate.handled_at.is_(None), LoggedUpdate.failed_at.is_(None)),
                func.min(LoggedUpdate.received_at).filter(
                    LoggedUpdate.handled_at.is_(None), LoggedUpdate.failed_at.is_(None)),
            ))).one()
        return LogSummary(received, handled, failed, unhandled, oldest)

    async def prune(self, handled_before: datetime) -> int:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(LoggedUpdate).where(LoggedUpdate.handled_at.is_not(None), LoggedUpdate.handled_at < handled_before)
            )
            return rowcount(result) or 0
