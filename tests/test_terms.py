"""Experts' terms: the expert and staff are reminded 60 and then 30 days before the term ends,
once each however often the job runs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import CHINA_TIME
from bot.services.directory import add_staff
from bot.services.outbox import Outbox
from bot.services.people import EXPERT, Account, ensure_person, grant_role
from bot.services.terms import remind
from storage.models import Expert, OutboxMessage


async def test_reminders_60_and_30_days_before_a_term_ends(sessions, clock):
    await add_staff(sessions, Account("memory", "4001"), "王干事")
    async with sessions.begin() as session:
        person = await ensure_person(session, Account("memory", "3001"), "张专家")
        grant_role(person, EXPERT)
        await session.flush()
        today = clock().astimezone(CHINA_TIME).date()
        session.add(Expert(name="张专家", employer="湖南农业大学", person_id=person.id,
                           term_start=today - timedelta(days=1000), term_end=today + timedelta(days=75)))
    outbox = Outbox(sessions, clock)

    async def texts() -> list[str]:
        async with sessions() as session:
            return [row["text"] for row in (await session.scalars(select(OutboxMessage.body))).all()]

    assert await remind(sessions, outbox, clock()) == 0  # 75 days: not yet
    clock.advance(days=15)
    for _ in range(3):
        await remind(sessions, outbox, clock())  # every hour, say: once
    assert len(await texts()) == 2 and all("还有 60 天" in t for t in await texts())
    clock.advance(days=30)
    await remind(sessions, outbox, clock())
    assert len(await texts()) == 4 and sum("还有 30 天" in t for t in await texts()) == 2
