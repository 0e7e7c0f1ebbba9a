"""The service-hours ledger (政策第八条): each expert's service time in a year by mode, and
the 继续教育学时 (continuing-education hours) it converts to, for `/hours` and the report
staff hand to the human-resources department.

Channel-neutral: plain values in, `LedgerRow`s out; a report is written as .xlsx or .csv.

A record belongs to the year of its visit date (the day the expert went) when it has one,
else to the year of its creation in China time (UTC+8): a record made at 2026-12-31 20:00
UTC is a 2027 record.

The conversion rule is a small TOML (or JSON) file; every key is optional, the defaults are
these::

    # 继续教育学时折算规则：每小时服务折算多少学时，以及每位专家每年最多折算多少学时
    yearly_cap = 72          # false = 不设上限
    [factors]
    online = 0.5             # 线上服务（也可写中文名，加引号："线上服务" = 0.5）
    short_visit = 1.0        # 短期服务
    circuit = 1.0            # 巡回服务

The JSON form is the same shape: {"yearly_cap": 72, "factors": {"online": 0.5}}.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import TypeGuard

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import CHINA_TIME
from bot.errors import JicengError
from bot.services.people import EXPERT
from bot.services.scope import Scope
from bot.services.tabular import write_table
from storage.models import Demand, Expert, Person, ServiceRecord, ServiceTeam

ONLINE = "online"
SHORT_VISIT = "short_visit"
CIRCUIT = "circuit"
SERVICE_MODES = {ONLINE: "线上服务", SHORT_VISIT: "短期服务", CIRCUIT: "巡回服务"}

DEFAULT_FACTORS = {ONLINE: 0.5, SHORT_VISIT: 1.0, CIRCUIT: 1.0}
DEFAULT_YEARLY_CAP = 72.0

REPORT_HEADERS = (
    "姓名", "职称", "工作单位", "所属服务团",
    *(f"{name}(小时)" for name in SERVICE_MODES.values()),
    "合计(小时)", "服务次数", "折算继续教育学时",
)
REPORT_SUFFIXES = (".xlsx", ".csv")
_COLUMN_WIDTHS = (12, 16, 28, 28, 16, 16, 16, 12, 10, 18)

# --- What the ledger says to people ------------------------------------------------------

RULE_FILE_MISSING = "找不到折算规则文件「{name}」。"
RULE_FILE_UNREADABLE = "折算规则文件「{name}」无法读取：{reason}"
RULE_FILE_SYNTAX = "折算规则文件「{name}」格式有误：{reason}"
RULE_FILE_SUFFIX = "折算规则文件应是 .toml 或 .json，不支持「{suffix}」。"
RULE_UNKNOWN_KEY = "折算规则文件里有不认识的设置「{key}」；可用的设置是 yearly_cap 和 factors。"
RULE_UNKNOWN_MODE = "折算规则里的服务方式「{mode}」不认识；可填 online、short_visit、circuit 或 线上服务、短期服务、巡回服务。"
RULE_BAD_FACTOR = "服务方式「{mode}」的折算系数应是不小于 0 的数字，现在是「{value}」。"
RULE_BAD_CAP = "yearly_cap（每年学时上限）应是大于 0 的数字，或 false 表示不设上限，现在是「{value}」。"
UNSUPPORTED_REPORT = "不支持把台账保存为「{suffix}」文件，请用 .xlsx（Excel 工作簿）或 .csv（逗号分隔）结尾的文件名。"
UNWRITABLE_REPORT = "无法写入文件「{name}」：{reason}"
SHEET_TITLE = "服务时长台账"


class RuleFileError(JicengError):
    user_message = "继续教育学时折算规则文件有错误。"


class ReportFileError(JicengError):
    user_message = "无法保存服务时长台账。"


# --- The rule ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConversionRule:
    """Hours of service → 继续教育学时: a factor per mode and an optional yearly cap per expert.
    A mode without a factor (a record of a mode this rule does not know) converts to nothing."""

    factors: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_FACTORS))
    yearly_cap: float | None = DEFAULT_YEARLY_CAP

    @classmethod
    def load(cls, path: str | Path | None = None) -> ConversionRule:
        """The rule in a .toml or .json file (format in the module docstring); the defaults
        when no path is given."""
        if path is None:
            return cls()
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".toml", ".json"):
            raise RuleFileError(RULE_FILE_SUFFIX.format(suffix=path.suffix or path.name))
        try:
            raw = path.read_text("utf-8-sig")
        except FileNotFoundError as exc:
            raise RuleFileError(RULE_FILE_MISSING.format(name=path)) from exc
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise RuleFileError(RULE_FILE_UNREADABLE.format(name=path.name, reason=reason)) from exc
        try:
            data = tomllib.loads(raw) if suffix == ".toml" else json.loads(raw)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise RuleFileError(RULE_FILE_SYNTAX.format(name=path.name, reason=exc)) from exc
        if not isinstance(data, dict):
            raise RuleFileError(RULE_FILE_SYNTAX.format(name=path.name, reason="应是一组 键 = 值 设置"))
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ConversionRule:
        for key in data:
            if key not in ("yearly_cap", "factors"):
                raise RuleFileError(RULE_UNKNOWN_KEY.format(key=key))
        factors = dict(DEFAULT_FACTORS)
        given = data.get("factors", {})
        if not isinstance(given, dict):
            raise RuleFileError(RULE_UNKNOWN_KEY.format(key=f"factors = {given!r}"))
        codes_by_name = {name: code for code, name in SERVICE_MODES.items()}
        for key, value in given.items():
            code = key if key in SERVICE_MODES else codes_by_name.get(key)
            if code is None:
                raise RuleFileError(RULE_UNKNOWN_MODE.format(mode=key))
            if not _is_number(value) or value < 0:
                raise RuleFileError(RULE_BAD_FACTOR.format(mode=SERVICE_MODES[code], value=value))
            factors[code] = float(value)
        cap = data.get("yearly_cap", DEFAULT_YEARLY_CAP)
        if cap is False:
            cap = None
        elif not _is_number(cap) or cap <= 0:
            raise RuleFileError(RULE_BAD_CAP.format(value=cap))
        return cls(factors=factors, yearly_cap=None if cap is None else float(cap))

    def credit(self, hours_by_mode: Mapping[str, float]) -> tuple[float, float]:
        """(学时 before the cap, 学时 after it) for one expert's year."""
        before = _round(sum(hours * self.factors.get(mode, 0.0) for mode, hours in hours_by_mode.items()))
        after = before if self.yearly_cap is None else min(before, self.yearly_cap)
        return before, _round(after)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _round(value: float) -> float:
    # Sums of halves and tenths: two decimals hide float noise without losing anything real.
    return round(value + 0.0, 2)


