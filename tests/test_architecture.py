"""The layering, checked: the core knows no channel, the channels reach storage only through
services, and every button class fits in 64 bytes of data."""

from __future__ import annotations

import ast
import dataclasses
import re
import typing
from pathlib import Path

import bot.chat  # noqa: F401 - declares every feature's buttons, commands and steps
from bot.buttons import _REGISTRY, MAX_BYTES, decode

ROOT = Path(__file__).resolve().parents[1]


def modules(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py")]


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_core_never_mentions_a_channel():
    for path in modules("bot/services", "intents", "storage", "bot/chat"):
        text = path.read_text(encoding="utf-8")
        assert not re.search("telegram", text, re.IGNORECASE), path.relative_to(ROOT)


# A channel's own tables (the web chat's transcripts and sign-in codes, WeChat's pushes and
# windows) are kept by its store modules; everything else in a channel goes through services.
CHANNEL_STORES = {"bot/web/inbox.py", "bot/web/signin.py", "bot/wechat/store.py"}


def test_channels_reach_storage_only_through_services():
    for path in modules("bot/telegram", "bot/chat", "bot/web", "bot/wechat"):
        if str(path.relative_to(ROOT)) in CHANNEL_STORES:
            continue
        assert not {m for m in imports(path) if m == "storage" or m.startswith("storage.")}, path.relative_to(ROOT)


def test_the_conversation_imports_no_channel():
    for path in modules("bot/chat", "bot/services"):
        assert not {m for m in imports(path) if m.split(".")[0] == "telegram" or m.startswith("bot.telegram")}, \
            path.relative_to(ROOT)


def _sample(hint):
    """A realistic large value of a button field's type."""
    if hint is int:
        return 2**31  # ids grow; far beyond any table here
    if hint is bool:
        return True
    if typing.get_origin(hint) is typing.Literal:
        return max(typing.get_args(hint), key=len)
    return "plant_protection"  # the longest field code; region codes and keys are shorter


def test_every_button_fits_and_reads_back():
    for tag, cls in _REGISTRY.items():
        hints = typing.get_type_hints(cls)
        button = cls(**{f.name: _sample(hints[f.name]) for f in dataclasses.fields(cls)})
        data = button.encode()
        assert len(data.encode()) <= MAX_BYTES and data.startswith(tag), data
        assert decode(data) == button, data
