"""How long personal data is kept, enforced: drafts nobody submitted go after `drafts` (their
photos and voice notes with them), delivered or undeliverable outbox rows after `outbox`. A
submitted question lives on as its demand; field corrections keep only the words, not the draft.
(The update log of the channel keeps its own, shorter time.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.selectable import ScalarSelect

from bot.services.outbox import BLOCKED, FAILED, SENT
from bot.services.sql import rowcount
from storage.models import DemandMedia, Draft, FieldCorrection, OutboxMessage, WeChatPush


@dataclass(frozen=True)
class Retention:
    """Set per deployment: JICENG_KEEP_UPDATES_DAYS, JICENG_KEEP_DRAFTS_DAYS, JICENG_KEEP_OUTBOX_DAYS."""

    updates: timedelta = timedelta(days=3)  # handled channel updates (ids only; see UpdateLog)
    drafts: timedelta = timedelta(days=7)
    outbox: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class Pruned:
    drafts: int
    media: int
    outbox: int


async def prune(sessions: async_sessionmaker[AsyncSession], now: datetime,
                policy: Retention = Retention()) -> Pruned:
    async with sessions.begin() as session:
        old = select(Draft.id).where(Draft.created_at < now - policy.drafts).scalar_subquery()
        media = await _forget_drafts(session, old)
        drafts = rowcount(await session.execute(delete(Draft).where(Draft.id.in_(old))))
        outbox = rowcount(await session.execute(delete(OutboxMessage).where(
            OutboxMessage.status.in_((SENT, BLOCKED, FAILED)), OutboxMessage.created_at < now - policy.outbox)))
        # Handled pushes of channels that keep them (WeChat), like the update log.
        await session.execute(delete(WeChatPush).where(
            WeChatPush.handled_at.is_not(None), WeChatPush.handled_at < now - policy.updates))
    return Pruned(drafts, media, outbox)


async def _forget_drafts(session: AsyncSession, old: ScalarSelect[int]) -> int:
    """What points at the drafts about to go: their unsubmitted media go too, the rest forget them."""
    media = rowcount(await session.execute(delete(DemandMedia).where(
        DemandMedia.draft_id.in_(old), DemandMedia.demand_id.is_(None))))
    await session.execute(update(DemandMedia).where(DemandMedia.draft_id.in_(old)).values(draft_id=None))
    await session.execute(update(FieldCorrection).where(FieldCorrection.draft_id.in_(old)).values(draft_id=None))
    return media
