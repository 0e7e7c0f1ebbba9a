"""The demand lifecycle: statuses, the allowed moves between them, and the one function
that performs a move (conditional UPDATE + timeline entry in the caller's transaction).

    submitted ─► waiting ──接单──► accepted ──派专家──► in_service ──答复──► answered
                   │  ▲  转派        │ 转派/退回          │                   │
                   ▼  │             ▼                    └──────办结──────────┴─► closed
                  triage ◄──退回────┘                                              │
                                                        reopened ◄──未解决/回访没解决─┘
    waiting/triage ──farmer cancels──► cancelled
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict
from bot.services.sql import rowcount
from storage.models import Demand, DemandEvent

SUBMITTED = "submitted"    # only ever a timeline's first from-state
WAITING = "waiting"        # routed to a team, waiting for its leader to accept
TRIAGE = "triage"          # no team fits, or returned: staff decide where it goes
ACCEPTED = "accepted"      # the team's leader took it on
IN_SERVICE = "in_service"  # experts assigned and serving
ANSWERED = "answered"      # an expert's answer reached the farmer
CLOSED = "closed"          # the service is finished (service record written)
REOPENED = "reopened"      # the farmer says it is not solved: back to the same team
CANCELLED = "cancelled"    # withdrawn by the farmer before anyone accepted it

STATUS_NAMES = {
    WAITING: "等待服务团接单",
    TRIAGE: "等待工作人员分派",
    ACCEPTED: "已接单，待派专家",
    IN_SERVICE: "专家服务中",
    ANSWERED: "专家已答复",
    CLOSED: "已办结",
    REOPENED: "重新办理中",
    CANCELLED: "已取消",
}

ALLOWED_MOVES: dict[str, frozenset[str]] = {
    WAITING: frozenset({ACCEPTED, TRIAGE, WAITING, CANCELLED}),
    TRIAGE: frozenset({WAITING, CANCELLED}),
    ACCEPTED: frozenset({IN_SERVICE, WAITING, TRIAGE}),
    IN_SERVICE: frozenset({IN_SERVICE, ANSWERED, CLOSED}),
    ANSWERED: frozenset({ANSWERED, IN_SERVICE, CLOSED}),
    CLOSED: frozenset({REOPENED}),
    REOPENED: frozenset({IN_SERVICE, ANSWERED, CLOSED}),
    CANCELLED: frozenset(),
}

OPEN = frozenset({WAITING, TRIAGE, ACCEPTED, IN_SERVICE, ANSWERED, REOPENED})
SERVING = frozenset({IN_SERVICE, ANSWERED, REOPENED})  # experts are at work


def status_name(status: str) -> str:
    return STATUS_NAMES.get(status, status)


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in ALLOWED_MOVES.get(from_status, frozenset())


async def move(
    session: AsyncSession,
    demand_id: int,
    from_status: str,
    to_status: str,
    *,
    actor_id: int | None,
    at: datetime,
    note: str = "",
    conflict: type[Conflict] = Conflict,
    request_key: str | None = None,
    **changes: Any,
) -> None:
    """Move a demand from one status to another, or raise `conflict` if someone else
    moved it first. Exactly one of several concurrent callers wins: the UPDATE is
    conditional on the old status (and updated_at for self-moves) and its row count is checked."""
    if not can_move(from_status, to_status):
        raise conflict()
    values = {"status": to_status, "updated_at": at, **changes}
    result = await session.execute(
        update(Demand)
        .where(Demand.id == demand_id, Demand.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise conflict()
    session.add(
        DemandEvent(
            demand_id=demand_id, from_status=from_status, to_status=to_status,
            actor_id=actor_id, note=note, created_at=at, request_key=request_key,
        )
    )


async def replayed(session: AsyncSession, demand_id: int, request_key: str | None) -> DemandEvent | None:
    """The event this request already wrote for the demand, if it did: a request handled again
    (a retry, a replay after a crash) answers as the first time instead of failing on the new
    state, so the person hears the same thing and nobody is left uninformed."""
    if not request_key:
        return None
    return await session.scalar(select(DemandEvent).where(
        DemandEvent.request_key == request_key, DemandEvent.demand_id == demand_id).limit(1))
