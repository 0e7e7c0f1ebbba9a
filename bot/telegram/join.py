"""Experts joining by sharing their phone number (/join); invites arrive via /start."""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot import messages
from bot.services import directory
from bot.telegram.common import display_name, guarded
from bot.telegram.context import JicengContext


async def join_command(update: Update, context: JicengContext) -> None:
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(messages.BTN_SHARE_PHONE, request_contact=True)]], resize_keyboard=True, one_time_keyboard=True
    )
    await context.bot.send_message(update.effective_chat.id, messages.JOIN_ASK_PHONE, reply_markup=keyboard)


@guarded
async def contact_shared(update: Update, context: JicengContext) -> None:
    contact, user = update.effective_message.contact, update.effective_user
    chat_id = update.effective_chat.id
    if contact.user_id != user.id:
        await context.bot.send_message(chat_id, messages.JOIN_NOT_OWN, reply_markup=ReplyKeyboardRemove())
        return
    joined = await directory.bind_by_phone(context.services.sessions, user.id, display_name(user), contact.phone_number)
    text = joined.message if joined else messages.JOIN_NOT_FOUND
    await context.bot.send_message(chat_id, text, reply_markup=ReplyKeyboardRemove())


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("join", join_command, filters=private))
    application.add_handler(MessageHandler(private & filters.CONTACT, contact_shared))
