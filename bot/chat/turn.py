"""One turn of a conversation, as the features see it on any channel.

A channel turns what a person did (a command, a message, a button press) into a `Turn` and calls
the feature's handler with it; the handler answers through the turn. A turn knows who is writing
(the person's id), the key under which its effects are written once, and how to speak: `say` a
new message, `edit` the message whose button was pressed, `answer` a press, `tell` a short polite
refusal, `notify` or `forward` to someone else (through the outbox, on the channel they use).

Messages carry `Choice`s — a label and a typed button (`bot.buttons`) — in rows; each channel
draws them its own way (an inline keyboard, buttons on a page).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.buttons import Button

if TYPE_CHECKING:
    from bot.app import Services
    from bot.services.outbox import Outgoing
    from bot.services.people import Account


@dataclass(frozen=True)
class Choice:
    label: str
    button: Button


Choices = Sequence[Sequence[Choice]]


@dataclass(frozen=True)
class Content:
    """What a person sent: text, or a photo / voice note (by the channel's file reference) with
    an optional caption; `reply_to` is the id of the message it answers, if any."""

    kind: str  # "text" | "photo" | "voice"
    text: str = ""
    file_ref: str | None = None
    reply_to: int | None = None


class Turn(Protocol):
    services: Services
    person_id: int
    key: str | None           # effects of this turn are written once under it
    args: Sequence[str]       # a command's arguments
    content: Content          # what was sent (a message turn)
    pressed: bool             # a button press (`edit` replaces the message it was on)
    pressed_text: str         # the text of the message whose button was pressed
    display_name: str

    async def say(self, text: str, choices: Choices = (), *, purpose: str = "") -> None: ...
    async def edit(self, text: str, choices: Choices = ()) -> None: ...
    async def answer(self, text: str | None = None) -> None: ...
    async def tell(self, text: str) -> None: ...
    async def notify(self, person_id: int | None, text: str, choices: Choices = (), *, purpose: str = "") -> None: ...
    async def forward(self, person_id: int, kind: str, file_ref: str, caption: str, *, purpose: str = "") -> None: ...
    def follow_notice(self, notice_id: int) -> None:
        """Keep the notice's progress message (the one `say` put with its purpose) up to date."""


def rows(items: Sequence[Choice], per_row: int) -> list[list[Choice]]:
    return [list(items[i : i + per_row]) for i in range(0, len(items), per_row)]


class OutboxTurn:
    """What channels without a live connection of their own share (memory, the web chat, WeChat):
    everything said goes into the outbox under the turn's key, numbered, so a turn handled again
    says nothing twice. A channel adds how it edits, answers a press and refuses (`edit`,
    `answer`, `tell`)."""

    def __init__(self, services: Services, account: Account, person_id: int, key: str, content: Content, *,
                 args: Sequence[str] = (), pressed: bool = False, pressed_text: str = "",
                 display_name: str = "") -> None:
        import itertools

        self.services = services
        self.account = account
        self.person_id = person_id
        self.key: str | None = key
        self.content = content
        self.args = tuple(args)
        self.pressed = pressed
        self.pressed_text = pressed_text
        self.display_name = display_name
        self._sent = itertools.count()

    async def _put(self, to: int | Account, outgoing: Outgoing, purpose: str) -> None:
        from bot.services.outbox import priority_for

        await self.services.outbox.send(to, outgoing, priority_for(to, self.account, self.person_id),
                                        purpose=purpose, request_key=f"{self.key}#{next(self._sent)}")

    async def say(self, text: str, choices: Choices = (), *, purpose: str = "") -> None:
        await self._put(self.account, outgoing(text, choices), purpose)

    async def notify(self, person_id: int | None, text: str, choices: Choices = (), *, purpose: str = "") -> None:
        if person_id is not None:
            await self._put(person_id, outgoing(text, choices), purpose)

    async def forward(self, person_id: int, kind: str, file_ref: str, caption: str, *, purpose: str = "") -> None:
        from bot.services.outbox import Outgoing

        await self._put(person_id, Outgoing(caption, media=kind, file_ref=file_ref), purpose)

    def follow_notice(self, notice_id: int) -> None:
        pass  # the progress message is the one `say` put; its edits reach the channel as they come


def outgoing(text: str, choices: Choices = ()) -> Outgoing:
    """A message with its choices as the outbox keeps them (label and encoded button)."""
    from bot.services.notifier import Action
    from bot.services.outbox import Outgoing

    return Outgoing(text, tuple(tuple(Action(c.label, c.button.encode()) for c in row) for row in choices if row))
