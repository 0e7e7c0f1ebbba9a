"""What comes before and after the feature handlers: group chats and edited messages, the fallbacks for input no feature takes, and the error handler."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, MessageHandler, TypeHandler, filters

from bot import messages
from bot.telegram.common import tell
from bot.telegram.context import JicengContext

log = logging.getLogger(__name__)


async def outside_private_chat(update: Update, context: JicengContext) -> None:
    chat = update.effective_chat
    if chat is not None and chat.type != chat.PRIVATE:
        if update.message is not None:
            await tell(update, context, messages.GROUP_CHAT)
        raise ApplicationHandlerStop
    if update.edited_message is not None:
        await tell(update, context, messages.EDITED)
        raise ApplicationHandlerStop


def _replier(text: str):
    async def handler(update: Update, context: JicengContext) -> None:
        await tell(update, context, text)

    return handler


async def on_error(update: object, context: JicengContext) -> None:
    """A handler failed. For an update, the lanes decide what follows (try again, or set it
    aside and tell the sender once); anything else (a job) is logged."""
    if isinstance(update, Update):
        context.application.update_processor.note_failure(update, context.error)
        return
    log.error("error in a background job", exc_info=context.error)


def register_before(application: Application) -> None:
    application.add_handler(TypeHandler(Update, outside_private_chat), group=-1)


def register_fallbacks(application: Application) -> None:
    private_message = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(private_message & filters.COMMAND, _replier(messages.UNKNOWN_COMMAND)))
    application.add_handler(MessageHandler(private_message & filters.Sticker.ALL, _replier(messages.STICKER)))
    application.add_handler(MessageHandler(private_message, _replier(messages.UNSUPPORTED)))
    application.add_error_handler(on_error)
