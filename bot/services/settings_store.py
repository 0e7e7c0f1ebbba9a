"""Small facts the running bot remembers for the command line (its username, for invite links)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Setting

BOT_USERNAME = "bot_username"


async def remember(sessions: async_sessionmaker[AsyncSession], key: str, value: str) -> None:
    """Insert or update in one statement: several processes starting at once may remember the
    same key together."""
    async with sessions.begin() as session:
        dialect = session.bind.dialect.name if session.bind is not None else ""
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(Setting).values(key=key, value=value)
        await session.execute(statement.on_conflict_do_update(index_elements=[Setting.key],
                                                               set_={"value": statement.excluded.value}))


async def recall(sessions: async_sessionmaker[AsyncSession], key: str) -> str | None:
    async with sessions() as session:
        setting = await session.get(Setting, key)
        return setting.value if setting else None
