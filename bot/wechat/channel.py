"""The WeChat Official Account as a channel of the conversation (`bot.chat`).

WeChat pushes each user message to our callback URL and re-delivers it (same MsgId) when no
answer comes within 5 seconds. So a push is checked (`push.read_push`: signature, 安全模式),
stored, and answered at once with "success"; a re-delivered or replayed push finds itself stored
and does nothing. The conversation then runs in the background and what it says goes through the
outbox; this process's sender of channel "wechat" delivers it as 客服消息 (customer-service
messages) — buttons become a `msgmenu` the user taps, which comes back as a push with the
button's data.

WeChat allows only a few 客服消息 after each user action (5 within 48 hours of a message). The
window is counted here (`Windows`); a message beyond it is kept (`WeChatHeld`) and sent when the
user writes again, and — when a template is configured — the user gets one template notice that
something is waiting. Photos and voice notes people send are fetched and kept in the media folder,
so experts on Telegram or the web see them too."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from bot.channels import WECHAT
from bot.chat.commands import parse, run_command
from bot.chat.conversation import on_message
from bot.chat.presses import press
from bot.chat.turn import Choices, Content, OutboxTurn
from bot.errors import JicengError
from bot.media import MediaStore, is_local, sniff
from bot.services.effects import effects
from bot.services.outbox import Outgoing
from bot.services.pace import Pace
from bot.services.people import Account
from bot.services.sender import PermanentError, Sender, TransientError, default_holder
from bot.wechat.api import OutsideWindow, OverQuota, WeChatApi, WeChatError, WeChatUnavailable
from bot.wechat.push import BadPush, Push, read_push, verify_url
from bot.wechat.store import Held, Pushes, Windows

if TYPE_CHECKING:
    from bot.app import Services
    from bot.config import Settings

log = logging.getLogger(__name__)

NUMBERED = "回复编号选择："
UNSUPPORTED = "暂时只能看懂文字、照片和语音。请用文字描述您的问题，也可以发照片。"
MAX_TEXT_BYTES = 2000  # 客服消息 text: WeChat refuses more than 2,048 bytes
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
HELD_NOTICE = "您有新的回复，请在公众号里发任意消息查看。"
WELCOME_COMMAND = "start"
MENU_BUTTONS = ("my", "help", "privacy")  # CLICK keys the menu may carry: the commands they run


def menu(h5_url: str) -> dict[str, object]:
    """The Official Account's menu: the web chat (H5) to ask with photos, and two commands."""
    return {"button": [
        {"type": "view", "name": "网页提问", "url": h5_url},
        {"type": "click", "name": "我的问题", "key": "my"},
        {"type": "click", "name": "使用说明", "key": "help"},
    ]}


class WeChatDelivery:
    """The outbox sender's delivery for channel "wechat"."""

    name = WECHAT.name

    def __init__(self, wechat: WeChatChannel) -> None:
        self._wechat = wechat
        self._ids = itertools.count(1)

    async def send(self, address: str, message: Outgoing) -> int:
        wechat = self._wechat
        if not await wechat.windows.spend(address, _now()):
            await wechat.hold(address, message)
            return next(self._ids)
        try:
            await wechat.deliver(address, message)
        except (OutsideWindow, OverQuota):
            await wechat.windows.close(address)
            await wechat.hold(address, message)
        except WeChatUnavailable as error:
            raise TransientError(str(error)) from error
        except WeChatError as error:
            raise PermanentError(f"{error.errcode} {error.errmsg}") from error
        return next(self._ids)


