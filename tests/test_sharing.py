"""Sharing a solved question is the farmer's choice: no means nothing is shared, and nothing is
shared before the question is solved."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from bot.errors import Conflict
from bot.services.feedback import FeedbackService
from bot.services.intake import IntakeService
from storage.models import Demand, DemandMessage, KnowledgeEntry
from tests.factories import person_id


async def answered_demand(sessions, understander, knowledge, clock) -> tuple[int, int]:
    intake = IntakeService(sessions, understander, knowledge, clock)
    farmer = await person_id(sessions, 1001, "张大哥")
    draft = (await intake.new_question(farmer, "水稻稻瘟病怎么防治")).draft
    demand = (await intake.submit(draft.id, farmer)).demand
    async with sessions.begin() as session:
        session.add(DemandMessage(demand_id=demand.id, sender_id=farmer, direction="to_farmer", kind="text",
                                  text="用三环唑喷雾。"))
    return demand.id, farmer


async def test_no_means_nothing_is_shared(sessions, understander, knowledge, clock):
    demand_id, farmer = await answered_demand(sessions, understander, knowledge, clock)
    feedback = FeedbackService(sessions, clock)
    with pytest.raises(Conflict):
        await feedback.share(demand_id, farmer, True)  # not solved yet
    async with sessions.begin() as session:
        await session.execute(update(Demand).values(solved=True))
    assert await feedback.share(demand_id, farmer, False) is False
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(KnowledgeEntry)) == 0
    assert await feedback.share(demand_id, farmer, True) is True
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(KnowledgeEntry)) == 1
