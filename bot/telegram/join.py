"""Experts joining by sharing their phone number (/join); invites arrive via /start."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot import messages
from bot.services import invites
from bot.services.notifier import Action
from bot.services.outbox import Outgoing
from bot.telegram.common import guarded, me, put
from bot.telegram.context import JicengContext


@guarded
async def join_command(update: Update, context: JicengContext) -> None:
    ask = Outgoing(messages.JOIN_ASK_PHONE, ((Action(messages.BTN_SHARE_PHONE, "phone"),),), request="phone")
    await put(context, update.effective_chat.id, ask)


@guarded
async def contact_shared(update: Update, context: JicengContext) -> None:
    contact, user = update.effective_message.contact, update.effective_user
    chat_id = update.effective_chat.id
    if contact.user_id != user.id:
        await put(context, chat_id, Outgoing(messages.JOIN_NOT_OWN, request="done"))
        return
    joined = await invites.bind_by_phone(context.services.sessions, await me(update, context), contact.phone_number)
    text = joined.message if joined else messages.JOIN_NOT_FOUND
    await put(context, chat_id, Outgoing(text, request="done"))


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("join", join_command, filters=private))
    application.add_handler(MessageHandler(private & filters.CONTACT, contact_shared))
