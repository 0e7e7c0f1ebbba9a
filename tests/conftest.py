"""Shared fixtures: a fresh database per test — a SQLite file copied from one migrated template,
or with JICENG_TEST_DB=postgresql a PostgreSQL database created from a migrated template database
on one real server started for the session — an injectable clock, and the understander built
once per session."""

from __future__ import annotations

import itertools
import os
import shutil
from datetime import datetime, timedelta, timezone

import pytest

from storage.db import create_engine, session_factory
from storage.schema import upgrade


class Clock:
    """A clock tests move by hand; services take it instead of reading the time."""

    def __init__(self, start: datetime = datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def understander():
    from intents.understand import Understander

    return Understander()


@pytest.fixture
def knowledge(understander):
    """The starter knowledge base, fresh for each test (tests may add to it)."""
    from bot.services.knowledge import KnowledgeBase
    from bot.services.live import starter_index

    return KnowledgeBase(starter_index(understander))


ON_POSTGRES = os.environ.get("JICENG_TEST_DB", "sqlite") == "postgresql"
TEMPLATE = "jiceng_template"
_databases = itertools.count(1)


def pytest_report_header(config):
    return f"database: {'PostgreSQL (JICENG_TEST_DB=postgresql)' if ON_POSTGRES else 'SQLite'}"


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL server for the session (Debian's package, in a temporary folder)."""
    if not ON_POSTGRES:
        pytest.skip("PostgreSQL runs only with JICENG_TEST_DB=postgresql")
    from storage import local_postgres

    server = local_postgres.start()
    try:
        server.sql(f"CREATE DATABASE {TEMPLATE}")
        upgrade(server.url_of(TEMPLATE))
        yield server
    finally:
        server.stop()


sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="about SQLite itself (its file, pragmas or locking)")


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "jiceng.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def db_url(request, tmp_path) -> str:
    if ON_POSTGRES:
        server = request.getfixturevalue("postgres")
        name = f"test_{next(_databases)}"
        server.sql(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        yield server.url_of(name)
        server.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", check=False)
        return
    path = tmp_path / "jiceng.db"
    shutil.copy(request.getfixturevalue("template_db"), path)
    yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def sessions(db_url):
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()
