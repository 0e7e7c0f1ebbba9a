"""Benchmark of the notice broadcast (`jiceng notice bench`): N synthetic subscribers in a
scratch database, one notice, the real sender in its own process, through a Bot API server
that enforces Telegram's limits (by default a local stand-in this command starts).

`--kill-at K` kills the sender with SIGKILL once K messages have arrived and starts it again.
Delivery is counted from the server's side when the server is our stand-in, and from the
scratch database otherwise. It never touches the real database and never sends to the real
Telegram unless `--api-url` points there.

The sender process itself is `python -m bot.notice_bench sender ...`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

FIRST_CHAT_ID = 10_000_000
TARGET_RATE = 28.5  # 95% of Telegram's 30 messages a second
STANDIN_TOKEN = "123456789:STAND-IN-TOKEN"
RATE_LIMITED_LINE = "429"


@dataclass
class BenchResult:
    label: str
    recipients: int
    rate: float             # distinct recipients reached a second, first to last delivery
    too_many_requests: int
    duplicates: int | None  # None: the server cannot tell us
    losses: int
    in_flight_at_kill: int | None
    killed_after: int | None
    wall_seconds: float
    counted_by: str

    def table(self) -> str:
        rows = [
            ("run", "msgs/s", "429s", "duplicates", "losses", "in flight at kill", "wall s"),
            ("target", f">= {TARGET_RATE}", "0", "0" if self.in_flight_at_kill is None else "<= in flight", "0",
             "-", "-"),
            (self.label, f"{self.rate:.2f}", str(self.too_many_requests),
             "?" if self.duplicates is None else str(self.duplicates), str(self.losses),
             "-" if self.in_flight_at_kill is None else str(self.in_flight_at_kill), f"{self.wall_seconds:.1f}"),
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
                 for r in rows]
        return "\n".join(lines)


def run(recipients: int, api_url: str | None = None, kill_at: int | None = None, token: str | None = None,
        quiet: bool = False) -> BenchResult:
    with tempfile.TemporaryDirectory(prefix="jiceng-bench-") as scratch:
        db_path = Path(scratch) / "bench.db"
        db_url = f"sqlite+aiosqlite:///{db_path}"
        _prepare(db_url, recipients)
        standin = None
        try:
            if api_url is None:
                standin, base = _start_standin(STANDIN_TOKEN)
                api_url, token = f"{base}/bot", STANDIN_TOKEN
                stats_url = f"{base}/standin/stats"
                counted_by = "server (Bot API stand-in, 429 above 30/s overall or 1/s per chat)"
            else:
                token = token or os.environ.get("TELEGRAM_BOT_TOKEN") or STANDIN_TOKEN
                stats_url = None
                counted_by = f"scratch database (server {api_url})"
            return _broadcast(db_path, db_url, api_url, token, stats_url, recipients, kill_at, counted_by,
                              Path(scratch), quiet)
        finally:
            if standin is not None:
                standin.send_signal(signal.SIGTERM)
                try:
                    standin.wait(10)
                except subprocess.TimeoutExpired:
                    standin.kill()
                    standin.wait()
                standin.stdout.close()


def _prepare(db_url: str, recipients: int) -> None:
    from storage.schema import upgrade

    upgrade(db_url)
    asyncio.run(_populate(db_url, recipients))


async def _populate(db_url: str, recipients: int) -> None:
    from bot.services import broadcast
    from storage.db import create_engine, session_factory
    from storage.models import ChannelAccount, Person, Subscription, TrainingNotice, utcnow

    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            now = utcnow()
            await session.execute(Person.__table__.insert(), [
                {"id": i + 1, "display_name": f"订阅者{i}", "created_at": now,
                 "updated_at": now} for i in range(recipients)])
            await session.execute(ChannelAccount.__table__.insert(), [
                {"person_id": i + 1, "channel": "telegram", "external_id": str(FIRST_CHAT_ID + i), "created_at": now,
                 "last_seen_at": now} for i in range(recipients)])
            await session.execute(Subscription.__table__.insert(), [
                {"person_id": i + 1, "field": "*", "region_code": "430000", "active": True, "created_at": now}
                for i in range(recipients)])
            notice = TrainingNotice(title="基准测试：水稻病虫害绿色防控培训", content="（基准测试消息）",
                                    duration_hours=2, place="长沙市农业农村局")
            session.add(notice)
            await broadcast.enqueue(session, notice, await broadcast.recipients_for(session, notice))
    finally:
        await engine.dispose()


def _start_standin(token: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.standin", "--port", "0", "--token", token,
         "--rate-limit-global", "30", "--rate-limit-per-chat", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    if "http://" not in line:
        process.kill()
        raise RuntimeError(f"the Bot API stand-in did not start: {line!r}")
    return process, line.split(" at ", 1)[1].strip()


def _spawn_sender(db_url: str, api_url: str, token: str, log: Path) -> subprocess.Popen:
    with log.open("a") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.notice_bench", "sender", "--database-url", db_url, "--api-url", api_url,
             "--token", token], stdout=out, stderr=subprocess.STDOUT)


def _broadcast(db_path, db_url, api_url, token, stats_url, recipients, kill_at, counted_by, scratch, quiet):
    log = scratch / "sender.log"
    started = time.monotonic()
    sender = _spawn_sender(db_url, api_url, token, log)
    in_flight = killed_after = None

    def delivered() -> int:
        if stats_url:
            return _stats(stats_url)["messages"]
        return _db_count(db_path, "status = 'sent'")

    last_shown = 0.0
    while sender.poll() is None:
        count = delivered()
        if kill_at is not None and killed_after is None and count >= kill_at:
            sender.send_signal(signal.SIGKILL)
            sender.wait()
            killed_after = delivered()
            in_flight = _db_count(db_path, "status = 'sending'")
            if not quiet:
                print(f"\rkill -9 after {killed_after} delivered; {in_flight} in flight; restarting", file=sys.stderr)
            sender = _spawn_sender(db_url, api_url, token, log)
            continue
        if not quiet and time.monotonic() - last_shown > 1:
            last_shown = time.monotonic()
            print(f"\r{count}/{recipients} delivered", end="", file=sys.stderr, flush=True)
        time.sleep(0.02 if kill_at is not None and killed_after is None else 0.2)
    wall = time.monotonic() - started
    if not quiet:
        print(file=sys.stderr)
    if sender.returncode != 0:
        raise RuntimeError(f"the sender failed (exit {sender.returncode}):\n{log.read_text()[-3000:]}")

    sender_429s = sum(1 for line in log.read_text().splitlines() if line.startswith(RATE_LIMITED_LINE))
    chats = set(range(FIRST_CHAT_ID, FIRST_CHAT_ID + recipients))
    if stats_url:
        stats = _stats(stats_url, per_chat=True)
        per_chat = {int(c): n for c, n in stats["per_chat"].items()}
        duplicates = sum(n - 1 for c, n in per_chat.items() if c in chats and n > 1)
        losses = len(chats - set(per_chat))
        too_many = stats["too_many_requests"]
    else:
        duplicates = None
        losses = _db_count(db_path, "status != 'sent'")
        too_many = sender_429s
    first, last, reached = _sent_span(db_path)
    rate = reached / (last - first) if last > first else 0.0
    label = "plain" if kill_at is None else f"kill -9 at {kill_at}"
    return BenchResult(label, recipients, rate, too_many, duplicates, losses, in_flight, killed_after, wall,
                       counted_by)


def _stats(url: str, per_chat: bool = False) -> dict:
    with urllib.request.urlopen(url + ("?per_chat=1" if per_chat else ""), timeout=30) as response:
        return json.load(response)


def _db_count(db_path: Path, where: str) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as db:
        return db.execute(f"SELECT count(*) FROM outbox WHERE {where}").fetchone()[0]


def _sent_span(db_path: Path) -> tuple[float, float, int]:
    from datetime import datetime, timezone

    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as db:
        first, last, count = db.execute(
            "SELECT min(sent_at), max(sent_at), count(*) FROM outbox WHERE status = 'sent'").fetchone()
    if not count:
        return 0.0, 0.0, 0

    def seconds(value: str) -> float:
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc).timestamp()

    return seconds(first), seconds(last), count


def report(result: BenchResult) -> str:
    head = (f"notice broadcast to {result.recipients:,} subscribers, counted by the {result.counted_by}")
    lines = [head, result.table()]
    if result.killed_after is not None:
        lines.append(f"killed with SIGKILL after {result.killed_after:,} messages had arrived; "
                     f"{result.in_flight_at_kill} rows were marked in flight and were sent again")
    lines.append("msgs/s = distinct recipients reached / (last delivery - first delivery), restart included")
    return "\n".join(lines)


# --- the sender process ----------------------------------------------------------------------


class _Counting429:
    """Passes sends through; prints a line per 429 so the benchmark counts them across kills."""

    def __init__(self, channel) -> None:
        self._channel = channel
        self.name = channel.name

    async def send(self, address, message):
        from bot.services.sender import RateLimited

        try:
            return await self._channel.send(address, message)
        except RateLimited as error:
            print(f"{RATE_LIMITED_LINE} retry_after={error.retry_after}", flush=True)
            raise


async def _send_all(db_url: str, api_url: str, token: str) -> None:
    from bot.services.sender import Sender
    from bot.telegram.broadcast_channel import TelegramChannel, sending_bot
    from storage.db import create_engine, session_factory

    engine = create_engine(db_url)
    try:
        sender_kwargs = {"concurrency": 8}
        async with sending_bot(token, api_url, sender_kwargs["concurrency"]) as bot:
            sender = Sender(session_factory(engine), _Counting429(TelegramChannel(bot)), **sender_kwargs)
            result = await sender.run(wait_for_lease=True)
            print(f"done: sent {result.sent}, failed {result.failed}, resumed {sender.counters.resumed}", flush=True)
    finally:
        await engine.dispose()


def sender_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.notice_bench sender")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args(argv)
    asyncio.run(_send_all(args.database_url, args.api_url, args.token))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.notice_bench", description=__doc__)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--api-url", default=None)
    parser.add_argument("--kill-at", type=int, default=None)
    args = parser.parse_args(argv)
    print(report(run(args.recipients, args.api_url, args.kill_at)))
    return 0


if __name__ == "__main__":
    argv = sys.argv[1:]
    sys.exit(sender_main(argv[1:]) if argv[:1] == ["sender"] else main(argv))
