"""A training notice to 600 subscribers while 30 other farmers ask and submit, measured from
outside over the Bot API HTTP protocol with Telegram's limits enforced.

`python -m bench.outbound [--subscribers 600] [--farmers 30] [--keep]`

Two runs on fresh SQLite files, each with the Bot API stand-in (30 messages/s overall, 1/s per
chat, 429 beyond) and `jiceng run` as separate processes:

- quiet: the 30 farmers alone (the baseline for how fast a farmer is answered);
- broadcast: `jiceng notice send` (another process: it only queues, the running bot sends)
  starts the notice, and two seconds later the farmers begin, two a second.

Each farmer asks a question (step 1: until the prompt with 提交 arrives) and presses 提交
(step 2: until that message shows the tracking number); each demand's card must reach its
team leader. Reported: notice recipients reached exactly once, leader cards delivered, farmer
steps p50/p95/max, 429s the server answered, the notice's rate while farmers were served.
Acceptance: every recipient once, every leader card delivered, p95 <= 3 s, no loss after a
429; during the broadcast farmers wait at most about one second longer than in the quiet run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.inbound import LIMITS, _free_port, _percentile, _s, table
from bot.messages import BTN_SUBMIT
from bot.standin.server import DEFAULT_TOKEN

SUBSCRIBER_BASE = 500_000
FARMER_BASE = 300_000
LEADERS = {  # a team per group of fields, each with its own leader
    9001: ["crop", "soil_fertilizer", "other"], 9002: ["plant_protection"], 9003: ["livestock", "aquaculture"],
    9004: ["forestry", "herbal"], 9005: ["processing", "machinery", "ecommerce", "enterprise_tech"],
    9006: ["digital", "management", "employment"],
}
STAFF = 9100
QUESTIONS = [
    "水稻叶子发黄是怎么回事", "稻飞虱很多用什么药", "柑橘红蜘蛛怎么防治", "辣椒叶子打卷怎么办",
    "油菜根肿病怎么治", "生猪不吃食还发烧怎么办", "草鱼早上浮头是什么原因", "土鸡拉白色稀粪怎么治",
    "玉米螟怎么防治", "红薯黑斑病怎么防", "黄牛肚子胀气怎么办", "茶园小绿叶蝉怎么治",
    "猕猴桃溃疡病用什么药", "西瓜枯萎病怎么防治", "脐橙果皮有黑点是什么病",
]
TRACKING = re.compile(r"XQ\d+-\d+")
NOTICE_TITLE = "冬季水稻栽培技术培训"
NOTICE = f'''title = "{NOTICE_TITLE}"
content = "请带上笔记本。"
starts_at = "2027-01-10 09:00"
duration_hours = 2
place = "长沙县农业农村局"
'''


@dataclass
class Farmer:
    user_id: int
    text: str
    asked_at: float = 0.0
    prompt: dict | None = None
    prompt_at: float | None = None
    pressed_at: float | None = None
    submitted_at: float | None = None
    tracking_no: str | None = None
    steps: list[float] = field(default_factory=list)


async def seed(db_url: str, subscribers: int) -> None:
    from bot.services.people import LEADER, ensure_person, grant_role
    from bot.services.people import STAFF as STAFF_ROLE
    from bot.telegram.common import account_of
    from storage.db import create_engine, session_factory
    from storage.models import ServiceTeam, Subscription
    from storage.schema import upgrade_async

    await upgrade_async(db_url)
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        for leader_id, fields in LEADERS.items():
            leader = await ensure_person(session, account_of(leader_id), f"团长{leader_id}")
            grant_role(leader, LEADER)
            await session.flush()
            session.add(ServiceTeam(name=f"服务团{leader_id}", fields=fields, regions=["430000"],
                                    leader_id=leader.id))
        grant_role(await ensure_person(session, account_of(STAFF), "工作人员"), STAFF_ROLE)
        people = [await ensure_person(session, account_of(SUBSCRIBER_BASE + i), f"订阅者{i}")
                  for i in range(subscribers)]
        session.add_all(Subscription(person_id=p.id, field="*", region_code="430000", active=True) for p in people)
    await engine.dispose()


class Run:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db_url = f"sqlite+aiosqlite:///{folder / 'jiceng.db'}"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "JICENG_DATABASE_URL": self.db_url, "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
                    "TELEGRAM_API_URL": f"{self.url}/bot", "JICENG_HEALTH_PORT": "0"}
        self.processes: list[asyncio.subprocess.Process] = []
        self.http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        await self.spawn("standin", "-m", "bot.standin", "--port", str(self.port), *LIMITS)
        await self.until(lambda s: True, 15)
        self.bot = await self.spawn("jiceng", "-m", "bot.cli", "run")
        await self.until(lambda s: s["polls"] > 0, 120)

    async def stop(self) -> None:
        for process in reversed(self.processes):
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
        if self.http:
            await self.http.close()

    async def spawn(self, name: str, *args: str) -> asyncio.subprocess.Process:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - the child keeps it
        process = await asyncio.create_subprocess_exec(sys.executable, *args, stdout=log, stderr=log, env=self.env)
        log.close()
        self.processes.append(process)
        return process

    async def until(self, check, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check(await self.stats()):
                    return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError(f"timed out; see {self.folder}")

    async def stats(self) -> dict:
        async with self.http.get(f"{self.url}/standin/stats", params={"per_chat": "1"}) as response:
            return await response.json()

    async def sent(self, chat_id: int | None = None) -> list[dict]:
        query = {} if chat_id is None else {"chat_id": str(chat_id)}
        async with self.http.get(f"{self.url}/standin/sent", params=query) as response:
            return await response.json()

    async def ask(self, user_id: int, text: str) -> float:
        async with self.http.post(f"{self.url}/standin/send_text",
                                  json={"user_id": user_id, "text": text, "first_name": "农户"}) as response:
            await response.json()
        return time.monotonic()

    async def press(self, user_id: int, message: dict, button: str) -> float:
        body = {"user_id": user_id, "chat_id": message["chat_id"], "message_id": message["message_id"],
                "button": button}
        async with self.http.post(f"{self.url}/standin/press", json=body) as response:
            return (await response.json())["at"]


async def farmer_flow(run: Run, farmer: Farmer, timeout: float = 60) -> None:
    """Ask; when the prompt comes, press 提交 (or, when the bot is unsure of the field, its first
    field choice, then 提交); wait until the prompt shows the tracking number."""
    farmer.asked_at = await run.ask(farmer.user_id, farmer.text)
    deadline = time.monotonic() + timeout
    chose_field = False
    while time.monotonic() < deadline:
        for m in await run.sent(farmer.user_id):
            if farmer.prompt is None:
                if farmer.text in (m["text"] or "") and m["buttons"]:
                    farmer.prompt, farmer.prompt_at = m, m["at"]
                else:
                    continue
            if m["message_id"] != farmer.prompt["message_id"]:
                continue
            if farmer.pressed_at is None:
                submit = next((b for b in m["buttons"] if BTN_SUBMIT in b), None)
                if submit is not None:
                    farmer.pressed_at = await run.press(farmer.user_id, m, submit)
                elif not chose_field:
                    chose_field = True
                    await run.press(farmer.user_id, m, m["buttons"][0])
            elif (found := TRACKING.search(m["text"] or "")) is not None:
                farmer.tracking_no, farmer.submitted_at = found.group(), m["edited_at"]
                return
        await asyncio.sleep(0.2)


async def one_run(folder: Path, farmers: int, subscribers: int, broadcast: bool) -> dict:
    await seed(f"sqlite+aiosqlite:///{folder / 'jiceng.db'}", subscribers if broadcast else 0)
    run = Run(folder)
    try:
        await run.start()
        notice_cli = None
        if broadcast:
            (folder / "notice.toml").write_text(NOTICE, "utf-8")
            notice_cli = await run.spawn("notice", "-m", "bot.cli", "notice", "send", str(folder / "notice.toml"))
            await asyncio.sleep(2.0)
        people = [Farmer(FARMER_BASE + i, f"{QUESTIONS[i % len(QUESTIONS)]}（第{i + 1}位农户）") for i in range(farmers)]
        flows = []
        for farmer in people:  # two a second
            flows.append(asyncio.create_task(farmer_flow(run, farmer)))
            await asyncio.sleep(0.5)
        await asyncio.gather(*flows)
        if notice_cli is not None:
            try:
                await asyncio.wait_for(notice_cli.wait(), 120)
            except TimeoutError:
                pass
        numbers = {f.tracking_no for f in people if f.tracking_no}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # leader cards queue at one a second per leader
            sent = await run.sent()
            cards = {m.group() for s in sent if s["chat_id"] in LEADERS for m in [TRACKING.search(s["text"] or "")] if m}
            if numbers <= cards:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2.0)  # late duplicates, if any, arrive
        sent = await run.sent()
        stats = await run.stats()
        alive = run.bot.returncode is None
    finally:
        await run.stop()
    steps = [f.prompt_at - f.asked_at if f.prompt_at else None for f in people]
    steps += [f.submitted_at - f.pressed_at if f.submitted_at else None for f in people]
    numbers = {f.tracking_no for f in people if f.tracking_no}
    leader_cards = {m.group() for s in sent if s["chat_id"] in LEADERS for m in [TRACKING.search(s["text"] or "")] if m}
    notices = [s for s in sent if s["chat_id"] >= SUBSCRIBER_BASE and NOTICE_TITLE in (s["text"] or "")]
    per_chat = {}
    for s in notices:
        per_chat[s["chat_id"]] = per_chat.get(s["chat_id"], 0) + 1
    span = (max(s["at"] for s in notices) - min(s["at"] for s in notices)) if len(notices) > 1 else None
    return {
        "submitted": f"{len(numbers)}/{farmers}",
        "leader_cards": f"{len(numbers & leader_cards)}/{len(numbers)}",
        "p50": _percentile(steps, 50), "p95": _percentile(steps, 95), "max": _percentile(steps, 100),
        "reached": f"{len(per_chat)}/{subscribers}" if broadcast else "-",
        "doubled": sum(n > 1 for n in per_chat.values()) if broadcast else "-",
        "notice_rate": len(notices) / span if span else None,
        "429s": stats["too_many_requests"], "alive": alive, "sent": sent,
    }


def report(quiet: dict, loud: dict) -> str:
    extra = loud["p95"] - quiet["p95"] if loud["p95"] is not None and quiet["p95"] is not None else None
    rows = [
        ["demands submitted", quiet["submitted"], loud["submitted"], "all"],
        ["leader cards delivered", quiet["leader_cards"], loud["leader_cards"], "all"],
        ["farmer step p50 (s)", _s(quiet["p50"]), _s(loud["p50"]), ""],
        ["farmer step p95 (s)", _s(quiet["p95"]), _s(loud["p95"]), "≤ 3"],
        ["farmer step max (s)", _s(quiet["max"]), _s(loud["max"]), ""],
        ["p95 added by the broadcast (s)", "", _s(extra), "≤ about 1"],
        ["notice recipients reached", "-", loud["reached"], "all"],
        ["notice recipients reached twice", "-", str(loud["doubled"]), "0"],
        ["notice messages/s", "-", _s(loud["notice_rate"], 1), ""],
        ["429s answered by the server", str(quiet["429s"]), str(loud["429s"]), "0 lost"],
        ["bot alive", str(quiet["alive"]), str(loud["alive"]), "yes"],
    ]
    return table("notice + farmers, Telegram's limits (30/s, 1/s per chat)", ["", "farmers alone",
                                                                               "with the notice", "target"], rows)


async def main_async(args) -> None:
    root = Path(tempfile.mkdtemp(prefix="jiceng-outbound-"))
    try:
        quiet_folder, loud_folder = root / "quiet", root / "broadcast"
        quiet_folder.mkdir()
        loud_folder.mkdir()
        quiet = await one_run(quiet_folder, args.farmers, args.subscribers, broadcast=False)
        loud = await one_run(loud_folder, args.farmers, args.subscribers, broadcast=True)
        print(f"`python -m bench.outbound --subscribers {args.subscribers} --farmers {args.farmers}`\n")
        print(report(quiet, loud))
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=600)
    parser.add_argument("--farmers", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the logs and databases")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
