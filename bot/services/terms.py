"""Experts' terms (聘期): the expert and staff are reminded 60 and 30 days before a term ends, once
each (the outbox keeps a reminder's key, so a job run every hour puts it once)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import CHINA_TIME
from bot.services.outbox import REMINDER, Outbox, Outgoing
from bot.services.people import staff_ids
from storage.models import Expert

REMIND_AT = (60, 30)  # days before the term ends
TO_EXPERT = "{name}老师，您的专家服务团聘期将于 {end} 结束（还有 {days} 天）。如需续聘，请与工作人员联系。"
TO_STAFF = "专家聘期提醒：{name}（{employer}）的聘期将于 {end} 结束（还有 {days} 天），请安排续聘或调整。"


async def remind(sessions: async_sessionmaker[AsyncSession], outbox: Outbox, now: datetime) -> int:
    """Put the reminders that are due; gives how many experts were due one."""
    today = now.astimezone(CHINA_TIME).date()
    due = 0
    async with sessions.begin() as session:
        experts = (await session.scalars(select(Expert).where(Expert.term_end.is_not(None)))).all()
        staff = await staff_ids(session)
        for expert in experts:
            assert expert.term_end is not None
            days = (expert.term_end - today).days
            mark = next((m for m in sorted(REMIND_AT) if 0 <= days <= m), None)
            if mark is None:
                continue
            due += 1
            await _remind_one(session, outbox, expert, days, mark, staff)
    if due:
        outbox.wake()
    return due


async def _remind_one(session: AsyncSession, outbox: Outbox, expert: Expert, days: int, mark: int,
                      staff: list[int]) -> None:
    end = expert.term_end.isoformat() if expert.term_end else ""
    key = f"term:{expert.id}:{end}:{mark}"
    if expert.person_id is not None:
        await outbox.put(session, expert.person_id, Outgoing(TO_EXPERT.format(name=expert.name, end=end, days=days)),
                         REMINDER, request_key=f"{key}:expert")
    text = TO_STAFF.format(name=expert.name, employer=expert.employer or "单位未填", end=end, days=days)
    for person in staff:
        await outbox.put(session, person, Outgoing(text), REMINDER, request_key=f"{key}:{person}")
