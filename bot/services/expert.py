"""The expert's side and the conversation with the farmer: answers and questions relayed
both ways (text, photo, voice), and closing the service with a service record (服务记录).
Neither side sees the other's phone number: only the bot's relayed copies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict, NotAllowed, NotFound
from bot.services import lifecycle
from bot.services.dispatch import MODES
from bot.services.hooks import LoopHooks
from bot.services.hours import ONLINE
from bot.services.people import STAFF, person_by_id, staff_ids
from storage.models import Demand, DemandAssignment, DemandMessage, Expert, Person, ServiceRecord

if TYPE_CHECKING:
    from bot.services.sender import Row

TO_FARMER, TO_EXPERT = "to_farmer", "to_expert"
MAX_HOURS = 72      # one service record, at most (nine working days)
REVIEW_HOURS = 24   # longer records count once staff approve them
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
REVIEW_LONG = "服务时长超过 {hours} 小时"
REVIEW_SELF = "团长把需求派给了自己"


class NotAssigned(NotAllowed):
    user_message = "您没有被派到这条需求，不能代为答复。"


@dataclass(frozen=True)
class Relay:
    message_id: int                 # our DemandMessage id, to record where the copy landed
    demand: Demand
    recipients: list[int]           # the people who should get the copy
    sender_name: str
    first_answer: bool = False
    direction: str = TO_FARMER


@dataclass(frozen=True)
class Closing:
    demand: Demand
    record: ServiceRecord
    farmer_id: int
    expert_name: str
    review: str | None = None               # why staff must approve the hours first, if they must
    reviewers: list[int] = field(default_factory=list)  # staff
    co_experts: list[int] = field(default_factory=list)  # the other assigned experts (people) who may log theirs


class ExpertService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime],
                 hooks: LoopHooks | None = None) -> None:
        self._sessions = sessions
        self._clock = clock
        self._hooks = hooks or LoopHooks()

    async def my_demands(self, person_id: int) -> list[Demand]:
        """Demands this expert serves that are still open."""
        async with self._sessions() as session:
            expert = await _expert_of(session, person_id)
            if expert is None:
                return []
            rows = await session.scalars(
                select(Demand).join(DemandAssignment, DemandAssignment.demand_id == Demand.id)
                .where(DemandAssignment.expert_id == expert.id, Demand.status.in_(lifecycle.SERVING))
                .order_by(Demand.id)
            )
            return list(rows)

    async def to_farmer(self, demand_id: int, person_id: int, kind: str, text: str = "",
                        file_id: str | None = None, request_key: str | None = None) -> Relay:
        """An expert's answer or question goes to the farmer; the first answer moves the
        demand to 专家已答复 and stops the first-answer deadline."""
        now = self._clock()
        async with self._sessions.begin() as session:
            if request_key and (seen := await _message_by_key(session, request_key)):
                return await _relay_of(session, seen)
            demand, expert, person = await _assigned(session, demand_id, person_id)
            if demand.status not in lifecycle.SERVING:
                raise Conflict(f"这条需求现在是「{lifecycle.status_name(demand.status)}」，不能再答复。")
            message = DemandMessage(demand_id=demand.id, sender_id=person.id, direction=TO_FARMER, kind=kind,
                                    text=text, file_id=file_id, request_key=request_key, created_at=now)
            session.add(message)
            first = demand.first_answer_at is None
            if demand.status != lifecycle.ANSWERED:
                await lifecycle.move(session, demand.id, demand.status, lifecycle.ANSWERED, actor_id=person.id,
                                     at=now, note=f"{expert.name}答复", request_key=request_key,
                                     first_answer_at=demand.first_answer_at or now)
                await session.refresh(demand)
                await self._hooks.answered(session, demand)
            await session.flush()
            return await _relay_of(session, message, first_answer=first)

    async def to_expert(self, person_id: int, kind: str, text: str = "", file_id: str | None = None, *,
                        reply_to_message_id: int | None = None, request_key: str | None = None) -> Relay | None:
        """A farmer's message for the experts: a reply to a relayed copy, or any message
        while exactly one of their demands is in service. None when it belongs to no conversation."""
        now = self._clock()
        async with self._sessions.begin() as session:
            if request_key and (seen := await _message_by_key(session, request_key)):
                return await _relay_of(session, seen)
            farmer = await person_by_id(session, person_id)
            demand = None
            if reply_to_message_id is not None:
                copy = await session.scalar(select(DemandMessage).where(
                    DemandMessage.recipient_id == person_id, DemandMessage.relayed_message_id == reply_to_message_id))
                demand = await session.get(Demand, copy.demand_id) if copy else None
            if demand is None:
                serving = (await session.scalars(select(Demand).where(
                    Demand.submitter_id == farmer.id, Demand.status.in_(lifecycle.SERVING),
                    Demand.first_answer_at.is_not(None)))).all()
                demand = serving[0] if len(serving) == 1 else None
            if demand is None or demand.submitter_id != farmer.id or demand.status not in lifecycle.SERVING:
                return None
            message = DemandMessage(demand_id=demand.id, sender_id=farmer.id, direction=TO_EXPERT, kind=kind,
                                    text=text, file_id=file_id, request_key=request_key, created_at=now)
            session.add(message)
            await session.flush()
            return await _relay_of(session, message)

    async def delivered(self, message_id: int, recipient_id: int, relayed_message_id: int) -> None:
        """Remember where a relayed copy landed, so a reply to it finds its way back."""
        async with self._sessions.begin() as session:
            await remember_relay(session, message_id, recipient_id, relayed_message_id)

    async def close(self, demand_id: int, person_id: int, mode: str, hours: float, summary: str,
                    visit_date: date | None = None, request_key: str | None = None) -> Closing:
        """办结: the expert's service record closes the demand; the farmer is asked for feedback."""
        if mode not in MODES:
            raise NotFound("没有这种服务方式。")
        if not 0 < hours <= MAX_HOURS:
            raise Conflict(f"服务时长要在 0 到 {MAX_HOURS} 小时之间。")
        now = self._clock()
        async with self._sessions.begin() as session:
            demand, expert, person = await _assigned(session, demand_id, person_id)
            if request_key and (record := await session.scalar(
                    select(ServiceRecord).where(ServiceRecord.request_key == request_key))) is not None:
                return Closing(demand, record, demand.submitter_id, expert.name,  # handled again: as before
                               await _review_reason(session, record, person.id), await staff_ids(session))
            if demand.status not in lifecycle.SERVING:
                raise Conflict(f"这条需求现在是「{lifecycle.status_name(demand.status)}」，不能办结。")
            record = ServiceRecord(demand_id=demand.id, expert_id=expert.id, mode=mode, hours=hours,
                                   visit_date=visit_date, summary=summary, request_key=request_key, created_at=now)
            session.add(record)
            await session.flush()
            reason = await _review_reason(session, record, person.id)
            record.review = PENDING if reason else None
            await lifecycle.move(session, demand.id, demand.status, lifecycle.CLOSED, actor_id=person.id, at=now,
                                 note=f"{expert.name}办结：{summary}", request_key=request_key, closed_at=now)
            await session.refresh(demand)
            await self._hooks.closed(session, demand)
            return Closing(demand, record, demand.submitter_id, expert.name, reason, await staff_ids(session),
                           await _co_experts(session, demand.id, expert.id))

    async def log_own_hours(self, demand_id: int, person_id: int, hours: float, summary: str,
                            request_key: str | None = None) -> tuple[ServiceRecord, str | None]:
        """Another assigned expert's own hours on a demand someone else closed (each expert who
        served gets their record, not only the one who closed it); one record per expert."""
        if not 0 < hours <= MAX_HOURS:
            raise Conflict(f"服务时长要在 0 到 {MAX_HOURS} 小时之间。")
        async with self._sessions.begin() as session:
            demand, expert, person = await _assigned(session, demand_id, person_id)
            if demand.status not in (lifecycle.CLOSED, lifecycle.REOPENED):
                raise Conflict("需求办结后才能填写自己的服务时长。")
            mine = await session.scalar(select(ServiceRecord).where(ServiceRecord.demand_id == demand.id,
                                                                    ServiceRecord.expert_id == expert.id))
            if mine is not None:
                raise Conflict("您在这条需求上的服务时长已经填写过了。")
            record = ServiceRecord(demand_id=demand.id, expert_id=expert.id, mode=demand.service_mode or ONLINE,
                                   hours=hours, summary=summary, request_key=request_key, created_at=self._clock())
            session.add(record)
            await session.flush()
            reason = await _review_reason(session, record, person.id)
            record.review = PENDING if reason else None
            return record, reason

    async def review(self, record_id: int, staff_id: int, approve: bool) -> tuple[ServiceRecord, str]:
        """Staff count a record under review (认可) or not (不认可); the first decision stands."""
        async with self._sessions.begin() as session:
            staff = await person_by_id(session, staff_id)
            if STAFF not in staff.role_names:
                raise NotAllowed("只有工作人员可以审核服务时长。")
            record = await session.get(ServiceRecord, record_id)
            if record is None:
                raise NotFound("没有找到这条服务记录。")
            if record.review == PENDING:
                record.review = APPROVED if approve else REJECTED
            expert = await session.get(Expert, record.expert_id)
            return record, expert.name if expert else "专家"


