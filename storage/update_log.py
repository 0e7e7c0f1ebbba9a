"""The durable update log: record before acknowledging, mark handled after handling,
replay what was recorded but never handled, prune what is old."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import LoggedUpdate


class UpdateLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, updates: Sequence[tuple[int, dict]], now: datetime) -> None:
        """Store updates not seen before; committed when this returns."""
        if not updates:
            return
        async with self._sessions.begin() as session:
            ids = [update_id for update_id, _ in updates]
            known = set(await session.scalars(select(LoggedUpdate.update_id).where(LoggedUpdate.update_id.in_(ids))))
            for update_id, payload in updates:
                if update_id not in known:
                    known.add(update_id)
                    session.add(LoggedUpdate(update_id=update_id, payload=payload, received_at=now))

    async def is_handled(self, update_id: int) -> bool:
        async with self._sessions() as session:
            handled_at = await session.scalar(
                select(LoggedUpdate.handled_at).where(LoggedUpdate.update_id == update_id)
            )
        return handled_at is not None

    async def mark_handled(self, update_id: int, now: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(LoggedUpdate)
                .where(LoggedUpdate.update_id == update_id, LoggedUpdate.handled_at.is_(None))
                .values(handled_at=now)
            )

    async def unhandled(self) -> list[dict]:
        """Payloads recorded but never handled (a crash or a stop came first), oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(LoggedUpdate.payload).where(LoggedUpdate.handled_at.is_(None)).order_by(LoggedUpdate.update_id)
            )
            return list(rows)

    async def prune(self, handled_before: datetime) -> int:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(LoggedUpdate).where(LoggedUpdate.handled_at.is_not(None), LoggedUpdate.handled_at < handled_before)
            )
            return result.rowcount or 0
