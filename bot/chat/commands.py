"""Commands (/start, /my, …) by name, as features declare them; a channel offers each one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.chat.turn import Turn

CommandHandler = Callable[[Turn], Awaitable[None]]

COMMANDS: dict[str, CommandHandler] = {}


def command(*names: str) -> Callable[[CommandHandler], CommandHandler]:
    def declare(handler: CommandHandler) -> CommandHandler:
        for name in names:
            if name in COMMANDS:
                raise ValueError(f"/{name} is declared twice")
            COMMANDS[name] = handler
        return handler

    return declare
