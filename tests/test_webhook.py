"""Webhook mode: Telegram POSTs updates to `jiceng run --webhook`. An update is answered only once
stored; a request without the right secret token is refused with 401 and stores nothing; with
PostgreSQL, two processes behind a load balancer handle each update once and each chat in order,
and one killed with -9 loses nothing."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import build_application, start, stop
from bot.config import Settings
from bot.standin import BotApiStandIn
from bot.standin.balancer import RoundRobin
from bot.telegram.webhook import SECRET_HEADER, WebhookSettings
from storage.db import create_engine, session_factory
from storage.models import Draft, LoggedUpdate
from tests.bot_process import BotProcess
from tests.conftest import ON_POSTGRES
from tests.telegram_world import UNTHROTTLED

SECRET = "s3cret-Token_1"
FARMER = 1001


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@asynccontextmanager
async def webhook_bot(db_url, understander, clock, api: BotApiStandIn, url: str | None = None, port: int = 0,
                      **settings):
    """The bot in webhook mode, listening on `port` and telling the stand-in `url` (itself unless
    a load balancer stands between)."""
    port = port or free_port()
    hook = WebhookSettings(url or f"http://127.0.0.1:{port}/telegram", SECRET, "127.0.0.1", port)
    settings = Settings(database_url=db_url, bot_token=api.token, api_url=f"{api.url}/bot",
                        file_api_url=f"{api.url}/file/bot", **{**UNTHROTTLED, **settings})
    app = build_application(settings, understander=understander, clock=clock, webhook=hook)
    await start(app)
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        await stop(app)


async def logged(db_url: str) -> list[LoggedUpdate]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            return list((await session.scalars(select(LoggedUpdate))).all())
    finally:
        await engine.dispose()


async def test_a_farmer_is_served_through_the_webhook(db_url, understander, clock):
    health = free_port()
    async with BotApiStandIn() as api, webhook_bot(db_url, understander, clock, api, health_port=health):
        assert api.webhook_url.endswith("/telegram") and api.webhook_secret == SECRET
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{health}/healthz") as answer:
            assert answer.status == 200  # healthy without polling
        api.send_text(FARMER, "/start", first_name="张大哥")
        await api.wait_for_message(FARMER, "专家服务基层", timeout=15)
        api.send_text(FARMER, "水稻叶子上有褐色斑点是什么病")
        await api.wait_for_message(FARMER, "提交", timeout=15)
        assert not api.calls_of("getUpdates")  # no polling in webhook mode
    rows = await logged(db_url)
    assert len(rows) == 2 and all(r.handled_at is not None and r.chat_key == FARMER for r in rows)


async def test_a_forged_request_is_refused_with_401_and_stores_nothing(db_url, understander, clock):
    update = {"update_id": 9001, "message": {"message_id": 1, "date": 1764900000, "text": "/start",
                                             "chat": {"id": FARMER, "type": "private"},
                                             "from": {"id": FARMER, "is_bot": False, "first_name": "冒充"}}}
    async with BotApiStandIn() as api, webhook_bot(db_url, understander, clock, api) as (_, base):
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
                async with http.post(f"{base}/telegram", json=update, headers=headers) as answer:
                    assert answer.status == 401
            async with http.post(f"{base}/telegram", data=b"{not json", headers={SECRET_HEADER: SECRET}) as answer:
                assert answer.status == 400
        await asyncio.sleep(0.3)
        assert not api.sent
    assert await logged(db_url) == []


@pytest.mark.skipif(not ON_POSTGRES, reason="several processes share a PostgreSQL database (JICENG_TEST_DB=postgresql)")
async def test_two_processes_handle_each_update_once_and_each_chat_in_order(db_url, understander, clock):
    async with BotApiStandIn() as api:
        ports = [free_port(), free_port()]
        balancer = RoundRobin([f"http://127.0.0.1:{p}" for p in ports])
        await balancer.start()
        try:
            async with webhook_bot(db_url, understander, clock, api, f"{balancer.url}/telegram", ports[0]), \
                    webhook_bot(db_url, understander, clock, api, f"{balancer.url}/telegram", ports[1]):
                farmers = range(2001, 2021)
                for farmer in farmers:
                    api.send_text(farmer, "/start")
                for farmer in farmers:
                    await api.wait_for_message(farmer, "专家服务基层", timeout=20)
                # The same update delivered to both processes at once is handled once.
                twice = api.send_text(FARMER, "水稻叶子上有褐色斑点是什么病")
                async with aiohttp.ClientSession() as http:
                    body = {k: v for k, v in twice.items() if not k.startswith("_")}
                    await asyncio.gather(*(http.post(f"http://127.0.0.1:{p}/telegram", json=body,
                                                     headers={SECRET_HEADER: SECRET}) for p in ports))
                await api.wait_for_message(FARMER, "提交", timeout=20)
                await asyncio.sleep(1)
            assert all(n > 0 for n in balancer.served.values())  # both processes took updates
        finally:
            await balancer.stop()
    assert len([m for m in api.sent if m.chat_id == FARMER and "提交" in (m.text or "")]) == 1
    rows = await logged(db_url)
    assert all(r.handled_at is not None for r in rows)


@pytest.mark.slow
@pytest.mark.skipif(not ON_POSTGRES, reason="several processes share a PostgreSQL database (JICENG_TEST_DB=postgresql)")
async def test_one_of_two_processes_killed_mid_stream_loses_nothing_and_doubles_nothing(db_url):
    async with BotApiStandIn() as api:
        ports = [free_port(), free_port()]
        balancer = RoundRobin([f"http://127.0.0.1:{p}" for p in ports])
        await balancer.start()
        hook = ["--webhook", f"{balancer.url}/telegram", "--secret-token", SECRET]
        bots = [BotProcess(api, db_url, *hook, "--listen", f"127.0.0.1:{p}") for p in ports]
        try:
            for bot in bots:
                await bot.start()
            questions = [f"第{n}块田的水稻叶子发黄怎么办" for n in range(40)]
            for n, question in enumerate(questions):
                api.send_text(3000 + n, question)
                if n == 15:
                    await asyncio.sleep(0.5)
                    await bots[0].kill()
            for n in range(len(questions)):
                # The confirmation, or for a close call (yellow leaves: cultivation or disease?)
                # the question which field it is; either way the draft is stored.
                await api.wait_for_message(3000 + n, timeout=60)
            await bots[1].terminate()
        finally:
            await balancer.stop()
            for bot in bots:
                if bot.process and bot.process.returncode is None:
                    bot.process.kill()
    engine = create_engine(db_url)
    async with session_factory(engine)() as session:
        drafts = dict((await session.execute(select(Draft.text, func.count()).group_by(Draft.text))).all())
    await engine.dispose()
    assert drafts == {q: 1 for q in questions}  # every question once: none lost, none doubled


@pytest.mark.skipif(not ON_POSTGRES, reason="several processes share a PostgreSQL database (JICENG_TEST_DB=postgresql)")
async def test_a_poison_update_in_a_shared_process_is_set_aside_not_marked_handled(db_url, understander, clock):
    from bot.services.update_log import UpdateLog

    async with BotApiStandIn() as api, webhook_bot(db_url, understander, clock, api) as (app, _):
        intake = app.bot_data["services"].intake

        async def broken(*args, **kwargs):
            raise ValueError("a bug")

        intake.new_question = broken
        update = api.send_text(FARMER, "水稻叶子发黄是怎么回事")
        await api.wait_for_message(FARMER, "转给工作人员", timeout=15)
        engine = create_engine(db_url)
        failed = await UpdateLog(session_factory(engine)).failed()
        await engine.dispose()
    assert [f.update_id for f in failed] == [update["update_id"]]  # staff can still replay it