# --- The ledger --------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    """One expert's year of service."""

    expert_id: int
    name: str
    title: str
    employer: str
    team: str | None
    hours_by_mode: dict[str, float]   # every code of SERVICE_MODES, plus any unknown mode found
    total_hours: float
    services: int                     # number of service records
    credit_before_cap: float
    credit_hours: float               # 继续教育学时 after the rule and the yearly cap

    @property
    def capped(self) -> bool:
        return self.credit_hours < self.credit_before_cap


def year_of(record: ServiceRecord) -> int:
    """The ledger year a record counts in (visit date, else creation day in China time)."""
    if record.visit_date is not None:
        return record.visit_date.year
    return record.created_at.astimezone(CHINA_TIME).year


def china_year(moment: datetime) -> int:
    return moment.astimezone(CHINA_TIME).year


def _in_year(year: int) -> ColumnElement[bool]:
    start = datetime.combine(date(year, 1, 1), time(0), CHINA_TIME)
    end = datetime.combine(date(year + 1, 1, 1), time(0), CHINA_TIME)
    return or_(
        ServiceRecord.visit_date.between(date(year, 1, 1), date(year, 12, 31)),
        and_(ServiceRecord.visit_date.is_(None), ServiceRecord.created_at >= start, ServiceRecord.created_at < end),
    )


