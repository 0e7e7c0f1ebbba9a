"""Small helpers every Telegram module uses: names, long-text splitting, paging,
and the one place where domain errors become polite replies."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import messages
from bot.errors import JicengError
from bot.telegram.context import JicengContext

log = logging.getLogger(__name__)

TELEGRAM_LIMIT = 4096
PAGE_SIZE = 5

Handler = Callable[[Update, JicengContext], Awaitable[None]]


def display_name(user: User | None) -> str:
    if user is None:
        return ""
    return " ".join(p for p in (user.first_name, user.last_name) if p).strip() or (user.username or "")


def split_text(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split on line breaks where possible so no piece exceeds Telegram's limit."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    pieces.append(text)
    return pieces


def fit(text: str, limit: int = TELEGRAM_LIMIT) -> str:
    """Shorten a text that must stay one message (an edit, a caption)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def send(bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None, **kwargs) -> Message:
    """Send text of any length; the keyboard goes with the last piece."""
    pieces = split_text(text)
    message = None
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        message = await bot.send_message(chat_id, piece, reply_markup=markup if last else None, **kwargs)
    return message


async def notify(bot: Bot, chat_id: int | None, text: str, markup: InlineKeyboardMarkup | None = None) -> Message | None:
    """Send to someone other than the current user; a chat that cannot be reached
    (blocked the bot, never started it) is logged, not fatal to the current action."""
    if chat_id is None:
        return None
    try:
        return await send(bot, chat_id, text, markup)
    except (Forbidden, BadRequest) as exc:
        log.warning("could not notify chat %s: %s", chat_id, exc)
        return None


async def forward_media(bot: Bot, chat_id: int, kind: str, file_id: str, caption: str) -> None:
    """Pass a farmer's photo or voice note on by file id; failures are logged, not fatal."""
    send_media = bot.send_photo if kind == "photo" else bot.send_voice
    try:
        await send_media(chat_id, file_id, caption=fit(caption, 1024))
    except (Forbidden, BadRequest) as exc:
        log.warning("could not forward %s to chat %s: %s", kind, chat_id, exc)


async def edit(query_message: Message | None, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    if query_message is None:
        return
    try:
        await query_message.edit_text(fit(text), reply_markup=markup)
    except BadRequest as exc:  # "message is not modified" and the like
        log.debug("edit skipped: %s", exc)


def rows(buttons: Sequence[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def pager(prefix: str, offset: int, total: int, page_size: int = PAGE_SIZE) -> InlineKeyboardMarkup | None:
    buttons = []
    if offset > 0:
        buttons.append(InlineKeyboardButton(messages.BTN_PREV, callback_data=f"{prefix}:{max(0, offset - page_size)}"))
    if offset + page_size < total:
        buttons.append(InlineKeyboardButton(messages.BTN_NEXT, callback_data=f"{prefix}:{offset + page_size}"))
    return InlineKeyboardMarkup([buttons]) if buttons else None


Page = Callable[[JicengContext, int, int], Awaitable[tuple[str, InlineKeyboardMarkup | None]]]


def paged_list(render: Page) -> tuple[Handler, Handler]:
    """A command that shows the first page of a list, and the handler of its page buttons
    (callback data "prefix:name:<offset>"), both drawn by `render(context, telegram_id, offset)`."""

    @guarded
    async def first_page(update: Update, context: JicengContext) -> None:
        text, markup = await render(context, update.effective_user.id, 0)
        await send(context.bot, update.effective_chat.id, text, markup)

    @guarded
    async def other_page(update: Update, context: JicengContext) -> None:
        parts = callback_parts(update, 3)
        offset = int_or_none(parts[2]) if parts else None
        if offset is None or offset < 0:
            await tell(update, messages.STALE_BUTTON)
            return
        text, markup = await render(context, update.effective_user.id, offset)
        await update.callback_query.answer()
        await edit(update.callback_query.message, text, markup)

    return first_page, other_page


def callback_parts(update: Update, expected: int) -> list[str] | None:
    """The ':'-separated parts of a callback's data, or None if it is malformed (forged)."""
    data = update.callback_query.data if update.callback_query else None
    if not isinstance(data, str):
        return None
    parts = data.split(":")
    return parts if len(parts) == expected else None


async def pressed(update: Update, expected: int, id_at: int) -> tuple[list[str], int] | None:
    """The parts of a pressed button's data and the record id among them; a malformed
    (forged or stale) button is answered here and gives None."""
    parts = callback_parts(update, expected)
    record_id = int_or_none(parts[id_at]) if parts else None
    if record_id is None:
        await tell(update, messages.STALE_BUTTON)
        return None
    return parts, record_id


def int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def guarded(handler: Handler) -> Handler:
    """Turn domain errors into a polite answer: an alert on a button, a reply otherwise."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: JicengContext) -> None:
        try:
            await handler(update, context)
        except JicengError as error:
            await tell(update, error.user_message)

    return wrapper


async def tell(update: Update, text: str) -> None:
    """Answer the current user: an alert if they pressed a button, else a message."""
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text[:190], show_alert=True)
        elif update.effective_chat is not None:
            await send(update.get_bot(), update.effective_chat.id, text)
    except TelegramError as exc:
        log.warning("could not tell user: %s", exc)
