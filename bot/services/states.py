"""What the bot is waiting for from a person, kept in the database so a half-finished step
(a leader asked for a reason, an expert writing an answer) carries on after a restart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ChatState

TRANSFER_REASON = "transfer_reason"  # leader: why the demand goes to another team or field
RETURN_REASON = "return_reason"      # leader: why it goes back to staff
ANSWER = "answer"                    # expert: the next message is an answer for the farmer
ASK = "ask"                          # expert: the next message is a question for the farmer
SERVICE_RECORD = "service_record"    # expert: hours and a short summary to close the service
OWN_HOURS = "own_hours"              # co-expert: their own hours on a demand another expert closed
SERVICE_ITEM = "service_item"        # farmer: the next message asks about a listed service
NOTICE_DRAFT = "notice_draft"        # staff: composing a training notice step by step
CORRECT_SHARED = "correct_shared"    # leader or staff: their wording of a shared question or answer


@dataclass(frozen=True)
class Waiting:
    state: str
    data: dict[str, Any]


class ChatStates:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def set(self, person_id: int, state: str, data: dict[str, Any]) -> None:
        async with self._sessions.begin() as session:
            await session.merge(ChatState(person_id=person_id, state=state, data=data))

    async def get(self, person_id: int) -> Waiting | None:
        async with self._sessions() as session:
            row = await session.get(ChatState, person_id)
        return Waiting(row.state, dict(row.data or {})) if row else None

    async def clear(self, person_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(ChatState).where(ChatState.person_id == person_id))
