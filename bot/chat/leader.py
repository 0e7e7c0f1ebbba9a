"""The leader's side in chat: 接单 on a new-demand card, and /queue."""

from __future__ import annotations

from bot import messages
from bot.buttons import AcceptDemand, QueuePage
from bot.chat.commands import command
from bot.chat.dispatch import leader_keyboard
from bot.chat.paging import PAGE_SIZE, paged_list, pager
from bot.chat.presses import on
from bot.chat.turn import Choice, Choices, Turn


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


def accept_keyboard(demand_id: int) -> Choices:
    return [[Choice(messages.BTN_ACCEPT, AcceptDemand(demand_id))]]


@on(AcceptDemand)
async def accept_pressed(turn: Turn, button: AcceptDemand) -> None:
    accepted = await turn.services.leader.accept(button.demand_id, turn.person_id, turn.key)
    demand = accepted.demand
    await turn.answer(messages.ACCEPTED_OK)
    leader_name = accepted.leader.display_name or "团长"
    if turn.pressed_text:
        stamp = messages.ACCEPTED_LINE.format(name=leader_name, time=messages.china_time(demand.accepted_at))
        await turn.edit(turn.pressed_text + stamp + "\n" + messages.LEADER_NEXT, leader_keyboard(demand.id))
    await turn.notify(accepted.submitter_id, messages.DEMAND_ACCEPTED_FARMER.format(
        no=demand.tracking_no, team=accepted.team.name, name=leader_name))
    from bot.chat.enterprise import show_leader_matches

    await show_leader_matches(turn, demand.id)


async def _queue_page(turn: Turn, offset: int) -> tuple[str, list[list[Choice]]]:
    demands, total = await turn.services.leader.queue(turn.person_id, offset, PAGE_SIZE)
    if total == 0:
        return messages.QUEUE_EMPTY, []
    now = turn.services.clock()
    lines = [messages.QUEUE_HEADER.format(total=total, first=offset + 1, last=offset + len(demands))]
    for d in demands:
        lines.append(messages.QUEUE_ITEM.format(
            no=d.tracking_no, field=messages.field_label(d.field), region=messages.region_label(d.region_code),
            age=messages.age(d.created_at, now), text=messages.short(d.text)))
    buttons = [[Choice(f"{messages.BTN_ACCEPT} {d.tracking_no}", AcceptDemand(d.id))] for d in demands]
    return "\n\n".join(lines), buttons + pager(QueuePage, offset, total)


queue_command, queue_page = paged_list(_queue_page)
command("queue")(queue_command)
on(QueuePage)(queue_page)
