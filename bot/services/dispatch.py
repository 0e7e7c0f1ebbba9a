"""What a team leader does with a demand after it reaches the team: 转派 to another team or
field, 退回 to staff triage, choose the service mode, and assign experts ranked by match."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict, NotFound, NotTeamLeader
from bot.messages import EXPERT_CARD_UNREACHABLE, EXPERT_UNREACHABLE, UNREACHABLE_REASONS
from bot.services import lifecycle
from bot.services.hooks import LoopHooks
from bot.services.hours import SERVICE_MODES
from bot.services.matching import Candidate, rank
from bot.services.outbox import ACTION, Outbox, Outgoing
from bot.services.people import EXPERT, addresses_of, grant_role, leads, person_by_id, staff_ids
from bot.services.routing import choose_team
from intents import taxonomy
from storage.models import (
    Demand,
    DemandAssignment,
    DemandEvent,
    DemandMedia,
    Expert,
    FieldCorrection,
    OutboxMessage,
    Person,
    ServiceTeam,
)

if TYPE_CHECKING:
    from bot.services.sender import Row

MAX_REROUTES = 2  # after two transfers or returns, staff decide where a demand goes
MODES = SERVICE_MODES  # 线上服务、短期服务、巡回服务


class TooManyReroutes(Conflict):
    user_message = "这条需求已经转派或退回两次了，请退回工作人员统一分派。"


@dataclass(frozen=True)
class Rerouted:
    demand: Demand
    team: ServiceTeam | None           # the new team, None when it went to staff triage
    leader_id: int | None
    staff_ids: list[int]
    reason: str


@dataclass(frozen=True)
class Assigned:
    demand: Demand
    experts: list[Expert]
    expert_person_ids: list[int]
    media: list[DemandMedia] = field(default_factory=list)
    submitter_id: int | None = None


@dataclass(frozen=True)
class DemandBrief:
    """A demand with the names people see beside it."""

    demand: Demand
    team_name: str
    farmer_name: str
    farmer_id: int


async def brief(sessions: async_sessionmaker[AsyncSession], demand_id: int) -> DemandBrief | None:
    async with sessions() as session:
        demand = await session.get(Demand, demand_id)
        if demand is None:
            return None
        team = await session.get(ServiceTeam, demand.team_id) if demand.team_id else None
        farmer = await session.get(Person, demand.submitter_id)
        return DemandBrief(demand, team.name if team else "", (farmer.display_name if farmer else "") or "农户",
                           demand.submitter_id)


class DispatchService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime],
                 hooks: LoopHooks | None = None) -> None:
        self._sessions = sessions
        self._clock = clock
        self._hooks = hooks or LoopHooks()

    async def check_leader(self, demand_id: int, person_id: int) -> Demand:
        """The demand, if this person leads its team (else NotTeamLeader)."""
        async with self._sessions() as session:
            demand, _, _ = await _led_demand(session, demand_id, person_id)
            return demand

    async def other_teams(self, demand_id: int, person_id: int) -> list[ServiceTeam]:
        async with self._sessions() as session:
            demand, _, _ = await _led_demand(session, demand_id, person_id)
            rows = await session.scalars(select(ServiceTeam).where(ServiceTeam.id != demand.team_id).order_by(ServiceTeam.id))
            return list(rows)

    async def transfer(self, demand_id: int, person_id: int, reason: str, *, to_team_id: int | None = None,
                       to_field: str | None = None, request_key: str | None = None) -> Rerouted:
        """转派 to another team, or to another field (routed like a new demand). The
        corrected field is kept for the classifier. The third reroute goes to staff."""
        now = self._clock()
        async with self._sessions.begin() as session:
            if await lifecycle.replayed(session, demand_id, request_key) is not None:
                return await _rerouted_again(session, demand_id, reason)
            demand, leader, _ = await _led_demand(session, demand_id, person_id)
            if demand.status not in (lifecycle.WAITING, lifecycle.ACCEPTED):
                raise Conflict(f"这条需求现在是「{lifecycle.status_name(demand.status)}」，不能转派。")
            if demand.reroutes >= MAX_REROUTES:
                raise TooManyReroutes()
            new_field = demand.field
            if to_field is not None:
                if not taxonomy.is_field(to_field):
                    raise NotFound("没有这个领域。")
                new_field = to_field
                teams = (await session.scalars(
                    select(ServiceTeam).where(ServiceTeam.id != demand.team_id).order_by(ServiceTeam.id))).all()
                target = choose_team(teams, new_field, demand.region_code)
                if new_field != demand.field:
                    session.add(FieldCorrection(text=demand.text, from_field=demand.field, to_field=new_field,
                                                source="leader", actor_id=leader.id, demand_id=demand.id))
            else:
                target = await session.get(ServiceTeam, to_team_id) if to_team_id else None
                if target is None or target.id == demand.team_id:
                    raise NotFound("没有这个服务团，请重新选择。")
            to_status = lifecycle.WAITING if target else lifecycle.TRIAGE
            note = f"转派：{reason}" + (f"（领域改为{taxonomy.field_name(new_field)}）" if new_field != demand.field else "")
            await lifecycle.move(
                session, demand.id, demand.status, to_status, actor_id=leader.id, at=now, note=note,
                request_key=request_key, team_id=target.id if target else None,
                field=new_field, reroutes=demand.reroutes + 1, accepted_by_id=None, accepted_at=None,
            )
            await session.refresh(demand)
            await self._hooks.left_team(session, demand)
            if target is not None:
                await self._hooks.routed(session, demand)
            return await _rerouted(session, demand, target, reason)

    async def return_to_staff(self, demand_id: int, person_id: int, reason: str,
                              request_key: str | None = None) -> Rerouted:
        """退回: the demand goes to staff triage with the leader's reason."""
        now = self._clock()
        async with self._sessions.begin() as session:
            if await lifecycle.replayed(session, demand_id, request_key) is not None:
                return await _rerouted_again(session, demand_id, reason)
            demand, leader, _ = await _led_demand(session, demand_id, person_id)
            if demand.status not in (lifecycle.WAITING, lifecycle.ACCEPTED):
                raise Conflict(f"这条需求现在是「{lifecycle.status_name(demand.status)}」，不能退回。")
            await lifecycle.move(
                session, demand.id, demand.status, lifecycle.TRIAGE, actor_id=leader.id, at=now,
                note=f"退回：{reason}", request_key=request_key, reroutes=demand.reroutes + 1,
                accepted_by_id=None, accepted_at=None,
            )
            await session.refresh(demand)
            await self._hooks.left_team(session, demand)
            return await _rerouted(session, demand, None, reason)

    async def set_mode(self, demand_id: int, person_id: int, mode: str, visit_date: date | None = None) -> Demand:
        if mode not in MODES:
            raise NotFound("没有这种服务方式。")
        async with self._sessions.begin() as session:
            demand, _, _ = await _led_demand(session, demand_id, person_id)
            if demand.status not in lifecycle.OPEN - {lifecycle.WAITING, lifecycle.TRIAGE}:
                raise Conflict("请先接单，再选择服务方式。")
            demand.service_mode, demand.visit_date = mode, visit_date
            return demand

    async def candidates(self, demand_id: int, person_id: int) -> list[Candidate]:
        """The team's experts, best match first; the leader is among them (may assign themself)."""
        async with self._sessions.begin() as session:
            demand, leader, team = await _led_demand(session, demand_id, person_id)
            await _leader_as_expert(session, leader, team)
            experts = (await session.scalars(select(Expert).where(Expert.team_id == team.id).order_by(Expert.id))).all()
            load = dict((await session.execute(
                select(DemandAssignment.expert_id, func.count())
                .join(Demand, Demand.id == DemandAssignment.demand_id)
                .where(Demand.status.in_(lifecycle.SERVING | {lifecycle.ACCEPTED}))
                .group_by(DemandAssignment.expert_id)
            )).all())
            return rank(list(experts), demand, load)

    async def assign(self, demand_id: int, person_id: int, expert_ids: list[int],
                     request_key: str | None = None) -> Assigned:
        """Assign experts of the team; the demand goes into service. Assigning the same
        expert again changes nothing."""
        now = self._clock()
        async with self._sessions.begin() as session:
            demand, leader, team = await _led_demand(session, demand_id, person_id)
            if (event := await lifecycle.replayed(session, demand_id, request_key)) is not None:
                return await _assigned_again(session, demand, event)
            if demand.status not in (lifecycle.ACCEPTED, *lifecycle.SERVING):
                raise Conflict("请先接单，再派专家。")
            experts = (await session.scalars(
                select(Expert).where(Expert.id.in_(expert_ids), Expert.team_id == team.id))).all()
            if not experts:
                raise NotFound("没有找到这位专家，请重新选择。")
            candidates = {c.expert.id: c.reason for c in rank(list(experts), demand, {})}
            existing = set(await session.scalars(
                select(DemandAssignment.expert_id).where(DemandAssignment.demand_id == demand.id)))
            new = [e for e in experts if e.id not in existing]
            reachable = await addresses_of(session, (e.person_id for e in new if e.person_id is not None))
            unreachable = [e.name for e in new if e.person_id not in reachable]
            if unreachable:
                # Told now, not discovered later: nobody would ever answer the farmer.
                raise Conflict(EXPERT_UNREACHABLE.format(names="、".join(unreachable)))
            for expert in new:
                session.add(DemandAssignment(demand_id=demand.id, expert_id=expert.id, assigned_by_id=leader.id,
                                             reason=candidates.get(expert.id, ""), created_at=now))
            if new:
                names = "、".join(e.name for e in new)
                to_status = lifecycle.IN_SERVICE if demand.status == lifecycle.ACCEPTED else demand.status
                await lifecycle.move(session, demand.id, demand.status, to_status, actor_id=leader.id, at=now,
                                     note=f"派专家：{names}", request_key=request_key)
            await session.refresh(demand)
            return await _assigned(session, demand, list(new))


