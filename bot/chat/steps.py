"""Conversation steps: what the bot is waiting for from a person (a reason, an answer, a service
record, the next field of a notice …) and which handler takes the person's next message then.

A feature declares each step once: `@step(states.ANSWER, kinds=ANY)`. The waiting state is kept
in the database (`bot.services.states.ChatStates`), so a half-finished step survives a restart;
`bot.chat.conversation` looks the state up here before anything else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.chat.turn import Turn
from bot.services.states import Waiting

StepHandler = Callable[[Turn, Waiting], Awaitable[None]]

TEXT = frozenset({"text"})
ANY = frozenset({"text", "photo", "voice"})


@dataclass(frozen=True)
class Step:
    handler: StepHandler
    kinds: frozenset[str]      # what the step takes; anything else goes the ordinary way
    needs_text: bool           # an empty text is not an answer


STEPS: dict[str, Step] = {}


def step(state: str, *, kinds: frozenset[str] = TEXT, needs_text: bool = False) -> Callable[[StepHandler], StepHandler]:
    def declare(handler: StepHandler) -> StepHandler:
        if state in STEPS:
            raise ValueError(f"step {state!r} is declared twice")
        STEPS[state] = Step(handler, kinds, needs_text)
        return handler

    return declare


def taking(waiting: Waiting | None, kind: str, text: str) -> StepHandler | None:
    """The handler of the step the person is in, if it takes this message."""
    found = STEPS.get(waiting.state) if waiting is not None else None
    if found is None or kind not in found.kinds or (found.needs_text and not text):
        return None
    return found.handler
