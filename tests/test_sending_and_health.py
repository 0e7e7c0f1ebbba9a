"""Direct sends and edits take their slot from the shared pace, a 429 is waited out instead of
losing the message; flood control per person; /healthz and /metrics tell a supervisor how the bot is."""

from __future__ import annotations

import socket

import aiohttp
import pytest
from telegram.ext import ExtBot

from bot.services.flood import FloodGuard, Limit, Verdict
from bot.services.pace import Pace
from bot.standin import BotApiStandIn
from bot.telegram.pacing import SendPacer
from tests.telegram_world import running_bot

CHAT = 6001


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_direct_send_refused_with_429_is_waited_out_and_not_lost():
    async with BotApiStandIn(rate_limit_per_chat=1) as api:
        pacer = SendPacer(Pace(rate=1000, per_chat_interval=0), mode="off")  # no pacing: the server refuses
        bot = ExtBot(api.token, base_url=f"{api.url}/bot", rate_limiter=pacer)
        async with bot:
            for n in range(3):
                await bot.send_message(CHAT, f"第{n}条")
        assert [m.text for m in api.messages_to(CHAT)] == [f"第{n}条" for n in range(3)]  # none lost, in order
        assert pacer.refused >= 1 and pacer.sent == 3


async def test_pacing_always_never_meets_a_refusal():
    async with BotApiStandIn(rate_limit_per_chat=2) as api:
        pacer = SendPacer(Pace(per_chat_interval=0.5))
        async with ExtBot(api.token, base_url=f"{api.url}/bot", rate_limiter=pacer) as bot:
            for n in range(4):
                await bot.send_message(CHAT, str(n))
        assert api.too_many_requests == 0 and pacer.refused == 0 and len(api.messages_to(CHAT)) == 4


def test_an_unknown_pacing_mode_is_refused():
    with pytest.raises(ValueError):
        SendPacer(Pace(), mode="sometimes")


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_counts_a_message_from_when_its_send_returned():
    """A send delayed on its way (a busy event loop, a slow network) may reach the server just
    before the next one: the next second is measured from the slow send's return."""
    ticks = Ticks()
    pace = Pace(rate=2, per_chat_interval=0, monotonic=ticks)
    first = pace.reserve("a")
    ticks.now += 0.5
    pace.reserve("b")
    ticks.now += 0.05
    pace.landed("a")          # quick
    ticks.now += 0.45
    assert pace.next_slot() == pytest.approx(first + 0.55 + 1.0 + Pace.WINDOW_MARGIN)
    pace.reserve("c")
    ticks.now += 0.3
    assert pace.next_slot() > ticks.now + 0.9  # "b" is still on its way: it may arrive now
    ticks.now += 0.2
    pace.landed("b")          # slow: returned 1 s after it started
    assert pace.next_slot() == pytest.approx(ticks.now + 1.0 + Pace.WINDOW_MARGIN)


def test_a_send_that_never_says_it_returned_stops_holding_the_window():
    ticks = Ticks()
    pace = Pace(rate=1, per_chat_interval=0, monotonic=ticks)
    start = pace.reserve("a")
    ticks.now += Pace.STALE_AFTER + 1
    assert pace.next_slot() == pytest.approx(start + 1.0 + Pace.WINDOW_MARGIN)


def test_flood_guard_serves_a_burst_warns_once_then_serves_after_the_cooldown():
    ticks = Ticks()
    guard = FloodGuard(farmer=Limit(burst=3, per_minute=60, cooldown=10), clock=ticks)
    assert [guard.check(1) for _ in range(3)] == [Verdict.SERVE] * 3
    assert guard.check(1) is Verdict.WARN
    assert guard.wait_seconds(1) == 10
    assert [guard.check(1) for _ in range(50)] == [Verdict.DROP] * 50  # dropped ones cost nothing
    assert guard.check(2) is Verdict.SERVE  # another farmer is not held up
    ticks.now += 10
    assert guard.check(1) is Verdict.SERVE


def test_staff_get_the_larger_bucket_and_presses_cost_less():
    guard = FloodGuard(farmer=Limit(2, 1, 10), staff=Limit(20, 60, 5), is_staff={9}.__contains__, clock=Ticks())
    assert all(guard.check(9) is Verdict.SERVE for _ in range(20))
    assert [guard.check(1, cost=0.5) for _ in range(5)][-1] is Verdict.WARN  # 4 presses fit in 2 tokens


async def test_healthz_and_metrics_report_a_working_bot_and_a_stalled_one(db_url, understander, clock):
    port = free_port()
    async with running_bot(db_url, understander, clock, health_port=port) as world:
        world.api.send_text(CHAT, "水稻叶子发黄怎么办")
        await world.api.wait_for_message(CHAT, "提交")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200 and (await response.text()).strip() == "ok"
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                metrics = await response.text()
            assert "jiceng_updates_received_total 1" in metrics and "jiceng_healthy 1" in metrics
            assert "jiceng_messages_sent_total" in metrics

            lanes = world.app.update_processor
            lanes._held[10**9] = lanes.stats.last_progress - 600  # an update waiting ten minutes...
            lanes.stats.last_progress -= 600  # ...while nothing has finished
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 503 and "none finished" in await response.text()
            del lanes._held[10**9]
