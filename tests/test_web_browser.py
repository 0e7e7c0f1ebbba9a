"""The web chat in a real browser (Debian's Chromium, headless, driven by Playwright): a farmer on
a 360×640 phone signs in with the code, asks, submits and gets a tracking number; the leader and
the expert work in Telegram; the expert's answer appears in the open page without a reload; the
farmer says 已解决 and rates. The same on a desktop window. Screenshots go to docs/screenshots."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services.people import EXPERT as EXPERT_ROLE
from bot.services.people import ensure_person, grant_role
from bot.telegram.common import account_of
from storage.models import Demand, Expert
from tests.factories import make_team
from tests.telegram_world import running_bot
from tests.web_world import web_chat

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
LEADER, EXPERT = 2001, 3001
PHONE = "13900000001"
QUESTION = "水稻叶子发黄有褐色斑点"

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason="needs Debian's Chromium at /usr/bin/chromium (.ci/run installs it)")

PHONE_VIEW = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 2}
DESKTOP_VIEW = {"viewport": {"width": 1280, "height": 800}}


async def rice_team(world) -> None:
    world.api.user(LEADER, first_name="李团长")
    world.api.user(EXPERT, first_name="张专家")
    team = await make_team(world.sessions, "水稻植保服务团", ["plant_protection", "crop"], ["430000"],
                           leader_telegram_id=LEADER, leader_name="李团长")
    async with world.sessions.begin() as session:
        person = await ensure_person(session, account_of(EXPERT), "张专家")
        grant_role(person, EXPERT_ROLE)
        await session.flush()
        session.add(Expert(name="张专家", title="研究员", fields=["plant_protection"], specialties="稻瘟病防治",
                           regions=["430100"], team_id=team.id, person_id=person.id))


async def bot_bubble(page, words: str, timeout: float = 10_000):
    locator = page.locator(".msg.bot", has_text=words).last
    await locator.wait_for(timeout=timeout)
    return locator


@pytest.mark.parametrize("view", ["phone", "desktop"])
async def test_the_farmer_flow_in_a_real_browser(view, db_url, understander, clock, tmp_path):
    from playwright.async_api import async_playwright

    async with running_bot(db_url, understander, clock) as world:
        await rice_team(world)
        api = world.api
        async with web_chat(db_url, understander, clock, tmp_path, services=world.services) as web, \
                async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM)
            context = await browser.new_context(**(PHONE_VIEW if view == "phone" else DESKTOP_VIEW), locale="zh-CN")
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(web.base)

            await page.fill("#phone", PHONE)
            await page.click("#send-code")
            await page.wait_for_function("document.querySelector('#send-code').disabled")
            await page.fill("#code", await code_sent(web))
            await page.click("#login")
            await page.locator("#text").wait_for()
            await page.fill("#text", QUESTION)
            await page.click("#send")
            confirm = await bot_bubble(page, "植物保护")
            if view == "phone":
                SHOTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(SHOTS / "web-phone-confirm.png"))
            await confirm.locator("button.choice", has_text="提交").click()
            await bot_bubble(page, "XQ")

            card = await api.wait_for_message(LEADER, "新需求")
            api.press(LEADER, card, "接单")
            await bot_bubble(page, "接单")
            await api.wait_idle()
            api.press(LEADER, api.current(card), "派专家")
            api.press(LEADER, await api.wait_for_message(LEADER, "按匹配程度排序"), "张专家")
            brief = await api.wait_for_message(EXPERT, "派给您的需求")
            api.press(EXPERT, brief, "回复农户")
            await api.wait_for_message(EXPERT, "请发给农户的内容")
            started = time.monotonic()
            api.send_text(EXPERT, "是稻瘟病，用三环唑按说明兑水喷雾。")
            await bot_bubble(page, "三环唑", timeout=2_000)  # no reload: the event stream brings it
            seen_after = time.monotonic() - started

            api.press(EXPERT, brief, "办结")
            api.press(EXPERT, await api.wait_for_message(EXPERT, "哪种方式服务"), "线上服务")
            await api.wait_for_message(EXPERT, "服务记录")
            api.send_text(EXPERT, "1 线上指导用药")
            ask = await bot_bubble(page, "问题解决了吗")
            await ask.locator("button.choice", has_text="已解决").click()
            stars = await bot_bubble(page, "打个分")
            await stars.locator("button.choice", has_text="5星").click()
            await bot_bubble(page, "谢谢您的评价（5星）")
            if view == "phone":
                await page.screenshot(path=str(SHOTS / "web-phone-answered.png"))
            for _ in range(50):
                async with world.sessions() as session:
                    demand = await session.scalar(select(Demand))
                if demand.rating == 5:
                    break
                await asyncio.sleep(0.1)
            assert demand.solved and demand.rating == 5
            assert seen_after < 2.0
            assert not errors
            await browser.close()


async def code_sent(web) -> str:
    """The SMS code, once the server has sent it (the button greys out before the answer)."""
    for _ in range(100):
        if PHONE in web.sms.last:
            return web.sms.last[PHONE]
        await asyncio.sleep(0.05)
    raise AssertionError("no SMS code was sent")


async def test_html_in_a_message_is_shown_as_text(db_url, understander, clock, tmp_path):
    from playwright.async_api import async_playwright

    async with web_chat(db_url, understander, clock, tmp_path) as web, async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM)
        page = await browser.new_page(**PHONE_VIEW)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        await page.goto(web.base)
        await page.fill("#phone", PHONE)
        await page.click("#send-code")
        await page.wait_for_function("document.querySelector('#send-code').disabled")
        await page.fill("#code", await code_sent(web))
        await page.click("#login")
        await page.locator("#text").wait_for()
        attack = '<img src=x onerror="alert(1)"><script>alert(2)</script>水稻叶子发黄'
        await page.fill("#text", attack)
        await page.click("#send")
        mine = page.locator(".msg.me", has_text="<script>").last
        await mine.wait_for()
        assert "<img src=x" in await mine.inner_text()
        await page.locator(".msg.bot").last.wait_for()
        assert await page.locator("#messages img[src='x']").count() == 0
        assert await page.locator("#messages script").count() == 0
        assert dialogs == []
        await browser.close()
