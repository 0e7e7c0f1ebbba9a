"""The real python-telegram-bot Application polling a local Bot API stand-in over HTTP:
the world our end-to-end tests play in, as farmers, leaders and staff."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass

from telegram.ext import Application

from bot.app import build_application, start_polling, stop_polling
from bot.config import Settings
from bot.standin import BotApiStandIn
from storage.db import create_engine, session_factory

TOKEN = "123456:TEST-TOKEN"
BOT_USERNAME = "jiceng_test_bot"
# Tests play users faster than people type; flood control has tests of its own.
UNTHROTTLED = {"farmer_burst": 1000, "farmer_per_minute": 6000, "send_pacing": "off"}


@dataclass
class World:
    api: BotApiStandIn
    app: Application
    sessions: object

    @property
    def services(self):
        return self.app.bot_data["services"]


@asynccontextmanager
async def running_bot(db_url: str, understander, clock, api: BotApiStandIn | None = None, **settings):
    """The bot polling `api` (a new stand-in unless given, so a test can restart the bot
    against the same server and database); `settings` override the defaults."""
    if api is None:
        async with BotApiStandIn(token=TOKEN, bot_username=BOT_USERNAME) as api:
            async with running_bot(db_url, understander, clock, api, **settings) as world:
                yield world
        return
    settings = Settings(
        database_url=db_url, bot_token=api.token, api_url=f"{api.url}/bot",
        file_api_url=f"{api.url}/file/bot", poll_timeout=1, **{**UNTHROTTLED, **settings},
    )
    app = build_application(settings, understander=understander, clock=clock)
    engine = create_engine(db_url)
    await start_polling(app, poll_timeout=1)
    try:
        yield World(api, app, session_factory(engine))
    finally:
        await stop_polling(app)
        await engine.dispose()
