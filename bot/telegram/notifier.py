"""The Telegram implementation of the workflow's `Notifier`."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.services.notifier import Action
from bot.telegram.common import notify


class TelegramNotifier:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, telegram_id: int, text: str, actions: Sequence[Sequence[Action]] = ()) -> None:
        markup = None
        if actions:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(a.label, callback_data=a.data) for a in row] for row in actions]
            )
        await notify(self._bot, telegram_id, text, markup)
