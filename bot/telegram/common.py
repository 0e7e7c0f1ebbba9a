"""Small helpers every Telegram module uses: names, sending (through the outbox), paging,
and the one place where domain errors become polite replies."""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Message, Update, User
from telegram.error import BadRequest, TelegramError

from bot.channels import TELEGRAM
from bot.errors import JicengError
from bot.services.notifier import Action
from bot.services.outbox import REMINDER, Outgoing, priority_for
from bot.services.people import Account
from bot.telegram.broadcast_channel import fit  # noqa: F401 - the telegram layer's text helper
from bot.telegram.context import JicengContext

log = logging.getLogger(__name__)

Handler = Callable[[Update, JicengContext], Awaitable[None]]


def display_name(user: User | None) -> str:
    if user is None:
        return ""
    return " ".join(p for p in (user.first_name, user.last_name) if p).strip() or (user.username or "")


def account_of(user: User | int) -> Account:
    """The core's name for a Telegram user's (or private chat's) account."""
    return Account(TELEGRAM.name, str(user if isinstance(user, int) else user.id))


async def me(update: Update, context: JicengContext) -> int:
    """The id of the person writing (created on first contact; the name kept fresh)."""
    user = update.effective_user
    person_id = await context.services.people.person_id(account_of(user), display_name(user))
    scope = _serving.get()
    if scope is not None:
        scope.person_id = person_id
    return person_id


@dataclass
class _Serving:
    chat_id: int | None
    key: str | None
    sent: itertools.count
    person_id: int | None = None


_serving: ContextVar[_Serving | None] = ContextVar("serving", default=None)


@contextmanager
def serving(chat_id: int | None, key: str | None):
    """While one update is handled: its messages to its own chat are replies (sent first),
    to anyone else notifications of someone who must act; and the n-th message it puts is
    keyed "<update's request key>#n", so handling the update again (a retry, a replay after a
    crash) puts nothing twice. Messages put outside any update (scheduled jobs) are reminders."""
    token = _serving.set(_Serving(chat_id, key, itertools.count()))
    try:
        yield
    finally:
        _serving.reset(token)


def request_key(update: Update) -> str:
    """The channel-neutral key under which this update's effects are written once.

    Telegram restarts update ids at random after a week without updates, so the key also
    names the button press or the message itself, which never repeat."""
    if update.callback_query is not None:
        return f"tg:{update.update_id}:cb{update.callback_query.id}"
    message = update.effective_message
    if message is not None:
        return f"tg:{update.update_id}:{message.chat_id}/{message.message_id}"
    return f"tg:{update.update_id}"


def actions_of(markup: InlineKeyboardMarkup | None) -> tuple[tuple[Action, ...], ...]:
    if markup is None:
        return ()
    return tuple(tuple(Action(b.text, b.callback_data) for b in row) for row in markup.inline_keyboard)


async def put(context: JicengContext, chat_id: int, message: Outgoing, *, purpose: str = "") -> None:
    """Put a message for a Telegram chat in the outbox (see `bot.services.outbox`): the sender
    delivers it, paced, and nothing is lost to a 429 or a crash."""
    await _put(context, account_of(chat_id), message, purpose)


async def _put(context: JicengContext, to: Account | int, message: Outgoing, purpose: str) -> None:
    """`to`: an account, or a person (by id, reached on the account they used last)."""
    scope = _serving.get()
    priority = REMINDER if scope is None else priority_for(to, account_of(scope.chat_id or 0), scope.person_id)
    key = f"{scope.key}#{next(scope.sent)}" if scope is not None and scope.key else None
    await context.services.outbox.send(to, message, priority, request_key=key, purpose=purpose)


async def send(context: JicengContext, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None,
               *, purpose: str = "") -> None:
    """A text of any length to a Telegram chat (split where Telegram needs it); the keyboard goes
    with the last piece."""
    await put(context, chat_id, Outgoing(text, actions_of(markup)), purpose=purpose)


async def notify(context: JicengContext, person_id: int | None, text: str,
                 markup: InlineKeyboardMarkup | None = None, *, purpose: str = "") -> None:
    """A message for a person (by id), on whatever channel they used last; nobody to reach is
    no error here (a row that cannot be delivered is recorded, and its purpose may tell staff)."""
    if person_id is not None:
        await _put(context, person_id, Outgoing(text, actions_of(markup)), purpose)


async def forward_media(context: JicengContext, person_id: int, kind: str, file_id: str, caption: str,
                        *, purpose: str = "") -> None:
    """Pass a farmer's photo or voice note on to a person by file id, with a caption."""
    await _put(context, person_id, Outgoing(caption, media=kind, file_ref=file_id), purpose)


async def edit(query_message: Message | None, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    if query_message is None:
        return
    try:
        await query_message.edit_text(fit(text), reply_markup=markup)
    except BadRequest as exc:  # "message is not modified" and the like
        log.debug("edit skipped: %s", exc)


def guarded(handler: Handler) -> Handler:
    """Turn domain errors into a polite answer: an alert on a button, a reply otherwise."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: JicengContext) -> None:
        try:
            await handler(update, context)
        except JicengError as error:
            await tell(update, context, error.user_message)

    return wrapper


async def tell(update: Update, context: JicengContext, text: str) -> None:
    """Answer the current user: an alert if they pressed a button, else a message."""
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text[:190], show_alert=True)
        elif update.effective_chat is not None:
            await send(context, update.effective_chat.id, text)
    except TelegramError as exc:
        log.warning("could not tell user: %s", exc)
