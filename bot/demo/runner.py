"""Starting and stopping the demo: the data folder and schema, the demo directory, the Bot API
stand-in on 127.0.0.1, the real bot polling it, and the terminal chat in front."""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from bot.app import build_application, start_polling, stop_polling
from bot.config import Settings
from bot.demo import texts
from bot.demo.directory import FARMER, PERSONAS, Loaded, leader_of_latest_demand, load_directory
from bot.demo.terminal import Terminal, read_lines
from bot.standin import DEFAULT_TOKEN, BotApiStandIn
from storage.db import create_engine, session_factory
from storage.schema import upgrade_async

DATABASE_FILE = "jiceng-demo.db"
BOT_USERNAME = "jiceng_demo_bot"
POLL_TIMEOUT = 1


def main(data: str | None = None) -> int:
    """`jiceng demo [--data DIR]`; Ctrl-C ends it as cleanly as :quit."""
    logging.getLogger().setLevel(logging.WARNING)  # the chat is the output; keep warnings and errors
    try:
        asyncio.run(run(Path(data) if data else None))
    except KeyboardInterrupt:
        print(texts.BYE)
    return 0


async def run(data_dir: Path | None, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    stdout.write(texts.STARTING + "\n")
    stdout.flush()
    with _data_folder(data_dir) as folder:
        url = f"sqlite+aiosqlite:///{folder / DATABASE_FILE}"
        await upgrade_async(url)
        engine = create_engine(url)
        sessions = session_factory(engine)
        try:
            loaded = await load_directory(sessions)
            # Telegram keeps counting update ids across restarts; a reused database has seen
            # the low ids already, so this run's ids start past any earlier run's.
            first_update_id = int(time.time() * 100) if loaded.reused else 1
            async with BotApiStandIn(token=DEFAULT_TOKEN, bot_username=BOT_USERNAME, first_update_id=first_update_id) as api:
                settings = Settings(
                    database_url=url, bot_token=api.token, api_url=f"{api.url}/bot",
                    file_api_url=f"{api.url}/file/bot", bot_username=BOT_USERNAME, poll_timeout=POLL_TIMEOUT,
                )
                application = build_application(settings)
                await start_polling(application, poll_timeout=POLL_TIMEOUT)
                web_runner, web_line = await _start_web(application, settings)
                try:
                    stdout.write(_banner(data_dir, folder, loaded) + "\n" + web_line + "\n")
                    terminal = Terminal(
                        api, read_lines(stdin), latest_leader=lambda: leader_of_latest_demand(sessions),
                        out=stdout, echo=not stdin.isatty(),
                    )
                    await terminal.run()
                finally:
                    if web_runner is not None:
                        await web_runner.cleanup()
                    await stop_polling(application)
        finally:
            await engine.dispose()
    stdout.write(texts.BYE + "\n")
    stdout.flush()


async def _start_web(application, settings: Settings) -> tuple[object | None, str]:
    """The web chat beside the bot, on the same services (so a farmer in the browser and a leader
    in the terminal meet), with the demo's fixed code printed instead of an SMS."""
    from dataclasses import replace

    from bot.web import ConsoleSms, build_web
    from bot.web.run import start_site

    env = Settings.from_env()
    web_settings = replace(settings, web_host=env.web_host, web_port=env.web_port, media_dir=str(Path(settings.database_url.split("///", 1)[1]).parent / "media"))
    chat = await build_web(application.bot_data["services"], web_settings,
                           ConsoleSms(fixed_code=texts.DEMO_CODE, echo=None))
    try:
        runner, url = await start_site(chat, web_settings.web_host, web_settings.web_port)
    except OSError:
        return None, texts.WEB_BUSY.format(port=web_settings.web_port)
    application.bot_data["services"].console_url = f"{url}/console"  # staff's /console links lead here
    return runner, texts.WEB.format(url=url, code=texts.DEMO_CODE)


@contextmanager
def _data_folder(data_dir: Path | None) -> Iterator[Path]:
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        yield data_dir.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="jiceng-demo-", ignore_cleanup_errors=True) as folder:
        yield Path(folder)


def _banner(data_dir: Path | None, folder: Path, loaded: Loaded) -> str:
    data = texts.DATA_TEMPORARY if data_dir is None else texts.DATA_FOLDER.format(folder=folder)
    if loaded.reused:
        directory = texts.DIRECTORY_REUSED
    else:
        directory = texts.DIRECTORY_IMPORTED.format(teams=loaded.teams, experts=loaded.experts)
    farmer = next(p for p in PERSONAS if p.role == FARMER)
    return texts.BANNER.format(data=data, directory=directory, farmer=farmer.name)
