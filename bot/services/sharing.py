"""A solved demand its farmer agreed to share: redacted automatically (`bot.services.redact`), then
checked by the team's leader or by staff — who may correct the question or the answer — before
any other farmer can find it among the similar solved questions. The first decision stands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict, NotAllowed, NotFound
from bot.services.knowledge import MAX_ANSWER, MAX_QUESTION, PUBLISHED, REVIEW, WITHDRAWN
from bot.services.people import STAFF, person_by_id, staff_ids
from bot.services.redact import redact
from storage.models import Demand, KnowledgeEntry, ServiceTeam

Part = Literal["question", "answer"]

NOT_REVIEWER = "只有这条需求所在服务团的团长或工作人员可以审核分享的问答。"
GONE = "没有找到这条分享的问答。"
DECIDED = "这条问答已经审核过了，不能再修改。"
EMPTY = "内容不能为空，请重新发送。"
TOO_LONG = "内容太长（{length} 字，最多 {limit} 字），请精简后重新发送。"


@dataclass(frozen=True)
class SharedEntry:
    id: int
    question: str
    answer: str
    status: str        # review | published | withdrawn
    tracking_no: str


@dataclass(frozen=True)
class Offered:
    """A shared entry waiting for review, and who may review it."""

    entry: SharedEntry
    reviewers: list[int]


async def reviewers_of(session: AsyncSession, demand: Demand) -> list[int]:
    """The leader of the demand's team; staff when the team has none."""
    team = await session.get(ServiceTeam, demand.team_id) if demand.team_id else None
    if team is not None and team.leader_id is not None:
        return [team.leader_id]
    return await staff_ids(session)


async def shared(session: AsyncSession, entry: KnowledgeEntry) -> SharedEntry:
    demand = await session.get(Demand, entry.demand_id) if entry.demand_id else None
    return SharedEntry(entry.id, entry.question, entry.answer, entry.status, demand.tracking_no if demand else "")


class SharingReview:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def decide(self, entry_id: int, person_id: int, publish: bool) -> SharedEntry:
        """发布 or 不发布; a second press (or another reviewer's) finds the first decision."""
        async with self._sessions.begin() as session:
            entry = await self._reviewable(session, entry_id, person_id)
            if entry.status == REVIEW:
                # updated_at moves on its own (the real time): running bots pick the change up
                entry.status = PUBLISHED if publish else WITHDRAWN
            return await shared(session, entry)

    async def correct(self, entry_id: int, person_id: int, part: Part, text: str) -> SharedEntry:
        """The reviewer's own wording of the question or the answer; phone and ID numbers are
        taken out again, in case the correction brought one back."""
        text = redact(text.strip())
        limit = MAX_QUESTION if part == "question" else MAX_ANSWER
        if not text:
            raise Conflict(EMPTY)
        if len(text) > limit:
            raise Conflict(TOO_LONG.format(length=len(text), limit=limit))
        async with self._sessions.begin() as session:
            entry = await self._reviewable(session, entry_id, person_id)
            if entry.status != REVIEW:
                raise Conflict(DECIDED)
            setattr(entry, part, text)
            return await shared(session, entry)

    async def entry(self, entry_id: int, person_id: int) -> SharedEntry:
        async with self._sessions() as session:
            return await shared(session, await self._reviewable(session, entry_id, person_id))

    async def _reviewable(self, session: AsyncSession, entry_id: int, person_id: int) -> KnowledgeEntry:
        entry = await session.get(KnowledgeEntry, entry_id)
        demand = await session.get(Demand, entry.demand_id) if entry and entry.demand_id else None
        if entry is None or demand is None:
            raise NotFound(GONE)
        person = await person_by_id(session, person_id)
        team = await session.get(ServiceTeam, demand.team_id) if demand.team_id else None
        if STAFF not in person.role_names and (team is None or team.leader_id != person.id):
            raise NotAllowed(NOT_REVIEWER)
        return entry
