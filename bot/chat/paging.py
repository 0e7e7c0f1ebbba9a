"""Lists shown a page at a time, with 上一页 / 下一页."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot import messages
from bot.buttons import Button
from bot.chat.turn import Choice, Turn

PAGE_SIZE = 5

Page = Callable[[Turn, int], Awaitable[tuple[str, list[list[Choice]]]]]


def pager(page: Callable[[int], Button], offset: int, total: int, page_size: int = PAGE_SIZE) -> list[list[Choice]]:
    """The 上一页 / 下一页 row (or no row): `page(offset)` is the button that shows that page."""
    row = []
    if offset > 0:
        row.append(Choice(messages.BTN_PREV, page(max(0, offset - page_size))))
    if offset + page_size < total:
        row.append(Choice(messages.BTN_NEXT, page(offset + page_size)))
    return [row] if row else []


def paged_list(render: Page) -> tuple[Callable[[Turn], Awaitable[None]], Callable[[Turn, Any], Awaitable[None]]]:
    """A command that shows the first page of a list, and the handler of its page buttons (a
    button class with an `offset`), both drawn by `render(turn, offset)`."""

    async def first_page(turn: Turn) -> None:
        text, choices = await render(turn, 0)
        await turn.say(text, choices)

    async def other_page(turn: Turn, button: Any) -> None:
        text, choices = await render(turn, button.offset)
        await turn.answer()
        await turn.edit(text, choices)

    return first_page, other_page
