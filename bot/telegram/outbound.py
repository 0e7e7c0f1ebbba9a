"""The running bot's one outbox sender: every message the bot sends leaves through here, paced
with the bot's direct edits (one `Pace`), most urgent first, and survives 429s, crashes and
restarts (see `bot.services.sender`). `jiceng notice send` in another process only queues
while this runs: the lease makes this process the bot token's one sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram.ext import Application

from bot.config import Settings
from bot.media import MediaStore
from bot.services.effects import effects
from bot.services.pace import Pace
from bot.services.sender import Sender, default_holder
from bot.telegram.broadcast_channel import TelegramChannel, sending_bot

log = logging.getLogger(__name__)

RESTART_AFTER = 5.0  # seconds before a sender that failed starts again
CONCURRENCY = 32     # messages in flight at once (at most this many sent twice after a crash)
SHARED_LEASE_TTL = 4.5  # several processes: a member that stops renewing is gone after this long


class OutboxRunner:
    def __init__(self, services, settings: Settings, pace: Pace, *, shared: bool = False) -> None:
        """`shared`: several bot processes send side by side, each its share (bot.services.sender)."""
        self._services = services
        self._settings = settings
        self._pace = pace
        self._shared = shared
        self._task: asyncio.Task | None = None
        self.sender: Sender | None = None

    def start(self, application: Application) -> None:
        self._task = asyncio.create_task(self._run(application), name="outbox-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, application: Application) -> None:
        bot = application.bot
        base_url = bot.base_url.removesuffix(bot.token)
        async with sending_bot(bot.token, base_url, CONCURRENCY) as sender_bot:
            holder = default_holder()  # the same across restarts: a restarted sender takes its own lease back
            while True:
                channel = TelegramChannel(sender_bot, MediaStore(self._settings.media_dir))
                self.sender = Sender(self._services.sessions, channel, pace=self._pace,
                                     concurrency=CONCURRENCY, effects=effects(self._services.outbox), holder=holder,
                                     shared=self._shared,
                                     **({"lease_ttl": SHARED_LEASE_TTL} if self._shared else {}))
                self._services.outbox.listen(self.sender.wake)
                try:
                    await self.sender.run(stop_when_idle=False, wait_for_lease=True)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the sender must come back; rows wait in the outbox meanwhile
                    log.exception("the outbox sender stopped; starting again in %.0f s", RESTART_AFTER)
                    await asyncio.sleep(RESTART_AFTER)
                finally:
                    self._services.outbox.forget(self.sender.wake)