class WeChatChannel:
    def __init__(self, services: Services, settings: Settings, media: MediaStore) -> None:
        self.services = services
        self.settings = settings
        self.media = media
        self.windows = Windows(services.sessions)
        self.pushes = Pushes(services.sessions)
        self.held = Held(services.sessions)
        self.api: WeChatApi | None = None
        self._http: aiohttp.ClientSession | None = None
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sender_task: asyncio.Task[None] | None = None
        self._offered: dict[str, list[str]] = {}  # each user's last choices (this process's memory)

    # -- the callback URL -----------------------------------------------------------------

    def attach(self, app: web.Application, path: str = "/wechat") -> None:
        app.router.add_get(path, self.check_url)
        app.router.add_post(path, self.receive)
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)

    async def check_url(self, request: web.Request) -> web.Response:
        """WeChat's 接入 check when the URL is configured: echo `echostr` if the signature holds."""
        s = self.settings
        echo = verify_url(request.query, s.wechat_token, s.wechat_aes_key or None, s.wechat_appid)
        if echo is None:
            return web.Response(status=403, text="forbidden")
        return web.Response(text=echo)

    async def receive(self, request: web.Request) -> web.Response:
        s = self.settings
        body = await request.read()
        try:
            push = read_push(body, request.query, s.wechat_token, s.wechat_appid, s.wechat_aes_key or None)
        except BadPush as error:
            log.warning("refused a WeChat push: %s", error)
            return web.Response(status=403, text="forbidden")
        if await self.pushes.store(push):
            self._spawn(push.dedupe_key)
        return web.Response(text="success")  # at once: the answer follows as 客服消息

    def _spawn(self, key: str) -> None:
        task = asyncio.create_task(self._handle(key), name=f"wechat:{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- handling a push ------------------------------------------------------------------

    async def _handle(self, key: str) -> None:
        try:
            push = await self.pushes.unhandled(key)
            if push is None:
                return
            async with self._locks[push.openid]:
                if push.kind != "event" or push.event in ("subscribe", "click", "scan"):  # these open a window
                    await self.windows.opened(push.openid, push.kind, _now())
                await self._send_held(push.openid)
                await self._converse(push)
                await self.pushes.handled(key)
        except Exception:
            log.exception("handling WeChat push %s failed; it is handled again at the next start", key)

    async def _converse(self, push: Push) -> None:
        account = Account(WECHAT.name, push.openid)
        person_id = await self.services.people.person_id(account, f"微信用户{push.openid[-4:]}")
        key = f"wx:{push.dedupe_key}"
        if push.kind == "event":
            if push.event == "subscribe":
                await self._run(WeChatTurn(self, account, person_id, key, Content("text")),
                                lambda turn: run_command(turn, WELCOME_COMMAND))
            elif push.event == "click" and push.event_key in MENU_BUTTONS:
                await self._run(WeChatTurn(self, account, person_id, key, Content("text")),
                                lambda turn: run_command(turn, push.event_key or "help"))
            return
        if push.kind == "menu" and push.menu_id:
            await self._run(WeChatTurn(self, account, person_id, key, Content("text"), pressed=True),
                            lambda turn: press(turn, push.menu_id))
            return
        content = await self._content(push)
        if content is None:  # a location, video, link …: say what we can read
            await self._run(WeChatTurn(self, account, person_id, key, Content("text")),
                            lambda turn: turn.say(UNSUPPORTED))
            return
        command = parse(content.text) if content.kind == "text" else None
        chosen = self._numbered_choice(push.openid, content)
        self._offered.pop(push.openid, None)  # one answer per offer
        if chosen is not None:
            await self._run(WeChatTurn(self, account, person_id, key, Content("text"), pressed=True),
                            lambda turn: press(turn, chosen))
        elif command is not None:
            name, args = command
            await self._run(WeChatTurn(self, account, person_id, key, content, args=args),
                            lambda turn: run_command(turn, name))
        else:
            await self._run(WeChatTurn(self, account, person_id, key, content), on_message)

    def _numbered_choice(self, openid: str, content: Content) -> str | None:
        """A bare number answers the choices last offered ("回复编号选择"), as people do in chats."""
        text = content.text.strip().translate(FULL_WIDTH_DIGITS)
        offered = self._offered.get(openid) or []
        if content.kind == "text" and text.isdigit() and 1 <= int(text) <= len(offered):
            return offered[int(text) - 1]
        return None

    async def _content(self, push: Push) -> Content | None:
        if push.kind == "text":
            return Content("text", push.text.strip())
        if push.kind in ("image", "voice") and push.media_id:
            file_ref = await self._fetch(push.media_id)
            if file_ref is None and push.kind == "voice" and push.text:
                return Content("text", push.text.strip())  # the recognised words are enough
            if file_ref is None:
                return Content("text", "")  # the bot asks for words
            kind = "photo" if push.kind == "image" else "voice"
            return Content(kind, push.text.strip(), file_ref)
        return None

    async def _fetch(self, media_id: str) -> str | None:
        assert self.api is not None
        try:
            data, _ = await self.api.download_media(media_id)
        except (WeChatError, WeChatUnavailable) as error:
            log.warning("could not fetch WeChat media: %s", error)
            return None
        kind = sniff(data)
        return self.media.save(data, kind[1]) if kind is not None else None

    async def _run(self, turn: WeChatTurn, handler) -> None:  # type: ignore[no-untyped-def]
        try:
            await handler(turn)
        except JicengError as error:
            await turn.tell(error.user_message)

    # -- delivering -----------------------------------------------------------------------

    async def deliver(self, openid: str, message: Outgoing) -> None:
        assert self.api is not None
        if message.media and message.file_ref:
            data = await self._media_bytes(message.file_ref)
            if data is None:
                raise PermanentError("the photo or voice note is no longer kept")
            kind = "image" if message.media == "photo" else "voice"
            suffix = (sniff(data) or ("", ".jpg"))[1]
            media_id = await self.api.upload_media(kind, data, f"media{suffix}")
            if kind == "image":
                await self.api.send_image(openid, media_id)
            else:
                await self.api.send_voice(openid, media_id)
            for piece in _byte_pieces(message.text) if message.text else []:
                await self.api.send_text(openid, piece)
            return
        items = [(a.data, a.label) for row in message.actions for a in row]
        if not items:
            self._offered.pop(openid, None)
            for piece in _byte_pieces(message.text or " "):
                await self.api.send_text(openid, piece)
            return
        self._offered.pop(openid, None)  # numbers answer only the numbered choices last sent
        try:
            await self.api.send_menu(openid, message.text, items)
        except (OutsideWindow, OverQuota, WeChatUnavailable):
            raise
        except WeChatError as error:  # an account or server without msgmenu: numbered choices
            log.warning("msgmenu refused (%s); sending the choices as numbered text", error.errcode)
            choices = "\n".join(f"{n}. {label}" for n, (_, label) in enumerate(items, 1))
            await self.api.send_text(openid, f"{message.text}\n\n{NUMBERED}\n{choices}")
            self._offered[openid] = [data for data, _ in items]  # a reply "2" presses the second

    async def _media_bytes(self, file_ref: str) -> bytes | None:
        if is_local(file_ref):
            return self.media.read(file_ref)
        from bot.web.remote import telegram_file

        fetched = await telegram_file(self.settings, self.media, file_ref)
        return fetched[0] if fetched else None

    async def hold(self, openid: str, message: Outgoing) -> None:
        first = await self.held.keep(openid, message.body())
        if first and self.settings.wechat_template_id and self.api is not None:
            with contextlib.suppress(WeChatError, WeChatUnavailable):
                await self.api.send_template(openid, self.settings.wechat_template_id,
                                             {"thing1": HELD_NOTICE[:20]})

    async def _send_held(self, openid: str) -> None:
        """What waited for this user goes first, within the new allowance."""
        for held_id, body in await self.held.waiting(openid):
            if not await self.windows.spend(openid, _now()):
                return
            try:
                await self.deliver(openid, Outgoing.from_body(body))
            except (OutsideWindow, OverQuota):
                await self.windows.close(openid)
                return
            except (WeChatError, WeChatUnavailable, PermanentError) as error:
                log.warning("a held WeChat message could not be sent: %s", error)
                return
            await self.held.sent(held_id)

    # -- running --------------------------------------------------------------------------

    async def _start(self, _app: web.Application) -> None:
        s = self.settings
        self._http = aiohttp.ClientSession()
        self.api = WeChatApi(self._http, s.wechat_appid, s.wechat_secret, base_url=s.wechat_api_url)
        # One at a time: a user's messages arrive in order, and the allowance is spent in that order.
        sender = Sender(self.services.sessions, WeChatDelivery(self), pace=Pace(rate=100, per_chat_interval=0),
                        concurrency=1, effects=effects(self.services.outbox), holder=default_holder())
        self.services.outbox.listen(sender.wake)
        self._sender_task = asyncio.create_task(sender.run(stop_when_idle=False, wait_for_lease=True),
                                                name="wechat-outbox-sender")
        for key in await self.pushes.left_over():  # what a stop left unhandled
            self._spawn(key)

    async def _stop(self, _app: web.Application) -> None:
        for task in [*self._tasks, self._sender_task]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._http is not None:
            await self._http.close()



class WeChatTurn(OutboxTurn):
    """A turn on WeChat: WeChat cannot edit a sent message or show a toast, so both become a new
    message."""

    def __init__(self, wechat: WeChatChannel, account: Account, person_id: int, key: str, content: Content, *,
                 args: Sequence[str] = (), pressed: bool = False) -> None:
        super().__init__(wechat.services, account, person_id, key, content, args=args, pressed=pressed)

    async def edit(self, text: str, choices: Choices = ()) -> None:
        await self.say(text, choices)

    async def answer(self, text: str | None = None) -> None:
        pass  # a press's short acknowledgement: WeChat has no toast, and each message spends the allowance

    async def tell(self, text: str) -> None:
        await self.say(text)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _byte_pieces(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """A text in pieces WeChat accepts (its limit is in UTF-8 bytes, and emoji take four)."""
    pieces, current, size = [], [], 0
    for ch in text:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += width
    pieces.append("".join(current))
    return [p for p in pieces if p] or [" "]
