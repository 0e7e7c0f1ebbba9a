"""Requests the bot makes directly (edits of a pressed message, the rare direct send) take
their slot from the same `Pace` as the outbox sender, so everything one bot token sends keeps
Telegram's limits together (about 30 messages a second overall, about one a second in a chat).
A 429 ("retry after N") pauses the whole pace and the request is tried again instead of
failing the handler.

`mode`: "always" (default) keeps the pace; "off" never waits for a slot (a local test server
without limits); 429s are waited out either way.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.services.pace import Pace

log = logging.getLogger(__name__)

# Methods that post a message in a chat (what Telegram counts against its limits).
SENDS = frozenset({
    "sendMessage", "sendPhoto", "sendVoice", "sendDocument", "sendAudio", "sendVideo",
    "sendMediaGroup", "copyMessage", "forwardMessage", "sendLocation", "sendContact", "sendSticker",
})
# Edits are paced with the sends of their chat but not counted as sent messages.
EDITS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})
MODES = ("always", "off")


class SendPacer(BaseRateLimiter[None]):
    def __init__(self, pace: Pace, *, mode: str = "always", max_retries: int = 5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if mode not in MODES:
            raise ValueError(f"pacing mode must be one of {MODES}")
        read_retry_after_as_timedelta()
        self.pace = pace
        self.mode = mode
        self._max_retries = max_retries
        self._clock = clock
        self.sent = 0
        self.refused = 0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict | list]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict | list:
        chat = data.get("chat_id") if endpoint in SENDS or endpoint in EDITS else None
        address = None if chat is None else str(chat)
        attempt = 0
        while True:
            # Only messages wait: polling and button answers (answerCallbackQuery) never do.
            reserved = address is not None and self.mode == "always"
            at = 0.0
            if address is not None:
                at = self.pace.reserve(address, wait_for_chat=endpoint not in EDITS) if reserved \
                    else self.pace.paused_until
            try:
                if at > self._clock():
                    await asyncio.sleep(at - self._clock())
                result = await callback(*args, **kwargs)
            except BaseException as error:
                if address is not None and reserved:
                    self.pace.landed(address, delivered=False)
                if not isinstance(error, RetryAfter):
                    raise
                attempt += 1
                self.refused += 1
                wait = retry_seconds(error)
                self.pace.pause(wait)
                if attempt > self._max_retries:
                    raise
                if address is None:
                    await asyncio.sleep(wait)
                log.info("%s refused (429); trying again in %.1f s", endpoint, wait)
                continue
            if address is not None:
                self.pace.landed(address)
            if endpoint in SENDS:
                self.sent += 1
            return result


def read_retry_after_as_timedelta() -> None:
    """python-telegram-bot warns when it builds a RetryAfter unless told to use timedelta
    (its coming default); `retry_seconds` reads either form."""
    os.environ.setdefault("PTB_TIMEDELTA", "1")


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