async def _led_demand(session: AsyncSession, demand_id: int, person_id: int) -> tuple[Demand, Person, ServiceTeam]:
    demand = await session.get(Demand, demand_id)
    if demand is None:
        raise NotFound("没有找到这条需求。")
    person = await person_by_id(session, person_id)
    team = await session.get(ServiceTeam, demand.team_id) if demand.team_id else None
    if team is None or not leads(person, team):
        raise NotTeamLeader("只有这条需求所属服务团的团长才能这样做。")
    return demand, person, team


async def _leader_as_expert(session: AsyncSession, leader: Person, team: ServiceTeam) -> None:
    """A leader serves too: make sure they appear among their team's experts."""
    expert = await session.scalar(select(Expert).where(Expert.person_id == leader.id))
    if expert is None:
        session.add(Expert(name=leader.display_name or "团长", title="团长", fields=list(team.fields or []),
                           regions=list(team.regions or []), team_id=team.id, person_id=leader.id))
        grant_role(leader, EXPERT)
        await session.flush()


async def _rerouted_again(session: AsyncSession, demand_id: int, reason: str) -> Rerouted:
    demand = await session.get(Demand, demand_id)
    if demand is None:
        raise NotFound("没有找到这条需求。")
    in_a_queue = demand.status != lifecycle.TRIAGE and demand.team_id is not None
    team = await session.get(ServiceTeam, demand.team_id) if in_a_queue else None
    return await _rerouted(session, demand, team, reason)


