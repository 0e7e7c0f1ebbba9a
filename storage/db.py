"""Engine and session factory; SQLite gets WAL, foreign keys and a busy timeout."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

DEFAULT_URL = "sqlite+aiosqlite:///./jiceng.db"
BUSY_TIMEOUT_MS = 10_000
# What people wrote never reaches a log through a database error (statement parameters are
# hidden), and JSON keeps Chinese as it is (a 4,096-character message stays ~12 KB, not 25 KB).
PRIVATE: dict[str, Any] = {
    "hide_parameters": True,
    "json_serializer": lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":")),
}


def create_engine(url: str = DEFAULT_URL, busy_timeout_ms: int = BUSY_TIMEOUT_MS,
                  sqlite_connections: int | None = None) -> AsyncEngine:
    """An engine for `url`. On SQLite a writer waits up to `busy_timeout_ms` for the lock,
    then fails with "database is locked" (which the bot treats as transient).

    `sqlite_connections` caps the pool. SQLite has one writer at a time, and its connections
    wait for each other by sleeping and polling (1 ms, then up to 100 ms between looks), so
    many handlers with a connection each queue far slower than on the pool's own fair queue."""
    if url.startswith("sqlite"):
        pool = {} if sqlite_connections is None else {
            "pool_size": sqlite_connections, "max_overflow": 0, "pool_timeout": busy_timeout_ms / 1000 * 3}
        engine = create_async_engine(url, connect_args={"timeout": busy_timeout_ms / 1000}, **PRIVATE, **pool)
        event.listen(engine.sync_engine, "connect", lambda connection, record: _sqlite_pragmas(
            connection, busy_timeout_ms))
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    # PostgreSQL: enough connections for the handlers and the sender side by side; a connection
    # lost (a server restart) fails its statement, which the bot retries as transient, so no
    # ping before every checkout.
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800, **PRIVATE)


def _sqlite_pragmas(dbapi_connection: Any, busy_timeout_ms: int) -> None:
    # pysqlite's own transaction handling is switched off so that "begin" below decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(conn: Connection) -> None:
    # Take the write lock at BEGIN: two writers then queue on busy_timeout instead of
    # failing with "database is locked" when a read transaction tries to upgrade.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
