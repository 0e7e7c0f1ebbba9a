"""Flood control: a token bucket per person, checked before any understanding or database work.

A person may send `burst` messages at once and `per_minute` a minute after that. Beyond it,
they are told once to wait (`Verdict.WARN`) and then ignored (`Verdict.DROP`) until the
cool-down is over and the bucket has refilled enough to serve them again. Staff and team
leaders get a larger bucket. Button presses cost less than messages: they are cheap to
handle and a busy leader presses many.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    SERVE = "serve"
    WARN = "warn"   # over the limit: say so once, then handle nothing
    DROP = "drop"   # still cooling down: handle nothing, say nothing


@dataclass(frozen=True)
class Limit:
    burst: float        # tokens in a full bucket
    per_minute: float   # refill rate
    cooldown: float     # seconds a person who ran dry waits before being served again

    @property
    def per_second(self) -> float:
        return self.per_minute / 60


FARMER_LIMIT = Limit(burst=30, per_minute=30, cooldown=20)  # 20 questions typed in a row are served
STAFF_LIMIT = Limit(burst=60, per_minute=120, cooldown=10)
MESSAGE_COST = 1.0
PRESS_COST = 0.5
IDLE_SECONDS = 600  # buckets untouched this long are full again and are forgotten


@dataclass
class _Bucket:
    tokens: float
    updated: float
    blocked_until: float = 0.0


class FloodGuard:
    def __init__(
        self,
        farmer: Limit = FARMER_LIMIT,
        staff: Limit = STAFF_LIMIT,
        is_staff: Callable[[int], bool] = lambda _person: False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._farmer, self._staff = farmer, staff
        self._is_staff = is_staff
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self._last_sweep = clock()

    def check(self, person: int, cost: float = MESSAGE_COST) -> Verdict:
        now = self._clock()
        limit = self._staff if self._is_staff(person) else self._farmer
        bucket = self._buckets.get(person)
        if bucket is None:
            bucket = self._buckets[person] = _Bucket(limit.burst, now)
            self._sweep(now)
        bucket.tokens = min(limit.burst, bucket.tokens + (now - bucket.updated) * limit.per_second)
        bucket.updated = now
        if now < bucket.blocked_until:
            return Verdict.DROP
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return Verdict.SERVE
        bucket.blocked_until = now + limit.cooldown
        # Dropped messages cost nothing, so after the cool-down this many are served again.
        return Verdict.WARN

    def wait_seconds(self, person: int) -> int:
        """Whole seconds until this person is served again (for the notice)."""
        bucket = self._buckets.get(person)
        if bucket is None:
            return 0
        return max(1, math.ceil(bucket.blocked_until - self._clock()))

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < IDLE_SECONDS:
            return
        self._last_sweep = now
        idle = [p for p, b in self._buckets.items() if now - b.updated > IDLE_SECONDS and now >= b.blocked_until]
        for person in idle:
            del self._buckets[person]