async def _assigned_again(session: AsyncSession, demand: Demand, event: DemandEvent) -> Assigned:
    """What an assignment said the first time: the experts it added (written with its event)."""
    experts = (await session.scalars(
        select(Expert).join(DemandAssignment, DemandAssignment.expert_id == Expert.id)
        .where(DemandAssignment.demand_id == demand.id, DemandAssignment.created_at == event.created_at)
        .order_by(DemandAssignment.id))).all()
    return await _assigned(session, demand, list(experts))


async def _assigned(session: AsyncSession, demand: Demand, experts: list[Expert]) -> Assigned:
    media = (await session.scalars(select(DemandMedia).where(DemandMedia.demand_id == demand.id)
                                   .order_by(DemandMedia.id))).all()
    return Assigned(demand, experts, [e.person_id for e in experts if e.person_id is not None], list(media),
                    demand.submitter_id)


async def _rerouted(session: AsyncSession, demand: Demand, team: ServiceTeam | None, reason: str) -> Rerouted:
    return Rerouted(demand, team, team.leader_id if team else None, await staff_ids(session), reason)


ASSIGNMENT_PURPOSE = "assignment"  # the outbox row briefing an expert on demand <id>


async def expert_unreachable(outbox: Outbox, session: AsyncSession, row: Row, message_id: int | None) -> None:
    """Failure effect of an expert's assignment card (see bot.services.sender.Effects): the expert
    blocked the bot or cannot be reached, so the leader who assigned them is told to choose again."""
    demand = await session.get(Demand, int(row.argument)) if row.argument.isdigit() else None
    if demand is None or demand.team_id is None:
        return
    team = await session.get(ServiceTeam, demand.team_id)
    leader = team.leader_id if team is not None else None
    expert = None if row.person_id is None else await session.scalar(
        select(Expert).where(Expert.person_id == row.person_id))
    status = await session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == row.id))
    assert status is not None  # the effect runs in the transaction recording this row's outcome
    text = EXPERT_CARD_UNREACHABLE.format(name=expert.name if expert else "专家", no=demand.tracking_no,
                                          reason=UNREACHABLE_REASONS.get(status, status))
    recipients = [leader] if leader is not None else await staff_ids(session)
    for person_id in recipients:
        await outbox.put(session, person_id, Outgoing(text), ACTION, purpose=f"expert_unreachable:{demand.id}",
                         request_key=f"expert_unreachable:{row.id}:{person_id}")
