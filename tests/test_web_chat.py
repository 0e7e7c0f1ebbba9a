"""The web chat over HTTP, as a phone's browser uses it: sign in with an SMS code, ask, submit,
and follow the loop live — a leader accepts and an expert answers, each from their own browser,
and the farmer's event stream brings the answer. Refusals are polite and change nothing."""

from __future__ import annotations

import asyncio
import io
import time

import aiohttp
from sqlalchemy import func, select

from bot.services.people import LEADER, Account, ensure_person, grant_role
from storage.models import Demand, Expert, ServiceTeam, SmsCode
from tests.web_world import read_events, web_chat

FARMER, LEADER_PHONE, EXPERT_PHONE = "13900000001", "13900000002", "13900000003"
QUESTION = "水稻叶子发黄有褐色斑点"


def photo_form(data: bytes, caption: str = "") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("photo", io.BytesIO(data), filename="photo.jpg", content_type="image/jpeg")
    form.add_field("caption", caption)
    return form


async def rice_team(services) -> None:
    """A rice team whose leader signs in on the web, with an imported expert known by phone."""
    async with services.sessions.begin() as session:
        leader = await ensure_person(session, Account("web", LEADER_PHONE), "李团长")
        grant_role(leader, LEADER)
        await session.flush()
        team = ServiceTeam(name="水稻植保服务团", fields=["plant_protection", "crop"], regions=["430000"],
                           leader_id=leader.id)
        session.add(team)
        await session.flush()
        session.add(Expert(name="张专家", title="研究员", fields=["plant_protection"], specialties="稻瘟病防治",
                           regions=["430100"], team_id=team.id, phone=EXPERT_PHONE))


async def test_the_loop_in_three_browsers(db_url, understander, clock, tmp_path):
    async with web_chat(db_url, understander, clock, tmp_path) as world:
        await rice_team(world.services)
        farmer, leader, expert = world.user(), world.user(), world.user()
        for user, phone in ((farmer, FARMER), (leader, LEADER_PHONE), (expert, EXPERT_PHONE)):
            await user.sign_in(phone)
        assert (await farmer.me())["phone"] == "139****0001"

        assert (await farmer.say(QUESTION))[0] == 202
        await farmer.sees(QUESTION, sender="me")
        confirm = await farmer.sees("提交")
        assert "植物保护" in confirm["text"]
        status, _ = await farmer.presses(confirm, "提交")
        assert status == 200
        submitted = await farmer.sees("XQ")
        assert submitted["id"] == confirm["id"] and submitted["rev"] > confirm["rev"]  # the same message, edited

        card = await leader.sees("新需求")
        await leader.presses(card, "接单")
        await farmer.sees("接单")
        await leader.presses(await leader.sees("接单"), "派专家")
        await leader.presses(await leader.sees("按匹配程度排序"), "张专家")
        brief = await expert.sees("派给您的需求")  # the imported expert joined by signing in with their phone
        await expert.presses(brief, "回复农户")
        await expert.sees("请发给农户的内容")

        await farmer.refresh()
        events = asyncio.create_task(read_events(farmer, 1))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await expert.say("是稻瘟病，用三环唑按说明兑水喷雾。")
        [answer] = await events
        assert "三环唑" in answer["text"] and time.monotonic() - started < 2.0


async def test_sign_in_refusals(db_url, understander, clock, tmp_path):
    async with web_chat(db_url, understander, clock, tmp_path) as world:
        user = world.user()
        await user.me()
        assert (await user.post("/api/login/code", {"phone": FARMER}, csrf=""))[0] == 403  # no CSRF token
        assert (await user.post("/api/login/code", {"phone": FARMER}, csrf="forged"))[0] == 403
        status, body = await user.post("/api/login/code", {"phone": "12345"})
        assert status == 409 and "11 位" in body["error"]
        assert (await user.post("/api/login/code", {"phone": FARMER}))[0] == 200
        status, body = await user.post("/api/login/code", {"phone": FARMER})
        assert status == 409 and "秒后" in body["error"]  # once a minute
        right = world.sms.last[FARMER]
        wrong = "000000" if right != "000000" else "111111"
        for n in range(1, 6):
            status, body = await user.post("/api/login/verify", {"phone": FARMER, "code": wrong})
            assert status == 409
        assert "锁定" in body["error"] and "15 分钟" in body["error"]
        status, body = await user.post("/api/login/verify", {"phone": FARMER, "code": right})
        assert status == 409 and "锁定" in body["error"]  # even the right code, for 15 minutes
        assert not (await user.me())["signed_in"]
        async with world.services.sessions() as session:
            row = await session.get(SmsCode, FARMER)
            assert row.code_hash == "" and right not in (row.code_hash or "")  # only a hash was ever kept
        clock.advance(minutes=16)
        async with world.services.sessions.begin() as session:  # the resend wait has passed too
            (await session.get(SmsCode, FARMER)).sent_at = clock() - __import__("datetime").timedelta(minutes=2)
        assert (await user.post("/api/login/code", {"phone": FARMER}))[0] == 200
        assert (await user.post("/api/login/verify", {"phone": FARMER, "code": world.sms.last[FARMER]}))[0] == 200
        assert (await user.me())["signed_in"]


