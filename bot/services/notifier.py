"""What a person can press: an `Action` is a button's label and the data that comes back
when it is pressed. Services render messages with actions without knowing the channel."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    label: str  # what the person sees on the button
    data: str   # what comes back when they press it (≤ 64 bytes)
