"""接单 without Telegram: only the team's leader, exactly once, written to the timeline."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.errors import AlreadyAccepted, NotAllowed, NotTeamLeader
from bot.services import lifecycle
from bot.services.intake import IntakeService
from bot.services.leader import LeaderService
from storage.models import DemandEvent
from tests.factories import make_team

FARMER, LEADER, OTHER_LEADER = 1001, 2001, 2002


@pytest.fixture
async def demand(sessions, understander, knowledge, clock):
    await make_team(sessions, "植保服务团", ["plant_protection"], leader_telegram_id=LEADER, leader_name="李团长")
    await make_team(sessions, "畜牧服务团", ["livestock"], leader_telegram_id=OTHER_LEADER)
    intake = IntakeService(sessions, understander, knowledge, clock)
    draft = (await intake.new_question(FARMER, "张", "水稻稻瘟病打什么药")).draft
    return (await intake.submit(draft.id, FARMER)).demand


@pytest.fixture
def leader(sessions, clock):
    return LeaderService(sessions, clock)


async def test_leader_accepts_and_the_timeline_records_it(leader, demand, sessions):
    accepted = await leader.accept(demand.id, LEADER)
    assert accepted.demand.status == lifecycle.ACCEPTED
    assert accepted.submitter_telegram_id == FARMER
    async with sessions() as session:
        events = (await session.scalars(select(DemandEvent).order_by(DemandEvent.id))).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        (lifecycle.SUBMITTED, lifecycle.WAITING), (lifecycle.WAITING, lifecycle.ACCEPTED)]
    assert events[-1].actor_id == accepted.leader.id


async def test_only_the_teams_own_leader_may_accept(leader, demand):
    for outsider in (OTHER_LEADER, FARMER, 5555):
        with pytest.raises(NotTeamLeader):
            await leader.accept(demand.id, outsider)


async def test_second_tap_is_told_who_accepted(leader, demand):
    await leader.accept(demand.id, LEADER)
    with pytest.raises(AlreadyAccepted) as raised:
        await leader.accept(demand.id, LEADER)
    assert "李团长" in raised.value.user_message


async def test_many_concurrent_accepts_give_exactly_one_acceptance(leader, demand, sessions):
    results = await asyncio.gather(*(leader.accept(demand.id, LEADER) for _ in range(20)), return_exceptions=True)
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, AlreadyAccepted) for r in results if isinstance(r, Exception))
    async with sessions() as session:
        accepts = (await session.scalars(select(DemandEvent).where(DemandEvent.to_status == lifecycle.ACCEPTED))).all()
    assert len(accepts) == 1


async def test_queue_lists_waiting_demands_oldest_first(leader, demand, sessions, understander, knowledge, clock):
    intake = IntakeService(sessions, understander, knowledge, clock)
    clock.advance(hours=1)
    later = await intake.submit((await intake.new_question(FARMER, "张", "柑橘红蜘蛛怎么防治")).draft.id, FARMER)
    page, total = await leader.queue(LEADER, 0, 5)
    assert total == 2 and [d.id for d in page] == [demand.id, later.demand.id]
    await leader.accept(demand.id, LEADER)
    page, total = await leader.queue(LEADER, 0, 5)
    assert [d.id for d in page] == [later.demand.id]
    with pytest.raises(NotAllowed):
        await leader.queue(FARMER, 0, 5)


async def test_farmer_cancel_and_leader_accept_at_once_one_wins(leader, demand, sessions, clock):
    from bot.errors import JicengError
    from bot.services.feedback import FeedbackService

    feedback = FeedbackService(sessions, clock)
    results = await asyncio.gather(leader.accept(demand.id, LEADER), feedback.cancel(demand.id, FARMER),
                                   return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, JicengError) for r in results if isinstance(r, Exception))
    async with sessions() as session:
        events = (await session.scalars(select(DemandEvent).where(DemandEvent.demand_id == demand.id))).all()
    assert len(events) == 2  # submitted, then exactly one of accepted / cancelled


async def test_transfer_and_return_at_once_one_wins(leader, demand, sessions, clock):
    from bot.errors import JicengError
    from bot.services.dispatch import DispatchService

    await leader.accept(demand.id, LEADER)
    dispatch = DispatchService(sessions, clock)
    results = await asyncio.gather(
        dispatch.transfer(demand.id, LEADER, "养殖问题", to_field="livestock"),
        dispatch.return_to_staff(demand.id, LEADER, "不归我们"),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, JicengError) for r in results if isinstance(r, Exception))


async def test_third_reroute_is_refused_staff_decide(leader, demand, sessions, clock):
    from bot.services.dispatch import DispatchService, TooManyReroutes
    from bot.services.triage import TriageService
    from tests.factories import make_staff

    dispatch, triage = DispatchService(sessions, clock), TriageService(sessions, clock)
    await make_staff(sessions, 4001)
    await dispatch.return_to_staff(demand.id, LEADER, "第一次")
    await triage.route(demand.id, demand.team_id, 4001)
    await dispatch.return_to_staff(demand.id, LEADER, "第二次")
    await triage.route(demand.id, demand.team_id, 4001)
    with pytest.raises(TooManyReroutes):
        await dispatch.transfer(demand.id, LEADER, "第三次", to_field="livestock")


async def test_a_request_handled_again_answers_as_the_first_time(leader, demand, sessions, clock):
    """A retried or replayed update repeats its service call: it must not fail on the state its
    first run left, or the people it informs would never hear (the outbox keys their messages)."""
    from bot.services.dispatch import DispatchService
    from storage.models import Expert

    dispatch = DispatchService(sessions, clock)
    async with sessions.begin() as session:
        session.add(Expert(name="张专家", fields=["plant_protection"], team_id=demand.team_id, telegram_id=3001))
    await leader.accept(demand.id, LEADER, "k:accept")
    expert_id = next(c.expert.id for c in await dispatch.candidates(demand.id, LEADER) if c.expert.name == "张专家")
    first = await dispatch.assign(demand.id, LEADER, [expert_id], "k:assign")
    again = await dispatch.assign(demand.id, LEADER, [expert_id], "k:assign")
    assert [e.name for e in first.experts] == [e.name for e in again.experts] == ["张专家"]
    assert again.expert_telegram_ids == [3001]



async def test_a_reroute_handled_again_answers_as_the_first_time(leader, demand, sessions, clock):
    from bot.services.dispatch import DispatchService
    from bot.services.triage import TriageService
    from tests.factories import make_staff

    dispatch, triage = DispatchService(sessions, clock), TriageService(sessions, clock)
    await make_staff(sessions, 4001)
    first = await dispatch.return_to_staff(demand.id, LEADER, "不归我们", request_key="k:return")
    again = await dispatch.return_to_staff(demand.id, LEADER, "不归我们", request_key="k:return")
    assert first.team is None and again.team is None and again.staff_telegram_ids == [4001]
    routed = await triage.route(demand.id, demand.team_id, 4001, "k:route")
    routed_again = await triage.route(demand.id, demand.team_id, 4001, "k:route")
    assert routed.leader_telegram_id == routed_again.leader_telegram_id == LEADER
    async with sessions() as session:
        keyed = (await session.scalars(select(DemandEvent.request_key).where(
            DemandEvent.request_key.in_(["k:return", "k:route"])))).all()
    assert sorted(keyed) == ["k:return", "k:route"]  # each written once
