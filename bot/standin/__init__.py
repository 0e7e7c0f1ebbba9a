"""A local stand-in for the Telegram Bot API, for end-to-end tests and the offline demo."""

from bot.standin.records import AnsweredCallback, Call, Edit, SentMessage, StoredFile, Upload
from bot.standin.server import DEFAULT_TOKEN, BotApiStandIn

__all__ = [
    "DEFAULT_TOKEN",
    "AnsweredCallback",
    "BotApiStandIn",
    "Call",
    "Edit",
    "SentMessage",
    "StoredFile",
    "Upload",
]
