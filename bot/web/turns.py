"""The web chat as the conversation (`bot.chat`) sees it: a `WebTurn` per request, and the
outbox's delivery for channel "web" — a row becomes a message in the account's transcript."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.channels import WEB
from bot.chat.turn import Choices, Content
from bot.services.notifier import Action
from bot.services.outbox import Outgoing, priority_for
from bot.services.people import Account
from bot.web.inbox import BOT, Inbox

if TYPE_CHECKING:
    from bot.app import Services
    from bot.web.inbox import WebMessage


class WebDelivery:
    """The outbox sender's delivery for channel "web"."""

    name = WEB.name

    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox

    async def send(self, address: str, message: Outgoing) -> int:
        choices = [[(a.label, a.data) for a in row] for row in message.actions]
        return await self._inbox.add(address, BOT, message.text, choices, media=message.media, file_ref=message.file_ref)


class WebTurn:
    def __init__(self, services: Services, inbox: Inbox, account: Account, person_id: int, key: str,
                 content: Content, message: WebMessage | None = None, args: Sequence[str] = (),
                 display_name: str = "") -> None:
        self.services = services
        self._inbox = inbox
        self._account = account
        self._message = message
        self._sent = itertools.count()
        self.person_id = person_id
        self.key: str | None = key
        self.args = tuple(args)
        self.content = content
        self.pressed = message is not None
        self.pressed_text = message.text if message is not None else ""
        self.display_name = display_name
        self.toast: str | None = None  # the answer to a press, shown briefly on the page

    async def _put(self, to: int | Account, outgoing: Outgoing, purpose: str) -> None:
        priority = priority_for(to, self._account, self.person_id)
        await self.services.outbox.send(to, outgoing, priority, purpose=purpose,
                                        request_key=f"{self.key}#{next(self._sent)}")

    async def say(self, text: str, choices: Choices = (), *, purpose: str = "") -> None:
        await self._put(self._account, Outgoing(text, _actions(choices)), purpose)

    async def edit(self, text: str, choices: Choices = ()) -> None:
        if self._message is not None:
            rows = [[(c.label, c.button.encode()) for c in row] for row in choices if row]
            await self._inbox.edit(self._message.id, text, rows)

    async def answer(self, text: str | None = None) -> None:
        if text:
            self.toast = text

    async def tell(self, text: str) -> None:
        if self.pressed:
            self.toast = text
        else:
            await self.say(text)

    async def notify(self, person_id: int | None, text: str, choices: Choices = (), *, purpose: str = "") -> None:
        if person_id is not None:
            await self._put(person_id, Outgoing(text, _actions(choices)), purpose)

    async def forward(self, person_id: int, kind: str, file_ref: str, caption: str, *, purpose: str = "") -> None:
        await self._put(person_id, Outgoing(caption, media=kind, file_ref=file_ref), purpose)

    def follow_notice(self, notice_id: int) -> None:
        pass  # the progress message is the one `say` put; the page shows its edits as they come


def _actions(choices: Choices) -> tuple[tuple[Action, ...], ...]:
    return tuple(tuple(Action(c.label, c.button.encode()) for c in row) for row in choices if row)
