"""Start-up chores: the command menu and remembering the bot's own username."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import Application

from bot import messages
from bot.services import settings_store
from bot.services.settings_store import BOT_USERNAME

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)


async def announce(application: Application, services: Services) -> None:
    try:
        await application.bot.set_my_commands([BotCommand(c, d) for c, d in messages.COMMANDS])
    except TelegramError as exc:
        log.warning("the Bot API server refused the command menu: %s", exc)
    username = application.bot.username
    if username:
        await settings_store.remember(services.sessions, BOT_USERNAME, username)
