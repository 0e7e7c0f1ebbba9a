"""bot/wechat/api.py against the WeChat stand-in: token, 客服消息 window and quota, 模板消息,
media and menu, and what happens when WeChat cannot be reached."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from bot.standin.wechat import WeChatStandIn
from bot.wechat.api import OutsideWindow, OverQuota, WeChatApi, WeChatError, WeChatUnavailable
from bot.wechat.push import BadPush, Push, read_push

TOKEN, APPID, SECRET = "jiceng-token", "wx0123456789abcdef", "jiceng-secret"
FARMER = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
HOUR = 3600


class Clock:
    """The client's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    wx: WeChatStandIn
    api: WeChatApi
    clock: Clock
    session: aiohttp.ClientSession
    pushes: list[Push]


@asynccontextmanager
async def serve(handler) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/wechat", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/wechat"
    finally:
        await runner.cleanup()


@pytest.fixture
async def world() -> AsyncIterator[World]:
    pushes: list[Push] = []

    async def callback(request: web.Request) -> web.Response:
        try:
            pushes.append(read_push(await request.read(), request.query, TOKEN, APPID, None))
        except BadPush:
            return web.Response(status=403)
        return web.Response(text="success")

    clock = Clock()
    async with serve(callback) as url, WeChatStandIn(TOKEN, APPID, SECRET, callback_url=url) as wx:
        async with aiohttp.ClientSession() as session:
            yield World(wx, WeChatApi(session, APPID, SECRET, wx.url, clock=clock), clock, session, pushes)


# ---------------------------------------------------------------------- access_token


async def test_the_token_is_fetched_once_and_again_shortly_before_it_expires(world):
    await world.wx.push_text(FARMER, "你好")
    await world.api.send_text(FARMER, "一")
    await world.api.send_text(FARMER, "二")
    assert world.wx.token_requests == 1

    world.clock.now += 7200 - 301
    await world.api.send_text(FARMER, "三")
    assert world.wx.token_requests == 1
    world.clock.now += 2
    await world.api.send_text(FARMER, "四")
    assert world.wx.token_requests == 2
    assert [s.text for s in world.wx.sent_to(FARMER)] == ["一", "二", "三", "四"]


async def test_concurrent_callers_share_one_token_fetch(world):
    tokens = await asyncio.gather(*(world.api.access_token() for _ in range(5)))
    assert len(set(tokens)) == 1 and world.wx.token_requests == 1


async def test_an_expired_token_is_refreshed_once_and_the_call_retried(world):
    await world.wx.push_text(FARMER, "你好")
    await world.api.send_text(FARMER, "一")
    world.wx.expire_token()  # 42001 although the client thinks its token good
    await world.api.send_text(FARMER, "二")
    assert world.wx.token_requests == 2
    assert [c.errcode for c in world.wx.calls if c.errcode] == [42001]
    assert world.wx.sent_to(FARMER)[-1].text == "二"


async def test_a_token_replaced_elsewhere_is_refreshed_after_the_overlap(world):
    await world.wx.push_text(FARMER, "你好")
    await world.api.send_text(FARMER, "一")
    other = WeChatApi(world.session, APPID, SECRET, world.wx.url)  # another process fetches a token
    await other.access_token()
    await world.api.send_text(FARMER, "二")  # the old token still works 5 minutes
    world.wx.advance(301)
    await world.api.send_text(FARMER, "三")
    assert [c.errcode for c in world.wx.calls if c.errcode] == [40001]
    assert world.wx.token_requests == 3


async def test_a_wrong_secret_is_a_wechat_error(world):
    api = WeChatApi(world.session, APPID, "wrong", world.wx.url)
    with pytest.raises(WeChatError) as caught:
        await api.send_text(FARMER, "你好")
    assert caught.value.errcode == 40125 and "invalid appsecret" in caught.value.errmsg


# ---------------------------------------------------------------------- the customer-service window


async def test_messages_go_only_within_48_hours_of_the_users_message(world):
    await world.wx.push_text(FARMER, "你好")
    world.wx.advance(48 * HOUR - 60)
    await world.api.send_text(FARMER, "还在窗口内")
    world.wx.advance(61)
    with pytest.raises(OutsideWindow) as caught:
        await world.api.send_text(FARMER, "超过48小时")
    assert caught.value.errcode == 45015
    await world.wx.push_text(FARMER, "我又来了")
    await world.api.send_text(FARMER, "窗口重新打开")
    world.wx.end_window(FARMER)
    with pytest.raises(OutsideWindow):
        await world.api.send_text(FARMER, "窗口已关")
    assert [s.text for s in world.wx.sent_to(FARMER)] == ["还在窗口内", "窗口重新打开"]


async def test_five_messages_per_user_message_and_a_new_message_renews_them(world):
    await world.wx.push_text(FARMER, "问题")
    for n in range(5):
        await world.api.send_text(FARMER, f"回答{n}")
    with pytest.raises(OverQuota) as caught:
        await world.api.send_text(FARMER, "第六条")
    assert caught.value.errcode == 45047
    await world.wx.push_text(FARMER, "谢谢")
    await world.api.send_text(FARMER, "不客气")
    assert world.wx.quota_left(FARMER) == 4


