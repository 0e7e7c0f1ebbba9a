"""Time in one place: the platform stores aware UTC datetimes and speaks to people in China
time (UTC+8, no daylight saving time since 1991)."""

from __future__ import annotations

from datetime import timedelta, timezone

from storage.models import utcnow

CHINA_TIME = timezone(timedelta(hours=8))

__all__ = ["CHINA_TIME", "utcnow"]
