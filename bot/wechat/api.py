"""The Official Account (公众号) API as the app calls it: token, 客服消息, 模板消息, media, menu.

Every call carries an access_token (获取 Access token): it lives 7,200 s, a new one replaces the
old (which stays usable 5 more minutes), and WeChat allows 2,000 a day, so it is cached and
fetched again shortly before it expires, or once when WeChat says it is no longer good
(40001 not the latest, 42001 expired, 40014 malformed). WeChat answers errors with HTTP 200 and
``{"errcode": ..., "errmsg": ...}`` (全局返回码说明); they become exceptions:

    WeChatError              WeChat refused the call (``.errcode``, ``.errmsg``)
    ├── OutsideWindow        45015: no customer-service window is open for this user (客服消息
    │                        may follow only the user's own action, 48 h after a message) or the
    │                        user unfollowed; a 模板消息 can still reach them
    └── OverQuota            45047: this window's allowance is spent (5 per user message);
                             the user's next message opens a new one
    WeChatUnavailable        no answer: network error, timeout, HTTP 5xx, errcode -1 (系统繁忙);
                             transient, try again later
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
TOKEN_MARGIN = 300.0  # refresh this long before expiry: WeChat keeps the old token 5 min anyway
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
BUSY = -1  # 系统繁忙，此时请开发者稍候再试


class WeChatError(Exception):
    """WeChat answered with a non-zero errcode (or, rarely, a non-JSON HTTP 4xx: its status)."""

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"WeChat errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class OutsideWindow(WeChatError):
    """45015: the user's customer-service window is closed."""


class OverQuota(WeChatError):
    """45047: the messages this window allows are used up until the user acts again."""


class WeChatUnavailable(Exception):
    """WeChat could not be reached or was busy; the same call may succeed later."""


_ERRORS: dict[int, type[WeChatError]] = {45015: OutsideWindow, 45047: OverQuota}