async def test_bad_input_is_refused_politely_and_loses_nothing(db_url, understander, clock, tmp_path):
    async with web_chat(db_url, understander, clock, tmp_path) as world:
        farmer, other = world.user(), world.user()
        await farmer.sign_in(FARMER)
        await other.sign_in("13900000009")
        async with farmer.http.get(f"{farmer.base}/api/messages") as response:
            assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")

        big = b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024)
        async with farmer.http.post(f"{farmer.base}/api/photo", data=photo_form(big, "大照片"),
                                    headers={"X-CSRF-Token": farmer.csrf}) as response:
            assert response.status == 413 and "太大" in (await response.json())["error"]
        async with farmer.http.post(f"{farmer.base}/api/photo", data=photo_form(b"MZ not an image"),
                                    headers={"X-CSRF-Token": farmer.csrf}) as response:
            assert response.status == 415
        status, body = await farmer.say("   ")
        assert status == 400 and "文字" in body["error"]
        assert (await farmer.post("/api/photo", {"photo": "not a form"}))[0] == 400  # JSON, not a form
        assert (await farmer.say("水稻\ud800发黄"))[0] == 202  # a broken character becomes "?"

        await farmer.say("<script>alert(1)</script>水稻叶子发黄")
        shown = await farmer.sees("<script>", sender="me")
        assert shown["text"].startswith("<script>")  # kept as the person wrote it; the page shows it as text
        confirm = await farmer.sees("提交")
        # A press on data never shown, and on another person's message, change nothing.
        assert (await farmer.post("/api/press", {"message_id": confirm["id"], "data": "ac:1"}))[1]["toast"] == "按钮已失效"
        data = confirm["choices"][0][0]["data"]
        assert (await other.post("/api/press", {"message_id": confirm["id"], "data": data}))[1]["toast"] == "按钮已失效"
        async with world.services.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Demand)) == 0

        async with farmer.http.get(f"{farmer.base}/media/{confirm['id']}") as response:
            assert response.status == 404
        await farmer.post("/api/logout")
        async with farmer.http.get(f"{farmer.base}/api/messages") as response:
            assert response.status == 401


async def test_photos_cross_between_the_web_and_telegram(db_url, understander, clock, tmp_path):
    """A farmer's photo from the browser reaches the expert in Telegram (uploaded from the media
    folder); the expert's photo from Telegram shows in the farmer's page (fetched through getFile)."""
    from tests.telegram_world import running_bot
    from tests.test_web_browser import EXPERT as EXPERT_TG
    from tests.test_web_browser import LEADER as LEADER_TG
    from tests.test_web_browser import rice_team as telegram_rice_team

    async with running_bot(db_url, understander, clock, media_dir=str(tmp_path / "media")) as tg:  # one folder
        await telegram_rice_team(tg)
        api = tg.api
        telegram = {"bot_token": api.token, "api_url": f"{api.url}/bot", "file_api_url": f"{api.url}/file/bot"}
        async with web_chat(db_url, understander, clock, tmp_path, services=tg.services, **telegram) as world:
            farmer = world.user()
            await farmer.sign_in(FARMER)
            await farmer.say(QUESTION)
            await farmer.presses(await farmer.sees("提交"), "提交")
            card = await api.wait_for_message(LEADER_TG, "新需求")
            api.press(LEADER_TG, card, "接单")
            await api.wait_idle()
            api.press(LEADER_TG, api.current(card), "派专家")
            api.press(LEADER_TG, await api.wait_for_message(LEADER_TG, "按匹配程度排序"), "张专家")
            brief = await api.wait_for_message(EXPERT_TG, "派给您的需求")
            api.press(EXPERT_TG, brief, "回复农户")
            await api.wait_for_message(EXPERT_TG, "请发给农户的内容")
            api.send_photo(EXPERT_TG, caption="看这张图，病斑是这样的")
            shown = await farmer.sees("病斑是这样的")
            assert shown["media"] == "photo"
            async with farmer.http.get(f"{farmer.base}{shown['media_url']}") as response:
                assert response.status == 200 and response.content_type == "image/jpeg"
                assert (await response.read()).startswith(b"\xff\xd8\xff")

            jpeg = b"\xff\xd8\xff\xe0" + b"farmer photo" * 10
            async with farmer.http.post(f"{farmer.base}/api/photo", data=photo_form(jpeg, "我家的也是这样"),
                                        headers={"X-CSRF-Token": farmer.csrf}) as response:
                assert response.status == 202
            relayed = await api.wait_for_message(EXPERT_TG, "我家的也是这样")
            assert relayed.method == "sendPhoto"


async def test_forget_on_the_web_deletes_the_transcript_and_the_code(db_url, understander, clock, tmp_path):
    from storage.models import WebMessage

    async with web_chat(db_url, understander, clock, tmp_path) as world:
        farmer = world.user()
        await farmer.sign_in(FARMER)
        await farmer.say("我是王建国，电话13912345678，水稻叶子发黄")
        await farmer.sees("提交")
        await farmer.say("/forget")
        await farmer.presses(await farmer.sees("确定要删除吗"), "确定删除")
        async with world.services.sessions() as session:
            for _ in range(50):
                if not await session.scalar(select(func.count()).select_from(WebMessage)
                                            .where(WebMessage.text.contains("王建国"))):
                    break
                await asyncio.sleep(0.05)
            assert not await session.scalar(select(func.count()).select_from(WebMessage)
                                            .where(WebMessage.text.contains("王建国")))
            assert await session.get(SmsCode, FARMER) is None
        farmer.seen.clear()
        farmer.rev = 0
        assert not [m for m in await farmer.refresh() if "王建国" in m["text"]]
