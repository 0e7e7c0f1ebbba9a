"""Button presses: one handler reads every press's data (`bot.buttons.decode`) and passes the
typed button to the handler its feature declared for that class. Data no button class accepts —
forged, stale, malformed — and buttons no feature handles are answered here, once, with
「按钮已失效」; a domain error in a handler becomes a polite alert (`guarded`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot import messages
from bot.buttons import Button, decode
from bot.telegram.common import guarded, tell
from bot.telegram.context import JicengContext

B = TypeVar("B", bound=Button)
PressHandler = Callable[[Update, JicengContext, Any], Awaitable[None]]

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


@guarded
async def on_press(update: Update, context: JicengContext) -> None:
    query = update.callback_query
    pressed = decode(query.data if query is not None else None)
    handler = _handlers.get(type(pressed)) if pressed is not None else None
    if handler is None:
        await tell(update, context, messages.STALE_BUTTON)
        return
    await handler(update, context, pressed)


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(on_press))
