"""A farmer on the WeChat Official Account, against a stand-in of WeChat's servers: each signed
push is acknowledged at once and answered by 客服消息; buttons arrive as a menu the farmer taps;
a forged push is refused; a replayed one (same MsgId) does nothing twice; beyond WeChat's
5-message allowance messages wait for the farmer's next message."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.services.outbox import ACTION, Outgoing
from bot.services.people import Account
from bot.standin.wechat import WeChatStandIn
from storage.models import Demand, Draft, WeChatHeld
from tests.web_world import web_chat

TOKEN, APPID, SECRET = "jiceng-token", "wx1234567890abcdef", "app-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat gives
FARMER = "o-farmer-0001"
QUESTION = "水稻叶子发黄有褐色斑点"


def wechat_settings(standin: WeChatStandIn) -> dict:
    return {"wechat_appid": APPID, "wechat_secret": SECRET, "wechat_token": TOKEN, "wechat_aes_key": AES_KEY,
            "wechat_api_url": standin.url}


async def menu_with(wx: WeChatStandIn, label: str):
    async with asyncio.timeout(10):
        while True:
            for message in wx.sent_to(FARMER):
                if message.msgtype == "msgmenu" and any(label in i["content"] for i in message.payload["msgmenu"]["list"]):
                    return message
            await asyncio.sleep(0.05)


async def held_becomes(web, n: int) -> bool:
    for _ in range(100):
        if await count(web.services.sessions, WeChatHeld) == n:
            return True
        await asyncio.sleep(0.05)
    return False


async def count(sessions, model) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_a_farmer_asks_and_submits_on_wechat(db_url, understander, clock, tmp_path):
    async with WeChatStandIn(TOKEN, APPID, SECRET, AES_KEY) as wx, \
            web_chat(db_url, understander, clock, tmp_path, **wechat_settings(wx)) as web:
        wx.callback_url = f"{web.base}/wechat"
        assert await wx.verify_callback()

        delivery = await wx.push_text(FARMER, QUESTION)
        assert delivery.status == 200 and delivery.body == b"success" and delivery.elapsed < 5.0
        await wx.wait_for_message(FARMER, "植物保护", timeout=10)
        confirm = await menu_with(wx, "提交")  # the buttons: a menu to tap

        again = await wx.replay(delivery)  # the same MsgId once more
        assert again.status == 200
        forged = await wx.push_text(FARMER, "伪造的消息", forged=True)
        assert forged.status == 403
        await asyncio.sleep(0.5)
        assert await count(web.services.sessions, Draft) == 1

        submit = next(item for item in confirm.payload["msgmenu"]["list"] if "提交" in item["content"])
        await wx.push_menu_click(FARMER, submit["id"], submit["content"])
        await wx.wait_for_message(FARMER, "XQ", timeout=10)
        assert await count(web.services.sessions, Demand) == 1


async def test_beyond_the_allowance_messages_wait_for_the_next_message(db_url, understander, clock, tmp_path):
    async with WeChatStandIn(TOKEN, APPID, SECRET, AES_KEY) as wx, \
            web_chat(db_url, understander, clock, tmp_path, **wechat_settings(wx)) as web:
        wx.callback_url = f"{web.base}/wechat"
        await wx.push_text(FARMER, "/help")
        await wx.wait_for_message(FARMER, "使用说明", timeout=10)
        for n in range(6):  # six more messages for the farmer, one push: five may go
            await web.services.outbox.send(Account("wechat", FARMER), Outgoing(f"通知第{n + 1}条"), ACTION)
        await wx.wait_for_message(FARMER, "通知第4条", timeout=10)
        assert await held_becomes(web, 2)  # 1 answer + 4 sent; 2 wait
        assert not [m for m in wx.sent_to(FARMER) if "通知第5条" in m.text]
        await wx.push_text(FARMER, "好的")
        await wx.wait_for_message(FARMER, "通知第6条", timeout=10)
        assert await held_becomes(web, 0)
        sent = [m.text for m in wx.sent_to(FARMER)]
        assert sent.index("通知第5条") < sent.index("通知第6条")  # in order


async def test_the_menu_links_to_the_web_chat(monkeypatch, capsys):
    from bot.cli import main

    async with WeChatStandIn(TOKEN, APPID, SECRET) as wx:
        for name, value in {"JICENG_WECHAT_APPID": APPID, "JICENG_WECHAT_SECRET": SECRET,
                            "JICENG_WECHAT_API_URL": wx.url}.items():
            monkeypatch.setenv(name, value)
        assert await asyncio.to_thread(main, ["wechat", "menu", "--url", "https://jiceng.example.cn/"]) == 0
        [created] = wx.menus
        assert created["button"][0]["url"] == "https://jiceng.example.cn/"


async def test_a_number_answers_the_choices_when_menus_are_refused(db_url, understander, clock, tmp_path):
    """A server without msgmenu (or a user who types "1"): the choices go as numbered text and a
    bare number presses the button."""
    async with WeChatStandIn(TOKEN, APPID, SECRET, AES_KEY) as wx, \
            web_chat(db_url, understander, clock, tmp_path, **wechat_settings(wx)) as web:
        wx.callback_url = f"{web.base}/wechat"
        wx.refuse_msgtypes = {"msgmenu"}
        await wx.push_text(FARMER, QUESTION)
        numbered = await wx.wait_for_message(FARMER, "回复编号选择", timeout=10)
        number = next(line.split(".")[0] for line in numbered.text.splitlines()
                      if line[:1].isdigit() and "提交" in line)
        await wx.push_text(FARMER, number)
        await wx.wait_for_message(FARMER, "XQ", timeout=10)
        assert await count(web.services.sessions, Demand) == 1


async def test_a_number_answers_only_the_numbered_choices_and_odd_messages_get_a_reply(db_url, understander, clock,
                                                                                      tmp_path):
    """A bare "2" while menus work is an ordinary message (an answer to an expert, say), a click
    does not cut the 48-hour window short, and a location gets a polite answer."""
    async with WeChatStandIn(TOKEN, APPID, SECRET, AES_KEY) as wx, \
            web_chat(db_url, understander, clock, tmp_path, **wechat_settings(wx)) as web:
        wx.callback_url = f"{web.base}/wechat"
        await wx.push_text(FARMER, QUESTION)
        await menu_with(wx, "提交")
        await wx.push_event(FARMER, "VIEW", "https://example.org/h5")  # opening the H5 page from the menu
        async with web.services.sessions() as session:
            from storage.models import WeChatWindow

            window = await session.get(WeChatWindow, FARMER)
        assert window.allowance == 5  # still the message's window
        mark = wx.mark()
        await wx.push_text(FARMER, "2")
        await asyncio.sleep(0.5)
        assert not any("已提交" in m.text or "XQ" in m.text for m in wx.sent_to(FARMER) if m.seq >= mark)
        assert await count(web.services.sessions, Demand) == 0
