"""Commands (/start, /my, …) by name, as features declare them; a channel offers each one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.chat.turn import Turn

CommandHandler = Callable[[Turn], Awaitable[None]]

COMMANDS: dict[str, CommandHandler] = {}


def parse(text: str) -> tuple[str, list[str]] | None:
    """"/start abc" → ("start", ["abc"]); "/start@jiceng_bot" → ("start", []); not a command → None."""
    if not text.startswith("/") or len(text) < 2:
        return None
    name, *args = text[1:].split()
    return name.split("@", 1)[0].lower(), args


async def run_command(turn: Turn, name: str) -> None:
    """For channels without a command menu of their own (the web chat, WeChat)."""
    from bot import messages

    handler = COMMANDS.get(name)
    if handler is None:
        await turn.say(messages.UNKNOWN_COMMAND)
    else:
        await handler(turn)


def command(*names: str) -> Callable[[CommandHandler], CommandHandler]:
    def declare(handler: CommandHandler) -> CommandHandler:
        for name in names:
            if name in COMMANDS:
                raise ValueError(f"/{name} is declared twice")
            COMMANDS[name] = handler
        return handler

    return declare
