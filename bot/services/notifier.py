"""How workflow services speak to people without knowing the channel: a `Notifier` sends
a text with optional action buttons to a person; the Telegram layer implements it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Action:
    label: str  # what the person sees on the button
    data: str   # what comes back when they press it (≤ 64 bytes)


class Notifier(Protocol):
    async def send(self, telegram_id: int, text: str, actions: Sequence[Sequence[Action]] = ()) -> None:
        """Deliver or log: an unreachable person must not break the caller."""