async def _co_experts(session: AsyncSession, demand_id: int, closer_id: int) -> list[int]:
    rows = await session.scalars(select(Expert.person_id).join(DemandAssignment, DemandAssignment.expert_id == Expert.id)
                                 .where(DemandAssignment.demand_id == demand_id, Expert.id != closer_id))
    return [person for person in rows.all() if person is not None]


async def _review_reason(session: AsyncSession, record: ServiceRecord, person_id: int) -> str | None:
    if record.hours > REVIEW_HOURS:
        return REVIEW_LONG.format(hours=REVIEW_HOURS)
    self_assigned = await session.scalar(select(DemandAssignment.id).where(
        DemandAssignment.demand_id == record.demand_id, DemandAssignment.expert_id == record.expert_id,
        DemandAssignment.assigned_by_id == person_id))
    return REVIEW_SELF if self_assigned is not None else None


async def _expert_of(session: AsyncSession, person_id: int) -> Expert | None:
    return await session.scalar(select(Expert).where(Expert.person_id == person_id))


async def _assigned(session: AsyncSession, demand_id: int, person_id: int) -> tuple[Demand, Expert, Person]:
    demand = await session.get(Demand, demand_id)
    if demand is None:
        raise NotFound("没有找到这条需求。")
    person = await person_by_id(session, person_id)
    expert = await _expert_of(session, person_id)
    if expert is None or await session.scalar(select(DemandAssignment.id).where(
            DemandAssignment.demand_id == demand.id, DemandAssignment.expert_id == expert.id)) is None:
        raise NotAssigned()
    return demand, expert, person


