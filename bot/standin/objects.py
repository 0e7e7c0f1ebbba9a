"""Builders for Telegram objects as JSON dicts (User, Chat, entities, media)."""

from __future__ import annotations

import re
import time
from typing import Any

from bot.standin.records import StoredFile

_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")
_SUPERGROUP_IDS_BELOW = -1_000_000_000_000


def now() -> int:
    return int(time.time())


def user_dict(
    user_id: int,
    first_name: str,
    username: str | None = None,
    language_code: str | None = "zh-hans",
) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    return user


def chat_dict(chat_id: int, user: dict | None = None) -> dict[str, Any]:
    """A private chat for positive ids (with ``user``'s names), else a group."""
    if chat_id > 0:
        chat = {"id": chat_id, "type": "private", "first_name": "用户"}
        if user:
            chat.update({k: user[k] for k in ("first_name", "username") if k in user})
        return chat
    kind = "supergroup" if chat_id < _SUPERGROUP_IDS_BELOW else "group"
    return {"id": chat_id, "type": kind, "title": "测试群"}


def command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entity Telegram adds when a text starts with /command."""
    match = _COMMAND.match(text)
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": match.end()}]


def is_inline_keyboard(markup: Any) -> bool:
    return isinstance(markup, dict) and "inline_keyboard" in markup


# How each kind of media looks inside a Message, and where its files live.
MEDIA_FOLDERS = {
    "photo": "photos",
    "voice": "voice",
    "audio": "music",
    "video": "videos",
    "document": "documents",
    "sticker": "stickers",
}
FILE_SUFFIXES = {
    "photo": ".jpg",
    "voice": ".oga",
    "audio": ".mp3",
    "video": ".mp4",
    "sticker": ".webp",
}
DEFAULT_MIME_TYPES = {
    "photo": "image/jpeg",
    "voice": "audio/ogg",
    "audio": "audio/mpeg",
    "video": "video/mp4",
    "document": "application/octet-stream",
    "sticker": "image/webp",
}


def media_object(kind: str, file: StoredFile, params: dict[str, Any]) -> Any:
    """The Message field for ``kind`` (a PhotoSize list for photos, else one dict)."""
    base = {
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": file.file_size,
    }
    if kind == "photo":
        width, height = params.get("width", 1280), params.get("height", 960)
        return [{**base, "width": width, "height": height}]
    if kind == "sticker":
        return {
            **base,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
    media = {**base, "mime_type": file.mime_type or DEFAULT_MIME_TYPES[kind]}
    if kind in ("voice", "audio", "video"):
        media["duration"] = int(params.get("duration") or 0)
    if kind == "video":
        media.update(width=params.get("width", 640), height=params.get("height", 480))
    if kind in ("audio", "video", "document") and file.file_name:
        media["file_name"] = file.file_name
    return media
