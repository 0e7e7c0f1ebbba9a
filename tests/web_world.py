"""The web chat served for real (aiohttp on a local port) and people using it over HTTP with
their own cookies, as a page would: sign in with the code the console SMS printed, write, press
what they were shown, read the transcript and the event stream."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from bot.app import Services
from bot.config import Settings
from bot.web import ConsoleSms, build_web


class WebUser:
    def __init__(self, base: str, sms: ConsoleSms) -> None:
        self.base = base
        self.sms = sms
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""
        self.seen: dict[int, dict] = {}
        self.rev = 0

    async def close(self) -> None:
        await self.http.close()

    async def me(self) -> dict:
        async with self.http.get(f"{self.base}/api/me") as response:
            me = await response.json()
        self.csrf = me["csrf"]
        return me

    async def post(self, path: str, body: dict | None = None, *, csrf: str | None = None) -> tuple[int, dict]:
        headers = {"X-CSRF-Token": self.csrf if csrf is None else csrf}
        async with self.http.post(f"{self.base}{path}", json=body or {}, headers=headers) as response:
            return response.status, await response.json()

    async def sign_in(self, phone: str) -> None:
        await self.me()
        status, body = await self.post("/api/login/code", {"phone": phone})
        assert status == 200, body
        status, body = await self.post("/api/login/verify", {"phone": phone, "code": self.sms.last[phone]})
        assert status == 200, body
        await self.me()

    async def say(self, text: str) -> tuple[int, dict]:
        return await self.post("/api/say", {"text": text})

    async def refresh(self) -> list[dict]:
        async with self.http.get(f"{self.base}/api/messages", params={"after": str(self.rev)}) as response:
            body = await response.json()
        for message in body["messages"]:
            self.seen[message["id"]] = message
            self.rev = max(self.rev, message["rev"])
        return body["messages"]

    async def sees(self, words: str, timeout: float = 10.0, sender: str = "bot") -> dict:
        """The newest message from `sender` containing `words` (waiting for it)."""
        async with asyncio.timeout(timeout):
            while True:
                await self.refresh()
                found = [m for m in self.seen.values() if m["from"] == sender and words in m["text"]]
                if found:
                    return max(found, key=lambda m: m["id"])
                await asyncio.sleep(0.05)

    async def presses(self, message: dict, label: str) -> tuple[int, dict]:
        data = next(c["data"] for row in message["choices"] for c in row if label in c["label"])
        return await self.post("/api/press", {"message_id": message["id"], "data": data})


class WebWorld:
    def __init__(self, services: Services, base: str, sms: ConsoleSms) -> None:
        self.services = services
        self.base = base
        self.sms = sms
        self.users: list[WebUser] = []

    def user(self) -> WebUser:
        user = WebUser(self.base, self.sms)
        self.users.append(user)
        return user


@asynccontextmanager
async def web_chat(db_url: str, understander, clock, tmp_path, services: Services | None = None, **extra):
    """The web chat on a free local port over the test database (its own services unless given);
    `extra` settings (the WeChat account's, say)."""
    settings = Settings(database_url=db_url, media_dir=str(tmp_path / "media"), send_pacing="off",
                        farmer_burst=1000, farmer_per_minute=6000, **extra)
    own = services is None
    services = services or Services.build(settings, understander, clock)
    sms = ConsoleSms(echo=None)
    chat = await build_web(services, settings, sms)
    runner = web.AppRunner(chat.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    world = WebWorld(services, f"http://127.0.0.1:{port}", sms)
    try:
        yield world
    finally:
        for user in world.users:
            await user.close()
        await runner.cleanup()
        if own:
            await services.engine.dispose()


async def read_events(user: WebUser, count: int, timeout: float = 10.0) -> list[dict]:
    """The first `count` messages the event stream brings (after the user's current rev)."""
    got: list[dict] = []
    async with asyncio.timeout(timeout):
        async with user.http.get(f"{user.base}/api/events", params={"after": str(user.rev)}) as response:
            assert response.headers["Content-Type"].startswith("text/event-stream")
            async for line in response.content:
                text = line.decode().strip()
                if text.startswith("data: "):
                    got.append(json.loads(text[6:]))
                    if len(got) >= count:
                        return got
    return got
