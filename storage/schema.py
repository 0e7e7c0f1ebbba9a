"""Schema state and migrations: `jiceng db upgrade`, and the start-up check of `jiceng run`."""

from __future__ import annotations

import asyncio
from enum import Enum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

import migrations
from storage.db import create_engine

# The Alembic scripts: the schema's history, kept beside the packages (they name old columns).
MIGRATIONS = Path(migrations.__file__).parent


class SchemaState(Enum):
    EMPTY = "empty"
    CURRENT = "current"
    OUTDATED = "outdated"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Create or migrate the schema to the newest revision (blocking; runs its own loop)."""
    command.upgrade(alembic_config(url), "head")


async def upgrade_async(url: str) -> None:
    await asyncio.to_thread(upgrade, url)


def head_revision(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    if head is None:
        raise RuntimeError("the migrations have no head revision")
    return head


async def schema_state(url: str) -> SchemaState:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            current, has_tables = await connection.run_sync(_inspect)
    finally:
        await engine.dispose()
    if current is None and not has_tables:
        return SchemaState.EMPTY
    return SchemaState.CURRENT if current == head_revision(url) else SchemaState.OUTDATED


def _inspect(connection: Connection) -> tuple[str | None, bool]:
    from sqlalchemy import inspect

    current = MigrationContext.configure(connection).get_current_revision()
    tables = [t for t in inspect(connection).get_table_names() if t != "alembic_version"]
    return current, bool(tables)
