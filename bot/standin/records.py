"""What the stand-in remembers: the bot's calls, its messages, files and answers.

Tests read these records to see what the bot did; they are plain dataclasses
holding the same dicts that went over the wire.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Upload:
    """A file part of a multipart request."""

    part: str
    filename: str | None
    content_type: str | None
    content: bytes


@dataclass
class Call:
    """One Bot API request. ``seq`` is its position in ``api.calls``; ``at`` is when it
    arrived (``time.monotonic()``, comparable across processes on one machine)."""

    seq: int
    method: str
    params: dict[str, Any]
    uploads: dict[str, Upload] = field(default_factory=dict, repr=False)
    error: str | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class Edit:
    """The state of a bot message right after one edit."""

    seq: int
    method: str
    text: str | None
    reply_markup: dict | None
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class SentMessage:
    """A message the bot sent, kept up to date as the bot edits or deletes it.

    ``message`` is the Message object as the bot sees it now. ``reply_markup``
    is the markup last sent with it, reply keyboards included (Telegram only
    echoes inline keyboards back inside ``message``). ``at`` is when it was sent
    (``time.monotonic()``).
    """

    seq: int
    method: str
    chat_id: int
    message_id: int
    params: dict[str, Any]
    message: dict[str, Any]
    reply_markup: dict | None = None
    edits: list[Edit] = field(default_factory=list)
    deleted: bool = False
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str | None:
        """The current text, or caption for media messages (entities stripped)."""
        return self.message.get("text", self.message.get("caption"))

    @property
    def buttons(self) -> list[str]:
        """Texts of the current keyboard's buttons, row by row, inline or reply."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [_button_text(button) for row in rows for button in row]

    def describe(self) -> str:
        """One line for assertion messages."""
        buttons = f" {self.buttons}" if self.buttons else ""
        state = " (deleted)" if self.deleted else ""
        return (
            f"#{self.seq} {self.method} to {self.chat_id}/{self.message_id}{state}: "
            f"{self.text!r}{buttons}"
        )


@dataclass
class AnsweredCallback:
    """An answerCallbackQuery the bot made."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None = None
    cache_time: int | None = None


@dataclass
class StoredFile:
    """A file the stand-in holds: uploaded by the bot or sent by a user."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def file_size(self) -> int:
        return len(self.content)


def _button_text(button: str | dict) -> str:
    return button if isinstance(button, str) else button.get("text", "")
