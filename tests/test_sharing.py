"""Sharing a solved question is the farmer's choice: no means nothing is shared, and nothing is
shared before the question is solved."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from bot.errors import Conflict, NotAllowed
from bot.services.feedback import FeedbackService
from bot.services.forget import forget
from bot.services.intake import IntakeService
from storage.models import Demand, DemandMessage, KnowledgeEntry
from tests.factories import make_staff, person_id


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
    assert await feedback.share(demand_id, farmer, False) is None
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(KnowledgeEntry)) == 0
    offered = await feedback.share(demand_id, farmer, True)
    assert offered.entry.status == "review" and offered.reviewers == []  # no team, no staff yet
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(KnowledgeEntry)) == 1


async def test_review_is_for_staff_or_the_teams_leader_and_the_first_decision_stands(
        sessions, understander, knowledge, clock):
    from bot.services.live import LiveUnderstanding
    from bot.services.sharing import SharingReview

    demand_id, farmer = await answered_demand(sessions, understander, knowledge, clock)
    staff = (await make_staff(sessions, 4001)).id
    async with sessions.begin() as session:
        await session.execute(update(Demand).values(solved=True))
    offered = await FeedbackService(sessions, clock).share(demand_id, farmer, True)
    assert offered.reviewers == [staff]
    review = SharingReview(sessions)
    with pytest.raises(NotAllowed):
        await review.decide(offered.entry.id, farmer, True)  # the farmer does not publish their own
    corrected = await review.correct(offered.entry.id, staff, "question", "  水稻稻瘟病怎么防治？身份证430102199001011234 ")
    assert corrected.question.startswith("水稻稻瘟病怎么防治？") and "430102199001011234" not in corrected.question
    with pytest.raises(Conflict):
        await review.correct(offered.entry.id, staff, "answer", " ")
    live = LiveUnderstanding(sessions, understander, knowledge)
    await live.refresh()
    key = f"db:{offered.entry.id}"
    assert key not in knowledge.index
    assert (await review.decide(offered.entry.id, staff, True)).status == "published"
    await live.refresh()
    assert key in knowledge.index
    assert (await review.decide(offered.entry.id, staff, False)).status == "published"
    with pytest.raises(Conflict):
        await review.correct(offered.entry.id, staff, "answer", "改不了了")

    await forget(sessions, farmer)  # the farmer asks to be forgotten: the shared entry goes too
    await live.refresh()
    assert key not in knowledge.index
