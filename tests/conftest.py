"""Shared fixtures: a fresh SQLite file per test (copied from one migrated template),
an injectable clock, and the understander built once per session."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "jiceng.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def db_url(tmp_path, template_db) -> str:
    path = tmp_path / "jiceng.db"
    shutil.copy(template_db, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def sessions(db_url):
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()