class WeChatApi:
    """The app's client for one Official Account. ``clock`` (monotonic seconds) decides when
    the cached token is due; tests move it instead of waiting two hours."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        appid: str,
        secret: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._appid = appid
        self._secret = secret
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._token: str | None = None
        self._token_due = 0.0
        self._token_lock = asyncio.Lock()

    # ------------------------------------------------------------------ token

    async def access_token(self) -> str:
        """The cached token, fetched anew when it is missing or about to expire."""
        async with self._token_lock:  # concurrent callers share one fetch
            if self._token is None or self._clock() >= self._token_due:
                params = {"grant_type": "client_credential", "appid": self._appid, "secret": self._secret}
                answer = await self._json("GET", "/cgi-bin/token", params)
                _raise_for(answer)
                self._token = str(answer["access_token"])
                self._token_due = self._clock() + float(answer.get("expires_in", 7200)) - TOKEN_MARGIN
            return self._token

    def _forget_token(self, token: str) -> None:
        if self._token == token:
            self._token = None

    # ------------------------------------------------------------------ 客服消息

    async def send_text(self, openid: str, text: str) -> None:
        """客服消息 · 文本 (at most 2,048 bytes of UTF-8)."""
        await self._custom(openid, "text", {"content": text})

    async def send_image(self, openid: str, media_id: str) -> None:
        await self._custom(openid, "image", {"media_id": media_id})

    async def send_voice(self, openid: str, media_id: str) -> None:
        await self._custom(openid, "voice", {"media_id": media_id})

    async def send_menu(self, openid: str, head: str, items: list[tuple[str | int, str]], tail: str = "") -> None:
        """客服消息 · 菜单消息: tappable lines; a tap comes back as a text push carrying
        ``bizmsgmenuid`` = the item's id."""
        menu = {"head_content": head, "list": [{"id": str(i), "content": label} for i, label in items], "tail_content": tail}
        await self._custom(openid, "msgmenu", menu)

    async def _custom(self, openid: str, msgtype: str, content: dict) -> None:
        await self._call("POST", "/cgi-bin/message/custom/send", body={"touser": openid, "msgtype": msgtype, msgtype: content})

    # ------------------------------------------------------------------ 模板消息, media, menu

    async def send_template(self, openid: str, template_id: str, data: dict[str, Any], url: str | None = None) -> int:
        """模板消息 · 发送模板消息; reaches followers outside the 客服消息 window. ``data`` maps
        the template's keys to values, plain (``{"thing1": "水稻"}``) or WeChat's
        ``{"value": ..., "color": ...}``. Returns WeChat's msgid."""
        fields = {k: v if isinstance(v, dict) else {"value": str(v)} for k, v in data.items()}
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": fields}
        if url:
            body["url"] = url
        answer = await self._call("POST", "/cgi-bin/message/template/send", body=body)
        return int(answer.get("msgid", 0))

    async def download_media(self, media_id: str) -> tuple[bytes, str]:
        """素材管理 · 获取临时素材 (kept by WeChat 3 days): the bytes and their content type."""

        async def attempt(token: str) -> dict | tuple[bytes, str]:
            url = self._base_url + "/cgi-bin/media/get"
            params = {"access_token": token, "media_id": media_id}
            status, content_type, raw = await self._request("GET", url, params=params)
            if content_type in ("application/json", "text/plain"):  # WeChat's errors, even with 200
                return _decode(status, raw)
            _check_status(status, raw)
            return raw, content_type

        result = await self._with_token(attempt)
        assert isinstance(result, tuple)
        return result

    async def upload_media(self, kind: str, data: bytes, filename: str) -> str:
        """素材管理 · 新增临时素材: ``kind`` image (≤ 10 MB), voice (≤ 2 MB, amr/mp3), video or
        thumb. Returns the media_id (valid 3 days)."""

        def form() -> aiohttp.FormData:  # a FormData is spent once sent: a retry needs a new one
            built = aiohttp.FormData()
            built.add_field("media", data, filename=filename, content_type=_content_type(filename))
            return built

        answer = await self._call("POST", "/cgi-bin/media/upload", params={"type": kind}, form=form)
        return str(answer["media_id"])

    async def create_menu(self, menu: dict) -> None:
        """自定义菜单 · 创建接口: ``{"button": [...]}``, up to 3 top-level buttons."""
        await self._call("POST", "/cgi-bin/menu/create", body=menu)

    # ------------------------------------------------------------------ plumbing

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict | None = None,
        form: Callable[[], aiohttp.FormData] | None = None,
    ) -> dict:
        """One API call with the token, refreshed and retried once if WeChat refuses it."""

        async def attempt(token: str) -> dict:
            return await self._json(method, path, {**(params or {}), "access_token": token}, body, form)

        result = await self._with_token(attempt)
        assert isinstance(result, dict)
        return result

    async def _with_token(self, attempt: Callable[[str], Awaitable[Any]]) -> Any:
        """``attempt(token)``; once more with a fresh token if WeChat refused this one."""
        token = await self.access_token()
        result = await attempt(token)
        if isinstance(result, dict) and result.get("errcode") in TOKEN_ERRORS:
            self._forget_token(token)
            result = await attempt(await self.access_token())
        if isinstance(result, dict):
            _raise_for(result)
        return result

    async def _json(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: dict | None = None,
        form: Callable[[], aiohttp.FormData] | None = None,
    ) -> dict:
        """WeChat's JSON answer, errcode and all."""
        data: Any = None
        headers = {}
        if body is not None:
            # UTF-8 as is: WeChat shows \uXXXX escapes literally.
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        elif form is not None:
            data = form()
        status, _, raw = await self._request(method, self._base_url + path, params=params, data=data, headers=headers)
        return _decode(status, raw)

    async def _request(self, method: str, url: str, **kwargs: Any) -> tuple[int, str, bytes]:
        try:
            async with self._session.request(method, url, timeout=self._timeout, **kwargs) as response:
                return response.status, response.content_type, await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise WeChatUnavailable(f"{method} {url.split('?')[0]}: {error!r}") from error


def _check_status(status: int, raw: bytes) -> None:
    if status >= 500:
        raise WeChatUnavailable(f"HTTP {status}")
    if status != 200:
        raise WeChatError(status, raw[:200].decode("utf-8", "replace"))


def _decode(status: int, raw: bytes) -> dict:
    """WeChat's JSON answer (its content type varies, so it is not trusted)."""
    _check_status(status, raw)
    try:
        answer = json.loads(raw)
    except ValueError:
        raise WeChatUnavailable(f"unreadable answer: {raw[:200]!r}") from None
    if not isinstance(answer, dict):
        raise WeChatUnavailable(f"unreadable answer: {raw[:200]!r}")
    return answer


def _raise_for(answer: dict) -> None:
    errcode = answer.get("errcode") or 0
    if errcode == 0:
        return
    errmsg = str(answer.get("errmsg", ""))
    if errcode == BUSY:
        raise WeChatUnavailable(f"WeChat busy: {errmsg}")
    raise _ERRORS.get(errcode, WeChatError)(errcode, errmsg)


def _content_type(filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return {
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
        "amr": "audio/amr", "mp3": "audio/mpeg", "mp4": "video/mp4",
    }.get(suffix, "application/octet-stream")  # fmt: skip
