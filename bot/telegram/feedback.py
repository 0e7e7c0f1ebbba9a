"""The farmer closes the loop in chat: 已解决 / 未解决, stars, the 回访 answer, and 撤回."""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot import messages
from bot.services.feedback import Reopened
from bot.telegram.common import callback_parts, edit, guarded, int_or_none, me, notify, pressed, request_key, tell
from bot.telegram.context import JicengContext


def solved_keyboard(demand_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Button(messages.BTN_SOLVED, callback_data=f"fb:ok:{demand_id}:-"),
                                  Button(messages.BTN_UNSOLVED, callback_data=f"fb:no:{demand_id}:-")]])


def stars_keyboard(demand_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Button(messages.BTN_STARS.format(n=n), callback_data=f"fb:s:{demand_id}:{n}")
                                  for n in range(1, 6)]])


@guarded
async def feedback_button(update: Update, context: JicengContext) -> None:
    query = update.callback_query
    person = await me(update, context)
    parts = callback_parts(update, 4) or callback_parts(update, 3)  # 回访 buttons carry no argument
    parts = parts + ["-"] if parts and len(parts) == 3 else parts
    demand_id = int_or_none(parts[2]) if parts else None
    if demand_id is None:
        await tell(update, context, messages.STALE_BUTTON)
        return
    kind, action, arg = parts[0], parts[1], parts[3]
    feedback = context.services.feedback
    follow_up = kind == "fu"
    if action in ("ok", "no"):
        reopened = await feedback.solved(demand_id, person, action == "ok", follow_up=follow_up,
                                         request_key=request_key(update))
        await query.answer()
        if action == "ok" and follow_up:
            await edit(query.message, query.message.text + "\n\n" + messages.FOLLOW_UP_OK)
        elif action == "ok":
            await edit(query.message, messages.ASK_STARS, stars_keyboard(demand_id))
        else:
            await _announce_reopen(context, reopened, query)
    elif action == "s" and (stars := int_or_none(arg)) is not None:
        await feedback.rate(demand_id, person, stars)
        await query.answer()
        await edit(query.message, messages.THANKS_RATING.format(stars=stars))
    else:
        await tell(update, context, messages.STALE_BUTTON)


async def _announce_reopen(context: JicengContext, reopened: Reopened | None, query) -> None:
    if reopened is None:
        return
    demand = reopened.demand
    await edit(query.message, messages.REOPENED_FARMER.format(no=demand.tracking_no), stars_keyboard(demand.id))
    for chat in reopened.notify:
        await notify(context, chat, messages.REOPENED_TEAM.format(no=demand.tracking_no,
                                                                       text=messages.short(demand.text, 200)))


@guarded
async def withdraw_button(update: Update, context: JicengContext) -> None:
    if (button := await pressed(update, 2, id_at=1)) is None:
        return
    _, demand_id = button
    demand = await context.services.feedback.cancel(demand_id, await me(update, context), request_key(update))
    await tell(update, context, messages.WITHDRAWN.format(no=demand.tracking_no))


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(feedback_button, pattern=r"^(fb|fu):"))
    application.add_handler(CallbackQueryHandler(withdraw_button, pattern=r"^cx:"))
