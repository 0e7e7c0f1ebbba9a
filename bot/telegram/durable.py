"""Never lose an update, never act on one twice.

python-telegram-bot acknowledges updates to the server on its next getUpdates call, as
soon as they are queued in memory. `DurableBot` stores each update in the database before
returning it to the updater, so nothing is acknowledged that is not stored;
`LoggedUpdateProcessor` marks it handled when its handlers finish; `replay_unhandled` puts
what a crash or a stop left unhandled back in the queue on start-up, in order.
Effects stay once-only because every write keyed by the update (request_key) is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import Update
from telegram.error import BadRequest, EndPointNotFound
from telegram.ext import Application, BaseUpdateProcessor, ExtBot

from storage.update_log import UpdateLog

log = logging.getLogger(__name__)
# Telegram keeps an unconfirmed update for 24 hours; three days covers any redelivery and
# is well inside the week after which Telegram may reuse update ids.
RETENTION = timedelta(days=3)


class DurableBot(ExtBot):
    def __init__(self, *args, update_log: UpdateLog, clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._update_log = update_log
        self._clock = clock

    async def delete_webhook(self, *args, **kwargs) -> bool:
        # Polling calls this first. A Bot API server without webhooks may refuse the method;
        # there is then no webhook to remove, so polling goes on.
        try:
            return await super().delete_webhook(*args, **kwargs)
        except (BadRequest, EndPointNotFound) as exc:
            log.warning("the Bot API server refused deleteWebhook (%s); polling anyway", exc)
            return True

    async def get_updates(self, *args, **kwargs) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        await self._update_log.record([(u.update_id, u.to_dict()) for u in updates], self._clock())
        return updates


class LoggedUpdateProcessor(BaseUpdateProcessor):
    """One update at a time, in order; marked handled once its handlers have run
    (an update whose handler raised is handled too: the error handler answered it)."""

    def __init__(self, update_log: UpdateLog, clock: Callable[[], datetime]) -> None:
        super().__init__(max_concurrent_updates=1)
        self._update_log = update_log
        self._clock = clock

    async def do_process_update(self, update: object, coroutine) -> None:
        await coroutine
        if isinstance(update, Update):
            await self._update_log.mark_handled(update.update_id, self._clock())

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def request_key(update: Update) -> str:
    """The channel-neutral key under which this update's effects are written once.

    Telegram restarts update ids at random after a week without updates, so the key also
    names the button press or the message itself, which never repeat."""
    if update.callback_query is not None:
        return f"tg:{update.update_id}:cb{update.callback_query.id}"
    message = update.effective_message
    if message is not None:
        return f"tg:{update.update_id}:{message.chat_id}/{message.message_id}"
    return f"tg:{update.update_id}"


async def replay_unhandled(application: Application, update_log: UpdateLog) -> int:
    payloads = await update_log.unhandled()
    for payload in payloads:
        await application.update_queue.put(Update.de_json(payload, application.bot))
    if payloads:
        log.info("replaying %d update(s) recorded but not handled before the last stop", len(payloads))
    return len(payloads)


async def prune(update_log: UpdateLog, now: datetime) -> None:
    removed = await update_log.prune(now - RETENTION)
    if removed:
        log.info("pruned %d handled update(s) older than %s", removed, RETENTION)
