"""The Telegram `Channel` for broadcasting: python-telegram-bot's errors mapped to the
broadcast's (429 → RateLimited, 403 and gone chats → Blocked, network → TransientError),
and the staff's live progress message edited in place."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from bot.services.broadcast import Blocked, PermanentError, ProgressReport, RateLimited, TransientError
from bot.services.notifier import Action
from bot.telegram.pacing import read_retry_after_as_timedelta, retry_seconds

# BadRequest descriptions that mean the person cannot be reached at all.
GONE_CHAT = ("chat not found", "user is deactivated", "peer_id_invalid", "bot can't initiate conversation")


class TelegramChannel:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, chat_id: int, text: str, buttons: Sequence[Sequence[Action]] = ()) -> int:
        markup = None
        if buttons:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(a.label, callback_data=a.data) for a in row] for row in buttons])
        try:
            message = await self._bot.send_message(chat_id, text, reply_markup=markup)
        except RetryAfter as error:
            raise RateLimited(retry_seconds(error)) from error
        except Forbidden as error:
            raise Blocked(error.message) from error
        except BadRequest as error:
            if any(phrase in error.message.lower() for phrase in GONE_CHAT):
                raise Blocked(error.message) from error
            raise PermanentError(error.message) from error
        except (TimedOut, NetworkError) as error:
            raise TransientError(error.message) from error
        except TelegramError as error:
            raise TransientError(str(error)) from error
        return message.message_id


def sending_bot(token: str, base_url: str, concurrency: int = 8) -> Bot:
    """A Bot with a connection per concurrent send (python-telegram-bot's default is one)."""
    read_retry_after_as_timedelta()
    request = HTTPXRequest(connection_pool_size=concurrency + 2, read_timeout=20, write_timeout=20,
                           connect_timeout=10, pool_timeout=10)
    return Bot(token, base_url=base_url, request=request)


def progress_editor(bot: Bot, chat_id: int, message_id: int):
    """An `on_progress` callback that keeps one message up to date with the report."""
    last: list[str] = []

    async def on_progress(report: ProgressReport) -> None:
        text = report.text()
        if last and last[-1] == text:
            return  # Telegram refuses an edit that changes nothing
        try:
            await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
        except RetryAfter:
            return  # the next report will try again
        last[:] = [text]

    return on_progress

