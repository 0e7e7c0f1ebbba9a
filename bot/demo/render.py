"""What the bot did since the terminal last looked, as lines to print.

The stand-in keeps every message up to date in place (``api.sent``); `Transcript` remembers
the state it last showed of each one and reports new messages, edits, deletions and the
short answers to button presses (``answerCallbackQuery``), in the order the bot made them.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from bot.demo import texts
from bot.standin import BotApiStandIn, SentMessage

SUMMARY_WIDTH = 70


class Kind(Enum):
    NEW = "new"
    EDITED = "edited"
    DELETED = "deleted"
    TOAST = "toast"
    ALERT = "alert"


@dataclass(frozen=True)
class Event:
    seq: int  # the Bot API call that caused it
    kind: Kind
    chat_id: int | None
    message: SentMessage | None = None
    text: str = ""


@dataclass(frozen=True)
class _Shown:
    text: str | None
    markup: str
    deleted: bool


class Transcript:
    def __init__(self, api: BotApiStandIn) -> None:
        self._api = api
        self._shown: dict[tuple[int, int], _Shown] = {}
        self._calls_read = 0
        self._pressed_by: dict[str, int] = {}

    def pressed(self, update: dict) -> None:
        """Remember who pressed, so the answer to the press can say whom it went to."""
        query = update["callback_query"]
        self._pressed_by[query["id"]] = query["from"]["id"]

    def news(self) -> list[Event]:
        events = [e for sent in self._api.sent if (e := self._change(sent)) is not None]
        calls = self._api.calls
        for call in calls[self._calls_read :]:
            if call.method == "answerCallbackQuery" and not call.error and call.params.get("text"):
                kind = Kind.ALERT if call.params.get("show_alert") else Kind.TOAST
                owner = self._pressed_by.get(str(call.params.get("callback_query_id")))
                events.append(Event(call.seq, kind, owner, text=str(call.params["text"])))
        self._calls_read = len(calls)
        return sorted(events, key=lambda e: e.seq)

    def _change(self, sent: SentMessage) -> Event | None:
        key = (sent.chat_id, sent.message_id)
        now = _Shown(sent.text, json.dumps(sent.reply_markup, sort_keys=True), sent.deleted)
        before = self._shown.get(key)
        if before == now:
            return None
        self._shown[key] = now
        if before is None:
            return None if sent.deleted else Event(sent.seq, Kind.NEW, sent.chat_id, sent)
        if sent.deleted:
            return Event(len(self._api.calls), Kind.DELETED, sent.chat_id, sent)
        seq = sent.edits[-1].seq if sent.edits else sent.seq
        return Event(seq, Kind.EDITED, sent.chat_id, sent)


def inline_buttons(sent: SentMessage) -> list[list[dict]]:
    """The rows of the message's inline keyboard as it is now (none once deleted)."""
    if sent.deleted:
        return []
    return (sent.reply_markup or {}).get("inline_keyboard") or []


def format_event(
    event: Event,
    *,
    who: Callable[[int | None], str],
    persona_key: Callable[[int | None], str],
    current_id: int,
    target: SentMessage | None,
) -> str:
    """Lines for one event: messages to the person being played in full, with numbered
    buttons when it is the message a typed number presses; others' in one line."""
    receiver = who(event.chat_id)
    if event.kind is Kind.TOAST:
        return texts.TOAST.format(who=receiver, text=event.text)
    if event.kind is Kind.ALERT:
        return texts.ALERT.format(who=receiver, text=event.text)
    if event.kind is Kind.DELETED:
        return texts.FROM_BOT_DELETED.format(who=receiver)
    header = (texts.FROM_BOT if event.kind is Kind.NEW else texts.FROM_BOT_EDITED).format(who=receiver)
    sent = event.message
    assert sent is not None
    if event.chat_id == current_id:
        return "\n".join([header, *full_message(sent, numbered=sent is target)])
    lines = [header + summary(sent), *_others_buttons(sent)]
    if len(lines) > 1 or summary(sent) != _body(sent):
        lines.append(texts.SUMMARY_HINT.format(key=persona_key(event.chat_id)))
    return "\n".join(lines)


def full_message(sent: SentMessage, *, numbered: bool) -> list[str]:
    lines = _body(sent).splitlines() or [""]
    rows = inline_buttons(sent)
    if numbered:
        number = 0
        for row in rows:
            cells = []
            for button in row:
                number += 1
                cells.append(f"[{number}] {button.get('text', '')}")
            lines.append("  " + "   ".join(cells))
    elif rows:
        lines += _others_buttons(sent)
    keyboard = (sent.reply_markup or {}).get("keyboard")
    if keyboard:
        lines.append(texts.REPLY_KEYBOARD.format(buttons="  ".join(_reply_button(b) for row in keyboard for b in row)))
    return lines


def summary(sent: SentMessage) -> str:
    line = " ／ ".join(part.strip() for part in _body(sent).splitlines() if part.strip())
    return line if len(line) <= SUMMARY_WIDTH else line[: SUMMARY_WIDTH - 1] + "…"


def _others_buttons(sent: SentMessage) -> list[str]:
    names = [b.get("text", "") for row in inline_buttons(sent) for b in row]
    return [texts.BUTTONS_OF_OTHERS.format(buttons="、".join(names))] if names else []


def _body(sent: SentMessage) -> str:
    media = next((label for kind, label in texts.MEDIA.items() if kind in sent.message), "")
    return media + (sent.text or "")


def pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (Chinese characters take two)."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - columns)


def _reply_button(button: str | dict) -> str:
    if isinstance(button, str):
        return f"〔{button}〕"
    hint = texts.CONTACT_BUTTON_HINT if button.get("request_contact") else ""
    return f"〔{button.get('text', '')}〕{hint}"
