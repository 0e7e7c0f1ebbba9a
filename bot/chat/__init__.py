"""The conversation, channel-neutral: each feature's commands, button handlers and message
steps, written against `bot.chat.turn.Turn`. A channel (a chat app's adapter, the in-memory
channel of the tests) turns what a person did into a turn and calls `commands`, `presses` or
`conversation.on_message`.

Every module of this package is imported here, so a new feature module declares its commands
(`@command`), buttons (`@button`, `@on`) and steps (`@step`) just by being in the folder."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

_MACHINERY = {"commands", "paging", "presses", "regions", "steps", "turn"}

FEATURES: tuple[ModuleType, ...] = tuple(
    importlib.import_module(f"{__name__}.{info.name}")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
    if info.name not in _MACHINERY
)