async def _message_by_key(session: AsyncSession, request_key: str) -> DemandMessage | None:
    return await session.scalar(select(DemandMessage).where(DemandMessage.request_key == request_key))


async def _relay_of(session: AsyncSession, message: DemandMessage, first_answer: bool = False) -> Relay:
    demand = await session.get(Demand, message.demand_id)
    assert demand is not None  # message.demand_id is a foreign key
    sender = await person_by_id(session, message.sender_id)
    if message.direction == TO_FARMER:
        recipients = [demand.submitter_id]
        expert = await session.scalar(select(Expert).where(Expert.person_id == sender.id))
        name = expert.name if expert else sender.display_name
    else:
        experts = (await session.scalars(select(Expert).join(DemandAssignment, DemandAssignment.expert_id == Expert.id)
                                         .where(DemandAssignment.demand_id == demand.id))).all()
        recipients = [expert.person_id for expert in experts if expert.person_id is not None]
        name = sender.display_name or "农户"
    return Relay(message.id, demand, recipients, name, first_answer, message.direction)


RELAY_PURPOSE = "relay"  # an outbox row carrying a relayed copy of DemandMessage <id>


async def remember_relay(session: AsyncSession, message_id: int, recipient_id: int | None,
                         relayed_message_id: int) -> None:
    await session.execute(update(DemandMessage).where(DemandMessage.id == message_id).values(
        recipient_id=recipient_id, relayed_message_id=relayed_message_id))


async def relay_sent(session: AsyncSession, row: Row, message_id: int | None) -> None:
    """After-send effect of a relayed copy (see bot.services.sender.Effects)."""
    if message_id is not None and row.argument.isdigit():
        await remember_relay(session, int(row.argument), row.person_id, message_id)
