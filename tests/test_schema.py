"""The schema is made by Alembic migrations that match the models; `jiceng run` creates
it on an empty database and refuses an out-of-date one."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from bot.cli import main
from storage.db import create_engine
from storage.models import Base
from storage.schema import SchemaState, alembic_config, schema_state
from tests.conftest import sqlite_only


async def test_migrations_match_the_models(db_url):
    engine = create_engine(db_url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    await engine.dispose()
    assert diff == []


async def test_every_migration_goes_down_and_up_again(db_url):
    import asyncio

    from alembic import command

    config = alembic_config(db_url)
    await asyncio.to_thread(command.downgrade, config, "base")
    await asyncio.to_thread(command.upgrade, config, "head")
    assert await schema_state(db_url) is SchemaState.CURRENT
    await test_migrations_match_the_models(db_url)


@sqlite_only
async def test_sqlite_runs_in_wal_with_foreign_keys(db_url):
    engine = create_engine(db_url)
    async with engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    await engine.dispose()


async def test_schema_states(tmp_path, db_url):
    assert await schema_state(f"sqlite+aiosqlite:///{tmp_path}/empty.db") is SchemaState.EMPTY
    assert await schema_state(db_url) is SchemaState.CURRENT
    engine = create_engine(db_url)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0000_old'"))
    await engine.dispose()
    assert await schema_state(db_url) is SchemaState.OUTDATED


def test_run_refuses_an_outdated_database_and_names_the_command(tmp_path, monkeypatch, capsys):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version VALUES ('0000_old')")
        db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY)")
    monkeypatch.setenv("JICENG_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    assert main(["run"]) == 2
    assert "jiceng db upgrade" in capsys.readouterr().err


def test_upgrade_keeps_data_written_under_an_older_revision(tmp_path):
    import sqlite3

    from alembic import command

    from storage.schema import alembic_config, upgrade

    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    command.upgrade(alembic_config(url), "0001")
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("INSERT INTO people (id, telegram_id, display_name, created_at, updated_at)"
                   " VALUES (1, 42, '老用户', '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
        db.execute("INSERT INTO service_teams (id, name, fields, regions, leader_telegram_id, created_at, updated_at)"
                   " VALUES (1, '老服务团', '[]', '[]', 43, '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
        db.execute("INSERT INTO experts (id, name, title, employer, fields, specialties, regions, telegram_id,"
                   " created_at, updated_at) VALUES (1, '老专家', '', '', '[]', '', '[]', 42,"
                   " '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
    upgrade(url)
    with sqlite3.connect(tmp_path / "old.db") as db:
        by_account = ("SELECT p.id, p.display_name FROM people p JOIN channel_accounts a ON a.person_id = p.id"
                      " WHERE a.channel = 'telegram' AND a.external_id = ?")
        assert db.execute(by_account, ("42",)).fetchone() == (1, "老用户")
        # the imported leader id became a person with that account, leading the team
        leader_id, _ = db.execute(by_account, ("43",)).fetchone()
        assert db.execute("SELECT leader_id FROM service_teams WHERE id = 1").fetchone() == (leader_id,)
        assert ("leader",) in db.execute("SELECT role FROM person_roles WHERE person_id = ?", (leader_id,)).fetchall()
        # the expert's imported id bound the expert to the person who has it
        assert db.execute("SELECT person_id FROM experts WHERE id = 1").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM update_log").fetchone() == (0,)
