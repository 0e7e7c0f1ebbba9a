"""/my: a farmer's own demands and their status, paged."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CommandHandler, filters

from bot import messages
from bot.buttons import MyDemandsPage, Withdraw
from bot.services.lifecycle import TRIAGE, WAITING, status_name
from bot.telegram.common import PAGE_SIZE, key, paged_list, pager
from bot.telegram.context import JicengContext
from bot.telegram.presses import on


async def _my_page(context: JicengContext, person_id: int, offset: int) -> tuple[str, InlineKeyboardMarkup | None]:
    demands, total = await context.services.intake.my_demands(person_id, offset, PAGE_SIZE)
    if total == 0:
        return messages.MY_EMPTY, None
    lines = [messages.MY_HEADER.format(total=total, first=offset + 1, last=offset + len(demands))]
    for d in demands:
        lines.append(messages.MY_ITEM.format(
            no=d.tracking_no, status=status_name(d.status), field=messages.field_label(d.field),
            text=messages.short(d.text)))
    withdraw = [[key(messages.BTN_WITHDRAW.format(no=d.tracking_no), Withdraw(d.id))]
                for d in demands if d.status in (WAITING, TRIAGE)]
    paging = pager(MyDemandsPage, offset, total)
    keyboard = withdraw + (list(paging.inline_keyboard) if paging else [])
    return "\n\n".join(lines), InlineKeyboardMarkup(keyboard) if keyboard else None


my_command, my_page = paged_list(_my_page)
on(MyDemandsPage)(my_page)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("my", my_command, filters=filters.ChatType.PRIVATE))
