"""Working days and quiet hours in China time: which days count for service deadlines
(weekends, public holidays and 调休 make-up working days from a data file), and when
reminders must wait for the morning. Pure: no database, no clock of its own."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from bot.clock import CHINA_TIME

WORKDAY_START = time(9)  # where counting starts when a deadline begins on a day off
_DAY = timedelta(days=1)


def china_time(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give an aware moment (UTC or China time)")
    return moment.astimezone(CHINA_TIME)


class WorkCalendar:
    """Monday to Friday are working days, Saturday and Sunday are not, unless the calendar
    lists the day as a holiday (放假) or as a make-up working day (调休上班)."""

    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        if both := sorted(self.holidays & self.workdays):
            raise ValueError(f"listed both as holiday and as working day: {', '.join(map(str, both))}")

    @classmethod
    def load(cls, source: Mapping[str, Any] | str | Path | None = None) -> WorkCalendar:
        """From parsed TOML data, from a file path, or (None) from the bundled bot/data/calendar.toml."""
        if source is None:
            text = resources.files("bot").joinpath("data/calendar.toml").read_text(encoding="utf-8")
            return cls.from_data(tomllib.loads(text))
        if isinstance(source, Mapping):
            return cls.from_data(source)
        with open(source, "rb") as file:
            return cls.from_data(tomllib.load(file))

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> WorkCalendar:
        """Accepts `[[year]]` tables with `holidays`/`workdays` lists, top-level lists, or both."""
        sections = [data, *data.get("year", [])]
        holidays = [_day(v, "holidays") for s in sections for v in s.get("holidays", [])]
        workdays = [_day(v, "workdays") for s in sections for v in s.get("workdays", [])]
        return cls(holidays, workdays)

    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        return day.weekday() < 5

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        day += _DAY
        while not self.is_working_day(day):
            day += _DAY
        return day

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same China clock time `days` working days later. A start on a day off counts
        from the next working day's 09:00, so a question sent on Saturday afternoon with one
        working day is due on Tuesday 09:00 (Monday being the first full working day it had).
        Returned in the time zone of `start`."""
        if days < 0:
            raise ValueError("days must not be negative")
        local = china_time(start)
        day = local.date()
        clock_time = local.timetz()
        if not self.is_working_day(day):
            day = self.next_working_day(day)
            clock_time = WORKDAY_START.replace(tzinfo=CHINA_TIME)
        for _ in range(days):
            day = self.next_working_day(day)
        return datetime.combine(day, clock_time).astimezone(start.tzinfo)

    def working_midpoint(self, start: datetime, end: datetime) -> datetime:
        """The moment halfway through the working time between `start` and `end` (only time
        on working days counts), so a half-time reminder does not fall in a weekend when
        the deadline itself is on Monday. Returned in the time zone of `start`."""
        a, b = china_time(start), china_time(end)
        if b <= a:
            return start
        spans = list(self._working_spans(a, b))
        half = sum((hi - lo for lo, hi in spans), timedelta()) / 2
        if not spans:
            return (a + (b - a) / 2).astimezone(start.tzinfo)
        for lo, hi in spans:
            if hi - lo >= half:
                return (lo + half).astimezone(start.tzinfo)
            half -= hi - lo
        return spans[-1][1].astimezone(start.tzinfo)

    def _working_spans(self, a: datetime, b: datetime) -> Iterable[tuple[datetime, datetime]]:
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                lo = max(a, datetime.combine(day, time(0), CHINA_TIME))
                hi = min(b, datetime.combine(day + _DAY, time(0), CHINA_TIME))
                if hi > lo:
                    yield lo, hi
            day += _DAY


@dataclass(frozen=True)
class QuietHours:
    """Night hours (China time) when non-urgent reminders wait; `start` may be after `end`
    (22:00–07:00 spans midnight). Equal start and end means no quiet hours."""

    start: time = time(22)
    end: time = time(7)

    def contains(self, moment: datetime) -> bool:
        now = china_time(moment).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def hold(self, moment: datetime) -> datetime:
        """`moment` itself outside quiet hours, else the end of these quiet hours (the next
        07:00 by default). Returned in the time zone of `moment`."""
        if not self.contains(moment):
            return moment
        local = china_time(moment)
        release = datetime.combine(local.date(), self.end, CHINA_TIME)
        if release <= local:
            release += _DAY
        return release.astimezone(moment.tzinfo)


def _day(value: Any, key: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # TOML may hold bare dates: 2026-01-01 without quotes
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"calendar {key}: {value!r} is not a date like 2026-01-01") from None
