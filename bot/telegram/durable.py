"""Never lose an update, never act on one twice.

python-telegram-bot acknowledges updates to the server on its next getUpdates call, as
soon as they are queued in memory. `DurableBot` stores each update in the database before
returning it to the updater, so nothing is acknowledged that is not stored; `ChatLanes`
(bot.telegram.inbound) marks it handled once its handlers have finished and queues again,
in order, what a crash or a stop left unhandled.
Effects stay once-only because every write keyed by the update (request_key) is idempotent.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram._utils.types import JSONDict
from telegram.error import BadRequest, EndPointNotFound
from telegram.ext import ExtBot

from bot.services.faults import is_transient
from bot.services.update_log import UpdateLog
from bot.telegram.inbound import Backoff, ChatLanes, chat_of

log = logging.getLogger(__name__)
# Telegram keeps an unconfirmed update for 24 hours; three days covers any redelivery and
# is well inside the week after which Telegram may reuse update ids.
RETENTION = timedelta(days=3)
# A database away longer than this many tries (about ten minutes) stops the polling loop's
# try; python-telegram-bot logs it and polls again, so nothing is acknowledged unstored.
RECORD_TRIES = 150
BACKOFF = Backoff()


class DurableBot(ExtBot):
    """Stores what getUpdates returns before python-telegram-bot acknowledges it, and waits
    for room in the lanes before fetching more (back-pressure)."""

    def __init__(self, *args, update_log: UpdateLog, lanes: ChatLanes, clock: Callable[[], datetime],
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._update_log = update_log
        self._lanes = lanes
        self._clock = clock

    async def delete_webhook(self, *args, **kwargs) -> bool:
        # Polling calls this first. A Bot API server without webhooks may refuse the method;
        # there is then no webhook to remove, so polling goes on.
        try:
            return await super().delete_webhook(*args, **kwargs)
        except (BadRequest, EndPointNotFound) as exc:
            log.warning("the Bot API server refused deleteWebhook (%s); polling anyway", exc)
            return True

    async def _post(self, endpoint: str, data: JSONDict | None = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            return [well_formed(raw, self) for raw in result]
        return result

    async def get_updates(self, *args, **kwargs) -> tuple[Update, ...]:
        await self._lanes.wait_for_room()
        updates = await super().get_updates(*args, **kwargs)
        done = await self.store(updates)
        self._lanes.arrived(updates, done)
        return updates

    async def store(self, updates: tuple[Update, ...]) -> set[int]:
        """Store the updates, waiting out a database that is locked or away: nothing is
        acknowledged (the next getUpdates) before it is stored."""
        tries = 0
        while True:
            try:
                return await self._update_log.record([(u.update_id, u.to_dict()) for u in updates], self._clock(),
                                                     chat_of)
            except Exception as error:
                tries += 1
                if not is_transient(error) or tries > RECORD_TRIES:
                    raise
                if tries == 1 or tries % 10 == 0:
                    log.warning("could not store %d update(s) (try %d), trying again: %r", len(updates), tries, error)
                await asyncio.sleep(BACKOFF.delay(tries))



INT64 = range(-(2**63), 2**63)


def well_formed(raw: Any, bot: ExtBot) -> Any:
    """An update python-telegram-bot cannot read, or one carrying a number no 64-bit column
    holds, would stop polling for everyone (the whole batch fails to parse and is fetched again,
    forever). It is kept as a bare update with its id — stored, acknowledged, answered by
    nothing — and logged once, without its content."""
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    if not isinstance(update_id, int) or update_id not in INT64:
        return raw  # not an update at all: nothing can acknowledge it; let the library say so
    problem = _out_of_range(raw)
    if problem is None:
        try:
            problem = _incomplete(Update.de_json(copy.deepcopy(raw), bot))
        except Exception as error:
            problem = type(error).__name__
        if problem is None:
            return raw
    log.warning("update %s is malformed (%s); skipped", update_id, problem)
    return {"update_id": update_id}


def _incomplete(update: Update) -> str | None:
    """What Telegram always sends but a parser lets pass: a chat for every message, a sender
    for every button press."""
    message = update.effective_message
    if message is not None and getattr(message, "chat", None) is None:
        return "a message without a chat"
    if update.callback_query is not None and update.callback_query.from_user is None:
        return "a button press without a sender"
    return None


def _out_of_range(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((p for p in map(_out_of_range, value.values()) if p), None)
    if isinstance(value, list):
        return next((p for p in map(_out_of_range, value) if p), None)
    if isinstance(value, int) and not isinstance(value, bool) and value not in INT64:
        return "a number outside 64 bits"
    return None


async def prune(update_log: UpdateLog, now: datetime, keep: timedelta = RETENTION) -> None:
    removed = await update_log.prune(now - keep)
    if removed:
        log.info("pruned %d handled update(s) older than %s", removed, keep)
