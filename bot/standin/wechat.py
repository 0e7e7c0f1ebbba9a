"""A local stand-in for WeChat's servers, as an Official Account (公众号) app meets them.

Tests run the app's WeChat channel against this server instead of api.weixin.qq.com::

    async with WeChatStandIn(token=TOKEN, appid=APPID, secret=SECRET,
                             callback_url=f"{app_url}/wechat") as wx:
        api = WeChatApi(session, APPID, SECRET, base_url=wx.url)
        delivery = await wx.push_text("o-farmer", "水稻叶子发黄")   # WeChat pushes to the app
        assert delivery.answered
        sent = await wx.wait_for_message("o-farmer", "已收到")       # what the app sent back

It plays both of WeChat's roles:

* **Pushing to the app** (接收普通消息, 接收事件推送): signed XML POSTed to the app's callback
  URL, encrypted in 安全模式 as 消息加解密说明 describes. WeChat waits 5 s for an answer and
  otherwise delivers the same push again, 3 attempts in all; every attempt is recorded in a
  ``Delivery`` (status, body, elapsed). A passive reply in the answer (被动回复用户消息) is read
  back and shown to the user like any other message.
* **Serving the app's API calls** (获取 Access token, 客服消息, 模板消息, 素材管理, 自定义菜单):
  errors are HTTP 200 with ``{"errcode": ..., "errmsg": ...}`` as WeChat sends them.

客服消息 may only be sent while the user's action keeps a window open (发送客服消息, rules of
2023-06): a message from the user allows 5 messages within 48 h, a tap on a CLICK menu item, a
subscription or a QR scan 3 within 1 minute; a new action of the same kind renews its
allowance. Outside any window the answer is 45015, with every allowance used up 45047. A tap
on a ``msgmenu`` item arrives as a text message and counts as one here; one third-party
reading of the rules says WeChat counts it as a menu click instead.

Time is the stand-in's own clock (``now``), moved with ``advance`` to expire tokens and close
windows; ``expire_token`` and ``end_window`` do it directly.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
import xmltodict
from aiohttp import web
from wechatpy.crypto import PrpCrypto, WeChatCrypto

ANSWER_TIMEOUT = 5.0  # 接收普通消息: 微信服务器在五秒内收不到响应会断掉连接，并且重新发起请求
DELIVERY_ATTEMPTS = 3  # 总共重试三次 — read as three attempts in all
TOKEN_LIFETIME = 7200
TOKEN_OVERLAP = 300  # a new token leaves the previous one usable for 5 more minutes
TEXT_LIMIT = 2048  # bytes of a 客服消息 text; more is 45002
MAX_UPLOAD_BYTES = {"image": 10 * 1024 * 1024, "voice": 2 * 1024 * 1024, "video": 10 * 1024 * 1024, "thumb": 64 * 1024}
DEFAULT_TIMEOUT = 5.0

# What each user action allows: (messages, seconds).
ALLOWANCES = {
    "message": (5, 48 * 3600),
    "click": (3, 60),
    "subscribe": (3, 60),
    "scan": (3, 60),
}
EVENT_ALLOWANCE = {"subscribe": "subscribe", "CLICK": "click", "SCAN": "scan"}

CUSTOM_MESSAGE_TYPES = frozenset(
    {"text", "image", "voice", "video", "music", "news", "mpnews", "mpnewsarticle", "msgmenu", "wxcard", "miniprogrampage"}
)

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40004: "invalid media type",
    40007: "invalid media_id",
    40008: "invalid message type",
    40009: "invalid image size",
    40010: "invalid voice size",
    40013: "invalid appid",
    40016: "invalid button size",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    41001: "access_token missing",
    41005: "media data missing",
    42001: "access_token expired",
    43004: "require subscribe",
    44002: "empty post data",
    44004: "empty content",
    45002: "content size out of limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
}

T = TypeVar("T")


# ---------------------------------------------------------------------- records


@dataclass
class Attempt:
    """One POST of a push. ``status`` is None when the app did not answer in time (or at all)."""

    status: int | None
    body: bytes
    elapsed: float
    error: str | None = None


@dataclass
class Delivery:
    """One push from WeChat to the app, with its re-deliveries.

    ``xml`` is the push in plain text (what the app reads after decrypting). ``reply`` is the
    passive reply found in the answer, decoded; ``user_saw_error`` is what WeChat does with an
    answer that is neither empty, ``success`` nor a readable reply: it tells the user
    "该公众号暂时无法提供服务，请稍后再试".
    """

    seq: int
    openid: str
    msg_id: int | None
    xml: str
    forged: bool = False
    replay_of: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    reply: dict | None = None
    user_saw_error: bool = False

    @property
    def answered(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].status is not None

    @property
    def status(self) -> int | None:
        return self.attempts[-1].status if self.attempts else None

    @property
    def body(self) -> bytes:
        return self.attempts[-1].body if self.attempts else b""

    @property
    def elapsed(self) -> float:
        return self.attempts[-1].elapsed if self.attempts else 0.0


@dataclass
class SentMessage:
    """A message the user saw from the app: by 客服消息 (``via="custom"``), 模板消息
    (``"template"``) or a passive reply (``"reply"``). ``text`` is what the chat shows, roughly."""

    seq: int
    openid: str
    msgtype: str
    payload: dict
    text: str
    via: str
    at: float


@dataclass
class Call:
    """One API request the app made, successful or not."""

    seq: int
    path: str
    query: dict[str, str]
    body: Any
    errcode: int = 0


@dataclass
class StoredMedia:
    media_id: str
    content: bytes
    content_type: str
    filename: str = "media"
    kind: str = "image"


@dataclass
class _Allowance:
    left: int
    until: float


@dataclass
class _Token:
    expires_at: float
    superseded_at: float | None = None


class _ApiError(Exception):
    def __init__(self, errcode: int) -> None:
        super().__init__(errcode)
        self.errcode = errcode


# ---------------------------------------------------------------------- the stand-in


class WeChatStandIn:
    """WeChat's servers for one Official Account. See the module docstring."""

    def __init__(
        self,
        token: str = "standin-token",
        appid: str = "wx-standin-appid",
        secret: str = "standin-secret",
        encoding_aes_key: str | None = None,
        callback_url: str | None = None,
        *,
        original_id: str = "gh_standin0001",
        answer_timeout: float = ANSWER_TIMEOUT,
        default_timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.appid = appid
        self.secret = secret
        self.encoding_aes_key = encoding_aes_key
        self.callback_url = callback_url
        self.original_id = original_id
        self.answer_timeout = answer_timeout
        self.default_timeout = default_timeout
        self._clock = clock
        self._offset = 0.0

        # What the app did.
        self.calls: list[Call] = []
        self.sent: list[SentMessage] = []
        self.templates: list[SentMessage] = []
        self.menus: list[dict] = []
        self.refuse_msgtypes: set[str] = set()  # a test can play an account without msgmenu (40008)
        self.media: dict[str, StoredMedia] = {}
        # What WeChat pushed.
        self.deliveries: list[Delivery] = []
        # Set to answer every API call with HTTP 503, as during an outage.
        self.unavailable = False

        self._tokens: dict[str, _Token] = {}
        self._subscribed: dict[str, bool] = {}
        self._allowances: dict[str, dict[str, _Allowance]] = {}
        self._msg_ids = itertools.count(24_000_000_000_000_001)
        self._media_ids = itertools.count(1)
        self._template_ids = itertools.count(2_000_000_001)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._url: str | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=max(MAX_UPLOAD_BYTES.values()) + 64 * 1024)
        routes = {
            ("GET", "/cgi-bin/token"): self._api_token,
            ("POST", "/cgi-bin/message/custom/send"): self._api_custom_send,
            ("POST", "/cgi-bin/message/template/send"): self._api_template_send,
            ("GET", "/cgi-bin/media/get"): self._api_media_get,
            ("POST", "/cgi-bin/media/upload"): self._api_media_upload,
            ("POST", "/cgi-bin/menu/create"): self._api_menu_create,
        }
        for (method, path), handler in routes.items():
            app.router.add_route(method, path, self._wrap(handler))
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._url = f"http://{bound_host}:{bound_port}"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> WeChatStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Like ``http://127.0.0.1:54321``: the app's API base URL."""
        if self._url is None:
            raise RuntimeError("the stand-in is not started")
        return self._url

    # ------------------------------------------------------------------ time

    def now(self) -> float:
        """The stand-in's time (Unix seconds): the real clock moved by ``advance``."""
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def expire_token(self) -> None:
        """Every access_token issued so far expires now (the next call with one gets 42001)."""
        for issued in self._tokens.values():
            issued.expires_at = min(issued.expires_at, self.now())

    def end_window(self, openid: str) -> None:
        """Close every customer-service window of ``openid``, as if 48 h had passed."""
        self._allowances.pop(openid, None)

    def quota_left(self, openid: str) -> int:
        """How many 客服消息 the app may still send to ``openid`` now."""
        now = self.now()
        return sum(a.left for a in self._allowances.get(openid, {}).values() if a.until > now)

    # ------------------------------------------------------------------ WeChat pushes to the app

    async def push_text(self, openid: str, text: str, msg_id: int | None = None, *, forged: bool = False) -> Delivery:
        """The user sends a text message (接收普通消息 · 文本消息)."""
        fields = {"MsgType": "text", "Content": text, "MsgId": msg_id or next(self._msg_ids)}
        return await self._push(openid, fields, "message", forged)

    async def push_image(self, openid: str, media_id: str, pic_url: str, *, forged: bool = False) -> Delivery:
        """The user sends a picture (图片消息); ``media_id`` can be stored with ``store_media``."""
        fields = {"MsgType": "image", "PicUrl": pic_url, "MediaId": media_id, "MsgId": next(self._msg_ids)}
        return await self._push(openid, fields, "message", forged)

    async def push_voice(
        self, openid: str, media_id: str, recognition: str | None = None, *, forged: bool = False
    ) -> Delivery:
        """The user sends a voice message (语音消息). WeChat adds ``Recognition`` (its
        speech-to-text) only when the account turned 语音识别 on."""
        fields: dict[str, str | int] = {"MsgType": "voice", "MediaId": media_id, "Format": "amr"}
        if recognition is not None:
            fields["Recognition"] = recognition
        fields["MsgId"] = next(self._msg_ids)
        return await self._push(openid, fields, "message", forged)

    async def push_menu_click(self, openid: str, menu_id: str, text: str, *, forged: bool = False) -> Delivery:
        """The user taps an item of a ``msgmenu`` 客服消息: WeChat sends the item's text as a
        text message carrying ``bizmsgmenuid`` (客服消息 · 发送菜单消息)."""
        fields = {"MsgType": "text", "Content": text, "MsgId": next(self._msg_ids), "bizmsgmenuid": menu_id}
        return await self._push(openid, fields, "message", forged)

    async def push_event(self, openid: str, event: str, key: str = "", *, forged: bool = False) -> Delivery:
        """An event (接收事件推送): ``subscribe``, ``unsubscribe``, ``CLICK`` (key = the menu
        item's key), ``VIEW`` (key = the URL opened), spelled as WeChat does. Events carry no MsgId."""
        fields: dict[str, str | int] = {"MsgType": "event", "Event": event}
        if event != "unsubscribe":
            fields["EventKey"] = key
        return await self._push(openid, fields, EVENT_ALLOWANCE.get(event), forged)

    async def replay(self, delivery: Delivery) -> Delivery:
        """Push ``delivery``'s message once more on purpose (same MsgId, fresh signature),
        as WeChat may after a lost answer."""
        again = Delivery(len(self.deliveries), delivery.openid, delivery.msg_id, delivery.xml, replay_of=delivery.seq)
        self.deliveries.append(again)
        again.attempts.append(await self._post(again.xml, again.openid, forged=False))
        self._read_answer(again)
        self._notify()
        return again

    async def verify_callback(self, *, encrypted: bool = False) -> bool:
        """WeChat's check when the URL is configured (接入概述): a GET with ``echostr`` that the
        app must echo. 公众号 send it in plain text even in 安全模式; ``encrypted=True`` sends
        it encrypted with ``msg_signature`` (the 企业微信 form)."""
        echostr = secrets.token_hex(8)
        query = self._signed_query(forged=False)
        if encrypted:
            assert self.encoding_aes_key, "encrypted echostr needs an encoding_aes_key"
            cipher = WeChatCrypto(self.token, self.encoding_aes_key, self.appid).key
            sent = PrpCrypto(cipher).encrypt(echostr, self.appid).decode()
            query["msg_signature"] = _sha1(self.token, query["timestamp"], query["nonce"], sent)
        else:
            sent = echostr
        query["echostr"] = sent
        async with self._client.get(self._callback(query), timeout=self._timeout()) as response:
            return response.status == 200 and (await response.text()) == echostr

    async def _push(self, openid: str, fields: dict, allowance: str | None, forged: bool) -> Delivery:
        xml = _xml({"ToUserName": self.original_id, "FromUserName": openid, "CreateTime": int(self.now()), **fields})
        if not forged:  # a forger is not WeChat: nothing happened on WeChat's side
            self._user_acted(openid, allowance, unsubscribed=fields.get("Event") == "unsubscribe")
        msg_id = fields.get("MsgId")
        delivery = Delivery(len(self.deliveries), openid, int(msg_id) if msg_id else None, xml, forged=forged)
        self.deliveries.append(delivery)
        for _ in range(DELIVERY_ATTEMPTS):
            attempt = await self._post(xml, openid, forged)
            delivery.attempts.append(attempt)
            self._notify()
            if attempt.status is not None:
                break
        self._read_answer(delivery)
        self._notify()
        return delivery

    def _user_acted(self, openid: str, allowance: str | None, unsubscribed: bool) -> None:
        if unsubscribed:
            self._subscribed[openid] = False
            self._allowances.pop(openid, None)
            return
        self._subscribed[openid] = True  # a message or event comes from a follower
        if allowance:
            count, seconds = ALLOWANCES[allowance]
            self._allowances.setdefault(openid, {})[allowance] = _Allowance(count, self.now() + seconds)

    async def _post(self, xml: str, openid: str, forged: bool) -> Attempt:
        query = self._signed_query(forged)
        query["openid"] = openid
        body = xml
        if self.encoding_aes_key:
            body, query["msg_signature"] = self._encrypt(xml, query["timestamp"], query["nonce"])
            if forged:
                query["msg_signature"] = _sha1("forger", query["msg_signature"])
            query["encrypt_type"] = "aes"
        started = time.monotonic()
        try:
            async with self._client.post(
                self._callback(query),
                data=body.encode("utf-8"),
                headers={"Content-Type": "text/xml"},
                timeout=self._timeout(),
            ) as response:
                answer = await response.read()
                return Attempt(response.status, answer, time.monotonic() - started)
        except TimeoutError:
            return Attempt(None, b"", time.monotonic() - started, f"no answer within {self.answer_timeout}s")
        except aiohttp.ClientError as error:
            return Attempt(None, b"", time.monotonic() - started, repr(error))

    def _signed_query(self, forged: bool) -> dict[str, str]:
        timestamp, nonce = str(int(self.now())), str(secrets.randbelow(10**10))
        signature = _sha1("forger" if forged else self.token, timestamp, nonce)
        return {"signature": signature, "timestamp": timestamp, "nonce": nonce}

    def _encrypt(self, xml: str, timestamp: str, nonce: str) -> tuple[str, str]:
        """The 安全模式 body: only ToUserName and Encrypt; the signature goes in the query."""
        crypto = WeChatCrypto(self.token, self.encoding_aes_key, self.appid)
        envelope = xmltodict.parse(crypto.encrypt_message(xml, nonce, timestamp))["xml"]
        body = _xml({"ToUserName": self.original_id, "Encrypt": envelope["Encrypt"]})
        return body, envelope["MsgSignature"]

    def _read_answer(self, delivery: Delivery) -> None:
        """Understand the app's answer as WeChat would: empty or ``success`` is silence, XML is a
        passive reply (encrypted in 安全模式), anything else shows the user an error."""
        if not delivery.answered or delivery.forged:
            return
        text = delivery.body.decode("utf-8", "replace").strip()
        if delivery.status != 200:
            delivery.user_saw_error = True
            return
        if text in ("", "success"):
            return
        try:
            reply = xmltodict.parse(text)["xml"]
            if self.encoding_aes_key:
                crypto = WeChatCrypto(self.token, self.encoding_aes_key, self.appid)
                plain = crypto.decrypt_message(text, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])
                reply = xmltodict.parse(plain)["xml"]
            if reply["ToUserName"] != delivery.openid:
                raise ValueError("a reply to someone else")
        except Exception:  # whatever the app wrote, WeChat shows the user an error
            delivery.user_saw_error = True
            return
        delivery.reply = dict(reply)
        kind = reply.get("MsgType", "")
        if kind == "text":
            text = reply.get("Content") or ""
        else:
            text = f"[{kind}]"
        self._record(delivery.openid, kind, dict(reply), text, "reply")

    def _callback(self, query: dict[str, str]) -> str:
        if not self.callback_url:
            raise RuntimeError("set the stand-in's callback_url to the app's WeChat URL first")
        joiner = "&" if "?" in self.callback_url else "?"
        return f"{self.callback_url}{joiner}{urlencode(query)}"

    def _timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.answer_timeout)

    @property
    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the stand-in is not started")
        return self._session

    # ------------------------------------------------------------------ media for tests

    def store_media(self, media_id: str, content: bytes, content_type: str = "image/jpeg") -> StoredMedia:
        """Keep ``content`` downloadable as ``media_id`` (what a user's picture or voice is)."""
        kind = "voice" if content_type.startswith("audio/") else "image"
        media = StoredMedia(media_id, content, content_type, f"{media_id}{_suffix(content_type)}", kind)
        self.media[media_id] = media
        return media

    # ------------------------------------------------------------------ the API

    def _wrap(self, handler: Callable) -> Callable:
        async def serve(request: web.Request) -> web.StreamResponse:
            if self.unavailable:
                return web.Response(status=503, text="Service Unavailable")
            call = Call(len(self.calls), request.path, dict(request.query), None)
            self.calls.append(call)
            try:
                return await handler(request, call)
            except _ApiError as error:
                call.errcode = error.errcode
                return _error(error.errcode)
            finally:
                self._notify()

        return serve

    async def _api_token(self, request: web.Request, call: Call) -> web.Response:
        """获取 Access token: a new token replaces the old one, which stays valid 5 more minutes."""
        query = request.query
        if query.get("grant_type") != "client_credential":
            raise _ApiError(40002)
        if query.get("appid") != self.appid:
            raise _ApiError(40013)
        if query.get("secret") != self.secret:
            raise _ApiError(40125)
        now = self.now()
        for issued in self._tokens.values():
            if issued.superseded_at is None:
                issued.superseded_at = now
        token = secrets.token_urlsafe(96)
        self._tokens[token] = _Token(now + TOKEN_LIFETIME)
        return web.json_response({"access_token": token, "expires_in": TOKEN_LIFETIME})

    @property
    def token_requests(self) -> int:
        """How many times the app asked for an access_token (WeChat allows 2,000 a day)."""
        return sum(1 for c in self.calls if c.path == "/cgi-bin/token")

    def _check_token(self, request: web.Request) -> None:
        token = request.query.get("access_token")
        if not token:
            raise _ApiError(41001)
        issued = self._tokens.get(token)
        now = self.now()
        if issued is None or (issued.superseded_at is not None and now >= issued.superseded_at + TOKEN_OVERLAP):
            raise _ApiError(40001)
        if now >= issued.expires_at:
            raise _ApiError(42001)

    async def _read_json(self, request: web.Request, call: Call) -> dict:
        raw = await request.read()
        if not raw.strip():
            raise _ApiError(44002)
        try:
            # WeChat shows \uXXXX escapes as they are: send UTF-8 (json.dumps(..., ensure_ascii=False)).
            body = json.loads(_keep_unicode_escapes(raw.decode("utf-8")))
        except ValueError:
            raise _ApiError(47001) from None
        if not isinstance(body, dict):
            raise _ApiError(47001)
        call.body = body
        return body

    async def _api_custom_send(self, request: web.Request, call: Call) -> web.Response:
        """客服消息 · 发送消息: text, image, voice, msgmenu (others are recorded as they come)."""
        self._check_token(request)
        body = await self._read_json(request, call)
        openid, msgtype = body.get("touser"), body.get("msgtype")
        if msgtype not in CUSTOM_MESSAGE_TYPES or msgtype in self.refuse_msgtypes \
                or not isinstance(body.get(msgtype), dict):
            raise _ApiError(40008)
        if openid not in self._subscribed:
            raise _ApiError(40003)
        text = self._render_custom(msgtype, body[msgtype])
        self._spend_allowance(openid)
        self._record(openid, msgtype, body, text, "custom")
        return _ok()

    def _render_custom(self, msgtype: str, content: dict) -> str:
        if msgtype == "text":
            text = content.get("content")
            if not isinstance(text, str) or not text:
                raise _ApiError(44004)
            if len(text.encode("utf-8")) > TEXT_LIMIT:
                raise _ApiError(45002)
            return text
        if msgtype in ("image", "voice"):
            if content.get("media_id") not in self.media:
                raise _ApiError(40007)
            return "[图片]" if msgtype == "image" else "[语音]"
        if msgtype == "msgmenu":
            items = content.get("list")
            if not isinstance(items, list) or not items:
                raise _ApiError(47001)
            if not all(isinstance(i, dict) and i.get("id") and i.get("content") for i in items):
                raise _ApiError(47001)
            lines = [content.get("head_content", ""), *(i["content"] for i in items), content.get("tail_content", "")]
            return "\n".join(line for line in lines if line)
        return f"[{msgtype}]"

    def _spend_allowance(self, openid: str) -> None:
        now = self.now()
        live = [a for a in self._allowances.get(openid, {}).values() if a.until > now]
        if not live or not self._subscribed[openid]:
            raise _ApiError(45015)
        usable = [a for a in live if a.left > 0]
        if not usable:
            raise _ApiError(45047)
        min(usable, key=lambda a: a.until).left -= 1

    async def _api_template_send(self, request: web.Request, call: Call) -> web.Response:
        """模板消息 · 发送模板消息: no window, but only to followers (43004 otherwise)."""
        self._check_token(request)
        body = await self._read_json(request, call)
        openid = body.get("touser")
        if openid not in self._subscribed:
            raise _ApiError(40003)
        if not self._subscribed[openid]:
            raise _ApiError(43004)
        if not isinstance(body.get("template_id"), str) or not body["template_id"]:
            raise _ApiError(40037)
        data = body.get("data")
        if not isinstance(data, dict) or not all(isinstance(v, dict) and "value" in v for v in data.values()):
            raise _ApiError(47001)
        msgid = next(self._template_ids)
        text = "\n".join(str(v["value"]) for v in data.values())
        self.templates.append(self._record(openid, "template", body, text, "template"))
        return _ok(msgid=msgid)

    async def _api_media_get(self, request: web.Request, call: Call) -> web.Response:
        """素材管理 · 获取临时素材: the bytes; an error is JSON sent as text/plain."""
        self._check_token(request)
        media = self.media.get(request.query.get("media_id", ""))
        if media is None:
            raise _ApiError(40007)
        return web.Response(
            body=media.content,
            content_type=media.content_type,
            headers={"Content-disposition": f'attachment; filename="{media.filename}"'},
        )

    async def _api_media_upload(self, request: web.Request, call: Call) -> web.Response:
        """素材管理 · 新增临时素材: multipart, the file in the part named ``media``."""
        self._check_token(request)
        kind = request.query.get("type", "")
        if kind not in MAX_UPLOAD_BYTES:
            raise _ApiError(40004)
        part = (await request.post()).get("media")
        if not isinstance(part, web.FileField):
            raise _ApiError(41005)
        content = part.file.read()
        if not content:
            raise _ApiError(41005)
        if len(content) > MAX_UPLOAD_BYTES[kind]:
            raise _ApiError(40010 if kind == "voice" else 40009)
        media_id = f"standin-{kind}-{next(self._media_ids):04d}"
        content_type = part.content_type or "application/octet-stream"
        self.media[media_id] = StoredMedia(media_id, content, content_type, part.filename or "media", kind)
        call.body = {"type": kind, "filename": part.filename, "size": len(content)}
        return web.json_response({"type": kind, "media_id": media_id, "created_at": int(self.now())})

    async def _api_menu_create(self, request: web.Request, call: Call) -> web.Response:
        """自定义菜单 · 创建接口: 1 to 3 top-level buttons."""
        self._check_token(request)
        body = await self._read_json(request, call)
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise _ApiError(40016)
        self.menus.append(body)
        return _ok()

    # ------------------------------------------------------------------ looking and waiting

    def _record(self, openid: str, msgtype: str, payload: dict, text: str, via: str) -> SentMessage:
        sent = SentMessage(len(self.sent), openid, msgtype, payload, text, via, self.now())
        self.sent.append(sent)
        self._notify()
        return sent

    def sent_to(self, openid: str) -> list[SentMessage]:
        """Every message the user saw from the app, oldest first."""
        return [s for s in self.sent if s.openid == openid]

    def mark(self) -> int:
        """A marker for ``after=``: only what the app sends from now on counts."""
        return len(self.sent)

    async def wait_for_message(
        self, openid: str, contains: str | None = None, timeout: float | None = None, *, after: int = 0
    ) -> SentMessage:
        """The first message to ``openid`` (from ``after`` on) whose text has ``contains``."""

        def found() -> SentMessage | None:
            for sent in self.sent[after:]:
                if sent.openid == openid and (contains is None or contains in sent.text):
                    return sent
            return None

        what = f"a message to {openid}" + (f" containing {contains!r}" if contains else "")
        return await self._wait(found, what, timeout)

    async def wait_for_delivery(self, seq: int = 0, timeout: float | None = None) -> Delivery:
        """The push number ``seq`` once the app answered it or WeChat gave up (for pushes
        started with ``asyncio.create_task``)."""

        def found() -> Delivery | None:
            if seq < len(self.deliveries):
                delivery = self.deliveries[seq]
                if delivery.answered or len(delivery.attempts) >= DELIVERY_ATTEMPTS:
                    return delivery
            return None

        return await self._wait(found, f"push #{seq} answered", timeout)

    def describe_sent(self, last: int = 30) -> str:
        lines = [f"#{s.seq} {s.via} {s.msgtype} → {s.openid}: {s.text!r}" for s in self.sent[-last:]]
        failed = [f"#{c.seq} {c.path} errcode {c.errcode}" for c in self.calls if c.errcode][-last:]
        return "\n".join(lines + failed) or "(nothing)"

    async def _wait(self, found: Callable[[], T | None], what: str, timeout: float | None) -> T:
        timeout = timeout or self.default_timeout
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self._changed
                    result = found()
                    if result is not None:
                        return result
                    await changed.wait()
        except TimeoutError:
            raise AssertionError(f"no {what} within {timeout}s; so far:\n{self.describe_sent()}") from None

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


# ---------------------------------------------------------------------- helpers


def _sha1(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the parts sorted and joined (消息加解密说明)."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def _xml(fields: dict[str, str | int]) -> str:
    """A push as WeChat writes it: numbers bare, text in CDATA."""
    lines = []
    for name, value in fields.items():
        shown = str(value) if isinstance(value, int) else _cdata(value)
        lines.append(f"<{name}>{shown}</{name}>")
    return "<xml>" + "".join(lines) + "</xml>"


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _keep_unicode_escapes(text: str) -> str:
    r"""Turn each JSON ``\uXXXX`` escape into literal text, as WeChat displays it."""
    return re.sub(r"(?<!\\)((?:\\\\)*)\\u", r"\1\\\\u", text)


def _error(errcode: int) -> web.Response:
    errmsg = f"{ERRMSG.get(errcode, 'error')} rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}"
    return web.json_response({"errcode": errcode, "errmsg": errmsg})


def _ok(**extra: Any) -> web.Response:
    return web.json_response({"errcode": 0, "errmsg": "ok", **extra})


def _suffix(content_type: str) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "audio/amr": ".amr", "audio/mpeg": ".mp3"}.get(content_type, "")
