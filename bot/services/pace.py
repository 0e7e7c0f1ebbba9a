"""The pace of one bot token: a chat platform's rate limits as slots (`Pace`), and `Turns`,
which hands each slot to the most urgent message waiting when it opens. The sender
(`bot.services.sender`) and the bot's direct edits share one `Pace`."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime: ...
    def monotonic(self) -> float: ...
    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class _Send:
    """One message in the pace's window: when it may start, and when its send returned (the
    latest the server can have counted it); `ended` is None while it is in flight."""

    __slots__ = ("address", "start", "ended")

    def __init__(self, address: str, start: float) -> None:
        self.address, self.start = address, start
        self.ended: float | None = None


class Pace:
    """A chat platform's limits as slots: at most `rate` messages in any second, spaced 1/rate apart,
    and one per `per_chat_interval` to an address. Everything one bot token sends takes a slot
    here first (the outbox sender and the bot's direct edits alike) and says when its send
    returned (`landed`); a 429 pauses them all.

    The server counts a message when it arrives, some time between the send's start and its
    return. So a new message may start only a second after the send `rate` messages back has
    *returned*: however late the event loop or the network delays one send and hurries the
    next, no second on the server's clock holds more than `rate` of this pace's messages."""

    # Slack over the server's one-second windows (clock resolution, a server that rounds).
    WINDOW_MARGIN = 0.01
    PER_CHAT_MARGIN = 0.05
    FORGET_AFTER = 60.0
    GROUP_INTERVAL = 3.0  # about 20 messages a minute in a group chat (a negative address)
    # A send that never said it returned (a path that lost it) stops holding the window back.
    STALE_AFTER = 10.0

    def __init__(self, rate: float = 30.0, per_chat_interval: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.per_chat_interval = per_chat_interval
        self._monotonic = monotonic
        self._interval = 1.0 / rate
        self.window_margin = self.WINDOW_MARGIN
        self._window_size = max(1, int(rate))
        self._window: deque[_Send] = deque(maxlen=self._window_size)
        self._in_flight: dict[str, deque[_Send]] = {}
        self._next_slot = 0.0
        self.paused_until = 0.0
        self._chat_next: dict[str, float] = {}

    def reserve(self, address: str, *, wait_for_chat: bool = True) -> float:
        """The monotonic time at which a message to `address` may go; the slot is taken. An edit
        of a pressed message goes at once in its chat (`wait_for_chat=False`) but still takes an
        overall slot and counts as the chat's latest message. Say `landed(address)` when it returns."""
        now = self._monotonic()
        t = max(now, self.next_slot(), self._chat_next.get(address, 0.0) if wait_for_chat else 0.0)
        send = _Send(address, t)
        self._window.append(send)
        self._in_flight.setdefault(address, deque()).append(send)
        self._next_slot = t + self._interval
        self._chat_next[address] = max(self._chat_next.get(address, 0.0),
                                       t + self._interval_of(address) + self.PER_CHAT_MARGIN)
        if len(self._chat_next) > 10_000:
            self._chat_next = {a: at for a, at in self._chat_next.items() if at > now - self.FORGET_AFTER}
        if len(self._in_flight) > 10_000:
            self._in_flight = {a: f for a, f in self._in_flight.items() if now - f[-1].start < self.STALE_AFTER}
        return t

    def next_slot(self) -> float:
        """The earliest monotonic time at which any message may go (a chat may wait longer)."""
        t = max(self._next_slot, self.paused_until)
        if len(self._window) == self._window_size:
            t = max(t, self._counted_by(self._window[0]) + 1.0 + self.window_margin)
        return t

    def _counted_by(self, send: _Send) -> float:
        """The latest time the server can have counted `send`: when it returned; while it is in
        flight, not before now (the next look comes when a slot would open)."""
        if send.ended is not None:
            return send.ended
        now = self._monotonic()
        return send.start if now - send.start > self.STALE_AFTER else max(send.start, now)

    def landed(self, address: str, *, delivered: bool = True) -> None:
        """The send to `address` taken with `reserve` returned (delivered, refused or failed).
        When it was delivered, the next message to `address` waits from here."""
        now = self._monotonic()
        flying = self._in_flight.get(address)
        if flying:
            flying.popleft().ended = now
            if not flying:
                del self._in_flight[address]
        if delivered:
            self._chat_next[address] = max(self._chat_next.get(address, 0.0), now + self._interval_of(address))

    def _interval_of(self, address: str) -> float:
        if address.startswith("-") and self.per_chat_interval > 0:
            return max(self.per_chat_interval, self.GROUP_INTERVAL)
        return self.per_chat_interval

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self._monotonic() + seconds)

    def own_rate(self, own: float) -> None:
        """Several processes send for one bot token: this one keeps to its part of the rate
        (e.g. 15 a second, and at most 15 in any second); `rate` stays the token's."""
        own = max(0.5, min(self.rate, own))
        if abs(1.0 / own - self._interval) < 1e-9:
            return
        log.info("own part of the rate: %.1f a second", own)
        self._interval = 1.0 / own
        self._window_size = max(1, int(own))
        self._window = deque(self._window, maxlen=self._window_size)

    def free_at(self, address: str) -> float:
        return self._chat_next.get(address, 0.0)


@dataclass(order=True)
class _Waiter:
    priority: int
    seq: int
    address: str = field(compare=False)
    granted: asyncio.Future[None] = field(compare=False)


class Turns:
    """Hands out the pace's slots to messages ready to go, most urgent first, at the moment a slot
    opens (not when a message was taken up): a reply that arrives while bulk messages wait for
    their turn goes before them."""

    def __init__(self, pace: Pace, clock: Clock) -> None:
        self.pace, self.clock = pace, clock
        self.waiting: list[_Waiter] = []
        self.kick = asyncio.Event()
        self.seq = itertools.count()

    async def take(self, priority: int, address: str) -> None:
        waiter = _Waiter(priority, next(self.seq), address, asyncio.get_running_loop().create_future())
        self.waiting.append(waiter)
        self.kick.set()
        try:
            await waiter.granted
        except asyncio.CancelledError:
            if waiter in self.waiting:
                self.waiting.remove(waiter)
            raise

    async def run(self) -> None:
        while True:
            self.waiting = [w for w in self.waiting if not w.granted.done()]
            if not self.waiting:
                self.kick.clear()
                await self.kick.wait()
                continue
            now = self.clock.monotonic()
            opens = self.pace.next_slot()
            ready = [w for w in self.waiting if self.pace.free_at(w.address) <= max(now, opens)]
            if not ready:
                opens = max(opens, min(self.pace.free_at(w.address) for w in self.waiting))
            if opens > now or not ready:
                await self._sleep(max(0.001, opens - now))
                continue
            chosen = min(ready)
            self.waiting.remove(chosen)
            self.pace.reserve(chosen.address)
            chosen.granted.set_result(None)

    async def _sleep(self, seconds: float) -> None:
        """Until the next slot opens, or a new message comes to wait (it may be more urgent)."""
        self.kick.clear()
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        kicked = asyncio.ensure_future(self.kick.wait())
        try:
            await asyncio.wait({sleeper, kicked}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            kicked.cancel()
