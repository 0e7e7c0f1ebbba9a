"""The leader's side in chat: 接单 on a new-demand card, and /queue."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import messages
from bot.telegram.common import (
    PAGE_SIZE,
    callback_parts,
    edit,
    guarded,
    int_or_none,
    me,
    notify,
    paged_list,
    pager,
    request_key,
    tell,
)
from bot.telegram.context import JicengContext
from bot.telegram.dispatch import leader_keyboard


def demand_card(demand, farmer_name: str) -> str:
    """What a leader sees of a new demand: never the farmer's phone number."""
    return messages.NEW_DEMAND.format(
        urgent=messages.URGENT_TAG if demand.urgent else "",
        no=demand.tracking_no,
        field=messages.field_label(demand.field),
        region=messages.region_label(demand.region_code),
        name=farmer_name or "农户",
        time=messages.china_time(demand.created_at),
        text=demand.text,
    )


def accept_keyboard(demand_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(messages.BTN_ACCEPT, callback_data=f"ac:{demand_id}")]])


@guarded
async def accept_button(update: Update, context: JicengContext) -> None:
    query = update.callback_query
    parts = callback_parts(update, 2)
    demand_id = int_or_none(parts[1]) if parts else None
    if demand_id is None:
        await tell(update, context, messages.STALE_BUTTON)
        return
    accepted = await context.services.leader.accept(demand_id, await me(update, context), request_key(update))
    demand = accepted.demand
    await query.answer(messages.ACCEPTED_OK)
    leader_name = accepted.leader.display_name or "团长"
    if query.message is not None and query.message.text:
        stamp = messages.ACCEPTED_LINE.format(name=leader_name, time=messages.china_time(demand.accepted_at))
        await edit(query.message, query.message.text + stamp + "\n" + messages.LEADER_NEXT, leader_keyboard(demand.id))
    await notify(context, accepted.submitter_id, messages.DEMAND_ACCEPTED_FARMER.format(
        no=demand.tracking_no, team=accepted.team.name, name=leader_name))


async def _queue_page(context: JicengContext, person_id: int, offset: int) -> tuple[str, InlineKeyboardMarkup | None]:
    demands, total = await context.services.leader.queue(person_id, offset, PAGE_SIZE)
    if total == 0:
        return messages.QUEUE_EMPTY, None
    now = context.services.clock()
    lines = [messages.QUEUE_HEADER.format(total=total, first=offset + 1, last=offset + len(demands))]
    for d in demands:
        lines.append(messages.QUEUE_ITEM.format(
            no=d.tracking_no, field=messages.field_label(d.field), region=messages.region_label(d.region_code),
            age=messages.age(d.created_at, now), text=messages.short(d.text)))
    markup = pager("pg:q", offset, total)
    buttons = [[InlineKeyboardButton(f"{messages.BTN_ACCEPT} {d.tracking_no}", callback_data=f"ac:{d.id}")] for d in demands]
    keyboard = buttons + (list(markup.inline_keyboard) if markup else [])
    return "\n\n".join(lines), InlineKeyboardMarkup(keyboard)


queue_command, queue_page = paged_list(_queue_page)


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(accept_button, pattern=r"^ac:"))
    application.add_handler(CallbackQueryHandler(queue_page, pattern=r"^pg:q:"))
    application.add_handler(CommandHandler("queue", queue_command, filters=filters.ChatType.PRIVATE))
