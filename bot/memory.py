"""The in-memory channel: the conversation (`bot.chat`) with people who live in a Python list.

Tests use it to run the same scenarios as through Telegram, without a network: a person sends
a command, a message or a photo, or presses a choice on a message they got; the feature answers
through a `MemoryTurn`. What the bot says goes through the real outbox (channel "memory") and a
real `Sender` delivers it into the person's inbox — so notifications to other people, effects of
delivery (a relay remembers where its copy landed) and the order of messages are the same as in
production. Edits and press answers happen at once, as Telegram's do.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.channels import MEMORY
from bot.chat.commands import COMMANDS
from bot.chat.conversation import on_message
from bot.chat.presses import press
from bot.chat.turn import Choices, Content, OutboxTurn
from bot.errors import JicengError
from bot.services.effects import effects
from bot.services.outbox import Outgoing
from bot.services.pace import Pace
from bot.services.people import Account
from bot.services.sender import Sender

if TYPE_CHECKING:
    from bot.app import Services


@dataclass
class Message:
    id: int
    text: str
    choices: list[list[tuple[str, str]]] = field(default_factory=list)  # (label, button data)
    media: str | None = None
    file_ref: str | None = None

    @property
    def labels(self) -> list[str]:
        return [label for row in self.choices for label, _ in row]


class MemoryDelivery:
    """The outbox's delivery for channel "memory": a row becomes a message in an inbox."""

    name = MEMORY.name

    def __init__(self, chat: MemoryChat) -> None:
        self._chat = chat

    async def send(self, address: str, message: Outgoing) -> int:
        choices = [[(a.label, a.data) for a in row] for row in message.actions]
        return self._chat.deliver(address, Message(0, message.text, choices, message.media, message.file_ref))


class MemoryChat:
    """Everyone on the in-memory channel, and the sender that brings them what the bot says."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.inboxes: dict[str, list[Message]] = {}
        self.toasts: dict[str, list[str]] = {}
        self._ids = itertools.count(1)
        self._turns = itertools.count(1)
        self._sender = Sender(services.sessions, MemoryDelivery(self), pace=Pace(rate=10_000, per_chat_interval=0),
                              effects=effects(services.outbox), holder="memory", lease_ttl=3600)

    def person(self, external_id: str, name: str = "") -> MemoryPerson:
        self.inboxes.setdefault(external_id, [])
        self.toasts.setdefault(external_id, [])
        return MemoryPerson(self, external_id, name)

    def deliver(self, address: str, message: Message) -> int:
        message.id = next(self._ids)
        self.inboxes.setdefault(address, []).append(message)
        return message.id

    async def settle(self) -> None:
        """Deliver everything the outbox holds for this channel."""
        await self._sender.run(stop_when_idle=True)

    def next_key(self) -> str:
        return f"mem:{next(self._turns)}"


class MemoryPerson:
    def __init__(self, chat: MemoryChat, external_id: str, name: str) -> None:
        self.chat = chat
        self.account = Account(MEMORY.name, external_id)
        self.name = name

    @property
    def inbox(self) -> list[Message]:
        return self.chat.inboxes[self.account.external_id]

    @property
    def toasts(self) -> list[str]:
        return self.chat.toasts[self.account.external_id]

    async def command(self, name: str, *args: str) -> None:
        await self._run(lambda turn: COMMANDS[name](turn), args=args)

    async def says(self, text: str, reply_to: Message | None = None) -> None:
        content = Content("text", text.strip(), None, reply_to.id if reply_to else None)
        await self._run(on_message, content=content)

    async def sends(self, kind: str, file_ref: str, caption: str = "") -> None:
        await self._run(on_message, content=Content(kind, caption.strip(), file_ref))

    async def presses(self, label: str, message: Message | None = None) -> None:
        """Press the choice whose label contains `label` on `message` (default: the latest
        message that has one)."""
        if message is None:
            message = next((m for m in reversed(self.inbox) if any(label in lb for lb in m.labels)), None)
            if message is None:
                raise AssertionError(f"{self.name or self.account.external_id} has no choice 「{label}」")
        data = next(d for row in message.choices for lb, d in row if label in lb)
        await self.presses_data(data, message)

    async def presses_data(self, data: str, message: Message) -> None:
        async def pressed(turn: MemoryTurn) -> None:
            await press(turn, data)

        await self._run(pressed, message=message)

    async def _run(self, feature, *, content: Content | None = None, message: Message | None = None,
                   args: Sequence[str] = ()) -> None:
        services = self.chat.services
        person_id = await services.people.person_id(self.account, self.name)
        turn = MemoryTurn(self, person_id, self.chat.next_key(), content or Content("text"), message, args)
        try:
            await feature(turn)
        except JicengError as error:
            await turn.tell(error.user_message)
        await self.chat.settle()


class MemoryTurn(OutboxTurn):
    def __init__(self, person: MemoryPerson, person_id: int, key: str, content: Content,
                 message: Message | None, args: Sequence[str]) -> None:
        super().__init__(person.chat.services, person.account, person_id, key, content, args=args,
                         pressed=message is not None, pressed_text=message.text if message is not None else "",
                         display_name=person.name)
        self._person = person
        self._message = message

    async def edit(self, text: str, choices: Choices = ()) -> None:
        if self._message is not None:
            self._message.text = text
            self._message.choices = [[(c.label, c.button.encode()) for c in row] for row in choices if row]

    async def answer(self, text: str | None = None) -> None:
        if text:
            self._person.toasts.append(text)

    async def tell(self, text: str) -> None:
        if self.pressed:
            self._person.toasts.append(text)
        else:
            await self.say(text)
