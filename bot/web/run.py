"""`jiceng web`: the web chat on one port, on its own (beside `jiceng run`, which keeps the
deadlines and the Telegram channel) or inside `jiceng demo`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING

from aiohttp import web

from bot.web import build_web

if TYPE_CHECKING:
    from bot.app import Services
    from bot.config import Settings
    from bot.web.server import WebChat

log = logging.getLogger(__name__)
REFRESH_SECONDS = 60  # the understanding's model and knowledge base, as `jiceng run` refreshes them


async def start_site(chat: WebChat, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Serve the web chat; port 0 picks a free one. Gives the runner (to clean up) and the URL."""
    runner = web.AppRunner(chat.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, f"http://{host}:{bound}"


async def serve(settings: Settings) -> None:
    from bot.app import Services
    from intents.understand import Understander

    services = Services.build(settings, Understander())
    chat = await build_web(services, settings)
    runner, url = await start_site(chat, settings.web_host, settings.web_port)
    log.info("web chat at %s", url)
    refresh = asyncio.create_task(_keep_understanding_current(services))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        refresh.cancel()
        await runner.cleanup()
        await services.engine.dispose()


async def _keep_understanding_current(services: Services) -> None:
    while True:
        try:
            await services.live.refresh()
        except Exception:
            log.exception("refreshing the understanding failed; trying again later")
        await asyncio.sleep(REFRESH_SECONDS)
