"""The Telegram `Channel` of the outbox sender: python-telegram-bot's errors mapped to the
sender's (429 → RateLimited, 403 and gone chats → Blocked, network → TransientError), and
the staff's live progress message edited in place."""

from __future__ import annotations

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from bot.channels import TELEGRAM
from bot.media import MediaStore, is_local
from bot.services.outbox import Outgoing
from bot.services.sender import Blocked, PermanentError, RateLimited, TransientError
from bot.telegram.pacing import read_retry_after_as_timedelta, retry_seconds

# BadRequest descriptions that mean the person cannot be reached at all.
GONE_CHAT = ("chat not found", "user is deactivated", "peer_id_invalid", "bot can't initiate conversation")
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


class TelegramChannel:
    """Delivers an outbox row in Telegram: one text message with its buttons, or a photo / voice
    note with its caption — by Telegram file id, or uploaded when it came from the web chat."""

    name = TELEGRAM.name

    def __init__(self, bot: Bot, media: MediaStore | None = None) -> None:
        self._bot = bot
        self._media = media

    async def send(self, address: str, message: Outgoing) -> int:
        chat_id = int(address)
        markup = None
        if message.request == "phone":
            label = message.actions[0][0].label if message.actions else "📱"
            markup = ReplyKeyboardMarkup([[KeyboardButton(label, request_contact=True)]], resize_keyboard=True,
                                         one_time_keyboard=True)
        elif message.request == "done":
            markup = ReplyKeyboardRemove()
        elif message.actions:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(a.label, callback_data=a.data) for a in row] for row in message.actions])
        try:
            if message.media:
                send_media = self._bot.send_photo if message.media == "photo" else self._bot.send_voice
                sent = await send_media(chat_id, self._file(message.file_ref),
                                        caption=fit(message.text, CAPTION_LIMIT) or None, reply_markup=markup)
                return sent.message_id
            # The outbox keeps each row within one message (bot.services.outbox.split_text).
            sent = await self._bot.send_message(chat_id, fit(message.text or " "), reply_markup=markup)
            return sent.message_id
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


    def _file(self, file_ref: str | None) -> str | bytes | None:
        if not is_local(file_ref):
            return file_ref
        data = self._media.read(file_ref) if self._media is not None and file_ref else None
        if data is None:
            raise PermanentError("the photo or voice note is no longer kept")
        return data


def fit(text: str, limit: int = TEXT_LIMIT) -> str:
    """Shorten a text that must stay one message (an edit, a caption)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sending_bot(token: str, base_url: str, concurrency: int = 8) -> Bot:
    """A Bot with a connection per concurrent send (python-telegram-bot's default is one)."""
    read_retry_after_as_timedelta()
    request = HTTPXRequest(connection_pool_size=concurrency + 2, read_timeout=20, write_timeout=20,
                           connect_timeout=10, pool_timeout=10)
    return Bot(token, base_url=base_url, request=request)
