"""Where a person stands when a message of theirs comes in, read in one query.

A farmer's plain text can be many things: the answer to something the bot asked, a new
question, a message for the expert serving their demand, or (for an expert) a reply to a
farmer. Routing used to ask the database four times per message; it now asks once, and only
goes back for the details (the expert's demands, the relay) when this says they apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import lifecycle
from bot.services.intake import DRAFT_OPEN, DRAFT_OPEN_WINDOW
from bot.services.states import Waiting
from storage.models import ChatState, Demand, DemandAssignment, Draft, Expert, Person


@dataclass(frozen=True)
class Situation:
    waiting: Waiting | None = None  # the bot asked for something and waits for it
    composing: bool = False  # a question not yet submitted (an open draft)
    answered: bool = False  # an expert has answered one of their demands that is still in service
    serving: bool = False  # as an expert, they serve a demand that is still open


NEWCOMER = Situation()


class Situations:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._clock = clock

    async def of(self, person_id: int) -> Situation:
        since = self._clock() - DRAFT_OPEN_WINDOW
        composing = exists().where(Draft.person_id == Person.id, Draft.status == DRAFT_OPEN,
                                   Draft.created_at >= since)
        answered = exists().where(Demand.submitter_id == Person.id, Demand.status.in_(lifecycle.SERVING),
                                  Demand.first_answer_at.is_not(None))
        serving = (exists().where(Expert.person_id == Person.id, DemandAssignment.expert_id == Expert.id,
                                  Demand.id == DemandAssignment.demand_id, Demand.status.in_(lifecycle.SERVING)))
        query = (
            select(ChatState.state, ChatState.data, composing, answered, serving)
            .select_from(Person).outerjoin(ChatState, ChatState.person_id == Person.id)
            .where(Person.id == person_id)
        )
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        if row is None:
            return NEWCOMER
        state, data, composing_, answered_, serving_ = row
        waiting = Waiting(state, dict(data or {})) if state is not None else None
        return Situation(waiting, bool(composing_), bool(answered_), bool(serving_))
