"""One process at a time per chat, across processes sharing one PostgreSQL database.

Each held chat is a PostgreSQL session-level advisory lock on a connection kept for the time it is
held: another process asking for the same chat waits, and a process killed with -9 loses its
connection, so the server releases its locks at once — no lease to expire, no clean-up. SQLite
carries one process, which keeps its chats in order by itself: there the locks are not used."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

LOCK_SPACE = 7301  # the first key of the two-part advisory lock: "a chat of jiceng"


def _second_key(chat_key: int) -> int:
    # Advisory locks take two 32-bit keys; chat ids are 64-bit. Two chats sharing a key only wait
    # for each other, never run at once.
    return zlib.crc32(str(chat_key).encode()) - 2**31


class ChatLocks:
    def __init__(self, url: str, connections: int = 32) -> None:
        # Its own pool, so that chats waiting for each other never starve the handlers of connections.
        # Autocommit: taking and giving back a lock is one round trip each, no transaction left open.
        self._engine: AsyncEngine = create_async_engine(url, pool_size=connections, max_overflow=0,
                                                        isolation_level="AUTOCOMMIT", pool_recycle=1800)

    @asynccontextmanager
    async def hold(self, chat_key: int) -> AsyncIterator[None]:
        """Wait until no other process handles this chat, and keep it until the block ends."""
        key = _second_key(chat_key)
        async with self._engine.connect() as connection:
            try:
                await connection.execute(select(func.pg_advisory_lock(LOCK_SPACE, key)))
            except BaseException:
                await connection.invalidate()  # cancelled while waiting: the server drops whatever it gave
                raise
            try:
                yield
            finally:
                try:
                    await connection.execute(select(func.pg_advisory_unlock(LOCK_SPACE, key)))
                except BaseException:
                    await connection.invalidate()  # a lock must never go back to the pool held
                    raise

    async def close(self) -> None:
        await self._engine.dispose()


def shared_locks(url: str, connections: int = 32) -> ChatLocks | None:
    """The chat locks for a PostgreSQL database (one connection per chat held at once: the
    lanes' concurrency); None on SQLite (one process)."""
    return ChatLocks(url, connections) if url.startswith("postgresql") else None
