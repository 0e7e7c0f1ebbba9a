"""The main conversations (intake, the service loop, sign-up), told once in tests/scenarios.py,
played through Telegram (the real Application over HTTP against the Bot API stand-in) and through
the in-memory channel: the same words, the same buttons, the same outcome."""

from __future__ import annotations

from contextlib import asynccontextmanager

import pytest

from bot.app import Services
from bot.channels import MEMORY, TELEGRAM
from bot.config import Settings
from bot.memory import MemoryChat
from bot.services.people import Account
from tests.scenarios import SCENARIOS, Seen
from tests.telegram_world import running_bot

WAIT = 10.0  # seconds a Telegram person waits for a message


class TelegramPerson:
    def __init__(self, channel: TelegramChannel, number: int, name: str) -> None:
        self.channel, self.number, self.name = channel, number, name
        self.api = channel.world.api
        self.api.user(number, first_name=name)

    def _mark(self) -> None:
        self.channel.mark = self.api.mark()

    async def _settled(self) -> None:
        await self.api.wait_idle(timeout=WAIT)

    async def says(self, text: str, reply_to: Seen | None = None) -> None:
        self._mark()
        self.api.send_text(self.number, text, first_name=self.name, reply_to=reply_to.raw.message if reply_to else None)
        await self._settled()

    async def command(self, name: str, *args: str) -> None:
        await self.says(" ".join((f"/{name}", *args)))

    async def sends_photo(self, caption: str = "") -> None:
        self._mark()
        self.api.send_photo(self.number, caption=caption or None)
        await self._settled()

    async def presses(self, message: Seen, label: str) -> None:
        self._mark()
        self.api.press(self.number, self.api.current(message.raw), label)
        await self._settled()

    async def sees(self, words: str) -> Seen:
        sent = await self.api.wait_for_message(self.number, words, after=self.channel.mark, timeout=WAIT)
        return _seen(sent)

    async def current(self, message: Seen) -> Seen:
        return _seen(self.api.current(message.raw))


def _seen(sent) -> Seen:
    markup = (sent.reply_markup or {}).get("inline_keyboard", []) if isinstance(sent.reply_markup, dict) else []
    return Seen(sent.text or sent.caption or "", [b.get("text", "") for row in markup for b in row], sent)


class TelegramChannel:
    def __init__(self, world) -> None:
        self.world = world
        self.services = world.services
        self.mark = 0

    def account(self, number: int) -> Account:
        return Account(TELEGRAM.name, str(number))

    def person(self, number: int, name: str) -> TelegramPerson:
        return TelegramPerson(self, number, name)


class MemoryPersonView:
    def __init__(self, channel: MemoryChannel, number: int, name: str) -> None:
        self.channel, self.name = channel, name
        self.me = channel.chat.person(str(number), name)

    def _mark(self) -> None:
        self.channel.mark = max((m.id for box in self.channel.chat.inboxes.values() for m in box), default=0)

    async def says(self, text: str, reply_to: Seen | None = None) -> None:
        self._mark()
        await self.me.says(text, reply_to.raw if reply_to else None)

    async def command(self, name: str, *args: str) -> None:
        self._mark()
        await self.me.command(name, *args)

    async def sends_photo(self, caption: str = "") -> None:
        self._mark()
        await self.me.sends("photo", "photo-file-1", caption)

    async def presses(self, message: Seen, label: str) -> None:
        self._mark()
        await self.me.presses(label, message.raw)

    async def sees(self, words: str) -> Seen:
        for message in self.me.inbox:
            if message.id > self.channel.mark and words in message.text:
                return Seen(message.text, message.labels, message)
        raise AssertionError(f"{self.name} got no message with 「{words}」: {[m.text[:40] for m in self.me.inbox]}")

    async def current(self, message: Seen) -> Seen:
        return Seen(message.raw.text, message.raw.labels, message.raw)


class MemoryChannel:
    def __init__(self, services) -> None:
        self.services = services
        self.chat = MemoryChat(services)
        self.mark = 0

    def account(self, number: int) -> Account:
        return Account(MEMORY.name, str(number))

    def person(self, number: int, name: str) -> MemoryPersonView:
        return MemoryPersonView(self, number, name)


@asynccontextmanager
async def channel_named(name: str, db_url: str, understander, clock):
    if name == "telegram":
        async with running_bot(db_url, understander, clock) as world:
            yield TelegramChannel(world)
        return
    services = Services.build(Settings(database_url=db_url, bot_token="memory"), understander, clock)
    try:
        yield MemoryChannel(services)
    finally:
        await services.engine.dispose()


@pytest.mark.parametrize("channel_name", ["telegram", "memory"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_scenario(scenario, channel_name, db_url, understander, clock):
    async with channel_named(channel_name, db_url, understander, clock) as channel:
        await SCENARIOS[scenario](channel)
