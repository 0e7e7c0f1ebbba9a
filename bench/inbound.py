"""How `jiceng run` takes in bursts, measured from outside over the Bot API HTTP protocol.

`python -m bench.inbound [--scenario burst|lock|flood|all] [--quick]`

Each run starts the Bot API stand-in (`python -m bot.standin`) and the bot under test as
separate processes, on a fresh SQLite file in a temporary folder, injects farmers'
messages through the stand-in's /standin/ routes and reads what the bot sent from
/standin/sent. Every time is the stand-in's `time.monotonic()`: an update's injection, a
reply's arrival. A reply to a question is the first message to that farmer's chat that
quotes the question (jiceng's confirm prompt quotes it; the echo bot repeats it); every
question is numbered, so they are distinct.

- burst: 50 farmers send 20 different questions each, all at once, to a bare
  python-telegram-bot echo bot (`bench.echo_bot`, the baseline) and to jiceng: replies/s
  (first injection to the reply to the last question), p50/p99 latency per question,
  jiceng/echo (target >= 0.4). Twice: stand-in without limits, then with Telegram's
  (30 messages/s overall, 1/s per chat), counting the 429s the stand-in answered.
- lock: 10 farmers send 20 questions each; 1 s in, another process holds `BEGIN
  EXCLUSIVE` on the bot's SQLite file for 25 s. After release 5 new farmers ask once each:
  questions answered exactly once (200/200), apologies (0), seconds from release to each
  new farmer's reply (<= 15 s), bot still alive. Telegram's limits on.
- flood: one user sends 1,500 messages at once, then 20 farmers one question each: their
  slowest first reply (<= 3 s), message-sending calls into the flooder's chat within 60 s
  of the flood, 429s included (<= 60), and whether the flooder gets an answer within 10 s
  to a new question asked 40 s after the flood. Telegram's limits on.

Every wait times out and is reported as "timed out". `--quick` shrinks every size for a
smoke run. Tables are Markdown, ready for README.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import socket
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bot.messages import BTN_SUBMIT
from bot.standin.server import DEFAULT_TOKEN

LIMITS = ["--rate-limit-global", "30", "--rate-limit-per-chat", "1"]
PLACES = ["长沙县", "浏阳市", "湘潭县", "衡阳县", "邵东市", "岳阳县", "鼎城区", "赫山区", "宜章县",
          "祁阳市", "溆浦县", "涟源市", "花垣县", "慈利县", "攸县", "桃源县"]
PROBLEMS = [
    ("水稻", "叶子发黄"), ("水稻", "稻飞虱很多"), ("水稻", "叶尖卷曲枯黄"), ("早稻", "秧苗烂根"),
    ("柑橘", "叶片卷曲，背面有红蜘蛛"), ("脐橙", "果皮上有黑点"), ("辣椒", "叶子打卷发皱"),
    ("油菜", "根上长了肿瘤"), ("茶树", "嫩叶发白，有小绿叶蝉"), ("黄桃", "树干流胶"),
    ("生猪", "不吃食还发烧"), ("鱼塘里的草鱼", "早上浮头"), ("土鸡", "拉白色稀粪"),
    ("玉米", "穗被虫蛀了"), ("红薯", "块根上有黑斑"), ("烤烟", "叶片出现花叶"),
    ("西瓜", "藤蔓开裂流胶"), ("油茶", "果子上有褐色病斑"), ("黄牛", "肚子胀气"),
    ("猕猴桃", "叶片边缘焦枯"),
]  # fmt: skip
APOLOGY = "抱歉"  # the bot's apologies (an error, a set-aside message) all open with it
ASKS = ["怎么办", "用什么药", "怎么治", "要不要紧", "请专家指导一下", "是什么原因"]


@dataclass
class Sizes:
    farmers: int = 50
    per_farmer: int = 20
    lock_farmers: int = 10
    lock_per_farmer: int = 20
    lock_hold: float = 25.0
    lock_late: int = 5
    flood: int = 1500
    flood_farmers: int = 20
    flood_window: float = 60.0
    cooldown: float = 40.0
    timeout: float = 300.0  # longest wait for a burst to be answered
    stall: float = 30.0  # give up a burst after this long without a new reply


QUICK = Sizes(farmers=5, per_farmer=4, lock_farmers=3, lock_per_farmer=5, lock_hold=5.0,
              lock_late=2, flood=150, flood_farmers=5, flood_window=20.0, cooldown=10.0,
              timeout=60.0, stall=15.0)  # fmt: skip


def question(user_id: int, number: int) -> str:
    place, (subject, symptom), ask = (
        PLACES[(user_id + number) % len(PLACES)],
        PROBLEMS[(user_id * 7 + number) % len(PROBLEMS)],
        ASKS[(user_id + 3 * number) % len(ASKS)],
    )
    return f"我是{place}的，{subject}{symptom}，{ask}？（{user_id}号农户第{number}问）"


@dataclass
class Question:
    chat_id: int
    text: str
    at: float = 0.0  # injected
    replies: list[float] = field(default_factory=list)  # each reply quoting it
    confirms: int = 0  # replies with the 提交 button (a sure field; an unsure one asks for the field)

    @property
    def latency(self) -> float | None:
        return self.replies[0] - self.at if self.replies else None


class Run:
    """A stand-in and a bot under test as processes, and what the bot sent so far."""

    def __init__(self, bot: str, limits: bool, folder: Path):
        self.bot, self.limits, self.folder = bot, limits, folder
        self.db = folder / "jiceng.db"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes: list[asyncio.subprocess.Process] = []
        self.sent: list[dict] = []
        self.questions: dict[int, list[Question]] = {}
        self.apologies = 0
        self.http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Run:
        try:
            return await self._start()
        except BaseException:
            await self.__aexit__()
            raise

    async def _start(self) -> Run:
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        await self._spawn("standin", "-m", "bot.standin", "--port", str(self.port),
                          *(LIMITS if self.limits else []))
        await self._until(lambda: self.stats(), 15, "the stand-in never answered")
        module = "bench.echo_bot" if self.bot == "echo" else "bot.cli"
        env = {"JICENG_DATABASE_URL": f"sqlite+aiosqlite:///{self.db}",
               "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN, "TELEGRAM_API_URL": f"{self.url}/bot",
               "JICENG_HEALTH_PORT": "0"}  # fmt: skip
        self.bot_process = await self._spawn(self.bot, "-m", module,
                                             *(["run"] if self.bot == "jiceng" else []), env=env)

        async def polled() -> bool:
            if self.bot_process.returncode is not None:
                raise RuntimeError(f"{self.bot} exited; see {self.folder}/{self.bot}.log")
            return (await self.stats())["polls"] > 0

        await self._until(polled, 120, f"{self.bot} never polled")
        return self

    async def __aexit__(self, *exc: object) -> None:
        for process in reversed(self.processes):
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    process.kill()
                    await process.wait()
        if self.http is not None:
            await self.http.close()

    async def _spawn(self, name: str, *args: str, env: dict | None = None):
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - the child keeps it
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, stdout=log, stderr=log, env={**os.environ, **(env or {})})
        log.close()
        self.processes.append(process)
        return process

    async def _until(self, check, timeout: float, failure: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if await check():
                    return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError(failure)

    async def stats(self, **query: str) -> dict:
        async with self.http.get(f"{self.url}/standin/stats", params=query) as response:
            return await response.json()

    async def ask(self, items: list[tuple[int, str]]) -> list[Question]:
        """Inject ``(user_id, text)`` messages in one request; they are questions to track."""
        body = [{"user_id": user_id, "text": text} for user_id, text in items]
        async with self.http.post(f"{self.url}/standin/send_texts", json=body) as response:
            answers = await response.json()
        asked = [Question(a["chat_id"], text, a["at"]) for a, (_, text) in zip(answers, items)]
        for q in asked:
            self.questions.setdefault(q.chat_id, []).append(q)
        return asked

    async def refresh(self) -> None:
        """Fetch the bot's new messages and match them to the questions they quote."""
        async with self.http.get(f"{self.url}/standin/sent",
                                 params={"from": str(len(self.sent))}) as response:
            new = await response.json()
        self.sent += new
        for message in new:
            text = message["text"] or ""
            self.apologies += text.startswith(APOLOGY)
            for q in self.questions.get(message["chat_id"], []):
                if q.text in text:
                    q.replies.append(message["at"])
                    q.confirms += any(BTN_SUBMIT in b for b in message["buttons"])
                    break

    async def wait(self, questions: list[Question], timeout: float, stall: float | None = None):
        """Until every question has a reply, ``timeout`` passes, or no reply for ``stall`` s."""
        start = last = time.monotonic()
        answered = -1
        while time.monotonic() - start < timeout:
            await self.refresh()
            now_answered = sum(bool(q.replies) for q in questions)
            if now_answered == len(questions):
                return
            if now_answered != answered:
                answered, last = now_answered, time.monotonic()
            elif stall and time.monotonic() - last > stall:
                return
            await asyncio.sleep(0.2)

    @property
    def alive(self) -> bool:
        return self.bot_process.returncode is None

    def cpu_seconds(self) -> float:
        """User + system CPU the bot process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.bot_process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------- scenarios


async def burst(sizes: Sizes, bot: str, limits: bool, folder: Path) -> dict:
    async with Run(bot, limits, folder) as run:
        users = range(1001, 1001 + sizes.farmers)
        items = [(u, question(u, n)) for n in range(1, sizes.per_farmer + 1) for u in users]
        cpu = run.cpu_seconds()
        asked = await run.ask(items)
        await run.wait(asked, sizes.timeout, sizes.stall)
        cpu = run.cpu_seconds() - cpu
        latencies = [q.latency for q in asked]
        done = [x for x in latencies if x is not None]
        last_reply = max((q.replies[0] for q in asked if q.replies), default=None)
        elapsed = last_reply - asked[0].at if last_reply else None
        return {
            "answered": f"{len(done)}/{len(asked)}",
            "all": len(done) == len(asked),
            "rate": len(done) / elapsed if elapsed else None,
            "p50": _percentile(latencies, 50), "p99": _percentile(latencies, 99),
            "429s": (await run.stats())["too_many_requests"],
            "cpu_ms": cpu * 1000 / max(1, len(done)),
            "busy": cpu / elapsed if elapsed else None,
        }  # fmt: skip


async def lock(sizes: Sizes, folder: Path) -> dict:
    async with Run("jiceng", True, folder) as run:
        users = range(2001, 2001 + sizes.lock_farmers)
        items = [(u, question(u, n)) for n in range(1, sizes.lock_per_farmer + 1) for u in users]
        asked = await run.ask(items)
        holder = asyncio.create_task(asyncio.to_thread(_hold_lock, run.db, 1.0, sizes.lock_hold))
        while not holder.done():
            await run.refresh()
            await asyncio.sleep(0.2)
        acquired, released = holder.result()
        polls = (await run.stats())["polls"]
        late = await run.ask([(u, question(u, 1)) for u in range(2901, 2901 + sizes.lock_late)])
        await run.wait(asked + late, 60 + sizes.lock_per_farmer * sizes.lock_farmers / 10)
        await asyncio.sleep(2)  # let duplicates, if any, arrive
        await run.refresh()
        after = [q.replies[0] - released if q.replies else None for q in late]
        return {
            # The prompt that answers a question quotes it: 提交/换个领域 when the field is sure,
            # the field buttons when it is not. Either is the confirm step, and must come once.
            "once": sum(len(q.replies) == 1 for q in asked), "total": len(asked),
            "duplicates": sum(len(q.replies) > 1 for q in asked),
            "apologies": run.apologies, "acquired": acquired - asked[0].at,
            "released": released - asked[0].at,
            "after": after, "alive": run.alive,
            "polls": (await run.stats())["polls"] - polls,
        }  # fmt: skip


async def flood(sizes: Sizes, folder: Path) -> dict:
    async with Run("jiceng", True, folder) as run:
        flooder = 3000
        start = time.monotonic()
        await run.ask([(flooder, question(flooder, n)) for n in range(1, sizes.flood + 1)])
        flood_end = time.monotonic()
        farmers = await run.ask([(u, question(u, 1))
                                 for u in range(3001, 3001 + sizes.flood_farmers)])
        await run.wait(farmers, 30)
        await asyncio.sleep(max(0.0, flood_end + sizes.cooldown - time.monotonic()))
        text = f"冷静下来再问一次：水稻叶子发黄怎么办？（{flooder}号农户冷静后第1问）"
        later = await run.ask([(flooder, text)])
        await run.wait(later, 10)
        await asyncio.sleep(max(0.0, start + sizes.flood_window - time.monotonic()))
        stats = await run.stats(attempts="1", since=str(start),
                                until=str(start + sizes.flood_window))
        latencies = [q.latency for q in farmers]
        return {
            "farmers_answered": f"{sum(x is not None for x in latencies)}/{len(farmers)}",
            "p50": _percentile(latencies, 50), "max": _percentile(latencies, 100),
            "attempts": stats["attempts_per_chat"].get(str(flooder), 0),
            "later": later[0].latency, "429s": stats["too_many_requests"], "alive": run.alive,
        }  # fmt: skip


def _hold_lock(db: Path, delay: float, hold: float) -> tuple[float, float]:
    """Another process's writer: BEGIN EXCLUSIVE ``delay`` s from now, COMMIT ``hold`` s later."""
    time.sleep(delay)
    connection = sqlite3.connect(db, timeout=60, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        acquired = time.monotonic()
        time.sleep(hold)
        connection.execute("COMMIT")
        return acquired, time.monotonic()
    finally:
        connection.close()


# ---------------------------------------------------------------------- reporting


def _percentile(values: list[float | None], p: float) -> float | None:
    """Nearest-rank percentile; unanswered (None) counts as slowest, and then gives None."""
    ordered = sorted(values, key=lambda x: float("inf") if x is None else x)
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)] if ordered else None


