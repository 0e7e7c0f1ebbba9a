"""The Telegram side of a turn: an update and its context become a `bot.chat.turn.Turn`, and what
the feature says becomes outbox rows (`say`, `notify`, `forward`), a callback answer (`answer`,
`tell`) or an edit of the pressed message (`edit`). Choices become inline keyboards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.chat.turn import Choices, Content
from bot.telegram.common import (
    display_name,
    edit,
    forward_media,
    guarded,
    me,
    notify,
    request_key,
    send,
    tell,
)
from bot.telegram.context import JicengContext

if TYPE_CHECKING:
    from bot.app import Services


def keyboard(choices: Choices | None) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(c.label, callback_data=c.button.encode()) for c in row] for row in choices or () if row]
    return InlineKeyboardMarkup(rows) if rows else None


def content_of(message: Message | None) -> Content:
    if message is None:
        return Content("text")
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    if message.photo:
        return Content("photo", message.caption or "", message.photo[-1].file_id, reply_to)
    if message.voice:
        return Content("voice", message.caption or "", message.voice.file_id, reply_to)
    return Content("text", (message.text or "").strip(), None, reply_to)


class TelegramTurn:
    def __init__(self, update: Update, context: JicengContext, person_id: int) -> None:
        self._update = update
        self._context = context
        self.services: Services = context.services
        self.person_id = person_id
        self.key: str | None = request_key(update)
        self.args: Sequence[str] = tuple(context.args or ())
        self.content = content_of(update.effective_message if update.callback_query is None else None)
        query = update.callback_query
        self.pressed = query is not None
        message = query.message if query is not None else None
        self.pressed_text = (message.text or "") if isinstance(message, Message) else ""
        self.display_name = display_name(update.effective_user)

    async def say(self, text: str, choices: Choices = (), *, purpose: str = "") -> None:
        await send(self._context, self._update.effective_chat.id, text, keyboard(choices), purpose=purpose)

    async def edit(self, text: str, choices: Choices = ()) -> None:
        query = self._update.callback_query
        if query is not None and isinstance(query.message, Message):
            await edit(query.message, text, keyboard(choices))

    async def answer(self, text: str | None = None) -> None:
        if self._update.callback_query is not None:
            await self._update.callback_query.answer(text[:190] if text else None)

    async def tell(self, text: str) -> None:
        await tell(self._update, self._context, text)

    async def notify(self, person_id: int | None, text: str, choices: Choices = (), *, purpose: str = "") -> None:
        await notify(self._context, person_id, text, keyboard(choices), purpose=purpose)

    async def forward(self, person_id: int, kind: str, file_ref: str, caption: str, *, purpose: str = "") -> None:
        await forward_media(self._context, person_id, kind, file_ref, caption, purpose=purpose)

    def follow_notice(self, notice_id: int) -> None:
        from bot.telegram.progress import follow

        follow(self._context.application, [notice_id])


TurnHandler = Callable[..., Awaitable[None]]


def handler(feature: TurnHandler, *extra: Any) -> Callable[[Update, JicengContext], Awaitable[None]]:
    """A python-telegram-bot handler that runs `feature(turn, *extra)`; domain errors become a
    polite answer (`guarded`)."""

    @guarded
    async def run(update: Update, context: JicengContext) -> None:
        await feature(await turn_of(update, context), *extra)

    run.__name__ = getattr(feature, "__name__", "feature")
    return run


async def turn_of(update: Update, context: JicengContext) -> TelegramTurn:
    return TelegramTurn(update, context, await me(update, context))
