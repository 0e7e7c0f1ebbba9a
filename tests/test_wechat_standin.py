"""WeChat's pushes, played by the stand-in and read by bot/wechat/push.py in a tiny callback app."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply

from bot.standin.wechat import WeChatStandIn
from bot.wechat.push import BadPush, Push, read_push, verify, verify_url

TOKEN, APPID, SECRET = "jiceng-token", "wx0123456789abcdef", "jiceng-secret"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # EncodingAESKey: 43 characters
FARMER = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


class CallbackApp:
    """The app's WeChat URL in miniature: reads each push with push.py, answers ``answer``,
    refuses bad pushes with 403 and stalls the first ``stall`` requests for ``stall_for`` s."""

    def __init__(self, key: str | None = None) -> None:
        self.key = key
        self.pushes: list[Push] = []
        self.refused: list[BadPush] = []
        self.raw: list[tuple[dict[str, str], bytes]] = []
        self.answer: Callable[[Push], bytes] = lambda push: b"success"
        self.stall, self.stall_for = 0, 0.0

    async def handle(self, request: web.Request) -> web.Response:
        query, body = dict(request.query), await request.read()
        self.raw.append((query, body))
        if request.method == "GET":
            echostr = verify_url(query, TOKEN, self.key, APPID)
            return web.Response(text=echostr) if echostr else web.Response(status=403)
        try:
            push = read_push(body, query, TOKEN, APPID, self.key)
        except BadPush as error:
            self.refused.append(error)
            return web.Response(status=403)
        self.pushes.append(push)
        if len(self.raw) <= self.stall:
            await asyncio.sleep(self.stall_for)
        return web.Response(body=self.answer(push))


@asynccontextmanager
async def serve(handler) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/wechat", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/wechat"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def world(key: str | None = None) -> AsyncIterator[tuple[WeChatStandIn, CallbackApp]]:
    app = CallbackApp(key)
    async with serve(app.handle) as url:
        async with WeChatStandIn(TOKEN, APPID, SECRET, key, url, answer_timeout=0.2) as wx:
            yield wx, app



# ---------------------------------------------------------------------- messages


@pytest.mark.parametrize("key", [None, AES_KEY], ids=["明文模式", "安全模式"])
async def test_a_text_push_reads_back_as_plain_values(key):
    async with world(key) as (wx, app):
        delivery = await wx.push_text(FARMER, "水稻叶子发黄]]>怎么办", msg_id=1234567890123456)

    assert delivery.status == 200 and delivery.body == b"success" and not delivery.user_saw_error
    assert delivery.elapsed < 0.2 and len(delivery.attempts) == 1
    [push] = app.pushes
    assert push == Push(
        msg_id=1234567890123456, openid=FARMER, kind="text", text="水稻叶子发黄]]>怎么办", media_id=None,
        pic_url=None, menu_id=None, event=None, event_key=None, created=push.created,
    )  # fmt: skip
    assert push.dedupe_key == "1234567890123456"
    assert abs(push.created - wx.now()) < 5


async def test_in_safe_mode_the_body_carries_only_ciphertext():
    async with world(AES_KEY) as (wx, app):
        await wx.push_text(FARMER, "玉米螟怎么防治")
    [(query, body)] = app.raw
    assert query["encrypt_type"] == "aes" and query["msg_signature"] and query["openid"] == FARMER
    assert b"<Encrypt>" in body and "玉米螟".encode() not in body and b"MsgType" not in body
    assert app.pushes[0].text == "玉米螟怎么防治"


@pytest.mark.parametrize("key", [None, AES_KEY], ids=["明文模式", "安全模式"])
async def test_a_forged_push_is_refused_and_opens_no_window(key):
    async with world(key) as (wx, app):
        delivery = await wx.push_text(FARMER, "假消息", forged=True)
    assert delivery.status == 403 and app.pushes == [] and len(app.refused) == 1
    assert wx.quota_left(FARMER) == 0


async def test_voice_text_is_wechats_recognition_when_it_sent_one():
    async with world() as (wx, app):
        await wx.push_voice(FARMER, "voice-1", "柑橘黄龙病怎么办")
        await wx.push_voice(FARMER, "voice-2", None)
    heard, unheard = app.pushes
    assert (heard.kind, heard.media_id, heard.text) == ("voice", "voice-1", "柑橘黄龙病怎么办")
    assert (unheard.kind, unheard.media_id, unheard.text) == ("voice", "voice-2", "")
    assert heard.msg_id and unheard.msg_id and heard.msg_id != unheard.msg_id


async def test_an_image_push_names_its_media():
    async with world() as (wx, app):
        await wx.push_image(FARMER, "media-42", "http://mmbiz.qpic.cn/leaf.jpg")
    [push] = app.pushes
    assert (push.kind, push.media_id, push.pic_url, push.text) == ("image", "media-42", "http://mmbiz.qpic.cn/leaf.jpg", "")


async def test_a_tap_on_a_menu_item_is_a_menu_push_with_the_items_id():
    async with world(AES_KEY) as (wx, app):
        await wx.push_menu_click(FARMER, "101", "满意")
        await wx.push_text(FARMER, "满意")
    tap, typed = app.pushes
    assert (tap.kind, tap.menu_id, tap.text) == ("menu", "101", "满意") and tap.msg_id
    assert (typed.kind, typed.menu_id) == ("text", None)


async def test_events_have_no_msg_id_and_are_told_apart_by_sender_time_and_event():
    async with world() as (wx, app):
        await wx.push_event(FARMER, "subscribe")
        await wx.push_event(FARMER, "CLICK", "ASK_EXPERT")
        await wx.push_event(FARMER, "VIEW", "https://example.org/h5")
        await wx.push_event(FARMER, "unsubscribe")
    kinds = [(p.kind, p.event, p.event_key, p.msg_id) for p in app.pushes]
    assert kinds == [
        ("event", "subscribe", "", None),
        ("event", "click", "ASK_EXPERT", None),
        ("event", "view", "https://example.org/h5", None),
        ("event", "unsubscribe", "", None),
    ]
    assert app.pushes[1].dedupe_key == f"{FARMER}:{app.pushes[1].created}:click:ASK_EXPERT"
    assert len({p.dedupe_key for p in app.pushes}) == 4


# ---------------------------------------------------------------------- delivery


async def test_a_slow_app_gets_the_same_push_again_up_to_three_times():
    async with world() as (wx, app):
        app.stall, app.stall_for = 2, 0.4
        delivery = await wx.push_text(FARMER, "在吗")
    assert [a.status for a in delivery.attempts] == [None, None, 200]
    assert delivery.attempts[0].elapsed >= 0.2 and delivery.answered
    assert len({p.dedupe_key for p in app.pushes}) == 1 and len(app.pushes) == 3
    assert len({q["nonce"] for q, _ in app.raw}) == 3  # each attempt freshly signed


async def test_an_app_that_never_answers_is_given_up_after_three_attempts():
    async with world() as (wx, app):
        app.stall, app.stall_for = 3, 0.4
        delivery = await wx.push_text(FARMER, "在吗")
    assert len(delivery.attempts) == 3 and not delivery.answered and delivery.status is None


async def test_a_replay_brings_the_same_msg_id():
    async with world(AES_KEY) as (wx, app):
        first = await wx.push_text(FARMER, "第一次")
        again = await wx.replay(first)
    assert again.msg_id == first.msg_id and again.replay_of == first.seq
    assert app.pushes[0] == app.pushes[1]


# ---------------------------------------------------------------------- the app's answer


@pytest.mark.parametrize("key", [None, AES_KEY], ids=["明文模式", "安全模式"])
async def test_a_passive_reply_reaches_the_user(key):
    def answer(push: Push) -> bytes:
        xml = TextReply(source="gh_standin0001", target=push.openid, content="已收到您的问题").render()
        if key:
            xml = WeChatCrypto(TOKEN, key, APPID).encrypt_message(xml, "nonce123")
        return xml.encode()

    async with world(key) as (wx, app):
        app.answer = answer
        delivery = await wx.push_text(FARMER, "有人吗")
        sent = await wx.wait_for_message(FARMER, "已收到", timeout=1)
    assert sent.via == "reply" and not delivery.user_saw_error and delivery.reply["Content"] == "已收到您的问题"


async def test_an_unreadable_answer_shows_the_user_wechats_error():
    async with world(AES_KEY) as (wx, app):
        app.answer = lambda push: "<xml><Content>明文</Content></xml>".encode()  # 安全模式 wants it encrypted
        delivery = await wx.push_text(FARMER, "有人吗")
    assert delivery.user_saw_error and wx.sent_to(FARMER) == []


# ---------------------------------------------------------------------- URL check and odd pushes


@pytest.mark.parametrize(("key", "encrypted"), [(None, False), (AES_KEY, False), (AES_KEY, True)])
async def test_the_url_check_echoes_echostr(key, encrypted):
    async with world(key) as (wx, _):
        assert await wx.verify_callback(encrypted=encrypted)


def signed(timestamp: str = "1700000000", nonce: str = "42", token: str = TOKEN) -> dict[str, str]:
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def test_verify_checks_the_signature():
    assert verify(TOKEN, **signed())
    assert not verify(TOKEN, **signed(token="other"))
    assert not verify(TOKEN, None, "1", "2")
    assert verify_url({**signed(token="other"), "echostr": "abc"}, TOKEN, None, APPID) is None
    assert verify_url({**signed(), "echostr": "abc"}, TOKEN, None, APPID) == "abc"


@pytest.mark.parametrize(
    "body",
    [b"not xml", b"<xml></xml>", b"<xml><MsgType>text</MsgType></xml>", "<xml>\xff".encode("latin-1"),
     b"<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content><b>x</b></Content></xml>"],
)  # fmt: skip
def test_malformed_plain_pushes_are_bad(body):
    with pytest.raises(BadPush):
        read_push(body, signed(), TOKEN, APPID, None)


def test_safe_mode_refuses_plain_tampered_or_foreign_pushes():
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    plain = "<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>7</MsgId></xml>"
    query = signed()
    envelope = crypto.encrypt_message(plain, query["nonce"], query["timestamp"])
    fields = xmltodict.parse(envelope)["xml"]
    aes = {**query, "encrypt_type": "aes", "msg_signature": fields["MsgSignature"]}
    body = f"<xml><ToUserName>gh</ToUserName><Encrypt>{fields['Encrypt']}</Encrypt></xml>".encode()
    assert read_push(body, aes, TOKEN, APPID, AES_KEY).text == "hi"

    with pytest.raises(BadPush):  # a plain push to a 安全模式 account
        read_push(plain.encode(), query, TOKEN, APPID, AES_KEY)
    with pytest.raises(BadPush):  # ciphertext changed: msg_signature no longer matches
        read_push(body.replace(b"<Encrypt>", b"<Encrypt>A"), aes, TOKEN, APPID, AES_KEY)
    with pytest.raises(BadPush):  # encrypted for another account
        read_push(body, aes, TOKEN, "wx-someone-else", AES_KEY)


async def test_unicode_escapes_show_literally_as_on_wechat():
    """WeChat shows \\uXXXX as typed: a client must send UTF-8 (what WeChatApi does)."""
    async with world() as (wx, _):
        await wx.push_text(FARMER, "你好")
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{wx.url}/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET}) as r:
                token = (await r.json())["access_token"]
            body = json.dumps({"touser": FARMER, "msgtype": "text", "text": {"content": "你好"}})  # ensure_ascii
            async with session.post(f"{wx.url}/cgi-bin/message/custom/send", params={"access_token": token}, data=body) as r:
                assert (await r.json())["errcode"] == 0
    assert wx.sent_to(FARMER)[0].text == "\\u4f60\\u597d"
