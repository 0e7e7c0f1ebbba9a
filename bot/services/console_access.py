"""Staff into the console: a one-time sign-in link the bot sends on /console (only its hash is
kept; it works once, within 10 minutes), and the audit log of what staff do there."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import NotAllowed, NotFound
from bot.services.people import STAFF, person_by_id
from bot.services.sql import rowcount
from storage.models import AuditEntry, ConsoleLink

LINK_MINUTES = 10
LINK_BAD = "这个登录链接无效或已经用过了，请在聊天里重新发 /console 获取。"
NOT_STAFF = "只有工作人员可以使用管理后台。"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_link(sessions: async_sessionmaker[AsyncSession], person_id: int, now: datetime) -> str:
    async with sessions.begin() as session:
        if STAFF not in (await person_by_id(session, person_id)).role_names:
            raise NotAllowed(NOT_STAFF)
        token = secrets.token_urlsafe(24)
        session.add(ConsoleLink(token_hash=_hash(token), person_id=person_id,
                                expires_at=now + timedelta(minutes=LINK_MINUTES)))
    return token


async def redeem_link(sessions: async_sessionmaker[AsyncSession], token: str, now: datetime) -> int:
    """The staff member a link signs in (once); NotFound for a used, expired or unknown link."""
    if not token or len(token) > 100:
        raise NotFound(LINK_BAD)
    async with sessions.begin() as session:
        claimed = await session.execute(
            update(ConsoleLink).where(ConsoleLink.token_hash == _hash(token), ConsoleLink.used_at.is_(None),
                                      ConsoleLink.expires_at > now)
            .values(used_at=now).execution_options(synchronize_session=False))
        if rowcount(claimed) != 1:
            raise NotFound(LINK_BAD)
        person_id = await session.scalar(select(ConsoleLink.person_id).where(ConsoleLink.token_hash == _hash(token)))
        assert person_id is not None
        if STAFF not in (await person_by_id(session, person_id)).role_names:
            raise NotAllowed(NOT_STAFF)
        return person_id


async def audit(sessions: async_sessionmaker[AsyncSession], person_id: int, action: str, target: str = "",
                detail: dict[str, Any] | None = None, now: datetime | None = None) -> None:
    async with sessions.begin() as session:
        entry = AuditEntry(person_id=person_id, action=action, target=target[:80], detail=detail or {})
        if now is not None:
            entry.at = now
        session.add(entry)
