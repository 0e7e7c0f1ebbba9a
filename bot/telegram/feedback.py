"""The farmer closes the loop in chat: 已解决 / 未解决, stars, the 回访 answer, and 撤回."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot import messages
from bot.buttons import FollowUpNotSolved, FollowUpSolved, NotSolved, Rate, Solved, Withdraw
from bot.services.feedback import Reopened
from bot.telegram.common import edit, key, me, notify, request_key, tell
from bot.telegram.context import JicengContext
from bot.telegram.presses import on


def solved_keyboard(demand_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[key(messages.BTN_SOLVED, Solved(demand_id)),
                                  key(messages.BTN_UNSOLVED, NotSolved(demand_id))]])


def stars_keyboard(demand_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[key(messages.BTN_STARS.format(n=n), Rate(demand_id, n)) for n in range(1, 6)]])


@on(Solved, NotSolved, FollowUpSolved, FollowUpNotSolved)
async def solved_pressed(update: Update, context: JicengContext,
                         button: Solved | NotSolved | FollowUpSolved | FollowUpNotSolved) -> None:
    """已解决 / 未解决 after the service is closed, or at the 回访 a week later."""
    query = update.callback_query
    solved = isinstance(button, (Solved, FollowUpSolved))
    follow_up = isinstance(button, (FollowUpSolved, FollowUpNotSolved))
    reopened = await context.services.feedback.solved(button.demand_id, await me(update, context), solved,
                                                      follow_up=follow_up, request_key=request_key(update))
    await query.answer()
    if solved and follow_up:
        await edit(query.message, query.message.text + "\n\n" + messages.FOLLOW_UP_OK)
    elif solved:
        await edit(query.message, messages.ASK_STARS, stars_keyboard(button.demand_id))
    else:
        await _announce_reopen(context, reopened, query)


@on(Rate)
async def rate_pressed(update: Update, context: JicengContext, button: Rate) -> None:
    await context.services.feedback.rate(button.demand_id, await me(update, context), button.stars)
    await update.callback_query.answer()
    await edit(update.callback_query.message, messages.THANKS_RATING.format(stars=button.stars))


async def _announce_reopen(context: JicengContext, reopened: Reopened | None, query) -> None:
    if reopened is None:
        return
    demand = reopened.demand
    await edit(query.message, messages.REOPENED_FARMER.format(no=demand.tracking_no), stars_keyboard(demand.id))
    for chat in reopened.notify:
        await notify(context, chat, messages.REOPENED_TEAM.format(no=demand.tracking_no,
                                                                       text=messages.short(demand.text, 200)))


@on(Withdraw)
async def withdraw_pressed(update: Update, context: JicengContext, button: Withdraw) -> None:
    demand = await context.services.feedback.cancel(button.demand_id, await me(update, context), request_key(update))
    await tell(update, context, messages.WITHDRAWN.format(no=demand.tracking_no))
