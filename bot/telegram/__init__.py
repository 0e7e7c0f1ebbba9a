"""The Telegram channel: a thin adapter. Each update becomes a `bot.chat.turn.Turn`
(`bot.telegram.turns`) and goes to the channel-neutral conversation (`bot.chat`): commands by
name, button presses by their typed data, messages to `conversation.on_message`. What is only
Telegram's stays here: sharing a contact (/join), a notice's live progress message, the inbound
lanes, the outbox's Telegram delivery and its pace."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.chat import FEATURES
from bot.chat.commands import COMMANDS
from bot.chat.conversation import on_message
from bot.chat.presses import press
from bot.telegram.common import guarded
from bot.telegram.context import JicengContext
from bot.telegram.turns import handler, turn_of


@guarded
async def _pressed(update: Update, context: JicengContext) -> None:
    query = update.callback_query
    await press(await turn_of(update, context), query.data if query is not None else None)


def register_all(application: Application) -> None:
    from bot.telegram import guards, join, progress

    assert FEATURES  # every feature module is imported: its commands and buttons are declared
    private = filters.ChatType.PRIVATE
    guards.register_before(application)
    for name, feature in COMMANDS.items():
        application.add_handler(CommandHandler(name, handler(feature), filters=private))
    join.register(application)
    messages = private & filters.UpdateType.MESSAGE & ((filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.VOICE)
    application.add_handler(MessageHandler(messages, handler(on_message)))
    application.add_handler(CallbackQueryHandler(_pressed))
    progress.register(application)
    guards.register_fallbacks(application)
