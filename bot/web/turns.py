"""The web chat as the conversation (`bot.chat`) sees it: a `WebTurn` per request, and the
outbox's delivery for channel "web" — a row becomes a message in the account's transcript."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.channels import WEB
from bot.chat.turn import Choices, Content, OutboxTurn
from bot.services.outbox import Outgoing
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


class WebTurn(OutboxTurn):
    """A web chat turn: an edit changes the message in the transcript (the page shows it at once),
    the answer to a press comes back in the press's own response (`toast`)."""

    def __init__(self, services: Services, inbox: Inbox, account: Account, person_id: int, key: str,
                 content: Content, message: WebMessage | None = None, args: Sequence[str] = (),
                 display_name: str = "") -> None:
        super().__init__(services, account, person_id, key, content, args=args, pressed=message is not None,
                         pressed_text=message.text if message is not None else "", display_name=display_name)
        self._inbox = inbox
        self._message = message
        self.toast: str | None = None

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
