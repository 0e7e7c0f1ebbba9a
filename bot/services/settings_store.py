"""Small facts the running bot remembers for the command line (its username, for invite links)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Setting

BOT_USERNAME = "bot_username"


async def remember(sessions: async_sessionmaker[AsyncSession], key: str, value: str) -> None:
    async with sessions.begin() as session:
        await session.merge(Setting(key=key, value=value))


async def recall(sessions: async_sessionmaker[AsyncSession], key: str) -> str | None:
    async with sessions() as session:
        setting = await session.get(Setting, key)
        return setting.value if setting else None
