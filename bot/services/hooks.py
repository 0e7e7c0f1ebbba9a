"""Points in the service loop where other concerns join in, inside the same transaction:
deadlines are set and reminders scheduled when a demand reaches a team, is accepted,
answered or closed. The default does nothing; the app wires in the deadline service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Demand


class LoopHooks:
    async def routed(self, session: AsyncSession, demand: Demand) -> None:
        pass

    async def accepted(self, session: AsyncSession, demand: Demand) -> None:
        pass

    async def answered(self, session: AsyncSession, demand: Demand) -> None:
        pass

    async def closed(self, session: AsyncSession, demand: Demand) -> None:
        pass

    async def left_team(self, session: AsyncSession, demand: Demand) -> None:
        pass
