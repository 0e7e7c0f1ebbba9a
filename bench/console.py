"""The staff console's dashboard with 100,000 demands in SQLite (issue 15: renders in under 1 s).

Makes a database in a temporary folder with N demands spread over Hunan's counties, fields and
twelve months (a quarter accepted and closed, some rated, some overdue), then times the whole
page over HTTP — sign-in cookie, scope check, every query, the template — for province staff, for
one city's and one county's staff, and filtered to a field. Beside it, the baseline: the same
figures computed in Python from all the rows (what a naive page would do).

    python -m bench.console [--demands 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
from sqlalchemy import insert, select

from bot.app import Services
from bot.config import Settings
from bot.services import console_access, lifecycle
from bot.services.directory import add_staff
from bot.services.people import Account, ensure_person
from bot.web import ConsoleSms, build_web
from bot.web.run import start_site
from intents import regions, taxonomy
from intents.understand import Understander
from storage.models import Demand
from storage.schema import upgrade_async

STATUSES = [lifecycle.CLOSED] * 5 + [lifecycle.WAITING, lifecycle.ACCEPTED, lifecycle.IN_SERVICE,
                                     lifecycle.TRIAGE, lifecycle.CANCELLED]


async def _fill(services: Services, count: int, now: datetime) -> None:
    rng = random.Random(15)
    counties = [c.code for city in regions.cities() for c in regions.counties(city.code)]
    fields = list(taxonomy.field_codes())
    async with services.sessions.begin() as session:
        farmer = await ensure_person(session, Account("memory", "1"), "农户")
        await session.flush()
        farmer_id = farmer.id
    batch = []
    for n in range(count):
        created = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
        status = rng.choice(STATUSES)
        accepted = created + timedelta(hours=rng.uniform(0.2, 30)) if status in (
            lifecycle.CLOSED, lifecycle.ACCEPTED, lifecycle.IN_SERVICE) else None
        batch.append({
            "tracking_no": f"XQ{n:012d}", "text": "水稻叶子发黄怎么办", "submitter_id": farmer_id,
            "region_code": rng.choice(counties), "field": rng.choice(fields), "confidence": 0.9,
            "keywords": [], "entities": {}, "urgent": False, "status": status, "created_at": created,
            "updated_at": created, "accepted_at": accepted, "reroutes": 0,
            "accept_due_at": created + timedelta(days=1), "answer_due_at": (accepted + timedelta(days=3))
            if accepted else None,
            "closed_at": accepted + timedelta(hours=rng.uniform(1, 120)) if status == lifecycle.CLOSED and accepted
            else None,
            "rating": rng.choice([None, 3, 4, 5, 5]) if status == lifecycle.CLOSED else None,
        })
        if len(batch) == 5000:
            async with services.sessions.begin() as session:
                await session.execute(insert(Demand), batch)
            batch = []
    if batch:
        async with services.sessions.begin() as session:
            await session.execute(insert(Demand), batch)


async def _naive(services: Services) -> None:
    """The baseline: every row into Python, then the same counts."""
    async with services.sessions() as session:
        rows = (await session.execute(select(Demand.field, Demand.region_code, Demand.status, Demand.created_at,
                                             Demand.accepted_at, Demand.closed_at, Demand.rating))).all()
    Counter((r.field, r.region_code) for r in rows)
    Counter(r.created_at.strftime("%Y-%m") for r in rows)
    accept = sorted((r.accepted_at - r.created_at).total_seconds() for r in rows if r.accepted_at)
    statistics.median(accept)


async def run(count: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'console.db'}"
        await upgrade_async(url)
        settings = Settings(database_url=url, media_dir=f"{folder}/media")
        services = Services.build(settings, Understander())
        now = datetime.now(timezone.utc)
        started = time.monotonic()
        await _fill(services, count, now)
        print(f"made {count:,} demands in {time.monotonic() - started:.1f} s")
        staff = {
            "province": (await add_staff(services.sessions, Account("memory", "4001"), "省厅")).id,
            "city (长沙市)": (await add_staff(services.sessions, Account("memory", "4002"), "长沙", region="430100")).id,
            "county (浏阳市)": (await add_staff(services.sessions, Account("memory", "4003"), "浏阳", region="430181")).id,
        }
        chat = await build_web(services, settings, ConsoleSms(echo=None))
        runner, base = await start_site(chat, "127.0.0.1", 0)
        rows = []
        try:
            for who, person_id in staff.items():
                async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                    token = await console_access.issue_link(services.sessions, person_id, now)
                    async with http.get(f"{base}/console/login", params={"token": token}) as response:
                        page = await response.text()
                    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
                    async with http.post(f"{base}/console/login", data={"csrf": csrf, "token": token}) as response:
                        assert response.status == 200
                    for label, params in ((who, {}), (f"{who}, one field", {"field": "plant_protection"})):
                        times = []
                        for _ in range(repeat):
                            t0 = time.monotonic()
                            async with http.get(f"{base}/console/", params=params) as response:
                                assert response.status == 200
                                await response.read()
                            times.append(time.monotonic() - t0)
                        rows.append((f"dashboard page: {label}", times))
            times = []
            for _ in range(repeat):
                t0 = time.monotonic()
                await _naive(services)
                times.append(time.monotonic() - t0)
            rows.append(("baseline: all rows into Python, same figures (no page)", times))
        finally:
            await runner.cleanup()
            await services.engine.dispose()
    print(f"\n| {count:,} demands, SQLite, {repeat} runs each | median (s) | max (s) | target |")
    print("|---|---|---|---|")
    for label, times in rows:
        target = "< 1 s" if label.startswith("dashboard") else "–"
        print(f"| {label} | {statistics.median(times):.3f} | {max(times):.3f} | {target} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demands", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.demands, args.repeat))


if __name__ == "__main__":
    main()
