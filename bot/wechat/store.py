"""WeChat's own tables (the channel keeps them; the core knows nothing of them): pushes stored
before they are acknowledged, each user's 客服消息 window, and messages held beyond it."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.wechat.push import Push
from storage.models import WeChatHeld, WeChatPush, WeChatWindow, utcnow

WINDOW = timedelta(hours=48)
AFTER_MESSAGE = 5       # 客服消息 allowed after a user's message ...
AFTER_CLICK = 3         # ... after a menu click or a subscribe (within a minute)
CLICK_WINDOW = timedelta(minutes=1)


class Pushes:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def store(self, push: Push) -> bool:
        """Store a push not seen before; False for a re-delivery or a replay."""
        async with self._sessions.begin() as session:
            if await session.get(WeChatPush, push.dedupe_key) is not None:
                return False
            payload = {f.name: getattr(push, f.name) for f in fields(Push)}
            session.add(WeChatPush(key=push.dedupe_key, openid=push.openid, payload=payload, received_at=utcnow()))
        return True

    async def unhandled(self, key: str) -> Push | None:
        async with self._sessions() as session:
            stored = await session.get(WeChatPush, key)
        return Push(**stored.payload) if stored is not None and stored.handled_at is None else None

    async def handled(self, key: str) -> None:
        async with self._sessions.begin() as session:
            # Trimmed like the update log: the key alone keeps a re-delivery out.
            await session.execute(update(WeChatPush).where(WeChatPush.key == key)
                                  .values(handled_at=utcnow(), payload={}))

    async def left_over(self) -> list[str]:
        """Pushes acknowledged but not handled when the process stopped (within the window)."""
        async with self._sessions() as session:
            return list((await session.scalars(select(WeChatPush.key).where(
                WeChatPush.handled_at.is_(None), WeChatPush.received_at > utcnow() - WINDOW)
                .order_by(WeChatPush.received_at))).all())


class Windows:
    """Each user's 客服消息 window, counted in the database (so several processes share it)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def opened(self, openid: str, kind: str, now: datetime) -> None:
        """A user action opens a window; a click's short one never cuts a message's longer one
        short while that is still open with messages left."""
        allowance, length = (AFTER_CLICK, CLICK_WINDOW) if kind == "event" else (AFTER_MESSAGE, WINDOW)
        async with self._sessions.begin() as session:
            current = await session.get(WeChatWindow, openid)
            if (current is not None and kind == "event" and current.closes_at > now + length
                    and current.allowance - current.used >= allowance):
                return
            await session.merge(WeChatWindow(openid=openid, opened_at=now, closes_at=now + length,
                                             allowance=allowance, used=0))

    async def spend(self, openid: str, now: datetime) -> bool:
        """Take one message from the allowance; False when none is left or the window closed."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(WeChatWindow)
                .where(WeChatWindow.openid == openid, WeChatWindow.closes_at > now,
                       WeChatWindow.used < WeChatWindow.allowance)
                .values(used=WeChatWindow.used + 1))
            return bool(getattr(result, "rowcount", 0))

    async def close(self, openid: str) -> None:
        """WeChat said the window is closed or the quota spent (its count is the one that holds)."""
        async with self._sessions.begin() as session:
            await session.execute(update(WeChatWindow).where(WeChatWindow.openid == openid)
                                  .values(used=WeChatWindow.allowance))


class Held:
    """Messages beyond a user's allowance, in order, until the user writes again."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def keep(self, openid: str, body: dict[str, Any]) -> bool:
        """Keep one; True when it is the first waiting (time to tell the user something waits)."""
        async with self._sessions.begin() as session:
            waiting = await session.scalar(select(WeChatHeld.id).where(WeChatHeld.openid == openid).limit(1))
            session.add(WeChatHeld(openid=openid, body=body, created_at=utcnow()))
        return waiting is None

    async def waiting(self, openid: str) -> list[tuple[int, dict[str, Any]]]:
        async with self._sessions() as session:
            rows = (await session.scalars(select(WeChatHeld).where(WeChatHeld.openid == openid)
                                          .order_by(WeChatHeld.id))).all()
        return [(row.id, row.body) for row in rows]

    async def sent(self, held_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(WeChatHeld).where(WeChatHeld.id == held_id))
