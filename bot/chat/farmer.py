"""/my: a farmer's own demands and their status, paged."""

from __future__ import annotations

from bot import messages
from bot.buttons import MyDemandsPage, Withdraw
from bot.chat.commands import command
from bot.chat.paging import PAGE_SIZE, paged_list, pager
from bot.chat.presses import on
from bot.chat.turn import Choice, Turn
from bot.services.lifecycle import TRIAGE, WAITING, status_name


async def _my_page(turn: Turn, offset: int) -> tuple[str, list[list[Choice]]]:
    demands, total = await turn.services.intake.my_demands(turn.person_id, offset, PAGE_SIZE)
    if total == 0:
        return messages.MY_EMPTY, []
    lines = [messages.MY_HEADER.format(total=total, first=offset + 1, last=offset + len(demands))]
    for d in demands:
        lines.append(messages.MY_ITEM.format(
            no=d.tracking_no, status=status_name(d.status), field=messages.field_label(d.field),
            text=messages.short(d.text)))
    withdraw = [[Choice(messages.BTN_WITHDRAW.format(no=d.tracking_no), Withdraw(d.id))]
                for d in demands if d.status in (WAITING, TRIAGE)]
    return "\n\n".join(lines), withdraw + pager(MyDemandsPage, offset, total)


my_command, my_page = paged_list(_my_page)
command("my")(my_command)
on(MyDemandsPage)(my_page)
