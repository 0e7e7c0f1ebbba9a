"""The main conversations (intake, the service loop, sign-up, the privacy notice), told once in
tests/scenarios.py, played through Telegram (the real Application over HTTP against the Bot API
stand-in), through the web chat (aiohttp over HTTP, each person with their own cookies) and
through the in-memory channel: the same words, the same buttons, the same outcome."""

from __future__ import annotations

import asyncio
import io
from contextlib import asynccontextmanager

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import Services
from bot.channels import MEMORY, TELEGRAM, WEB
from bot.config import Settings
from bot.memory import MemoryChat
from bot.services.people import Account, ensure_person
from storage.models import WebMessage
from tests.scenarios import SCENARIOS, Seen
from tests.telegram_world import running_bot
from tests.web_world import web_chat

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


# A tiny JPEG (the start of one is all the web chat checks), as a phone would upload.
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


class WebPersonView:
    """A person in their phone's browser: the web chat over HTTP with their own cookies."""

    def __init__(self, channel: WebChannel, number: int, name: str) -> None:
        self.channel, self.number, self.name = channel, number, name
        self.phone = channel.phone(number)
        self.user = channel.world.user()
        self.signed_in = False

    async def _ready(self) -> None:
        if not self.signed_in:
            async with self.channel.services.sessions.begin() as session:  # their name, as they would give it
                await ensure_person(session, Account(WEB.name, self.phone), self.name)
            await self.user.sign_in(self.phone)
            self.signed_in = True
        await self.channel.set_mark()

    async def says(self, text: str, reply_to: Seen | None = None) -> None:
        await self._ready()
        status, body = await self.user.say(text)
        assert status == 202, body

    async def command(self, name: str, *args: str) -> None:
        await self.says(" ".join((f"/{name}", *args)))

    async def sends_photo(self, caption: str = "") -> None:
        await self._ready()
        form = aiohttp.FormData()
        form.add_field("photo", io.BytesIO(JPEG), filename="photo.jpg", content_type="image/jpeg")
        form.add_field("caption", caption)
        async with self.user.http.post(f"{self.user.base}/api/photo", data=form,
                                       headers={"X-CSRF-Token": self.user.csrf}) as response:
            assert response.status == 202

    async def presses(self, message: Seen, label: str) -> None:
        await self._ready()
        current = await self.current(message)
        status, body = await self.user.presses(current.raw, label)
        assert status == 200, body

    async def sees(self, words: str) -> Seen:
        await self._ready_quietly()
        async with asyncio.timeout(WAIT):
            while True:
                await self.user.refresh()
                found = [m for m in self.user.seen.values()
                         if m["from"] == "bot" and m["id"] > self.channel.mark and words in m["text"]]
                if found:
                    return _web_seen(min(found, key=lambda m: m["id"]))
                await asyncio.sleep(0.05)

    async def current(self, message: Seen) -> Seen:
        await self.user.refresh()
        return _web_seen(self.user.seen[message.raw["id"]])

    async def _ready_quietly(self) -> None:
        if not self.signed_in:  # someone who only receives (a leader): signed in without moving the mark
            mark = self.channel.mark
            await self._ready()
            self.channel.mark = mark


def _web_seen(message: dict) -> Seen:
    return Seen(message["text"], [c["label"] for row in message["choices"] for c in row], message)


class WebChannel:
    def __init__(self, world) -> None:
        self.world = world
        self.services = world.services
        self.mark = 0
        self._people: dict[int, WebPersonView] = {}

    @staticmethod
    def phone(number: int) -> str:
        return f"139{number:08d}"

    def account(self, number: int) -> Account:
        return Account(WEB.name, self.phone(number))

    def person(self, number: int, name: str) -> WebPersonView:
        if number not in self._people:  # one browser per person, whoever asks for them
            self._people[number] = WebPersonView(self, number, name)
        return self._people[number]

    async def set_mark(self) -> None:
        async with self.services.sessions() as session:
            self.mark = await session.scalar(select(func.max(WebMessage.id))) or 0


@asynccontextmanager
async def channel_named(name: str, db_url: str, understander, clock, tmp_path=None):
    if name == "telegram":
        async with running_bot(db_url, understander, clock) as world:
            yield TelegramChannel(world)
        return
    if name == "web":
        async with web_chat(db_url, understander, clock, tmp_path) as world:
            yield WebChannel(world)
        return
    services = Services.build(Settings(database_url=db_url, bot_token="memory"), understander, clock)
    try:
        yield MemoryChannel(services)
    finally:
        await services.engine.dispose()


@pytest.mark.parametrize("channel_name", ["telegram", "web", "memory"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_scenario(scenario, channel_name, db_url, understander, clock, tmp_path):
    async with channel_named(channel_name, db_url, understander, clock, tmp_path) as channel:
        await SCENARIOS[scenario](channel)
