"""Telegram-like flood limits: too many messages answer 429 "retry after N"."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from typing import Callable


class SlidingWindow:
    """At most ``rate`` events per second, counted over a sliding window.

    The window is one second, or ``1 / rate`` seconds for rates below one
    (so 0.5 means one message every two seconds).
    """

    def __init__(self, rate: float):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.window = max(1.0, 1.0 / rate)
        self.capacity = max(1, int(rate * self.window))
        self._times: deque[float] = deque()

    def wait_needed(self, now: float) -> float:
        """Seconds until one more event fits (0 if it fits now)."""
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        if len(self._times) < self.capacity:
            return 0.0
        return self._times[0] + self.window - now

    def add(self, now: float) -> None:
        self._times.append(now)


class RateLimits:
    """A global limit and a per-chat limit; either may be off (None)."""

    def __init__(
        self,
        per_second_global: float | None,
        per_second_per_chat: float | None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._clock = clock
        self.refused_overall = 0   # 429s because of the overall limit
        self.refused_in_chat = 0   # 429s because of one chat's limit
        self._global = SlidingWindow(per_second_global) if per_second_global else None
        self._per_chat_rate = per_second_per_chat
        self._per_chat: dict[int, SlidingWindow] = defaultdict(
            lambda: SlidingWindow(per_second_per_chat)  # type: ignore[arg-type]
        )

    def retry_after(self, chat_id: int) -> int:
        """Whole seconds to wait before messaging ``chat_id``; 0 means send now.

        A message that may be sent is counted at once.
        """
        now = self._clock()
        windows = [w for w in (self._global, self._chat_window(chat_id)) if w]
        wait = max((w.wait_needed(now) for w in windows), default=0.0)
        if wait > 0:
            if self._global is not None and self._global.wait_needed(now) > 0:
                self.refused_overall += 1
            else:
                self.refused_in_chat += 1
            return max(1, math.ceil(wait))
        for window in windows:
            window.add(now)
        return 0

    def _chat_window(self, chat_id: int) -> SlidingWindow | None:
        return self._per_chat[chat_id] if self._per_chat_rate else None
