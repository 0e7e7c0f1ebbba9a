"""Never lose a farmer's message, never act on it twice: kill -9 mid-handler, SIGTERM in a
burst, restarts in the middle of the confirm step."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import func, select

from bot.standin import BotApiStandIn
from storage.db import create_engine, session_factory
from storage.models import Demand, Draft
from tests.bot_process import BotProcess
from tests.telegram_world import running_bot

FARMER = 1001
TOKEN = "777:DURABLE"


async def count(db_url: str, model, *where) -> int:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            return await session.scalar(select(func.count()).select_from(model).where(*where))
    finally:
        await engine.dispose()


async def drafts_by_text(db_url: str) -> dict[str, int]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            rows = (await session.execute(select(Draft.text, func.count()).group_by(Draft.text))).all()
            return dict(rows)
    finally:
        await engine.dispose()


async def test_kill_9_mid_handler_then_restart_handles_the_update_once(db_url):
    async with BotApiStandIn(token=TOKEN) as api:
        bot = BotProcess(api, db_url)
        await bot.start()
        api.delays["sendMessage"] = 30  # the handler stores the draft, then hangs on its reply
        api.send_text(FARMER, "水稻稻瘟病打什么药")
        for _ in range(100):
            if api.calls_of("sendMessage"):
                break
            await asyncio.sleep(0.1)
        assert api.pending_updates == 0  # the updater already acknowledged it to the server
        await bot.kill()
        api.delays.clear()
        await bot.start()
        await api.wait_for_message(FARMER, "提交", timeout=15)
        await bot.terminate()
    assert await count(db_url, Draft) == 1


async def test_restart_in_the_middle_of_the_confirm_step_then_submit_works(db_url, understander, clock):
    async with BotApiStandIn(token=TOKEN) as api:
        async with running_bot(db_url, understander, clock, api=api):
            api.send_text(FARMER, "我家的猪拉稀不吃食怎么办")
            confirm = await api.wait_for_message(FARMER, "提交")
        async with running_bot(db_url, understander, clock, api=api):
            api.press(FARMER, confirm, "提交")
            await api.wait_idle()
            assert "XQ" in api.current(confirm).text
    assert await count(db_url, Demand) == 1


async def test_sigterm_during_a_burst_loses_nothing(db_url):
    questions = [f"第{i}个问题：辣椒叶子发黄卷曲是什么病" for i in range(25)]
    async with BotApiStandIn(token=TOKEN) as api:
        bot = BotProcess(api, db_url)
        await bot.start()
        for i, text in enumerate(questions):
            api.send_text(FARMER + i % 5, text)
        await asyncio.sleep(0.3)
        await bot.terminate()
        await bot.start()
        await api.wait_idle(quiet=1.0, timeout=60)
        await bot.terminate()
    assert await drafts_by_text(db_url) == {text: 1 for text in questions}


@pytest.mark.slow
async def test_repeated_kill_9_under_a_stream_loses_none_and_duplicates_nothing(db_url):
    random.seed(7)
    questions = [f"第{i}号：柑橘红蜘蛛怎么防治" for i in range(60)]
    async with BotApiStandIn(token=TOKEN) as api:
        bot = BotProcess(api, db_url)
        sent = 0
        for _round in range(3):
            await bot.start()
            for _ in range(20):
                api.send_text(FARMER + sent % 7, questions[sent])
                sent += 1
                await asyncio.sleep(random.uniform(0, 0.05))
            await asyncio.sleep(random.uniform(0.05, 0.5))
            await bot.kill()
        await bot.start()
        await api.wait_idle(quiet=1.0, timeout=90)
        await bot.terminate()
        replied = {m.chat_id for m in api.sent if "提交" in str(m.buttons)}
    assert await drafts_by_text(db_url) == {text: 1 for text in questions}
    assert replied == {FARMER + k for k in range(7)}
