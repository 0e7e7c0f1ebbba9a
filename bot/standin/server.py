"""A local stand-in for the Telegram Bot API, spoken over HTTP.

End-to-end tests (and the offline ``jiceng demo``) run the real
python-telegram-bot ``Application`` against this server instead of
api.telegram.org::

    async with BotApiStandIn(token=TOKEN) as api:
        app = (ApplicationBuilder().token(TOKEN)
               .base_url(f"{api.url}/bot").base_file_url(f"{api.url}/file/bot").build())
        ...start polling...
        api.send_text(42, "/start")                  # a user writes to the bot
        reply = await api.wait_for_message(42, "欢迎")  # what the bot answered
        api.press(42, reply, "好的")                  # the user taps a button

The server side answers Bot API methods with the JSON Telegram would send,
keeping every message, edit, file and callback answer for tests to inspect
(``api.sent``, ``api.calls``, ``api.answered_callbacks``, ``api.files``). The
user side injects updates that the bot fetches with getUpdates.

This module holds the state, the HTTP layer and the waiting helpers; the Bot
API methods are in ``bot_side`` and the user's actions in ``user_side``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from aiohttp import web

from bot.standin import objects
from bot.standin.bot_side import BotSide, commands_key
from bot.standin.control import add_control_routes
from bot.standin.params import ApiError, chat_id_of, read_params
from bot.standin.ratelimit import RateLimits
from bot.standin.records import AnsweredCallback, Call, SentMessage, StoredFile
from bot.standin.user_side import UserSide

DEFAULT_TOKEN = "123456789:STAND-IN-TOKEN"
DEFAULT_TIMEOUT = 5.0
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

BOT_METHODS = (
    "getMe", "logOut", "close",
    "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo",
    "sendMessage", "editMessageText", "editMessageCaption", "editMessageReplyMarkup",
    "deleteMessage", "answerCallbackQuery",
    "setMyCommands", "getMyCommands", "deleteMyCommands",
    "setChatMenuButton", "getChatMenuButton",
    "sendPhoto", "sendVoice", "sendDocument", "sendAudio", "sendVideo",
    "sendMediaGroup", "sendChatAction", "copyMessage", "forwardMessage",
    "getFile", "getChat",
)  # fmt: skip

# Methods that post messages, and so count against flood limits.
RATE_LIMITED_METHODS = frozenset(
    {
        "sendMessage", "sendPhoto", "sendVoice", "sendDocument", "sendAudio",
        "sendVideo", "sendMediaGroup", "copyMessage", "forwardMessage",
    }
)  # fmt: skip

T = TypeVar("T")
_LOGGER = logging.getLogger(__name__)


class BotApiStandIn(BotSide, UserSide):
    """The Bot API server side plus a test-facing user side. See the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "jiceng_test_bot",
        *,
        bot_first_name: str = "基层专家服务助手",
        rate_limit_global: float | None = None,
        rate_limit_per_chat: float | None = None,
        default_timeout: float = DEFAULT_TIMEOUT,
        first_update_id: int = 1,
    ):
        self.token = token
        self.bot_user = {
            "id": _bot_id(token),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.default_timeout = default_timeout

        # What the bot did.
        self.calls: list[Call] = []
        self.sent: list[SentMessage] = []
        self.answered_callbacks: list[AnsweredCallback] = []
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.menu_buttons: dict[int | None, dict] = {}
        self.webhook_url = ""
        self.too_many_requests = 0
        # Methods this server refuses, as some Bot API implementations do: name -> description.
        self.refusals: dict[str, str] = {}
        # Seconds to stall before answering a method: a slow server, or a bot caught mid-handler.
        self.delays: dict[str, float] = {}
        # Chats whose user blocked the bot: messages to them answer 403.
        self.blocked_chats: set[int] = set()

        # Telegram's side of the conversation.
        self._updates: list[dict] = []  # not yet confirmed by getUpdates' offset
        self._next_update_id = first_update_id
        self.injected_at: dict[int, float] = {}  # update_id -> time.monotonic() when queued
        self._delivered_through = 0  # highest update_id handed out by getUpdates
        self._users: dict[int, dict] = {}
        self._messages: dict[tuple[int, int], dict] = {}  # everything in every chat
        self._sent_by_key: dict[tuple[int, int], SentMessage] = {}
        self._last_message_id: dict[int, int] = {}
        self._callback_queries: set[str] = set()
        self._next_callback_id = 1
        self._next_media_group = 1

        # Server plumbing.
        self._limits = RateLimits(rate_limit_global, rate_limit_per_chat)
        self._changes = _Changes()
        self._poll_generation = 0
        self._in_flight = 0
        self._last_activity = time.monotonic()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._methods = {
            name.lower(): (name, getattr(self, "_api_" + _snake_case(name)))
            for name in BOT_METHODS
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host:port``; port 0 picks a free one (see ``url``)."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        add_control_routes(app, self)
        self._closing = False
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._url = f"http://{bound_host}:{bound_port}"

    async def stop(self) -> None:
        """Answer pending long polls and shut the server down."""
        if self._runner is None:
            return
        self._closing = True
        self._changes.notify()
        await self._stop_delivery()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> BotApiStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Like ``http://127.0.0.1:54321``; the bot's base_url is ``url + "/bot"``."""
        if self._url is None:
            raise RuntimeError("the stand-in is not started")
        return self._url

    # ------------------------------------------------------------------ HTTP

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None:
            return ApiError(404, "Not Found: method not found").response()
        name, handler = entry
        counts_as_activity = name != "getUpdates"  # long polls are the bot idling
        if counts_as_activity:
            self._in_flight += 1
            self._last_activity = time.monotonic()
        try:
            return await self._answer(request, name, handler)
        finally:
            if counts_as_activity:
                self._in_flight -= 1
                self._last_activity = time.monotonic()

    async def _answer(self, request: web.Request, name: str, handler: Callable) -> web.Response:
        try:
            params, uploads = await read_params(request)
        except ApiError as error:
            return error.response()
        call = Call(len(self.calls), name, params, uploads)
        self.calls.append(call)
        if self.delays.get(name):
            await asyncio.sleep(self.delays[name])
        try:
            if name in self.refusals:
                raise ApiError(400, self.refusals[name])
            self._check_flood(call)
            self._check_blocked(call)
            result = handler(call)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as error:
            call.error = error.description
            return error.response()
        except Exception as error:  # a gap in the stand-in, not in the bot: say so loudly
            _LOGGER.exception("stand-in failed to answer %s", name)
            call.error = f"stand-in error: {error!r}"
            return ApiError(500, f"Internal Server Error: stand-in error {error!r}").response()
        finally:
            self._changes.notify()
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        path = request.match_info["path"]
        for file in self.files.values():
            if file.file_path == path:
                content_type = file.mime_type or "application/octet-stream"
                return web.Response(body=file.content, content_type=content_type)
        return ApiError(404, "Not Found").response()

    def _check_flood(self, call: Call) -> None:
        if call.method not in RATE_LIMITED_METHODS:
            return
        retry_after = self._limits.retry_after(chat_id_of(call.params))
        if retry_after:
            self.too_many_requests += 1
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )

    def _check_blocked(self, call: Call) -> None:
        if call.method in RATE_LIMITED_METHODS and chat_id_of(call.params) in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    # ------------------------------------------------------------------ shared by both sides

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def store_file(
        self,
        kind: str,
        content: bytes,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        """Keep ``content`` as a downloadable file of ``kind`` (photo, voice, ...)."""
        number = len(self.files) + 1
        suffix = Path(file_name).suffix if file_name else ""
        suffix = suffix or objects.FILE_SUFFIXES.get(kind, "")
        if mime_type == "application/octet-stream":
            mime_type = None  # python-telegram-bot's guess for raw bytes
        file = StoredFile(
            file_id=f"standin-{kind}-{number}",
            file_unique_id=f"standin-u{number}",
            file_path=f"{objects.MEDIA_FOLDERS[kind]}/file_{number}{suffix}",
            content=content,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[file.file_id] = file
        return file

    # ------------------------------------------------------------------ looking and waiting

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        return len(self._updates)

    def mark(self) -> int:
        """A marker for ``after=``: only what the bot does from now on counts."""
        return len(self.calls)

    def current(self, message: SentMessage) -> SentMessage:
        """The message as it is now (records are updated in place: the same one)."""
        return self._sent_by_key.get((message.chat_id, message.message_id), message)

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return [sent for sent in self.sent if sent.chat_id == chat_id]

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def my_commands(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        """The commands the bot set for ``scope`` (default scope) and language."""
        return self.commands.get(
            commands_key({"scope": scope, "language_code": language_code}), []
        )

    async def wait_for_message(
        self,
        chat_id: int,
        contains: str | None = None,
        *,
        after: int | SentMessage | None = None,
        timeout: float | None = None,
    ) -> SentMessage:
        """The first message sent to ``chat_id`` after ``after`` whose text has ``contains``."""
        start = _start_seq(after)

        def found() -> SentMessage | None:
            for sent in self.sent:
                if sent.seq >= start and sent.chat_id == chat_id and _has(sent.text, contains):
                    return sent
            return None

        what = f"a message to {chat_id}" + (f" containing {contains!r}" if contains else "")
        return await self._wait(found, what, timeout)

    async def wait_for_edit(
        self,
        target: int | SentMessage,
        contains: str | None = None,
        *,
        after: int | SentMessage | None = None,
        timeout: float | None = None,
    ) -> SentMessage:
        """A message (``target``, or any in chat ``target``) edited to a text with ``contains``."""
        start = _start_seq(after)

        def found() -> SentMessage | None:
            candidates = [target] if isinstance(target, SentMessage) else self.messages_to(target)
            for sent in candidates:
                if any(e.seq >= start and _has(e.text, contains) for e in sent.edits):
                    return sent
            return None

        where = target.describe() if isinstance(target, SentMessage) else f"chat {target}"
        what = f"an edit of {where}" + (f" containing {contains!r}" if contains else "")
        return await self._wait(found, what, timeout)

    async def wait_idle(self, quiet: float = 0.2, timeout: float | None = None) -> None:
        """Until the bot fetched every update and made no request for ``quiet`` s."""

        def idle() -> bool:
            return (
                not self._undelivered()
                and self._in_flight == 0
                and time.monotonic() - self._last_activity >= quiet
            )

        timeout = timeout or self.default_timeout
        try:
            async with asyncio.timeout(timeout):
                while not idle():
                    await asyncio.sleep(quiet / 4)
        except TimeoutError:
            raise AssertionError(
                f"the bot was not idle within {timeout}s: {self._undelivered()} updates never "
                f"fetched (is it polling?), {self._in_flight} requests in flight"
            ) from None

    def describe_sent(self, last: int = 30) -> str:
        """What the bot sent (and which calls failed), for assertion messages."""
        lines = [sent.describe() for sent in self.sent[-last:]] or ["(no messages)"]
        failed = [c for c in self.calls if c.error][-last:]
        lines += [f"#{c.seq} {c.method} failed: {c.error}" for c in failed]
        return "\n".join(lines)

    async def _wait(
        self, found: Callable[[], T | None], what: str, timeout: float | None
    ) -> T:
        timeout = timeout or self.default_timeout
        result = await self._changes.wait_until(found, timeout, on_timeout=None)
        if result is None:
            raise AssertionError(
                f"no {what} within {timeout}s; sent so far:\n{self.describe_sent()}"
            )
        return result

    def _undelivered(self) -> int:
        return sum(1 for u in self._updates if u["update_id"] > self._delivered_through)


class _Changes:
    """Wakes every waiter whenever the stand-in's state changes.

    ``notify`` is synchronous so the user side (plain methods) can call it.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(
        self, predicate: Callable[[], T], timeout: float, *, on_timeout: T
    ) -> T:
        """``predicate()`` once truthy, or ``on_timeout`` after ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event = self._event
                    result = predicate()
                    if result:
                        return result
                    await event.wait()
        except TimeoutError:
            return on_timeout


def _start_seq(after: int | SentMessage | None) -> int:
    if after is None:
        return 0
    if isinstance(after, SentMessage):
        return after.seq + 1
    return after


def _has(text: str | None, contains: str | None) -> bool:
    return contains is None or (text is not None and contains in text)


def _bot_id(token: str) -> int:
    prefix = token.split(":", 1)[0]
    return int(prefix) if prefix.isdigit() else 1


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
