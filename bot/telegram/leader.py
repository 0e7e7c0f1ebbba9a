"""The leader's side in chat: 接单 on a new-demand card, and /queue."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, filters

from bot import messages
from bot.buttons import AcceptDemand, QueuePage
from bot.telegram.common import PAGE_SIZE, edit, key, me, notify, paged_list, pager, request_key
from bot.telegram.context import JicengContext
from bot.telegram.dispatch import leader_keyboard
from bot.telegram.presses import on


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
    return InlineKeyboardMarkup([[key(messages.BTN_ACCEPT, AcceptDemand(demand_id))]])


@on(AcceptDemand)
async def accept_pressed(update: Update, context: JicengContext, button: AcceptDemand) -> None:
    query = update.callback_query
    accepted = await context.services.leader.accept(button.demand_id, await me(update, context), request_key(update))
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
    markup = pager(QueuePage, offset, total)
    buttons = [[key(f"{messages.BTN_ACCEPT} {d.tracking_no}", AcceptDemand(d.id))] for d in demands]
    keyboard = buttons + (list(markup.inline_keyboard) if markup else [])
    return "\n\n".join(lines), InlineKeyboardMarkup(keyboard)


queue_command, queue_page = paged_list(_queue_page)
on(QueuePage)(queue_page)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("queue", queue_command, filters=filters.ChatType.PRIVATE))
