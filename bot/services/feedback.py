"""The farmer closes the loop: 已解决 / 未解决 and a 1–5 star rating after the service is
closed, the answer to the 回访 a week later, and cancelling a demand nobody has accepted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict, NotFound
from bot.services import lifecycle
from bot.services.hooks import LoopHooks
from bot.services.knowledge import MAX_ANSWER, REVIEW, question_key
from bot.services.people import person_by_id
from bot.services.redact import names_in, redact
from bot.services.sharing import Offered, reviewers_of, shared
from storage.models import Demand, DemandAssignment, DemandMessage, Expert, KnowledgeEntry, Person, ServiceTeam


@dataclass(frozen=True)
class Reopened:
    demand: Demand
    notify: list[int]  # the team's leader and the assigned experts


class FeedbackService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime],
                 hooks: LoopHooks | None = None) -> None:
        self._sessions = sessions
        self._clock = clock
        self._hooks = hooks or LoopHooks()

    async def solved(self, demand_id: int, person_id: int, solved: bool, *, follow_up: bool = False,
                     request_key: str | None = None) -> Reopened | None:
        """已解决 keeps the demand closed; 未解决 (or 没有 at the 回访) reopens it to the same team."""
        now = self._clock()
        async with self._sessions.begin() as session:
            demand, farmer = await _own_demand(session, demand_id, person_id)
            if solved:
                demand.solved = True  # shared with others only if the farmer agrees (`share`)
                return None
            if demand.status == lifecycle.REOPENED:
                return None  # a second tap
            if demand.status != lifecycle.CLOSED:
                raise Conflict("这条需求还在办理中，专家会继续跟进；有新情况可以直接回复专家的消息。")
            note = "回访：问题没有解决" if follow_up else "农户：问题没有解决"
            await lifecycle.move(session, demand.id, lifecycle.CLOSED, lifecycle.REOPENED, actor_id=farmer.id,
                                 at=now, note=note, request_key=request_key, solved=False, closed_at=None,
                                 first_answer_at=None)
            await session.refresh(demand)
            await self._hooks.accepted(session, demand)  # a new first-answer deadline
            return Reopened(demand, await _team_people(session, demand))

    async def share(self, demand_id: int, person_id: int, agree: bool) -> Offered | None:
        """The farmer's answer to "may this help others?": only a yes offers the question and the
        experts' answers, redacted, for review (`bot.services.sharing`); the default is no."""
        async with self._sessions.begin() as session:
            demand, farmer = await _own_demand(session, demand_id, person_id)
            if not demand.solved:
                raise Conflict("问题解决以后才能分享。")
            if not agree:
                return None
            experts = (await session.scalars(
                select(Expert.name).join(DemandAssignment, DemandAssignment.expert_id == Expert.id)
                .where(DemandAssignment.demand_id == demand.id))).all()
            entry = await _remember_answer(session, demand, self._clock(), [farmer.display_name, *experts])
            if entry is None:
                return None
            return Offered(await shared(session, entry), await reviewers_of(session, demand))

    async def asked_as_enterprise(self, demand_id: int) -> bool:
        async with self._sessions() as session:
            demand = await session.get(Demand, demand_id)
        return demand is not None and demand.enterprise_id is not None

    async def rate(self, demand_id: int, person_id: int, stars: int) -> Demand:
        if not 1 <= stars <= 5:
            raise NotFound("评分只能是 1 到 5 星。")
        async with self._sessions.begin() as session:
            demand, _ = await _own_demand(session, demand_id, person_id)
            if demand.status not in (lifecycle.CLOSED, lifecycle.REOPENED):
                raise Conflict("需求办结后才能评分。")
            demand.rating = stars
            return demand

    async def cancel(self, demand_id: int, person_id: int, request_key: str | None = None) -> Demand:
        """The farmer withdraws a demand nobody has accepted yet."""
        now = self._clock()
        async with self._sessions.begin() as session:
            demand, farmer = await _own_demand(session, demand_id, person_id)
            if demand.status == lifecycle.CANCELLED:
                return demand
            if demand.status not in (lifecycle.WAITING, lifecycle.TRIAGE):
                raise Conflict("这条需求已经有人接单了，不能撤回；如不再需要，可以直接告诉专家。")
            await lifecycle.move(session, demand.id, demand.status, lifecycle.CANCELLED, actor_id=farmer.id,
                                 at=now, note="农户撤回", request_key=request_key)
            await session.refresh(demand)
            await self._hooks.left_team(session, demand)
            return demand

    async def cancellable(self, person_id: int) -> list[Demand]:
        async with self._sessions() as session:
            rows = await session.scalars(select(Demand).where(
                Demand.submitter_id == person_id, Demand.status.in_((lifecycle.WAITING, lifecycle.TRIAGE))
            ).order_by(Demand.id))
            return list(rows)


async def _remember_answer(session: AsyncSession, demand: Demand, now: datetime,
                           names: list[str]) -> KnowledgeEntry | None:
    """A solved demand whose farmer agreed is offered to the knowledge base behind "similar solved
    questions", answered with what the experts wrote — both with phone and ID numbers, names and
    villages taken out (`bot.services.redact`) — and waits for review. None: nothing to share
    (no written answer) or the same question is there already."""

    answers = (await session.scalars(
        select(DemandMessage.text).where(DemandMessage.demand_id == demand.id, DemandMessage.direction == "to_farmer",
                                         DemandMessage.kind == "text", DemandMessage.text != "")
        .order_by(DemandMessage.id)
    )).all()
    names = [*names, *names_in(demand.text)]
    question = redact(demand.text, names)
    key = question_key(question)
    if not answers or await session.scalar(select(KnowledgeEntry.id).where(KnowledgeEntry.question_key == key)):
        return None
    answer = redact("\n".join(answers), names)
    entry = KnowledgeEntry(question=question, question_key=key, answer=answer[:MAX_ANSWER], field=demand.field,
                           source="demand", status=REVIEW, demand_id=demand.id, created_at=now)
    session.add(entry)
    await session.flush()
    return entry


async def _own_demand(session: AsyncSession, demand_id: int, person_id: int) -> tuple[Demand, Person]:
    demand = await session.get(Demand, demand_id)
    if demand is None or demand.submitter_id != person_id:
        raise NotFound("没有找到您的这条需求。")
    return demand, await person_by_id(session, person_id)


async def _team_people(session: AsyncSession, demand: Demand) -> list[int]:
    team = await session.get(ServiceTeam, demand.team_id) if demand.team_id else None
    people = [team.leader_id if team else None]
    experts = (await session.scalars(select(Expert).join(DemandAssignment, DemandAssignment.expert_id == Expert.id)
                                     .where(DemandAssignment.demand_id == demand.id))).all()
    people += [expert.person_id for expert in experts]
    return list(dict.fromkeys(person for person in people if person is not None))
