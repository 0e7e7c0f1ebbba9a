"""Where a private text, photo or voice note goes: to what the bot is waiting for (a reason,
an answer, a service record), to the experts of an open conversation, or — by default — to
intake as a new question. An expert with open work who writes without pressing a button is
asked which role the message is in."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, MessageHandler, filters

from bot import messages
from bot.buttons import MessageIsQuestion, MessageIsReply
from bot.services import states
from bot.telegram import dispatch, expert, intake, notices, services_list
from bot.telegram.common import edit, guarded, key, me, request_key, send, tell
from bot.telegram.context import JicengContext
from bot.telegram.presses import on

ROLE_CHOICE = "role_choice"
MAX_REASON = 500


@guarded
async def on_message(update: Update, context: JicengContext) -> None:
    message, user = update.effective_message, update.effective_user
    person = await me(update, context)
    services = context.services
    situation = await services.situations.of(person)
    waiting = situation.waiting
    kind, text, file_id = expert.content_of(message)
    if waiting is not None:
        if waiting.state in (states.TRANSFER_REASON, states.RETURN_REASON) and kind == "text" and text:
            await dispatch.reason_given(update, context, waiting, text[:MAX_REASON])
            return
        if waiting.state == states.ANSWER:
            await expert.answer_given(update, context, waiting)
            return
        if waiting.state == states.SERVICE_RECORD and kind == "text":
            await expert.record_given(update, context, waiting, text)
            return
        if waiting.state == states.SERVICE_ITEM and kind == "text":
            await services_list.situation_given(update, context, waiting)
            return
        if waiting.state == states.NOTICE_DRAFT and kind == "text":
            await notices.text_given(update, context, waiting)
            return
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    if reply_to is not None or (situation.answered and not situation.composing):
        relay = await services.experts.to_expert(person, kind, text, file_id, reply_to_message_id=reply_to,
                                                 request_key=request_key(update))
        if relay is not None:
            await expert.deliver(context, relay, kind, text, file_id)
            await send(context, user.id, messages.RELAYED_TO_EXPERT)
            return
    serving = await services.experts.my_demands(person) if situation.serving else []
    if serving and kind == "text":
        await services.states.set(person, ROLE_CHOICE, {"text": text})
        buttons = [[key(messages.BTN_AS_QUESTION, MessageIsQuestion())]]
        buttons += [[key(messages.BTN_AS_REPLY.format(no=d.tracking_no), MessageIsReply(d.id))] for d in serving[:3]]
        await send(context, user.id, messages.WHICH_ROLE, InlineKeyboardMarkup(buttons))
        return
    if kind == "text":
        await intake.question(update, context)
    else:
        await intake.media(update, context)


@on(MessageIsQuestion, MessageIsReply)
async def role_chosen(update: Update, context: JicengContext, button: MessageIsQuestion | MessageIsReply) -> None:
    query = update.callback_query
    person = await me(update, context)
    waiting = await context.services.states.get(person)
    if waiting is None or waiting.state != ROLE_CHOICE:
        await tell(update, context, messages.STALE_BUTTON)
        return
    text = waiting.data.get("text", "")
    await context.services.states.clear(person)
    await query.answer()
    if isinstance(button, MessageIsQuestion):
        view = await context.services.intake.new_question(person, text, request_key(update))
        await edit(query.message, intake.confirm_text(view) if not view.needs_field else text)
        await intake.show_draft(update, context, view, replace=True)
    else:
        relay = await context.services.experts.to_farmer(button.demand_id, person, "text", text, None,
                                                         request_key(update))
        await expert.deliver(context, relay, "text", text, None)
        await edit(query.message, messages.RELAYED)


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(private & ((filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.VOICE),
                                           on_message))
