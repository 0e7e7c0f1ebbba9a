"""Several `jiceng run` processes on one PostgreSQL database, in webhook mode behind a load
balancer, under a campaign's load — measured from outside over the Bot API HTTP protocol.

`python -m bench.scale [--farmers 2000] [--recipients 3000] [--broadcast 2] [--processes 1,2,3] [--kill 2,3]
[--quick] [--keep]`

Each run starts a fresh PostgreSQL server (Debian's package, `storage.local_postgres`, fsync on),
the Bot API stand-in in this process with Telegram's limits (30 messages/s overall, 1/s per chat,
429 beyond; webhooks delivered with the secret header, each chat in order), a round-robin balancer
(what nginx's upstream would be) and N `jiceng run --webhook` processes. Then, at once:
`jiceng notice send` queues a training notice to every subscriber, and every farmer asks one
question. A "kill" run kills one process with SIGKILL once a third of the messages have gone out; a
"notice alone" run has no farmers (the broadcast at Telegram's limit with every process sending).

Reported per run: messages the server accepted per second (from the first send to the last), the
notice's share of them, farmers' questions handled per second, each question's latency (the
farmer's message reaching the stand-in → the bot's reply with 提交 reaching the stand-in,
p50/p99), lost (a farmer without a reply, a subscriber without the notice), doubled (a question
handled twice — two drafts — or answered twice, a subscriber reached twice), and the 429s the
server answered. The baseline is the same load on one process.

Targets (issue 17): with two processes and one killed, 0 lost and 0 doubled; at the limit
≥ 28.5 messages/s with no 429 while both processes send.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.inbound import _percentile, _s, table
from bench.outbound import LEADERS, NOTICE, NOTICE_TITLE, QUESTIONS, STAFF
from bot.standin import BotApiStandIn
from bot.standin.balancer import RoundRobin

SECRET = "bench-secret"
SUBSCRIBER_BASE = 500_000
FARMER_BASE = 300_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def seed(db_url: str, recipients: int) -> None:
    from bot.services.people import LEADER, ensure_person, grant_role
    from bot.services.people import STAFF as STAFF_ROLE
    from bot.telegram.common import account_of
    from storage.db import create_engine, session_factory
    from storage.models import ServiceTeam, Subscription
    from storage.schema import upgrade_async

    await upgrade_async(db_url)
    engine = create_engine(db_url)
    async with session_factory(engine).begin() as session:
        for leader_id, fields in LEADERS.items():
            leader = await ensure_person(session, account_of(leader_id), f"团长{leader_id}")
            grant_role(leader, LEADER)
            await session.flush()
            session.add(ServiceTeam(name=f"服务团{leader_id}", fields=fields, regions=["430000"], leader_id=leader.id))
        grant_role(await ensure_person(session, account_of(STAFF), "工作人员"), STAFF_ROLE)
        for start in range(0, recipients, 500):
            people = [await ensure_person(session, account_of(SUBSCRIBER_BASE + i), f"订阅者{i}")
                      for i in range(start, min(recipients, start + 500))]
            await session.flush()
            session.add_all(Subscription(person_id=p.id, field="*", region_code="430000", active=True) for p in people)
    await engine.dispose()


async def counts(db_url: str) -> tuple[Counter[str], int]:
    """Drafts per question text (a question handled twice makes two), and updates left unhandled."""
    from sqlalchemy import func, select

    from storage.db import create_engine, session_factory
    from storage.models import Draft, LoggedUpdate

    engine = create_engine(db_url)
    async with session_factory(engine)() as session:
        drafts = Counter(dict((await session.execute(select(Draft.text, func.count()).group_by(Draft.text))).all()))
        unhandled = await session.scalar(select(func.count()).select_from(LoggedUpdate).where(
            LoggedUpdate.handled_at.is_(None), LoggedUpdate.failed_at.is_(None)))
    await engine.dispose()
    return drafts, unhandled or 0


async def one_run(processes: int, farmers: int, recipients: int, kill: bool, folder: Path) -> dict:
    from storage import local_postgres

    server = local_postgres.start(durable=True)
    bots: list[asyncio.subprocess.Process] = []
    balancer: RoundRobin | None = None
    try:
        server.sql("CREATE DATABASE jiceng")
        db_url = server.url_of("jiceng")
        await seed(db_url, recipients)
        async with BotApiStandIn(rate_limit_global=30, rate_limit_per_chat=1) as api:
            ports = [_free_port() for _ in range(processes)]
            balancer = RoundRobin([f"http://127.0.0.1:{p}" for p in ports])
            await balancer.start()
            env = {**os.environ, "JICENG_DATABASE_URL": db_url, "TELEGRAM_BOT_TOKEN": api.token,
                   "TELEGRAM_API_URL": f"{api.url}/bot", "JICENG_HEALTH_PORT": "0",
                   "JICENG_FLOOD_BURST": "1000", "JICENG_FLOOD_PER_MINUTE": "6000"}
            for n, port in enumerate(ports):
                log = open(folder / f"jiceng-{processes}-{n}.log", "wb")  # noqa: SIM115 - the child keeps it
                bots.append(await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot.cli", "run", "--webhook", f"{balancer.url}/telegram",
                    "--secret-token", SECRET, "--listen", f"127.0.0.1:{port}", env=env, stdout=log, stderr=log))
                log.close()
            await _until(lambda: len(api.calls_of("setWebhook")) >= processes, 180)
            await asyncio.sleep(4)  # the senders see each other and take their shares

            (folder / "notice.toml").write_text(NOTICE, "utf-8")
            log = open(folder / f"notice-{processes}.log", "wb")  # noqa: SIM115
            notice = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "notice", "send", str(folder / "notice.toml"), env=env,
                stdout=log, stderr=log)
            log.close()
            started = time.monotonic()
            asked = {FARMER_BASE + i: f"{QUESTIONS[i % len(QUESTIONS)]}（第{i + 1}位农户）" for i in range(farmers)}
            update_of = {uid: api.send_text(uid, text, first_name="农户")["update_id"] for uid, text in asked.items()}
            killed_at = None

            def notices() -> list:
                return [m for m in api.sent if m.chat_id >= SUBSCRIBER_BASE and NOTICE_TITLE in (m.text or "")]

            def replied() -> set[int]:
                return {m.chat_id for m in api.sent if m.chat_id in asked and asked[m.chat_id] in (m.text or "")}

            # Progress is read cheaply (a count) while the server works: a scan of everything sent
            # would stall the stand-in's loop and bunch the requests it timestamps meanwhile.
            deadline = time.monotonic() + 60 + (farmers + recipients) / 20
            expected, looked = farmers + recipients, 0.0
            while time.monotonic() < deadline:
                if kill and killed_at is None and len(api.sent) >= expected // 3:
                    bots[0].send_signal(signal.SIGKILL)
                    killed_at = time.monotonic() - started
                if len(api.sent) >= expected or time.monotonic() - looked > 15:
                    looked = time.monotonic()
                    if len({m.chat_id for m in notices()}) >= recipients and len(replied()) >= farmers:
                        break
                await asyncio.sleep(0.5)
            await asyncio.sleep(3)  # late duplicates, if any, arrive
            if notice.returncode is None:
                notice.terminate()
            await notice.wait()
            sent = [m for m in api.sent if m.method.startswith("send")]
            if os.environ.get("BENCH_TRACE") and sent:
                first = min(m.at for m in sent)
                print("sends per second:", list(Counter(int(m.at - first) for m in sent).values()), flush=True)
            too_many = f"{api.too_many_requests} ({api._limits.refused_overall} overall, " \
                       f"{api._limits.refused_in_chat} in one chat)" if api.too_many_requests else "0"
            injected = dict(api.injected_at)
            first_reply: dict[int, float] = {}
            replies: Counter[int] = Counter()
            for m in api.sent:
                if m.chat_id in asked and asked[m.chat_id] in (m.text or ""):
                    replies[m.chat_id] += 1
                    first_reply.setdefault(m.chat_id, m.at)
            reached = Counter(m.chat_id for m in notices())
            drafts, unhandled = await counts(db_url)
            served = dict(balancer.served)
    finally:
        for bot in bots:
            if bot.returncode is None:
                bot.terminate()
                try:
                    await asyncio.wait_for(bot.wait(), 20)
                except TimeoutError:
                    bot.kill()
        if balancer is not None:
            await balancer.stop()
        server.stop()
    span = (max(m.at for m in sent) - min(m.at for m in sent)) if len(sent) > 1 else None
    latencies = [first_reply[uid] - injected[update_of[uid]] if uid in first_reply else None for uid in asked] or [None]
    handled = [first_reply[uid] for uid in asked if uid in first_reply]
    return {
        "processes": processes, "farmers": farmers, "kill": kill, "killed_at": killed_at,
        "msg_rate": len(sent) / span if span else None,
        "notice_rate": len(reached) / span if span else None,
        "questions_rate": len(handled) / (max(handled) - min(injected[u] for u in update_of.values()))
        if handled else None,
        "p50": _percentile(latencies, 50), "p99": _percentile(latencies, 99),
        "lost": (farmers - len(first_reply)) + (recipients - len(reached)),
        "doubled": sum(n > 1 for n in replies.values()) + sum(n > 1 for n in reached.values())
        + sum(n - 1 for text, n in drafts.items() if n > 1),
        "unhandled": unhandled, "429s": too_many, "served": served,
    }


async def _until(check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.2)
    raise RuntimeError("timed out waiting for the bot processes")


def report(runs: list[dict], farmers: int, recipients: int) -> str:
    header = ["", *(f"{r['processes']} process{'es' if r['processes'] > 1 else ''}"
                    + (", notice alone" if not r["farmers"] else "") + (", one killed -9" if r["kill"] else "")
                    for r in runs), "target"]
    rows = [
        ["messages accepted by the server /s", *(_s(r["msg_rate"], 1) for r in runs), "≥ 28.5"],
        ["  of which the notice /s", *(_s(r["notice_rate"], 1) for r in runs), ""],
        ["farmers' questions answered /s", *(_s(r["questions_rate"], 1) if r["farmers"] else "–" for r in runs),
         "grows"],
        ["question → reply p50 (s)", *(_s(r["p50"]) if r["farmers"] else "–" for r in runs), ""],
        ["question → reply p99 (s)", *(_s(r["p99"]) if r["farmers"] else "–" for r in runs), ""],
        ["lost (questions + recipients)", *(str(r["lost"]) for r in runs), "0"],
        ["doubled (handled or delivered twice)", *(str(r["doubled"]) for r in runs), "0"],
        ["updates left unhandled", *(str(r["unhandled"]) for r in runs), "0"],
        ["429s answered by the server", *(str(r["429s"]) for r in runs), "0"],
        ["killed after (s)", *(_s(r["killed_at"], 1) if r["killed_at"] else "–" for r in runs), ""],
        ["webhook requests per process", *("/".join(str(n) for n in r["served"].values()) for r in runs), ""],
    ]
    return table(f"{farmers} farmers and a {recipients}-recipient notice at once (or the notice alone), "
                 "PostgreSQL, webhooks, Telegram's limits (30/s, 1/s per chat)", header, rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--farmers", type=int, default=2000)
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--broadcast", default="2", help="runs of the notice alone (no farmers), e.g. 1,2")
    parser.add_argument("--processes", default="1,2,3", help="runs without a kill, e.g. 1,2,3")
    parser.add_argument("--kill", default="2,3", help="runs where one process is killed -9, e.g. 2,3")
    parser.add_argument("--quick", action="store_true", help="200 farmers and 300 recipients")
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs")
    args = parser.parse_args(argv)
    farmers, recipients = (200, 300) if args.quick else (args.farmers, args.recipients)
    numbers = lambda text: [int(n) for n in text.split(",") if n]  # noqa: E731
    plan = ([(n, 0, False) for n in numbers(args.broadcast)] + [(n, farmers, False) for n in numbers(args.processes)]
            + [(n, farmers, True) for n in numbers(args.kill)])
    runs = []
    folder = Path(tempfile.mkdtemp(prefix="jiceng-scale-"))
    for processes, asking, kill in plan:
        print(f"running {processes} process(es), {asking} farmers{', one killed' if kill else ''}…", flush=True)
        runs.append(asyncio.run(one_run(processes, asking, recipients, kill, folder)))
        print(report(runs, farmers, recipients), flush=True)
    if args.keep:
        print(f"logs kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    print(report(runs, farmers, recipients))


if __name__ == "__main__":
    main()