def _s(value: float | str | None, digits: int = 2) -> str:
    if isinstance(value, str):
        return value
    return "timed out" if value is None else f"{value:.{digits}f}"


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    lines = [f"**{title}**", "", "| " + " | ".join(header) + " |",
             "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def burst_table(limits: bool, echo: dict, jiceng: dict) -> str:
    rates = (jiceng["rate"], echo["rate"])
    ratio = rates[0] / rates[1] if all(isinstance(r, float) for r in rates) else None
    ratio = "-" if any(isinstance(r, str) for r in rates) else ratio
    rows = [
        ["questions answered", echo["answered"], jiceng["answered"], "all"],
        ["replies/s", _s(echo["rate"], 1), _s(jiceng["rate"], 1), ""],
        ["latency p50 (s)", _s(echo["p50"]), _s(jiceng["p50"]), ""],
        ["latency p99 (s)", _s(echo["p99"]), _s(jiceng["p99"]), ""],
        ["bot CPU per answered question (ms)", _s(echo["cpu_ms"], 1), _s(jiceng["cpu_ms"], 1), ""],
        ["bot CPU busy (1.00 = one core)", _s(echo["busy"]), _s(jiceng["busy"]), ""],
        ["jiceng/echo replies/s", "", _s(ratio), "≥ 0.4"],
    ]
    if limits:
        rows.append(["429s answered by the server", str(echo["429s"]), str(jiceng["429s"]), ""])
    title = "burst, " + ("Telegram's limits (30/s, 1/s per chat)" if limits else "no limits")
    return table(title, ["", "echo bot (PTB)", "jiceng", "target"], rows)


def lock_table(r: dict) -> str:
    after = ", ".join(_s(x, 1) for x in r["after"])
    slowest = None if None in r["after"] else max(r["after"], default=0.0)
    total = r["total"]
    rows = [
        ["questions answered exactly once", f"{r['once']}/{total}", f"{total}/{total}"],
        ["questions answered more than once", str(r["duplicates"]), "0"],
        ["apologies sent", str(r["apologies"]), "0"],
        ["new farmers: s from release to reply (max)", f"{_s(slowest, 1)} ({after})", "≤ 15"],
        ["bot process alive", "yes" if r["alive"] else "NO", "yes"],
        ["getUpdates calls after release", str(r["polls"]), "> 0"],
    ]  # fmt: skip
    title = f"lock: BEGIN EXCLUSIVE from {r['acquired']:.1f} s to {r['released']:.1f} s"
    return table(title + " (Telegram's limits)", ["", "jiceng", "target"], rows)


def flood_table(r: dict, sizes: Sizes) -> str:
    rows = [
        ["other farmers answered", r["farmers_answered"], "all"],
        ["their first reply, p50 / max (s)", f"{_s(r['p50'])} / {_s(r['max'])}", "max ≤ 3"],
        [f"sends into the flooder's chat in {sizes.flood_window:.0f} s (429s included)",
         str(r["attempts"]), "≤ 60"],
        [f"flooder answered {sizes.cooldown:.0f} s later (s)",
         "no reply in 10 s" if r["later"] is None else f"yes ({r['later']:.2f})", "yes, ≤ 10"],
        ["429s answered by the server", str(r["429s"]), ""],
        ["bot process alive", "yes" if r["alive"] else "NO", "yes"],
    ]  # fmt: skip
    title = f"flood: {sizes.flood} messages from one user (Telegram's limits)"
    return table(title, ["", "jiceng", "target"], rows)


async def main_async(args: argparse.Namespace) -> None:
    sizes = QUICK if args.quick else Sizes()
    scenarios = ["burst", "lock", "flood"] if args.scenario == "all" else [args.scenario]
    bots = ["echo", "jiceng"] if args.bot == "both" else [args.bot]
    counter = itertools.count()
    root = tempfile.mkdtemp(prefix="bench-inbound-")
    try:

        def fresh() -> Path:
            folder = Path(root) / str(next(counter))
            folder.mkdir()
            return folder

        if args.keep:
            print(f"logs and databases in {root}", file=sys.stderr)
        for scenario in scenarios:
            if scenario == "burst":
                for limits in (False, True):
                    results = {bot: await burst(sizes, bot, limits, fresh()) for bot in bots}
                    empty = dict.fromkeys(["answered", "rate", "p50", "p99", "429s", "cpu_ms", "busy"], "not run")
                    print(burst_table(limits, results.get("echo", empty),
                                      results.get("jiceng", empty)), flush=True)
            elif scenario == "lock":
                print(lock_table(await lock(sizes, fresh())), flush=True)
            else:
                print(flood_table(await flood(sizes, fresh()), sizes), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inbound", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["burst", "lock", "flood", "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--bot", choices=["both", "echo", "jiceng"], default="both",
                        help="burst only: which bots to measure (default both)")
    parser.add_argument("--keep", action="store_true", help="keep the logs and databases")
    args = parser.parse_args(argv)
    print(f"`python -m bench.inbound {' '.join(argv if argv is not None else sys.argv[1:])}`\n")
    asyncio.run(main_async(args))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
