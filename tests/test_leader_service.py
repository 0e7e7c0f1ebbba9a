"""接单 without Telegram: only the team's leader, exactly once, written to the timeline."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.errors import AlreadyAccepted, NotAllowed, NotTeamLeader
from bot.services import lifecycle
from bot.services.intake import IntakeService
from bot.services.leader import LeaderService
from storage.models import DemandEvent
from tests.factories import make_team, person_id

FARMER, LEADER, OTHER_LEADER, EXPERT, STAFF = 1001, 2001, 2002, 3001, 4001


@pytest.fixture
async def ids(sessions) -> SimpleNamespace:
    """The people of these tests (by their Telegram accounts), as the services know them."""
    return SimpleNamespace(farmer=await person_id(sessions, FARMER, "张"), leader=await person_id(sessions, LEADER),
                           other_leader=await person_id(sessions, OTHER_LEADER),
                           expert=await person_id(sessions, EXPERT, "张专家"), staff=await person_id(sessions, STAFF))


@pytest.fixture
async def demand(sessions, understander, knowledge, clock, ids):
    await make_team(sessions, "植保服务团", ["plant_protection"], leader_telegram_id=LEADER, leader_name="李团长")
    await make_team(sessions, "畜牧服务团", ["livestock"], leader_telegram_id=OTHER_LEADER)
    intake = IntakeService(sessions, understander, knowledge, clock)
    draft = (await intake.new_question(ids.farmer, "水稻稻瘟病打什么药")).draft
    return (await intake.submit(draft.id, ids.farmer)).demand


@pytest.fixture
def leader(sessions, clock):
    return LeaderService(sessions, clock)


async def test_leader_accepts_and_the_timeline_records_it(leader, demand, sessions, ids):
    accepted = await leader.accept(demand.id, ids.leader)
    assert accepted.demand.status == lifecycle.ACCEPTED
    assert accepted.submitter_id == ids.farmer
    async with sessions() as session:
        events = (await session.scalars(select(DemandEvent).order_by(DemandEvent.id))).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        (lifecycle.SUBMITTED, lifecycle.WAITING), (lifecycle.WAITING, lifecycle.ACCEPTED)]
    assert events[-1].actor_id == accepted.leader.id


async def test_only_the_teams_own_leader_may_accept(leader, demand, ids):
    for outsider in (ids.other_leader, ids.farmer, ids.staff):
        with pytest.raises(NotTeamLeader):
            await leader.accept(demand.id, outsider)


async def test_second_tap_is_told_who_accepted(leader, demand, ids):
    await leader.accept(demand.id, ids.leader)
    with pytest.raises(AlreadyAccepted) as raised:
        await leader.accept(demand.id, ids.leader)
    assert "李团长" in raised.value.user_message


async def test_many_concurrent_accepts_give_exactly_one_acceptance(leader, demand, sessions, ids):
    results = await asyncio.gather(*(leader.accept(demand.id, ids.leader) for _ in range(20)), return_exceptions=True)
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, AlreadyAccepted) for r in results if isinstance(r, Exception))
    async with sessions() as session:
        accepts = (await session.scalars(select(DemandEvent).where(DemandEvent.to_status == lifecycle.ACCEPTED))).all()
    assert len(accepts) == 1


async def test_queue_lists_waiting_demands_oldest_first(leader, demand, sessions, understander, knowledge, clock, ids):
    intake = IntakeService(sessions, understander, knowledge, clock)
    clock.advance(hours=1)
    later = await intake.submit((await intake.new_question(ids.farmer, "柑橘红蜘蛛怎么防治")).draft.id, ids.farmer)
    page, total = await leader.queue(ids.leader, 0, 5)
    assert total == 2 and [d.id for d in page] == [demand.id, later.demand.id]
    await leader.accept(demand.id, ids.leader)
    page, total = await leader.queue(ids.leader, 0, 5)
    assert [d.id for d in page] == [later.demand.id]
    with pytest.raises(NotAllowed):
        await leader.queue(ids.farmer, 0, 5)


async def test_farmer_cancel_and_leader_accept_at_once_one_wins(leader, demand, sessions, clock, ids):
    from bot.errors import JicengError
    from bot.services.feedback import FeedbackService

    feedback = FeedbackService(sessions, clock)
    results = await asyncio.gather(leader.accept(demand.id, ids.leader), feedback.cancel(demand.id, ids.farmer),
                                   return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, JicengError) for r in results if isinstance(r, Exception))
    async with sessions() as session:
        events = (await session.scalars(select(DemandEvent).where(DemandEvent.demand_id == demand.id))).all()
    assert len(events) == 2  # submitted, then exactly one of accepted / cancelled


async def test_transfer_and_return_at_once_one_wins(leader, demand, sessions, clock, ids):
    from bot.errors import JicengError
    from bot.services.dispatch import DispatchService

    await leader.accept(demand.id, ids.leader)
    dispatch = DispatchService(sessions, clock)
    results = await asyncio.gather(
        dispatch.transfer(demand.id, ids.leader, "养殖问题", to_field="livestock"),
        dispatch.return_to_staff(demand.id, ids.leader, "不归我们"),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, JicengError) for r in results if isinstance(r, Exception))


async def test_third_reroute_is_refused_staff_decide(leader, demand, sessions, clock, ids):
    from bot.services.dispatch import DispatchService, TooManyReroutes
    from bot.services.triage import TriageService
    from tests.factories import make_staff

    dispatch, triage = DispatchService(sessions, clock), TriageService(sessions, clock)
    await make_staff(sessions, STAFF)
    await dispatch.return_to_staff(demand.id, ids.leader, "第一次")
    await triage.route(demand.id, demand.team_id, ids.staff)
    await dispatch.return_to_staff(demand.id, ids.leader, "第二次")
    await triage.route(demand.id, demand.team_id, ids.staff)
    with pytest.raises(TooManyReroutes):
        await dispatch.transfer(demand.id, ids.leader, "第三次", to_field="livestock")


async def test_a_request_handled_again_answers_as_the_first_time(leader, demand, sessions, clock, ids):
    """A retried or replayed update repeats its service call: it must not fail on the state its
    first run left, or the people it informs would never hear (the outbox keys their messages)."""
    from bot.services.dispatch import DispatchService
    from storage.models import Expert

    dispatch = DispatchService(sessions, clock)
    async with sessions.begin() as session:
        session.add(Expert(name="张专家", fields=["plant_protection"], team_id=demand.team_id, person_id=ids.expert))
    await leader.accept(demand.id, ids.leader, "k:accept")
    expert_id = next(c.expert.id for c in await dispatch.candidates(demand.id, ids.leader) if c.expert.name == "张专家")
    first = await dispatch.assign(demand.id, ids.leader, [expert_id], "k:assign")
    again = await dispatch.assign(demand.id, ids.leader, [expert_id], "k:assign")
    assert [e.name for e in first.experts] == [e.name for e in again.experts] == ["张专家"]
    assert again.expert_person_ids == [ids.expert]



async def test_a_reroute_handled_again_answers_as_the_first_time(leader, demand, sessions, clock, ids):
    from bot.services.dispatch import DispatchService
    from bot.services.triage import TriageService
    from tests.factories import make_staff

    dispatch, triage = DispatchService(sessions, clock), TriageService(sessions, clock)
    await make_staff(sessions, STAFF)
    first = await dispatch.return_to_staff(demand.id, ids.leader, "不归我们", request_key="k:return")
    again = await dispatch.return_to_staff(demand.id, ids.leader, "不归我们", request_key="k:return")
    assert first.team is None and again.team is None and again.staff_ids == [ids.staff]
    routed = await triage.route(demand.id, demand.team_id, ids.staff, "k:route")
    routed_again = await triage.route(demand.id, demand.team_id, ids.staff, "k:route")
    assert routed.leader_id == routed_again.leader_id == ids.leader
    async with sessions() as session:
        keyed = (await session.scalars(select(DemandEvent.request_key).where(
            DemandEvent.request_key.in_(["k:return", "k:route"])))).all()
    assert sorted(keyed) == ["k:return", "k:route"]  # each written once
