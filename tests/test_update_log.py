"""The durable update log in storage: record once, replay unhandled in order, prune old."""

from __future__ import annotations

from datetime import timedelta

from bot.services.update_log import UpdateLog


async def test_recorded_updates_replay_in_order_until_handled(sessions, clock):
    log = UpdateLog(sessions)
    await log.record([(12, {"update_id": 12}), (10, {"update_id": 10})], clock())
    await log.record([(10, {"update_id": 10, "again": True}), (11, {"update_id": 11})], clock())
    assert [p["update_id"] for p in await log.unhandled()] == [10, 11, 12]
    assert "again" not in (await log.unhandled())[0]  # the first copy is kept
    await log.mark_handled(11, clock())
    assert await log.is_handled(11) and not await log.is_handled(10)
    assert [p["update_id"] for p in await log.unhandled()] == [10, 12]


async def test_only_old_handled_updates_are_pruned(sessions, clock):
    log = UpdateLog(sessions)
    await log.record([(1, {}), (2, {}), (3, {})], clock())
    await log.mark_handled(1, clock())
    clock.advance(days=8)
    await log.mark_handled(2, clock())
    assert await log.prune(clock() - timedelta(days=7)) == 1
    assert not await log.is_handled(1)  # gone
    assert await log.is_handled(2)
    assert [p for p in await log.unhandled()] == [{}]
