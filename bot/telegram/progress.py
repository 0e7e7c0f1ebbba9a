"""A training notice's progress message in Telegram: once the message /notice put (purpose
`notice_progress`) is sent, it is edited as the notice's rows go out, until all are sent; a
restart picks unfinished notices up again."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram.error import TelegramError
from telegram.ext import Application

from bot.services import broadcast
from bot.services.notices import PROGRESS_PURPOSE
from bot.services.outbox import SENT
from bot.telegram.context import JicengContext

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2.0  # seconds between edits of a notice's progress message

__all__ = ["PROGRESS_PURPOSE", "follow", "register"]


def follow(application: Application, notice_ids: list[int]) -> None:
    """Keep each notice's progress message (once it is sent) up to date until the notice is done."""
    for notice_id in notice_ids:
        application.create_task(_follow(application, notice_id), name=f"follow-notice-{notice_id}")


async def _follow(application: Application, notice_id: int) -> None:
    services = application.bot_data["services"]
    last = ""
    samples: list[tuple[float, int]] = []
    started = time.monotonic()
    while application.running:
        try:
            progress = await services.notices.progress(notice_id)
            samples = [*samples[-7:], (time.monotonic(), progress.counts.get(SENT, 0))]
            report = broadcast.report(progress.title, progress.counts, samples, time.monotonic() - started, True)
            where = (progress.chat_id, progress.message_id)
            if all(where) and report.text() != last:
                try:
                    await application.bot.edit_message_text(report.text(), chat_id=where[0], message_id=where[1])
                    last = report.text()
                except TelegramError as error:
                    log.debug("progress of notice %s not shown: %s", notice_id, error)
            if report.done and (last == report.text() or not all(where)):
                return
        except Exception:  # progress display must never end in an unhandled task
            log.exception("following notice %s", notice_id)
        await asyncio.sleep(PROGRESS_EVERY)


async def resume(context: JicengContext) -> None:
    """At start-up: notices a stop cut short carry on (the sender serves their rows), and their
    progress messages are kept up to date again."""
    unfinished = await context.services.notices.unfinished()
    if unfinished:
        log.info("following %d unfinished training notice(s)", len(unfinished))
        follow(context.application, [notice_id for notice_id, _, _ in unfinished])


def register(application: Application) -> None:
    if application.job_queue is not None:
        application.job_queue.run_once(resume, when=1, name="resume-notices")
