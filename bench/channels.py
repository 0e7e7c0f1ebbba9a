"""The web chat and WeChat figures of issue 14, measured from outside over HTTP:

- an expert's answer written in Telegram, until it arrives in the farmer's open web page (its
  Server-Sent Events stream) — target under 2 s; baseline: the same answer relayed to a farmer on
  Telegram, until the Bot API stand-in has it;
- a signed WeChat push (安全模式), until WeChat has its acknowledgement — target under 5 s (WeChat
  re-delivers after 5 s); beside it, until the real answer arrives as 客服消息.

    python -m bench.channels [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from bot.app import Services, build_application, start_polling, stop_polling
from bot.config import Settings
from bot.services.people import EXPERT, LEADER, Account, ensure_person, grant_role
from bot.standin import BotApiStandIn
from bot.standin.wechat import WeChatStandIn
from bot.web import ConsoleSms, build_web
from bot.web.run import start_site
from intents.understand import Understander
from storage.models import Expert, ServiceTeam
from storage.schema import upgrade_async

TOKEN = "123456:BENCH"
LEADER_TG, EXPERT_TG, FARMER_TG = 2001, 3001, 1001
WX = {"token": "bench-token", "appid": "wxbench0000000001", "secret": "bench-secret",
      "aes": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _directory(services: Services, api: BotApiStandIn) -> None:
    api.user(LEADER_TG, first_name="李团长")
    api.user(EXPERT_TG, first_name="张专家")
    async with services.sessions.begin() as session:
        leader = await ensure_person(session, Account("telegram", str(LEADER_TG)), "李团长")
        grant_role(leader, LEADER)
        expert = await ensure_person(session, Account("telegram", str(EXPERT_TG)), "张专家")
        grant_role(expert, EXPERT)
        await session.flush()
        team = ServiceTeam(name="水稻植保服务团", fields=["plant_protection", "crop"], regions=["430000"],
                           leader_id=leader.id)
        session.add(team)
        await session.flush()
        session.add(Expert(name="张专家", title="研究员", fields=["plant_protection"], specialties="稻瘟病",
                           regions=["430100"], team_id=team.id, person_id=expert.id))


async def _assigned(api: BotApiStandIn, ask) -> object:
    """A farmer's demand (asked by `ask`) accepted and assigned; the expert's card."""
    mark = api.mark()
    await ask()
    card = await api.wait_for_message(LEADER_TG, "新需求", after=mark)
    api.press(LEADER_TG, card, "接单")
    await api.wait_idle()
    api.press(LEADER_TG, api.current(card), "派专家")
    api.press(LEADER_TG, await api.wait_for_message(LEADER_TG, "按匹配程度排序", after=mark), "张专家")
    return await api.wait_for_message(EXPERT_TG, "派给您的需求", after=mark)


async def _answer_latency(api: BotApiStandIn, brief, arrived, rounds: int) -> list[float]:
    times = []
    for n in range(rounds):
        mark = api.mark()
        api.press(EXPERT_TG, brief, "回复农户")
        await api.wait_for_message(EXPERT_TG, "请发给农户的内容", after=mark)
        await api.wait_idle()
        words = f"答复第{n}条。"
        started = time.monotonic()
        api.send_text(EXPERT_TG, f"三环唑喷雾，{words}")
        await arrived(words)
        times.append(time.monotonic() - started)
    return times


async def run(rounds: int) -> None:
    understander = Understander()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_async(url)
        async with BotApiStandIn(token=TOKEN, bot_username="bench_bot") as api, \
                WeChatStandIn(WX["token"], WX["appid"], WX["secret"], WX["aes"]) as wx:
            settings = Settings(database_url=url, bot_token=api.token, api_url=f"{api.url}/bot",
                                file_api_url=f"{api.url}/file/bot", poll_timeout=1, media_dir=f"{folder}/media",
                                wechat_appid=WX["appid"], wechat_secret=WX["secret"], wechat_token=WX["token"],
                                wechat_aes_key=WX["aes"], wechat_api_url=wx.url)
            app = build_application(settings, understander=understander)
            await start_polling(app, poll_timeout=1)
            services = app.bot_data["services"]
            await _directory(services, api)
            sms = ConsoleSms(echo=None)
            chat = await build_web(services, settings, sms)
            runner, base = await start_site(chat, "127.0.0.1", 0)
            wx.callback_url = f"{base}/wechat"
            try:
                web_times = await _web(api, base, sms, rounds)
                tg_times = await _telegram(api, rounds)
                ack, answer = await _wechat(wx, rounds)
            finally:
                await runner.cleanup()
                await stop_polling(app)
    print(f"| measure ({rounds} rounds) | p50 (s) | p99 (s) | max (s) | target |")
    print("|---|---|---|---|---|")
    for name, values, target in (
        ("expert's answer (Telegram) → farmer's open web page (SSE)", web_times, "< 2 s"),
        ("baseline: the same answer → a farmer on Telegram", tg_times, "–"),
        ("WeChat push → acknowledgement (success)", ack, "< 5 s"),
        ("WeChat push → the real answer as 客服消息", answer, "–"),
    ):
        print(f"| {name} | {statistics.median(values):.3f} | {_p(values, 0.99):.3f} | {max(values):.3f} | {target} |")


async def _web(api: BotApiStandIn, base: str, sms: ConsoleSms, rounds: int) -> list[float]:
    phone = "13900000001"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async def post(path: str, body: dict, csrf: str) -> dict:
            async with http.post(f"{base}{path}", json=body, headers={"X-CSRF-Token": csrf}) as response:
                return await response.json()

        async with http.get(f"{base}/api/me") as response:
            csrf = (await response.json())["csrf"]
        await post("/api/login/code", {"phone": phone}, csrf)
        await post("/api/login/verify", {"phone": phone, "code": sms.last[phone]}, csrf)
        async with http.get(f"{base}/api/me") as response:
            csrf = (await response.json())["csrf"]
        events: asyncio.Queue[dict] = asyncio.Queue()

        async def follow() -> None:
            async with http.get(f"{base}/api/events") as response:
                async for line in response.content:
                    text = line.decode().strip()
                    if text.startswith("data: "):
                        await events.put(json.loads(text[6:]))

        follower = asyncio.create_task(follow())

        async def bubble(words: str) -> dict:
            while True:
                message = await asyncio.wait_for(events.get(), 10)
                if words in message["text"]:
                    return message

        async def ask() -> None:
            await post("/api/say", {"text": "水稻叶子发黄有褐色斑点"}, csrf)
            confirm = await bubble("提交")
            data = next(c["data"] for row in confirm["choices"] for c in row if "提交" in c["label"])
            await post("/api/press", {"message_id": confirm["id"], "data": data}, csrf)

        brief = await _assigned(api, ask)
        times = await _answer_latency(api, brief, bubble, rounds)
        follower.cancel()
        return times


async def _telegram(api: BotApiStandIn, rounds: int) -> list[float]:
    async def ask() -> None:
        mark = api.mark()
        api.send_text(FARMER_TG, "水稻叶子发黄有褐色斑点，打什么药", first_name="张大哥")
        api.press(FARMER_TG, await api.wait_for_message(FARMER_TG, "提交", after=mark), "提交")

    brief = await _assigned(api, ask)

    async def arrived(words: str) -> None:
        await api.wait_for_message(FARMER_TG, words)

    return await _answer_latency(api, brief, arrived, rounds)


async def _wechat(wx: WeChatStandIn, rounds: int) -> tuple[list[float], list[float]]:
    ack, answer = [], []
    for n in range(rounds):
        openid = f"o-bench-{n:04d}"
        started = time.monotonic()
        delivery = await wx.push_text(openid, "水稻叶子发黄有褐色斑点")
        ack.append(delivery.elapsed)
        await wx.wait_for_message(openid, "植物保护", timeout=10)
        answer.append(time.monotonic() - started)
    return ack, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.rounds))


if __name__ == "__main__":
    main()
