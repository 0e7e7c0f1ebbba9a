"""Reading what WeChat pushes to the app's callback URL, with wechatpy.

WeChat signs every push: ``signature`` = SHA-1 of the sorted token, timestamp and nonce
(接入概述). That proves little in 明文模式, as it does not cover the body; in 安全模式 the body is
AES-encrypted with the EncodingAESKey and ``msg_signature`` also covers the ciphertext
(消息加解密说明), so an app with a key refuses plain pushes. Messages (接收普通消息) carry a
MsgId; events (接收事件推送) do not, and are told apart by sender, time and event. WeChat
delivers again when the app is slow (5 s, 3 attempts), so the same push can arrive twice:
``Push.dedupe_key`` names it.

    BadPush    a push to refuse (HTTP 403): bad signature, undecryptable or malformed XML
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import WeChatException
from wechatpy.utils import WeChatSigner, check_signature

PushKind = Literal["text", "image", "voice", "menu", "event", "other"]

# What can go wrong reading untrusted bytes with wechatpy and xmltodict.
_UNREADABLE = (WeChatException, ValueError, KeyError, TypeError, IndexError, AttributeError, struct.error, ExpatError)


class BadPush(Exception):
    """Not a push from WeChat, or not one we can read."""


@dataclass(frozen=True)
class Push:
    """One push, as plain values.

    ``text`` is the message text; for voice, WeChat's speech recognition (``Recognition``,
    present when the account turned 语音识别 on; else ""); for a tap on a ``msgmenu`` item
    (kind "menu"), the item's text with ``menu_id`` its id. ``event`` is lowercased
    ("subscribe", "unsubscribe", "click", "view"); ``created`` is WeChat's CreateTime.
    """

    msg_id: int | None
    openid: str
    kind: PushKind
    text: str
    media_id: str | None
    pic_url: str | None
    menu_id: str | None
    event: str | None
    event_key: str | None
    created: int

    @property
    def dedupe_key(self) -> str:
        """The same for every delivery of one push: MsgId, or for events sender:time:event."""
        if self.msg_id is not None:
            return str(self.msg_id)
        # Two taps in one second differ by their key (a menu item's key or URL, shortened to fit).
        return f"{self.openid}:{self.created}:{self.event}:{(self.event_key or '')[:40]}"


def verify(token: str, signature: str | None, timestamp: str | None, nonce: str | None) -> bool:
    """Whether ``signature`` is WeChat's for this token, timestamp and nonce."""
    if not (signature and timestamp and nonce):
        return False
    try:
        check_signature(token, signature, timestamp, nonce)
    except WeChatException:
        return False
    return True


def read_push(
    body: bytes,
    query: Mapping[str, str],
    token: str,
    appid: str,
    encoding_aes_key: str | None,
) -> Push:
    """The push in a callback POST (``query`` is the URL's query string), checked and
    decrypted; raises BadPush."""
    timestamp, nonce = query.get("timestamp"), query.get("nonce")
    if not verify(token, query.get("signature"), timestamp, nonce):
        raise BadPush("bad signature")
    encrypted = query.get("encrypt_type") == "aes"
    if encoding_aes_key and not encrypted:
        raise BadPush("a plain push, but this account uses 安全模式")
    if encrypted and not encoding_aes_key:
        raise BadPush("an encrypted push, but no EncodingAESKey is configured")
    crypto = WeChatCrypto(token, encoding_aes_key, appid) if encrypted else None  # a bad key is our bug: raise
    try:
        if crypto is not None:
            xml = crypto.decrypt_message(body, query.get("msg_signature"), timestamp, nonce)
        else:
            xml = body.decode("utf-8")
        return _parse(xml)
    except _UNREADABLE as error:
        raise BadPush(f"unreadable push: {error!r}") from error


def verify_url(
    query: Mapping[str, str],
    token: str,
    encoding_aes_key: str | None,
    appid: str,
) -> str | None:
    """The echostr to answer WeChat's GET when the callback URL is configured, or None to
    refuse. 公众号 send it in plain text (signed like a push) even in 安全模式; an encrypted
    echostr with ``msg_signature`` (the 企业微信 form) is decrypted when a key is configured."""
    echostr = query.get("echostr")
    timestamp, nonce = query.get("timestamp"), query.get("nonce")
    if not echostr:
        return None
    msg_signature = query.get("msg_signature")
    if msg_signature and encoding_aes_key:
        signer = WeChatSigner()
        signer.add_data(token, timestamp or "", nonce or "", echostr)
        if signer.signature != msg_signature:
            return None
        key = WeChatCrypto(token, encoding_aes_key, appid).key
        try:
            return PrpCrypto(key).decrypt(echostr, appid)
        except _UNREADABLE:
            return None
    return echostr if verify(token, query.get("signature"), timestamp, nonce) else None


def _parse(xml: str) -> Push:
    """wechatpy reads the fields it knows; ``bizmsgmenuid`` and whether MsgId is there it does
    not expose, so those come from the XML's own fields."""
    fields = xmltodict.parse(xml)["xml"]
    message = parse_message(xml)
    openid = _text(message.source)
    if not openid or message.time is None:
        raise BadPush("a push without FromUserName or CreateTime")
    common = {"msg_id": int(fields["MsgId"]) if fields.get("MsgId") else None, "openid": openid, "created": message.time}
    kind = _text(fields.get("MsgType")).lower()
    if kind == "text":
        menu_id = _text(fields.get("bizmsgmenuid")) or None
        return _push(common, "menu" if menu_id else "text", text=_text(message.content), menu_id=menu_id)
    if kind == "image":
        return _push(common, "image", media_id=_text(message.media_id), pic_url=_text(message.image))
    if kind == "voice":
        return _push(common, "voice", media_id=_text(message.media_id), text=_text(message.recognition))
    if kind == "event":
        event = _text(fields.get("Event")).lower()
        return _push(common, "event", event=event, event_key=_text(fields.get("EventKey")))
    return _push(common, "other")


_EMPTY = {"text": "", "media_id": None, "pic_url": None, "menu_id": None, "event": None, "event_key": None}


def _push(common: dict, kind: PushKind, **fields: object) -> Push:
    return Push(kind=kind, **{**_EMPTY, **common, **fields})  # type: ignore[arg-type]


def _text(value: object) -> str:
    """A field's text; an element where text belongs (or a repeated one) makes the push malformed."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadPush(f"a push with a malformed field: {value!r}")
    return value
