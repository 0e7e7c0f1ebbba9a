"""Webhook mode: Telegram POSTs each update to us instead of our polling for it.

`jiceng run --webhook https://bot.example.cn/telegram --secret-token S` tells Telegram the URL
and serves it on aiohttp. A request is answered only after the update is stored in the update
log (the same `DurableBot.store` polling uses), so Telegram delivers again whatever we did not
keep; a request without the right `X-Telegram-Bot-Api-Secret-Token` is refused with 401 and
stores nothing. The update then goes through the same lanes as a polled one (order per chat,
retries, flood control). Several processes may serve the same URL behind a load balancer when
they share a PostgreSQL database (see `bot.telegram.inbound`)."""

from __future__ import annotations

import hmac
import json
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.telegram.durable import DurableBot, well_formed
from bot.telegram.inbound import ChatLanes

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as secret_token
MAX_BODY = 1024 * 1024  # an update is a few KB; Telegram's largest stay far below this


@dataclass(frozen=True)
class WebhookSettings:
    url: str               # the public HTTPS URL Telegram posts to
    secret_token: str
    listen_host: str = "127.0.0.1"
    listen_port: int = 8443
    max_connections: int = 40  # how many requests Telegram may have open at once

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    def problems(self) -> list[str]:
        """What is wrong with these settings, in Chinese (empty when they are usable)."""
        found = []
        parts = urlsplit(self.url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            found.append(f"--webhook 应是完整的网址，例如 https://bot.example.cn/telegram（现在是：{self.url}）")
        if not SECRET_PATTERN.fullmatch(self.secret_token):
            found.append("--secret-token 必须是 1–256 个字母、数字、下划线或减号（Telegram 的要求）")
        return found


class WebhookReceiver:
    """The aiohttp side: check, store, queue, answer."""

    def __init__(self, application: Application, lanes: ChatLanes, settings: WebhookSettings) -> None:
        self._application = application
        self._lanes = lanes
        self._settings = settings
        self._secret = settings.secret_token.encode()
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self._settings.path, self.receive)
        return app

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook request with a wrong secret token refused")
            return web.Response(status=401, text="wrong secret token")
        try:
            raw = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="not JSON")
        bot = self._application.bot
        raw = well_formed(raw, bot)
        if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
            return web.Response(status=400, text="not an update")
        update = Update.de_json(raw, bot)
        await self._lanes.wait_for_room()  # back-pressure: Telegram waits, and keeps the update
        assert isinstance(bot, DurableBot)
        try:
            done = await bot.store((update,))
        except Exception as error:  # the database is away for long: Telegram delivers it again later
            log.error("could not store update %s: %r", update.update_id, error)
            return web.Response(status=503, text="try again")
        self._lanes.arrived((update,), done)
        await self._application.update_queue.put(update)
        return web.Response(text="ok")

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._settings.listen_host, self._settings.listen_port)
        await site.start()
        await self._application.bot.set_webhook(
            self._settings.url, secret_token=self._settings.secret_token,
            allowed_updates=Update.ALL_TYPES, max_connections=self._settings.max_connections)
        log.info("webhook serving %s on %s:%s", self._settings.path, self._settings.listen_host,
                 self._settings.listen_port)

    @property
    def serving(self) -> bool:
        return self._runner is not None

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
