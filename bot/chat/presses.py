"""Button presses: `press` reads a press's data once (`bot.buttons.decode`) and passes the typed
button to the handler its feature declared for that class. Data no button class accepts —
forged, stale, malformed — and buttons no feature handles get 「按钮已失效」 here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot import messages
from bot.buttons import Button, decode
from bot.chat.turn import Turn

PressHandler = Callable[[Turn, Any], Awaitable[None]]

_handlers: dict[type[Button], PressHandler] = {}


def on(*kinds: type[Button]) -> Callable[[PressHandler], PressHandler]:
    """Declare the handler of one or more button classes: `@on(SubmitDraft)`."""

    def declare(handler: PressHandler) -> PressHandler:
        for kind in kinds:
            if kind in _handlers:
                raise ValueError(f"{kind.__name__} already has a handler")
            _handlers[kind] = handler
        return handler

    return declare


async def press(turn: Turn, data: object) -> None:
    pressed = decode(data)
    handler = _handlers.get(type(pressed)) if pressed is not None else None
    if handler is None:
        await turn.tell(messages.STALE_BUTTON)
        return
    await handler(turn, pressed)
