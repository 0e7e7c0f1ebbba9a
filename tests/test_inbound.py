"""Taking updates in: a database locked past its busy timeout delays answers but loses none
and apologises to nobody; a poison update is set aside and can be replayed; different
chats are answered side by side, one chat in order; a flood is throttled."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

from sqlalchemy.exc import OperationalError

from bot.cli import main
from bot.services.update_log import UpdateLog
from bot.telegram.common import account_of
from tests.telegram_world import running_bot

FARMER, OTHER, FLOODER = 5001, 5002, 5003
QUESTION = "水稻叶子发黄是怎么回事"


async def hold_exclusive_lock(db_url: str, seconds: float):
    """Another program locks the database and keeps it (a backup, an import, a migration): the
    SQLite file's write lock, or on PostgreSQL the tables the bot writes first, exclusively.
    Gives an awaitable that ends when the lock is released."""
    if db_url.startswith("postgresql"):
        return await _hold_postgres_tables(db_url, seconds)
    thread = await _hold_sqlite_file(db_url.removeprefix("sqlite+aiosqlite:///"), seconds)
    return asyncio.to_thread(thread.join)


async def _hold_postgres_tables(db_url: str, seconds: float):
    from sqlalchemy import text

    from storage.db import create_engine

    engine = create_engine(db_url)
    taken = asyncio.Event()

    async def hold() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("LOCK TABLE update_log, drafts IN ACCESS EXCLUSIVE MODE"))
            taken.set()
            await asyncio.sleep(seconds)
        await engine.dispose()

    holder = asyncio.create_task(hold())
    await asyncio.wait_for(taken.wait(), 30)
    return holder


async def _hold_sqlite_file(db_path: str, seconds: float) -> threading.Thread:
    taken = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(db_path, isolation_level=None, timeout=30)
        connection.execute("BEGIN EXCLUSIVE")
        taken.set()
        threading.Event().wait(seconds)
        connection.execute("COMMIT")
        connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert await asyncio.to_thread(taken.wait, 30)
    return thread


async def test_a_lock_longer_than_the_busy_timeout_delays_answers_but_loses_none(db_url, understander, clock):
    async with running_bot(db_url, understander, clock, busy_timeout_ms=200) as world:
        api = world.api
        released = await hold_exclusive_lock(db_url, seconds=2.0)
        for n in range(3):
            api.send_text(FARMER, f"{QUESTION}，第{n + 1}块田")
        await asyncio.sleep(0.5)
        assert not api.messages_to(FARMER)  # nothing could be stored or handled yet
        await released
        await api.wait_for_message(FARMER, "第3块田", timeout=15)
        api.send_text(OTHER, QUESTION)  # a new farmer after the lock is answered at once
        await api.wait_for_message(OTHER, "提交", timeout=5)
        await api.wait_idle()
        order = [n for m in api.messages_to(FARMER) for n in (1, 2, 3) if f"第{n}块田" in m.text]
        assert order == [1, 2, 3]  # each question's prompt once, in order
        assert all("抱歉" not in m.text for m in api.sent)  # neither an apology nor a set-aside notice


async def test_a_transient_failure_is_retried_without_an_apology(db_url, understander, clock):
    async with running_bot(db_url, understander, clock) as world:
        intake = world.services.intake
        real, calls = intake.new_question, []

        async def flaky(*args, **kwargs):
            calls.append(1)
            if len(calls) <= 2:
                raise OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
            return await real(*args, **kwargs)

        intake.new_question = flaky
        world.api.send_text(FARMER, QUESTION)
        await world.api.wait_for_message(FARMER, "提交", timeout=10)
        await world.api.wait_idle()
        assert len(calls) == 3
        assert len(world.api.messages_to(FARMER)) == 1


async def test_a_poison_update_is_set_aside_told_once_and_can_be_replayed(db_url, understander, clock, capsys,
                                                                          monkeypatch):
    async with running_bot(db_url, understander, clock) as world:
        intake = world.services.intake
        real = intake.new_question

        async def broken(*args, **kwargs):
            raise ValueError("a bug")

        intake.new_question = broken
        update = world.api.send_text(FARMER, QUESTION)
        await world.api.wait_for_message(FARMER, "转给工作人员", timeout=10)
        api = world.api
        world.api.send_text(OTHER, "你好")  # others are not held up
        await api.wait_idle()
        assert len(api.messages_to(FARMER)) == 1

        monkeypatch.setenv("JICENG_DATABASE_URL", db_url)
        monkeypatch.setenv("JICENG_HEALTH_PORT", "0")
        assert await asyncio.to_thread(main, ["updates", "failed"]) == 0
        listed = capsys.readouterr().out
        assert f"#{update['update_id']}" in listed and "ValueError: a bug" in listed and QUESTION in listed

        intake.new_question = real  # the bug is fixed; staff replay the message
        assert await asyncio.to_thread(main, ["updates", "replay", str(update["update_id"])]) == 0
        assert await asyncio.to_thread(main, ["updates", "replay", "999999"]) == 1
        await world.app.update_processor.readmit()
        await api.wait_for_message(FARMER, "提交", timeout=10)
        await api.wait_idle()
        assert await UpdateLog(world.sessions).failed() == []
        assert await asyncio.to_thread(main, ["status"]) == 0
        assert "已搁置（反复出错，等工作人员处理）：0" in capsys.readouterr().out


async def test_chats_are_handled_side_by_side_and_each_in_order(db_url, understander, clock):
    async with running_bot(db_url, understander, clock) as world:
        intake = world.services.intake
        real, release = intake.new_question, asyncio.Event()

        async def slow_for_farmer(person_id, *args, **kwargs):
            farmer = await world.services.people.by_account(account_of(FARMER))
            if farmer is not None and person_id == farmer.id:
                await release.wait()
            return await real(person_id, *args, **kwargs)

        intake.new_question = slow_for_farmer
        api = world.api
        for n in range(1, 4):
            api.send_text(FARMER, f"{QUESTION}，第{n}块田")
        api.send_text(OTHER, QUESTION)
        await api.wait_for_message(OTHER, "提交", timeout=5)  # answered while the farmer's chat waits
        assert not api.messages_to(FARMER)
        release.set()
        await api.wait_for_message(FARMER, "第3块田", timeout=10)
        order = [n for m in api.messages_to(FARMER) for n in (1, 2, 3) if f"第{n}块田" in m.text]
        assert order == [1, 2, 3]


async def test_a_flood_is_throttled_and_others_are_still_answered(db_url, understander, clock):
    async with running_bot(db_url, understander, clock, farmer_burst=5, farmer_per_minute=60,
                           flood_cooldown=1) as world:
        api = world.api
        for n in range(60):
            api.send_text(FLOODER, f"{QUESTION}{n}")
        api.send_text(OTHER, QUESTION)
        await api.wait_for_message(OTHER, "提交", timeout=5)
        await api.wait_idle()
        sent = [m.text for m in api.messages_to(FLOODER)]
        assert sum("提交" not in t and "太快" in t for t in sent) == 1  # told once
        assert len(sent) <= 5 + 1 + 2  # the burst, the notice, what refilled meanwhile
        await asyncio.sleep(1.2)  # the cool-down is over
        api.send_text(FLOODER, "稻飞虱用什么药")
        await api.wait_for_message(FLOODER, "稻飞虱", timeout=5)
        assert world.app.update_processor.stats.throttled >= 50
