"""Every request to the Bot API passes here: sends are paced to Telegram's limits, and a
429 ("retry after N") is waited out and tried again instead of failing the handler.

Telegram allows about 30 messages a second overall and about one a second in one chat.
`mode` says when the pace is kept:

- "adaptive" (default): send at once while the server accepts; after the first 429, keep
  the pace (≤ `per_second` overall, `chat_interval` apart per chat) until `calm_after`
  seconds pass without another. A server that never refuses is never slowed down.
- "always": keep the pace from the start (a server known to be strict).
- "off": never pace; 429s are still waited out and retried.
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

log = logging.getLogger(__name__)

# Methods that post a message in a chat (what Telegram counts against its limits).
SENDS = frozenset({
    "sendMessage", "sendPhoto", "sendVoice", "sendDocument", "sendAudio", "sendVideo",
    "sendMediaGroup", "copyMessage", "forwardMessage", "sendLocation", "sendContact", "sendSticker",
})
# Edits are paced with the sends of their chat but not counted as sent messages.
EDITS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})
MODES = ("adaptive", "always", "off")
FORGET_AFTER = 60.0  # chats not written to for this long drop out of the table


class SendPacer(BaseRateLimiter[None]):
    def __init__(
        self,
        *,
        mode: str = "adaptive",
        per_second: float = 29.0,
        chat_interval: float = 1.0,
        calm_after: float = 60.0,
        max_retries: int = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"pacing mode must be one of {MODES}")
        read_retry_after_as_timedelta()
        self.mode = mode
        self._interval = 1.0 / per_second
        self._chat_interval = chat_interval
        self._calm_after = calm_after
        self._max_retries = max_retries
        self._clock = clock
        self._next_send = 0.0
        self._chat_next: dict[object, float] = {}
        self._refused_until = 0.0
        self.sent = 0
        self.refused = 0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def pacing(self) -> bool:
        return self.mode == "always" or (self.mode == "adaptive" and self._clock() < self._refused_until)

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
        attempt = 0
        while True:
            if chat is not None and self.pacing():
                await self._turn(chat)
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as error:
                attempt += 1
                self.refused += 1
                wait = retry_seconds(error)
                now = self._clock()
                self._refused_until = now + self._calm_after
                if chat is not None:
                    self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), now + wait)
                if attempt > self._max_retries:
                    raise
                log.info("%s to chat %s refused (429); trying again in %.1f s", endpoint, chat, wait)
                if chat is None or self.mode == "off":
                    await asyncio.sleep(wait)
                continue
            if chat is not None and self.pacing():
                # Counted from when the server surely had it: a send that left late must not
                # let the next one arrive less than an interval after it.
                self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), self._clock() + self._chat_interval)
            if endpoint in SENDS:
                self.sent += 1
            return result

    async def _turn(self, chat: object) -> None:
        """Wait for this chat's next slot, then for the next overall slot."""
        now = self._clock()
        at = max(now, self._chat_next.get(chat, 0.0))
        self._chat_next[chat] = at + self._chat_interval
        if at > now:
            await asyncio.sleep(at - now)
        now = self._clock()
        at = max(now, self._next_send)
        self._next_send = at + self._interval
        if at > now:
            await asyncio.sleep(at - now)
        if len(self._chat_next) > 10_000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now - FORGET_AFTER}


def read_retry_after_as_timedelta() -> None:
    """python-telegram-bot warns when it builds a RetryAfter unless told to use timedelta
    (its coming default); `retry_seconds` reads either form."""
    os.environ.setdefault("PTB_TIMEDELTA", "1")


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
