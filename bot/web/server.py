"""The H5 web chat, served by aiohttp on one port (`jiceng web`, and inside `jiceng demo`).

Farmers, leaders and experts sign in with a phone number and an SMS code and then talk to the
same conversation as on Telegram (`bot.chat`). What the bot says goes through the outbox like
everywhere else: this process runs the sender of channel "web", which writes each message into
the account's transcript (`bot.web.inbox`); the page follows it with Server-Sent Events and
catches up after a reconnect, so nothing is lost while the page is closed.

Every POST carries the session's CSRF token in `X-CSRF-Token`; the session cookie is encrypted,
HttpOnly and SameSite=Lax; pages are served with a strict Content-Security-Policy and the page
shows every message as text."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp_session import get_session, new_session
from aiohttp_session import setup as setup_sessions
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from bot import media as media_files
from bot.channels import WEB
from bot.chat.commands import parse, run_command
from bot.chat.conversation import on_message
from bot.chat.presses import press
from bot.chat.turn import Content
from bot.errors import JicengError
from bot.services.effects import effects
from bot.services.flood import Verdict
from bot.services.pace import Pace
from bot.services.people import Account
from bot.services.sender import Sender, default_holder
from bot.web.inbox import ME, Hub, Inbox
from bot.web.signin import SignIn, mask
from bot.web.turns import WebDelivery, WebTurn

if TYPE_CHECKING:
    from bot.app import Services
    from bot.config import Settings

log = logging.getLogger(__name__)

MAX_TEXT = 4000
KEEPALIVE = 15.0      # seconds between comments on an idle event stream
LOOK_AGAIN = 3.0      # seconds: an event stream also looks for changes other processes made
SESSION_DAYS = 30
CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")

NOT_SIGNED_IN = "请先登录。"
BAD_CSRF = "页面已过期，请刷新后再试。"
EMPTY = "没有看到文字内容。请用文字描述您遇到的问题，也可以发照片。"
TOO_LONG = "您的消息太长了（超过 {limit} 字）。请分几次发送。"
PHOTO_TOO_BIG = "照片太大了（超过 8 MB），请换一张或压缩后再发。"
NOT_A_PHOTO = "只能发照片（JPG、PNG、WebP、GIF）。"
STALE = "按钮已失效"
TOO_FAST = "您发得太快了，请稍等一会儿再发。"
BUSY = "系统繁忙，请稍后再试。"


@dataclass(frozen=True)
class Visitor:
    """Who a signed-in request comes from."""

    account: Account
    person_id: int


class WebChat:
    def __init__(self, services: Services, settings: Settings, signin: SignIn, secret: bytes) -> None:
        self.services = services
        self.settings = settings
        self.signin = signin
        self.hub = Hub()
        self.inbox = Inbox(services.sessions, self.hub)
        self.media = media_files.MediaStore(settings.media_dir)
        self._secret = secret
        self._keys = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._flood = settings.flood_guard(lambda person: False)
        self._sender_task: asyncio.Task[None] | None = None

    # -- the application ----------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=media_files.MAX_PHOTO_BYTES + 64 * 1024,
                              middlewares=[_errors, _headers])
        storage = EncryptedCookieStorage(self._secret, cookie_name="jiceng_web", httponly=True, samesite="Lax",
                                         secure=self.settings.web_secure_cookie, max_age=SESSION_DAYS * 86400)
        setup_sessions(app, storage)
        app.middlewares.append(_csrf)
        app.router.add_get("/", self.page)
        app.router.add_get("/static/{name}", self.static)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/api/me", self.me)
        app.router.add_post("/api/login/code", self.send_code)
        app.router.add_post("/api/login/verify", self.verify)
        app.router.add_post("/api/logout", self.logout)
        app.router.add_get("/api/messages", self.messages)
        app.router.add_get("/api/events", self.events)
        app.router.add_post("/api/say", self.say)
        app.router.add_post("/api/photo", self.photo)
        app.router.add_post("/api/press", self.press)
        app.router.add_get("/media/{id}", self.media_file)
        from bot.console import Console

        Console(self.services, Path(self.settings.media_dir) / "uploads", self.signin, self.settings).attach(app)
        if self.settings.wechat_appid:
            from bot.wechat.channel import WeChatChannel

            WeChatChannel(self.services, self.settings, self.media).attach(app)
        app.on_startup.append(self._on_startup)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _on_startup(self, _app: web.Application) -> None:
        await self.start_sender()

    async def _on_cleanup(self, _app: web.Application) -> None:
        await self.stop_sender()

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def start_sender(self) -> None:
        """This process delivers the outbox rows of channel "web" (into the transcripts)."""
        sender = Sender(self.services.sessions, WebDelivery(self.inbox), pace=Pace(rate=1000, per_chat_interval=0),
                        concurrency=16, effects=effects(self.services.outbox), holder=default_holder())
        self.services.outbox.listen(sender.wake)
        self._sender_task = asyncio.create_task(sender.run(stop_when_idle=False, wait_for_lease=True),
                                                name="web-outbox-sender")

    async def stop_sender(self) -> None:
        if self._sender_task is not None:
            self._sender_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender_task

    # -- pages ----------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        return _static_file("index.html")

    async def static(self, request: web.Request) -> web.StreamResponse:
        return _static_file(request.match_info["name"])

    # -- signing in -----------------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        session = await get_session(request)
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(24)
        phone = session.get("phone")
        name = None
        if phone and session.get("person_id"):
            person = await self.services.people.get(session["person_id"])
            name = person.display_name if person is not None else None
            if person is None:  # forgotten meanwhile
                session.pop("phone", None)
                session.pop("person_id", None)
                phone = None
        return web.json_response({"signed_in": bool(phone), "csrf": session["csrf"],
                                  "phone": mask(phone) if phone else None, "name": name})

    async def send_code(self, request: web.Request) -> web.Response:
        body = await _json(request)
        message = await self.signin.send_code(str(body.get("phone", "")), client_address(request, self.settings))
        return web.json_response({"ok": True, "message": message})

    async def verify(self, request: web.Request) -> web.Response:
        body = await _json(request)
        signed = await self.signin.verify(str(body.get("phone", "")), str(body.get("code", "")))
        session = await new_session(request)  # a new session (and CSRF token) at sign-in
        session["csrf"] = secrets.token_urlsafe(24)
        session["phone"], session["person_id"] = signed.phone, signed.person_id
        return web.json_response({"ok": True})

    async def logout(self, request: web.Request) -> web.Response:
        session = await get_session(request)
        session.invalidate()
        return web.json_response({"ok": True})

    async def visitor(self, request: web.Request) -> Visitor:
        session = await get_session(request)
        phone, person_id = session.get("phone"), session.get("person_id")
        if not phone or not person_id:
            raise web.HTTPUnauthorized(text=json.dumps({"error": NOT_SIGNED_IN}, ensure_ascii=False),
                                       content_type="application/json")
        account = Account(WEB.name, phone)
        # The person behind the account now (an account forgotten by /forget starts a new person).
        current = await self.services.people.person_id(account)
        if current != person_id:
            session["person_id"] = current
        return Visitor(account, current)

    # -- the transcript -------------------------------------------------------------------

    async def messages(self, request: web.Request) -> web.Response:
        visitor = await self.visitor(request)
        after = _int(request.query.get("after"))
        shown = await self.inbox.since(visitor.account.external_id, after)
        rev = max((m.rev for m in shown), default=after)
        return web.json_response({"messages": [m.as_json() for m in shown], "rev": rev})

    async def events(self, request: web.Request) -> web.StreamResponse:
        visitor = await self.visitor(request)
        address = visitor.account.external_id
        last = _int(request.headers.get("Last-Event-ID") or request.query.get("after"))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        await response.write(b"retry: 2000\n\n")
        idle = 0.0
        with contextlib.suppress(ConnectionResetError, asyncio.CancelledError):
            while True:
                for shown in await self.inbox.since(address, last):
                    data = json.dumps(shown.as_json(), ensure_ascii=False)
                    await response.write(f"id: {shown.rev}\nevent: message\ndata: {data}\n\n".encode())
                    last, idle = max(last, shown.rev), 0.0
                if idle >= KEEPALIVE:
                    await response.write(b": keep-alive\n\n")
                    idle = 0.0
                await self.hub.wait(address, LOOK_AGAIN)
                idle += LOOK_AGAIN
        return response

    # -- what people do -------------------------------------------------------------------

    async def say(self, request: web.Request) -> web.Response:
        visitor = await self.visitor(request)
        text = _clean(str((await _json(request)).get("text", "")).strip())
        if not text:
            return _refuse(EMPTY)
        if len(text) > MAX_TEXT:
            return _refuse(TOO_LONG.format(limit=MAX_TEXT))
        self._check_flood(visitor)
        await self.inbox.add(visitor.account.external_id, ME, text)
        command = parse(text)
        if command is not None:
            name, args = command
            turn = self._turn(visitor, Content("text", text), args=args)
            await self._run(visitor, turn, lambda: run_command(turn, name))
        else:
            turn = self._turn(visitor, Content("text", text))
            await self._run(visitor, turn, lambda: on_message(turn))
        return web.json_response({"ok": True}, status=202)

    async def photo(self, request: web.Request) -> web.Response:
        visitor = await self.visitor(request)
        if request.content_length is not None and request.content_length > media_files.MAX_PHOTO_BYTES + 64 * 1024:
            return _refuse(PHOTO_TOO_BIG, 413)
        data, caption = b"", ""
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if part.name == "photo":
                    data = await part.read()  # type: ignore[union-attr]
                elif part.name == "caption":
                    caption = _clean((await part.text()).strip()[:MAX_TEXT])  # type: ignore[union-attr]
        except (AssertionError, ValueError, KeyError, UnicodeDecodeError):  # not a form with a photo
            return _refuse(NOT_A_PHOTO, 400)
        if len(data) > media_files.MAX_PHOTO_BYTES:
            return _refuse(PHOTO_TOO_BIG, 413)
        kind = media_files.sniff(data)
        if kind is None or kind[0] != "photo":
            return _refuse(NOT_A_PHOTO, 415)
        self._check_flood(visitor)
        file_ref = self.media.save(data, kind[1])
        await self.inbox.add(visitor.account.external_id, ME, caption, media="photo", file_ref=file_ref)
        turn = self._turn(visitor, Content("photo", caption, file_ref))
        await self._run(visitor, turn, lambda: on_message(turn))
        return web.json_response({"ok": True}, status=202)

    async def press(self, request: web.Request) -> web.Response:
        visitor = await self.visitor(request)
        body = await _json(request)
        message = await self.inbox.get(visitor.account.external_id, _int(body.get("message_id")))
        data = str(body.get("data", ""))
        offered = message is not None and any(d == data for row in message.choices or [] for _, d in row)
        if message is None or not offered:  # only a button this page was shown can be pressed
            return web.json_response({"ok": True, "toast": STALE})
        self._check_flood(visitor, cost=0.5)
        turn = self._turn(visitor, Content("text"), message=message)
        await self._run(visitor, turn, lambda: press(turn, data))
        return web.json_response({"ok": True, "toast": turn.toast})

    async def media_file(self, request: web.Request) -> web.StreamResponse:
        visitor = await self.visitor(request)
        message = await self.inbox.get(visitor.account.external_id, _int(request.match_info["id"]))
        if message is None or not message.file_ref:
            raise web.HTTPNotFound()
        path = self.media.path(message.file_ref)
        if path is not None:
            content_type = media_files.CONTENT_TYPES.get(path.suffix, "application/octet-stream")
            return web.FileResponse(path, headers={"Content-Type": content_type, "Cache-Control": "private, max-age=86400"})
        fetched = await self._fetch_remote(message.file_ref)
        if fetched is None:
            raise web.HTTPNotFound()
        data, content_type = fetched
        return web.Response(body=data, content_type=content_type, headers={"Cache-Control": "private, max-age=86400"})

    async def _fetch_remote(self, file_ref: str) -> tuple[bytes, str] | None:
        """A photo or voice note that came from Telegram: fetched through the Bot API once, then
        kept in the media folder under a name derived from the file id."""
        from bot.web.remote import telegram_file

        return await telegram_file(self.settings, self.media, file_ref)

    # -- turns ----------------------------------------------------------------------------

    def _turn(self, visitor: Visitor, content: Content, *, message: Any = None, args: tuple[str, ...] | list[str] = ()
              ) -> WebTurn:
        key = f"web:{self._prefix}:{next(self._keys)}"
        return WebTurn(self.services, self.inbox, visitor.account, visitor.person_id, key, content, message, args)

    async def _run(self, visitor: Visitor, turn: WebTurn, handler: Callable[[], Awaitable[None]]) -> None:
        """One person's turns one at a time, in the order they came; a refusal (a domain error) is
        said to them like on any channel."""
        async with self._locks[visitor.person_id]:
            try:
                await handler()
            except JicengError as error:
                await turn.tell(error.user_message)

    def _check_flood(self, visitor: Visitor, cost: float = 1.0) -> None:
        verdict = self._flood.check(visitor.person_id, cost)
        if verdict is not Verdict.SERVE:
            raise web.HTTPTooManyRequests(text=json.dumps({"error": TOO_FAST}, ensure_ascii=False),
                                          content_type="application/json")


# -- middlewares and helpers ---------------------------------------------------------------


@web.middleware
async def _headers(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                   ) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


@web.middleware
async def _errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                  ) -> web.StreamResponse:
    """Domain refusals become {"error": …} with 409; anything unexpected a polite 500."""
    try:
        return await handler(request)
    except JicengError as error:
        return _refuse(error.user_message, 409)
    except web.HTTPRequestEntityTooLarge:
        return _refuse(PHOTO_TOO_BIG, 413)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("web request %s failed", request.path)
        return _refuse(BUSY, 500)


FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


@web.middleware
async def _csrf(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                ) -> web.StreamResponse:
    if request.method == "POST" and request.path.startswith(("/api/", "/console/")):  # WeChat's are signed instead
        session = await get_session(request)
        given = request.headers.get("X-CSRF-Token", "")
        if not given and request.path.startswith("/console/") and request.content_type in FORMS:
            try:
                given = str((await request.post()).get("csrf", ""))
            except (AssertionError, ValueError, KeyError, UnicodeDecodeError):
                return _refuse(BAD_CSRF, 403)
        expected = session.get("csrf")
        if not expected or not hmac.compare_digest(str(expected), given):
            return _refuse(BAD_CSRF, 403)
    return await handler(request)


def _refuse(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False))


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _clean(text: str) -> str:
    """Text as UTF-8 can store it (a lone surrogate from a broken client becomes "?")."""
    return text.encode("utf-8", "replace").decode("utf-8")


def client_address(request: web.Request, settings: Settings) -> str:
    """Who is asking, for per-address limits: behind a trusted reverse proxy (JICENG_WEB_TRUST_PROXY)
    the address it reports (X-Real-IP, else the last X-Forwarded-For hop), else the peer's."""
    if settings.web_trust_proxy:
        real = request.headers.get("X-Real-IP", "").strip()
        forwarded = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
        if real or forwarded:
            return real or forwarded[-1]
    return request.remote or ""


def _int(value: object) -> int:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return 0
    return number if 0 <= number < 2**63 else 0


_STATIC_TYPES = {".html": "text/html", ".js": "application/javascript", ".css": "text/css", ".png": "image/png",
                 ".svg": "image/svg+xml", ".ico": "image/x-icon"}


def _static_file(name: str) -> web.Response:
    if "/" in name or "\\" in name or name.startswith("."):
        raise web.HTTPNotFound()
    source = resources.files("bot.web").joinpath("static", name)
    if not source.is_file():
        raise web.HTTPNotFound()
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    return web.Response(body=source.read_bytes(), content_type=_STATIC_TYPES.get(suffix, "application/octet-stream"),
                        charset="utf-8" if suffix in (".html", ".js", ".css") else None,
                        headers={"Cache-Control": "no-cache"})


def session_secret(text: str) -> bytes:
    """The 32-byte key of the session cookies from any configured text (JICENG_WEB_SECRET)."""
    return hashlib.sha256(text.encode()).digest()


def new_secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
