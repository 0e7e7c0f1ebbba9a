"""Webhook delivery, as Telegram does it once ``setWebhook`` names a URL.

Each pending update is POSTed as JSON to the URL with the ``X-Telegram-Bot-Api-Secret-Token``
header when a secret was given; an answer other than 2xx (or no answer in time) means "not
delivered" and the update is sent again after a pause. Updates of different chats go out side
by side, up to ``max_connections`` at once (Telegram's default 40); a chat's next update waits
until its previous one was accepted, so each chat is delivered in order. While a webhook is set,
getUpdates answers 409, as Telegram's does."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

_LOGGER = logging.getLogger(__name__)

RETRY_AFTER = 0.5      # seconds before a failed delivery is tried again
REQUEST_TIMEOUT = 10.0


def _chat_of(update: dict) -> Any:
    for kind, body in update.items():
        if kind == "update_id" or not isinstance(body, dict):
            continue
        place = body.get("message") if kind == "callback_query" else body
        chat = place.get("chat") if isinstance(place, dict) else None
        if isinstance(chat, dict):
            return chat.get("id")
        return (body.get("from") or {}).get("id")
    return None


class WebhookDelivery:
    """Mixed into ``BotApiStandIn``; uses its ``_updates`` and ``_changes``."""

    _updates: list[dict]
    _changes: Any
    _closing: bool
    webhook_url: str

    webhook_secret: str = ""
    webhook_max_connections: int = 40
    webhook_deliveries: int = 0   # POSTs made (tries included)
    webhook_refused: int = 0      # answers other than 2xx
    _webhook_task: asyncio.Task | None = None

    def _start_delivery(self) -> None:
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_forever(), name="standin-webhook")
        self._changes.notify()

    async def _stop_delivery(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _deliver_forever(self) -> None:
        in_flight: dict[Any, asyncio.Task] = {}  # chat -> its delivery
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            try:
                while self.webhook_url and not self._closing:
                    changed = self._changes._event  # set by the next change (a new update, a delivery)
                    waiting_chats: set[Any] = set()
                    for update in list(self._updates):
                        if len(in_flight) >= self.webhook_max_connections:
                            break
                        chat = _chat_of(update)
                        if chat in waiting_chats:
                            continue  # an older update of this chat goes first
                        waiting_chats.add(chat)
                        if chat in in_flight or update.get("_delivering"):
                            continue
                        update["_delivering"] = True
                        in_flight[chat] = asyncio.create_task(self._deliver(http, update, chat, in_flight))
                    try:
                        await asyncio.wait_for(changed.wait(), 0.5)
                    except TimeoutError:
                        pass
            finally:
                for task in in_flight.values():
                    task.cancel()

    async def _deliver(self, http: aiohttp.ClientSession, update: dict, chat: Any,
                       in_flight: dict[Any, asyncio.Task]) -> None:
        body = {k: v for k, v in update.items() if not k.startswith("_")}
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret} if self.webhook_secret else {}
        try:
            while self.webhook_url and not self._closing:
                self.webhook_deliveries += 1
                try:
                    async with http.post(self.webhook_url, json=body, headers=headers) as response:
                        if 200 <= response.status < 300:
                            if update in self._updates:
                                self._updates.remove(update)
                            self._changes.notify()
                            return
                        self.webhook_refused += 1
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                    _LOGGER.debug("webhook delivery of %s failed: %r", body.get("update_id"), error)
                await asyncio.sleep(RETRY_AFTER)
        finally:
            update.pop("_delivering", None)
            in_flight.pop(chat, None)
            self._changes.notify()
