"""Staff acting on one demand from the console, within their area: 改派 (to another team, before
the work has started), 督办 (urge the team — its leader and the assigned experts are told at once)
and a note on the timeline. Each is written on the demand's timeline with who did it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import messages
from bot.buttons import AcceptDemand
from bot.errors import Conflict, NotAllowed, NotFound
from bot.services import lifecycle
from bot.services.hooks import LoopHooks
from bot.services.notifier import Action
from bot.services.outbox import ACTION, Outbox, Outgoing, buttons
from bot.services.oversight import OUTSIDE, scope_of
from bot.services.people import person_by_id, staff_ids
from intents import regions
from storage.models import Demand, DemandAssignment, DemandEvent, Expert, ServiceTeam

MAX_NOTE = 500
REROUTABLE = (lifecycle.TRIAGE, lifecycle.WAITING, lifecycle.ACCEPTED)
NOT_NOW = "这条需求已经开始服务或已结束，不能改派；可以督办或加备注。"
SAME_TEAM = "这条需求已经在这个服务团了。"
EMPTY_NOTE = "请写上备注内容。"
URGED = "【督办】工作人员{name}督办需求 {no}，请尽快处理。{note}\n内容：{text}"
REROUTED_TEAM = "需求 {no} 已由工作人员改派给「{team}」，不再由你们服务团办理。"


@dataclass(frozen=True)
class Done:
    demand: Demand
    told: list[int]  # people notified


class Supervision:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox, clock: Callable[[], datetime],
                 hooks: LoopHooks | None = None) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._clock = clock
        self._hooks = hooks or LoopHooks()

    async def reroute(self, demand_id: int, staff_id: int, team_id: int, reason: str) -> Done:
        now = self._clock()
        async with self._sessions.begin() as session:
            demand = await _in_scope(session, staff_id, demand_id)
            team = await session.get(ServiceTeam, team_id)
            if team is None:
                raise NotFound("没有这个服务团。")
            if demand.status not in REROUTABLE:
                raise Conflict(NOT_NOW)
            if demand.team_id == team.id and demand.status != lifecycle.TRIAGE:
                raise Conflict(SAME_TEAM)
            scope = await scope_of(session, staff_id)
            if not scope.everything and not any(regions.covers(r, scope.region) or scope.contains(r)
                                                for r in team.regions or []):
                raise NotAllowed("只能改派给服务本地区的服务团。")
            old_team = await session.get(ServiceTeam, demand.team_id) if demand.team_id else None
            note = f"工作人员改派给{team.name}" + (f"：{reason.strip()[:MAX_NOTE]}" if reason.strip() else "")
            await self._hooks.left_team(session, demand)
            await lifecycle.move(session, demand.id, demand.status, lifecycle.WAITING, actor_id=staff_id, at=now,
                                 note=note, team_id=team.id, accepted_by_id=None, accepted_at=None)
            await session.refresh(demand)
            await self._hooks.routed(session, demand)
            told = []
            if team.leader_id is not None:
                farmer = await person_by_id(session, demand.submitter_id)
                card = messages.NEW_DEMAND.format(
                    urgent=messages.URGENT_TAG if demand.urgent else "", no=demand.tracking_no,
                    field=messages.field_label(demand.field), region=messages.region_label(demand.region_code),
                    name=farmer.display_name or "农户", time=messages.china_time(demand.created_at),
                    text=messages.short(demand.text, 1500))
                accept = buttons([[Action(messages.BTN_ACCEPT, AcceptDemand(demand.id).encode())]])
                await self._outbox.put(session, team.leader_id, Outgoing(card, accept), ACTION,
                                       purpose=f"new_demand:{demand.id}")
                told.append(team.leader_id)
            if old_team is not None and old_team.leader_id not in (None, team.leader_id):
                await self._outbox.put(session, old_team.leader_id, Outgoing(REROUTED_TEAM.format(
                    no=demand.tracking_no, team=team.name)), ACTION)
                told.append(old_team.leader_id)
            await self._outbox.put(session, demand.submitter_id, Outgoing(messages.REROUTED_FARMER.format(
                no=demand.tracking_no, where=f"「{team.name}」")), ACTION)
            return Done(demand, told)

    async def urge(self, demand_id: int, staff_id: int, note: str) -> Done:
        """督办: the team's leader and the assigned experts (staff, when no team has it) hear it now."""
        now = self._clock()
        async with self._sessions.begin() as session:
            demand = await _in_scope(session, staff_id, demand_id)
            if demand.status not in lifecycle.OPEN:
                raise Conflict("这条需求已经办结或撤回，不需要督办。")
            staff = await person_by_id(session, staff_id)
            text = note.strip()[:MAX_NOTE]
            session.add(DemandEvent(demand_id=demand.id, from_status=demand.status, to_status=demand.status,
                                    actor_id=staff_id, note=f"督办：{text}" if text else "督办", created_at=now))
            team = await session.get(ServiceTeam, demand.team_id) if demand.team_id else None
            people = [team.leader_id] if team is not None and team.leader_id is not None else []
            people += [pid for pid in (await session.scalars(
                select(Expert.person_id).join(DemandAssignment, DemandAssignment.expert_id == Expert.id)
                .where(DemandAssignment.demand_id == demand.id))).all() if pid is not None]
            if not people:  # nobody serves it yet: the other staff who oversee its area
                people = [pid for pid in await staff_ids(session) if pid != staff_id
                          and (await scope_of(session, pid)).covers(demand.region_code)]
            told = list(dict.fromkeys(people))
            message = URGED.format(name=staff.display_name, no=demand.tracking_no, note=text,
                                   text=messages.short(demand.text, 300))
            for person in told:
                await self._outbox.put(session, person, Outgoing(message), ACTION)
            return Done(demand, told)

    async def note(self, demand_id: int, staff_id: int, text: str) -> Done:
        text = text.strip()[:MAX_NOTE]
        if not text:
            raise Conflict(EMPTY_NOTE)
        async with self._sessions.begin() as session:
            demand = await _in_scope(session, staff_id, demand_id)
            session.add(DemandEvent(demand_id=demand.id, from_status=demand.status, to_status=demand.status,
                                    actor_id=staff_id, note=f"备注：{text}", created_at=self._clock()))
            return Done(demand, [])


async def _in_scope(session: AsyncSession, staff_id: int, demand_id: int) -> Demand:
    scope = await scope_of(session, staff_id)
    demand = await session.get(Demand, demand_id)
    if demand is None:
        raise NotFound("没有这条需求。")
    if not scope.covers(demand.region_code):
        raise NotAllowed(OUTSIDE)
    return demand