async def _rows(session: AsyncSession, year: int, rule: ConversionRule, experts: list[Expert] | None = None,
                scope: Scope | None = None) -> list[LedgerRow]:
    counted = or_(ServiceRecord.review.is_(None), ServiceRecord.review == "approved")  # not under review
    query = select(ServiceRecord).where(_in_year(year), counted).order_by(ServiceRecord.id)
    if scope is not None and not scope.everything:  # a 市州 or county ledger: demands asked in its area
        query = query.join(Demand, Demand.id == ServiceRecord.demand_id).where(scope.clause())
    if experts is not None:
        query = query.where(ServiceRecord.expert_id.in_([e.id for e in experts]))
    records = (await session.scalars(query)).all()
    by_expert: dict[int, list[ServiceRecord]] = {e.id: [] for e in experts or ()}
    for record in records:
        by_expert.setdefault(record.expert_id, []).append(record)
    if not by_expert:
        return []
    found = await session.execute(
        select(Expert, ServiceTeam.name)
        .outerjoin(ServiceTeam, ServiceTeam.id == Expert.team_id)
        .where(Expert.id.in_(list(by_expert)))
    )
    rows = [_row(expert, team, by_expert[expert.id], rule) for expert, team in found.all()]
    # Staff read the ledger team by team in pinyin order (as a Chinese list is sorted);
    # experts without a team come last.
    rows.sort(key=lambda r: (r.team is None, _pinyin(r.team or ""), _pinyin(r.name), r.expert_id))
    return rows


def _pinyin(text: str) -> list[str]:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(text)


def _row(expert: Expert, team: str | None, records: Iterable[ServiceRecord], rule: ConversionRule) -> LedgerRow:
    hours = dict.fromkeys(SERVICE_MODES, 0.0)
    count = 0
    for record in records:
        hours[record.mode] = hours.get(record.mode, 0.0) + record.hours
        count += 1
    hours = {mode: _round(h) for mode, h in hours.items()}
    before, after = rule.credit(hours)
    return LedgerRow(
        expert_id=expert.id, name=expert.name, title=expert.title or "", employer=expert.employer or "",
        team=team, hours_by_mode=hours, total_hours=_round(sum(hours.values())), services=count,
        credit_before_cap=before, credit_hours=after,
    )


async def ledger(sessions: async_sessionmaker[AsyncSession], year: int,
                 rule: ConversionRule | None = None, scope: Scope | None = None) -> list[LedgerRow]:
    """One row per expert with service records in `year`, team by team (within `scope`: the hours
    served on demands asked in that area)."""
    async with sessions() as session:
        return await _rows(session, year, rule or ConversionRule(), scope=scope)


async def expert_hours(sessions: async_sessionmaker[AsyncSession], person_id: int, year: int,
                       rule: ConversionRule | None = None) -> LedgerRow | None:
    """The year of the expert this person is (a row of zeros when they have no records yet);
    None when the person is not a bound expert."""
    async with sessions() as session:
        person = await session.get(Person, person_id)
        if person is None or EXPERT not in person.role_names:
            return None
        expert = await session.scalar(select(Expert).where(Expert.person_id == person.id))
        if expert is None:
            return None
        rows = await _rows(session, year, rule or ConversionRule(), [expert])
        return rows[0]


# --- The report --------------------------------------------------------------------------


def format_hours(value: float) -> str:
    """3.0 -> "3", 1.5 -> "1.5": how people write hours."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _cells(row: LedgerRow) -> list[object]:
    return [
        row.name, row.title, row.employer, row.team or "",
        *(row.hours_by_mode.get(mode, 0.0) for mode in SERVICE_MODES),
        row.total_hours, row.services, row.credit_hours,
    ]


def check_report_path(path: str | Path) -> Path:
    """The path, if its suffix is one we can write; else ReportFileError (before any work)."""
    path = Path(path)
    if path.suffix.lower() not in REPORT_SUFFIXES:
        raise ReportFileError(UNSUPPORTED_REPORT.format(suffix=path.suffix or path.name))
    return path


def write_report(rows: Iterable[LedgerRow], path: str | Path) -> Path:
    """The ledger as a spreadsheet: .xlsx, or .csv in UTF-8 with a BOM so that Excel on
    Chinese Windows does not read it as GBK."""
    path = check_report_path(path)
    try:
        return write_table(path, REPORT_HEADERS, (_cells(row) for row in rows),
                           sheet_title=SHEET_TITLE, widths=_COLUMN_WIDTHS)
    except OSError as exc:
        raise ReportFileError(UNWRITABLE_REPORT.format(name=path, reason=exc.strerror or exc)) from exc
