"""The terminal chat: each line typed is a message from the person being played, or a
`:command`; everything the bot sends to anyone is printed as it arrives.

Line-based on purpose, so a person can use it and a test can drive it through a pipe: after
each action it waits until the bot is idle, prints what the bot did, then the prompt.
"""

from __future__ import annotations

import asyncio
import codecs
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.demo import texts
from bot.demo.directory import FARMER, LEADER, PERSONAS, VISITOR, Persona
from bot.demo.render import Transcript, format_event, full_message, inline_buttons, pad
from bot.standin import BotApiStandIn, SentMessage

_NEEDS_ARGUMENT = {"press": texts.USAGE_PRESS, "say": texts.USAGE_SAY, "contact": texts.USAGE_CONTACT}
WATCH_INTERVAL = 0.25  # how often to look for messages that arrive on their own
IDLE_QUIET = 0.3  # the bot counts as done when it has made no request for this long


def read_lines(stream: TextIO = sys.stdin) -> asyncio.Queue[str | None]:
    """Lines typed on ``stream``, then None at end of input.

    Read in a daemon thread from the raw (unbuffered) file: a thread blocked on the buffered
    reader would hold its lock and could abort the interpreter's shutdown; asyncio's own
    pipe reading would leave a terminal in non-blocking mode, and does not work on Windows.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    raw = stream.buffer.raw if hasattr(stream, "buffer") and hasattr(stream.buffer, "raw") else None
    decoder = codecs.getincrementaldecoder(getattr(stream, "encoding", None) or "utf-8")(errors="replace")

    def pump() -> None:
        pending = ""
        while True:
            try:
                chunk = raw.read(4096) if raw is not None else stream.readline().encode()
            except (OSError, ValueError):
                chunk = b""
            pending += decoder.decode(chunk or b"", final=not chunk)
            *lines, pending = pending.split("\n")
            for line in lines:
                loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r"))
            if not chunk:
                if pending:
                    loop.call_soon_threadsafe(queue.put_nowait, pending)
                loop.call_soon_threadsafe(queue.put_nowait, None)
                return

    threading.Thread(target=pump, name="demo-stdin", daemon=True).start()
    return queue


class Terminal:
    def __init__(
        self,
        api: BotApiStandIn,
        lines: asyncio.Queue[str | None],
        *,
        latest_leader: Callable[[], Awaitable[int | None]],
        out: TextIO = sys.stdout,
        echo: bool = False,
    ) -> None:
        """``latest_leader`` names the leader `:as leader` plays; ``echo`` writes each line
        read after the prompt, as a terminal would (for pipes, where nothing is on screen)."""
        self._api = api
        self._lines = lines
        self._latest_leader = latest_leader
        self._out = out
        self._echo = echo
        self._cast = {p.telegram_id: p for p in PERSONAS}
        self._current = next(p for p in PERSONAS if p.role == FARMER)
        self._transcript = Transcript(api)
        self._busy = False
        self._at_prompt = False
        for persona in PERSONAS:
            api.user(persona.telegram_id, first_name=persona.name)

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        """Until :quit or the end of input."""
        watcher = asyncio.create_task(self._watch())
        try:
            self._prompt()
            while (line := await self._lines.get()) is not None:
                if self._echo:
                    self._out.write(line + "\n")
                self._at_prompt = False
                self._busy = True
                try:
                    keep_going = await self._handle(line.strip())
                    await self._settle()
                finally:
                    self._busy = False
                if not keep_going:
                    return
                self._prompt()
        finally:
            watcher.cancel()

    async def _watch(self) -> None:
        """Show what arrives while nobody typed (a slow reply, anything scheduled)."""
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            if not self._busy and self._flush():
                self._prompt()

    async def _settle(self) -> None:
        try:
            await self._api.wait_idle(quiet=IDLE_QUIET)
        except AssertionError:
            self._say(texts.STILL_BUSY)
        self._flush()

    def _flush(self) -> bool:
        events = self._transcript.news()
        target = self._target()
        for event in events:
            self._say(format_event(
                event, who=self._who, persona_key=self._key,
                current_id=self._current.telegram_id, target=target,
            ))
        return bool(events)

    # ------------------------------------------------------------------ input

    async def _handle(self, line: str) -> bool:
        if not line:
            return True
        if line[0] in ":：":
            command, _, argument = line[1:].strip().partition(" ")
            return await self._command(command.lower(), argument.strip())
        if line.isdecimal():
            self._press(line)
            return True
        self._send_text(line)
        return True

    async def _command(self, command: str, argument: str) -> bool:
        if command in ("quit", "q", "exit"):
            return False
        if command == "as":
            await self._play(argument)
        elif command == "who":
            self._list_cast()
        elif command in _NEEDS_ARGUMENT and not argument:
            self._say(texts.NEEDS_ARGUMENT.format(usage=_NEEDS_ARGUMENT[command]))
        elif command == "press":
            self._press(argument)
        elif command == "say":
            self._send_text(argument)
        elif command == "contact":
            self._api.send_contact(self._current.telegram_id, argument)
        elif command == "photo":
            self._api.send_photo(self._current.telegram_id, caption=argument or None)
        elif command == "voice":
            self._api.send_voice(self._current.telegram_id)
        elif command == "help":
            self._say(texts.HELP)
        else:
            self._say(texts.UNKNOWN_COMMAND.format(command=":" + command))
        return True

    def _send_text(self, text: str) -> None:
        self._api.send_text(self._current.telegram_id, text, first_name=self._current.name)

    def _press(self, which: str) -> None:
        """Press button number ``which`` (or the one whose text has ``which``) on the latest
        message to the person being played that has buttons."""
        target = self._target()
        if target is None:
            self._say(texts.NO_BUTTONS)
            return
        buttons = [b for row in inline_buttons(target) for b in row]
        if which.isdecimal():
            number = int(which)
            if not 1 <= number <= len(buttons):
                self._say(texts.NO_SUCH_BUTTON.format(number=number, count=len(buttons)))
                return
            button = buttons[number - 1]
        else:
            button = next((b for b in buttons if which in b.get("text", "")), None)
            if button is None:
                self._say(texts.NO_BUTTON_NAMED.format(text=which))
                return
        update = self._api.press_data(self._current.telegram_id, target, button.get("callback_data", ""))
        self._transcript.pressed(update)
        self._say(texts.USER_PRESSES.format(who=self._who(self._current.telegram_id), button=button.get("text", "")))

    # ------------------------------------------------------------------ personas

    async def _play(self, name: str) -> None:
        persona = await self._find(name) if name else self._current
        if persona is None:
            self._say(texts.NO_SUCH_PERSONA.format(name=name))
            return
        self._flush()  # what is on screen so far was rendered for the previous persona
        self._current = persona
        self._api.user(persona.telegram_id, first_name=persona.name)
        team = texts.NOW_PLAYING_TEAM.format(team=persona.team) if persona.team else ""
        self._say(texts.NOW_PLAYING.format(
            label=texts.ROLE_LABELS[persona.role], name=persona.name, telegram_id=persona.telegram_id, team=team,
        ))
        target = self._target()
        if target is not None:
            self._say("\n".join([texts.LATEST_WITH_BUTTONS, *full_message(target, numbered=True)]))

    async def _find(self, name: str) -> Persona | None:
        key = name.lower()
        aliases = {"农户": FARMER, "团长": LEADER, "工作人员": "staff", "专家": "expert"}
        key = aliases.get(key, key)
        if key == LEADER:
            leader_id = await self._latest_leader()
            leaders = [p for p in PERSONAS if p.role == LEADER]
            return self._cast.get(leader_id) if leader_id in self._cast else leaders[0]
        for persona in self._cast.values():
            if key in (persona.key, persona.name.lower()):
                return persona
        if name.isdecimal() and 0 < int(name) < 2**52:
            return self._cast.setdefault(int(name), Persona(name, int(name), name, VISITOR))
        return None

    def _list_cast(self) -> None:
        for persona in self._cast.values():
            self._say(texts.PERSONA_LINE.format(
                mark="▶" if persona is self._current else " ", key=pad(persona.key, 8),
                label=pad(texts.ROLE_LABELS[persona.role], 8), name=pad(persona.name, 10),
                telegram_id=persona.telegram_id, team=f"  {persona.team}" if persona.team else "",
            ))

    def _who(self, chat_id: int | None) -> str:
        persona = self._cast.get(chat_id) if chat_id is not None else None
        if persona is None:
            return texts.WHO.format(label=texts.ROLE_LABELS[VISITOR], name=chat_id)
        return texts.WHO.format(label=texts.ROLE_LABELS[persona.role], name=persona.name)

    def _key(self, chat_id: int | None) -> str:
        persona = self._cast.get(chat_id) if chat_id is not None else None
        return persona.key if persona else str(chat_id)

    def _target(self) -> SentMessage | None:
        """The message a typed number presses a button on."""
        for sent in reversed(self._api.sent):
            if sent.chat_id == self._current.telegram_id and inline_buttons(sent):
                return sent
        return None

    # ------------------------------------------------------------------ output

    def _prompt(self) -> None:
        role = texts.ROLE_LABELS[self._current.role]
        self._out.write("\n" + texts.PROMPT.format(name=self._current.name, role=role))
        self._out.flush()
        self._at_prompt = True

    def _say(self, text: str) -> None:
        if self._at_prompt:
            self._out.write("\n")
            self._at_prompt = False
        self._out.write(text + "\n")
        self._out.flush()
