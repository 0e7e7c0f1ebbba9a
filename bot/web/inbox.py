"""Each web account's transcript (`WebMessage` rows): what the bot said there — delivered by the
outbox sender — and what the person wrote. A page shows it whole after a reload and follows it
live: every new message or edit bumps the account's `rev`, and `Hub` wakes the pages waiting on
that account in this process (pages also look again every few seconds, for writes made by
another process)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import WebMessage, utcnow

BOT, ME = "bot", "me"
__all__ = ["BOT", "ME", "Hub", "Inbox", "Shown", "WebMessage"]
Choices = Sequence[Sequence[tuple[str, str]]]  # rows of (label, button data)


@dataclass(frozen=True)
class Shown:
    """One message as a page gets it (JSON)."""

    id: int
    rev: int
    sender: str
    text: str
    choices: list[list[dict[str, str]]]
    media: str | None
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "rev": self.rev, "from": self.sender, "text": self.text, "choices": self.choices,
                "media": self.media, "media_url": f"/media/{self.id}" if self.media else None,
                "at": self.at.isoformat()}


def _shown(row: WebMessage) -> Shown:
    choices = [[{"label": label, "data": data} for label, data in line] for line in row.choices or []]
    return Shown(row.id, row.rev, row.sender, row.text, choices, row.media, row.created_at)


class Hub:
    """Wakes the pages of one account in this process when its transcript changes."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Event]] = defaultdict(set)

    def changed(self, address: str) -> None:
        for event in self._waiting.get(address, ()):
            event.set()

    async def wait(self, address: str, timeout: float) -> None:
        event = asyncio.Event()
        self._waiting[address].add(event)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self._waiting[address].discard(event)
            if not self._waiting[address]:
                del self._waiting[address]


class Inbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], hub: Hub) -> None:
        self._sessions = sessions
        self.hub = hub

    async def add(self, address: str, sender: str, text: str, choices: Choices = (), *,
                  media: str | None = None, file_ref: str | None = None) -> int:
        async with self._sessions.begin() as session:
            row = WebMessage(address=address, sender=sender, text=text, choices=[list(map(list, r)) for r in choices],
                             media=media, file_ref=file_ref, rev=await _next_rev(session, address), created_at=utcnow())
            session.add(row)
            await session.flush()
            message_id = row.id
        self.hub.changed(address)
        return message_id

    async def edit(self, message_id: int, text: str, choices: Choices) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(WebMessage, message_id)
            if row is None:
                return
            row.text, row.choices = text, [list(map(list, r)) for r in choices]
            row.rev = await _next_rev(session, row.address)
            address = row.address
        self.hub.changed(address)

    async def get(self, address: str, message_id: int) -> WebMessage | None:
        """A message of this account only (another account's id finds nothing)."""
        async with self._sessions() as session:
            row = await session.get(WebMessage, message_id)
        return row if row is not None and row.address == address else None

    async def since(self, address: str, rev: int, limit: int = 200) -> list[Shown]:
        """What changed after `rev` (new messages and edits), oldest change first; a first load
        (rev 0) gets the latest `limit` messages."""
        async with self._sessions() as session:
            query = select(WebMessage).where(WebMessage.address == address, WebMessage.rev > rev)
            if rev == 0:
                rows = list(reversed((await session.scalars(query.order_by(WebMessage.rev.desc()).limit(limit))).all()))
            else:
                rows = list((await session.scalars(query.order_by(WebMessage.rev).limit(limit))).all())
        return [_shown(row) for row in rows]


async def _next_rev(session: AsyncSession, address: str) -> int:
    # Writers take SQLite's lock at BEGIN (storage.db), so two writers never read the same max.
    return (await session.scalar(select(func.max(WebMessage.rev)).where(WebMessage.address == address)) or 0) + 1