async def test_a_subscription_allows_three_messages_within_a_minute_and_view_none(world):
    await world.wx.push_event(FARMER, "subscribe")
    await world.wx.push_event(FARMER, "VIEW", "https://example.org")
    assert world.wx.quota_left(FARMER) == 3
    await world.api.send_text(FARMER, "欢迎关注")
    world.wx.advance(61)
    with pytest.raises(OutsideWindow):
        await world.api.send_text(FARMER, "晚了")


async def test_after_unsubscribing_no_message_reaches_the_user(world):
    await world.wx.push_text(FARMER, "你好")
    await world.wx.push_event(FARMER, "unsubscribe")
    with pytest.raises(OutsideWindow):
        await world.api.send_text(FARMER, "再见")
    with pytest.raises(WeChatError) as caught:
        await world.api.send_template(FARMER, "TPL-1", {"thing1": "回访"})
    assert caught.value.errcode == 43004


async def test_too_long_a_text_is_refused(world):
    await world.wx.push_text(FARMER, "你好")
    with pytest.raises(WeChatError) as caught:
        await world.api.send_text(FARMER, "长" * 683)  # 2,049 bytes
    assert caught.value.errcode == 45002
    await world.api.send_text(FARMER, "长" * 682)


async def test_a_menu_is_sent_and_a_tap_comes_back_with_the_items_id(world):
    await world.wx.push_text(FARMER, "服务结束了")
    await world.api.send_menu(FARMER, "您对本次服务满意吗？", [("101", "满意"), ("102", "不满意")], "欢迎再次光临")
    sent = await world.wx.wait_for_message(FARMER, "不满意", timeout=1)
    assert sent.msgtype == "msgmenu"
    assert sent.payload["msgmenu"]["list"] == [{"id": "101", "content": "满意"}, {"id": "102", "content": "不满意"}]
    await world.wx.push_menu_click(FARMER, "101", "满意")
    assert (world.pushes[-1].kind, world.pushes[-1].menu_id) == ("menu", "101")


# ---------------------------------------------------------------------- template, media, menu


async def test_a_template_message_reaches_a_follower_outside_the_window(world):
    await world.wx.push_event(FARMER, "subscribe")
    world.wx.end_window(FARMER)
    msgid = await world.api.send_template(
        FARMER, "TPL-visit", {"thing1": "水稻病虫害", "time2": {"value": "2026-11-28", "color": "#173177"}}, url="https://example.org/d/1"
    )
    [template] = world.wx.templates
    assert msgid > 0 and template.payload["template_id"] == "TPL-visit" and template.payload["url"] == "https://example.org/d/1"
    assert template.payload["data"]["thing1"] == {"value": "水稻病虫害"}
    assert (await world.wx.wait_for_message(FARMER, "水稻病虫害", timeout=1)).via == "template"


async def test_media_round_trip(world):
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    media_id = await world.api.upload_media("image", picture, "leaf.png")
    assert await world.api.download_media(media_id) == (picture, "image/png")

    world.wx.store_media("user-voice-1", b"#!AMR\n" + b"\x00" * 64, "audio/amr")
    assert await world.api.download_media("user-voice-1") == (b"#!AMR\n" + b"\x00" * 64, "audio/amr")

    with pytest.raises(WeChatError) as caught:
        await world.api.download_media("no-such-media")
    assert caught.value.errcode == 40007

    await world.wx.push_text(FARMER, "发张图")
    await world.api.send_image(FARMER, media_id)
    await world.api.send_voice(FARMER, "user-voice-1")
    assert [s.msgtype for s in world.wx.sent_to(FARMER)] == ["image", "voice"]


async def test_an_upload_survives_a_token_refresh(world):
    await world.api.access_token()
    world.wx.expire_token()
    media_id = await world.api.upload_media("voice", b"#!AMR\n1234", "answer.amr")
    assert world.wx.media[media_id].content == b"#!AMR\n1234" and world.wx.token_requests == 2


async def test_create_menu_is_recorded(world):
    menu = {"button": [{"type": "click", "name": "问专家", "key": "ASK"}, {"type": "view", "name": "服务", "url": "https://example.org"}]}
    await world.api.create_menu(menu)
    assert world.wx.menus == [menu]
    with pytest.raises(WeChatError) as caught:
        await world.api.create_menu({"button": []})
    assert caught.value.errcode == 40016


# ---------------------------------------------------------------------- WeChat unreachable


async def test_an_outage_is_transient(world):
    await world.wx.push_text(FARMER, "你好")
    world.wx.unavailable = True
    with pytest.raises(WeChatUnavailable):
        await world.api.send_text(FARMER, "稍后")
    world.wx.unavailable = False
    await world.api.send_text(FARMER, "恢复了")


async def test_no_server_is_transient(world):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = WeChatApi(world.session, APPID, SECRET, f"http://127.0.0.1:{port}", timeout=1)
    with pytest.raises(WeChatUnavailable):
        await api.access_token()
