"""The staff console in a real browser (Debian's Chromium, headless): sign in by the link, see a
dashboard that matches the database, filter to one county, open a demand's timeline, upload an
experts file with one bad row and see the row named, send a notice and watch it reach 100 %."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import CHINA_TIME
from bot.memory import MemoryChat
from bot.services import console_access
from bot.services.directory import EXPERT_HEADERS, add_staff
from bot.services.people import Account
from tests.test_console import LIUYANG, seed, subscribers
from tests.web_world import web_chat

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason="needs Debian's Chromium at /usr/bin/chromium (.ci/run installs it)")


async def test_staff_work_through_the_console(db_url, understander, clock, tmp_path):
    from playwright.async_api import async_playwright, expect

    async with web_chat(db_url, understander, clock, tmp_path) as world, async_playwright() as p:
        ids = await seed(world.services, clock)
        staff = (await add_staff(world.services.sessions, Account("memory", "4001"), "省厅王干事")).id
        await subscribers(world.services, LIUYANG, 2)
        browser = await p.chromium.launch(executable_path=CHROMIUM)
        page = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        token = await console_access.issue_link(world.services.sessions, staff, clock())
        await page.goto(f"{world.base}/console/login?token={token}")
        await page.click("#enter")
        assert await page.inner_text("#total") == "6" and await page.inner_text("#open") == "4"
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / "console-dashboard.png"), full_page=True)
        await page.select_option("#region", LIUYANG)
        await page.click("#filters button[type=submit]")
        await page.wait_for_url("**region=430181**")
        assert await page.inner_text("#total") == "3"

        await page.click("text=需求")
        await page.click(f"a[href='/console/demands/{ids[f'{LIUYANG}:1']}']")
        assert "种子数据" in await page.inner_text("#timeline")

        good = ["张三", "研究员", "示例农业科学研究院", "crop", "水稻", "长沙市", "", "", ""]
        bad = ["李四", "研究员", "示例农业大学", "不存在的领域", "水稻", "长沙市", "", "", ""]
        experts = tmp_path / "experts.csv"
        experts.write_text("\n".join(",".join(row) for row in (EXPERT_HEADERS, good, bad)), "utf-8-sig")
        await page.goto(f"{world.base}/console/directory")
        await page.set_input_files("#file", str(experts))
        await page.click("#check")
        assert "第 3 行" in await page.inner_text("#errors")

        await page.goto(f"{world.base}/console/notices")
        when = (clock() + timedelta(days=3)).astimezone(CHINA_TIME).strftime("%Y-%m-%dT09:00")
        await page.fill("#title", "水稻病虫害绿色防控")
        await page.fill("#content", "稻瘟病识别与防治")
        await page.fill("#place", "浏阳市农业农村局")
        await page.fill("#starts_at", when)
        await page.check(f"input[name=region][value='{LIUYANG}']")
        await page.click("#count")
        assert await page.inner_text("#recipients") == "2"
        await page.click("#send")
        await page.locator("#progress").wait_for()
        delivering = asyncio.create_task(MemoryChat(world.services).settle())
        await expect(page.locator("#percent")).to_have_text("100", timeout=10_000)  # live, no reload
        await delivering
        assert await page.inner_text("#sent") == "2"
        assert not errors
        await browser.close()
