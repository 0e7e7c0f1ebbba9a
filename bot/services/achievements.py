"""技术成果转化库: technology achievements offered for transfer (技术转让), licence (许可), contracting
(技术承包) or equity (技术入股), imported by staff, and matched to a demand by field and by the
demand's key words found in the achievement — each match with its reasons."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import RowError
from bot.services.directory import ImportReport, _raise_if, split_values
from bot.services.tabular import read_table
from intents import taxonomy
from storage.models import Achievement, Demand, Expert

HEADERS = ("成果名称", "所有者", "领域", "阶段", "简介", "转化方式")
ROUTES = ("技术转让", "许可", "技术承包", "技术入股")
FIELD_FIT, WORD_HIT = 2.0, 1.5
MIN_SCORE = WORD_HIT  # at least one of the demand's words must be in the achievement

BLANK = "{column}不能为空"
UNKNOWN_FIELD = "领域无法识别：{value}"
UNKNOWN_ROUTE = "转化方式只能是 技术转让、许可、技术承包、技术入股（用顿号分隔）：{value}"


@dataclass(frozen=True)
class Match:
    achievement: Achievement
    score: float
    reason: str


async def import_achievements(sessions: async_sessionmaker[AsyncSession], path: str | Path) -> ImportReport:
    """`jiceng import achievements FILE`: all rows or none; the same 成果名称 + 所有者 updates."""
    _, rows = read_table(path, HEADERS)
    errors: list[RowError] = []
    parsed = []
    for number, row in rows:
        problems = []
        title, owner, field_text, stage, summary, routes_text = (row.get(h, "").strip() for h in HEADERS)
        for column, value in (("成果名称", title), ("所有者", owner), ("简介", summary)):
            if not value:
                problems.append(BLANK.format(column=column))
        field = taxonomy.resolve_field(field_text) if field_text else None
        if field is None:
            problems.append(UNKNOWN_FIELD.format(value=field_text or "（空）"))
        routes = split_values(routes_text)
        if not routes or any(r not in ROUTES for r in routes):
            problems.append(UNKNOWN_ROUTE.format(value=routes_text or "（空）"))
        if problems or field is None:
            errors.append(RowError(number, "；".join(problems)))
        else:
            parsed.append((title[:200], owner[:200], field, stage[:40], summary[:3000], routes))
    _raise_if(errors)
    created = updated = 0
    async with sessions.begin() as session:
        experts = {e.name: e.id for e in (await session.scalars(select(Expert))).all()}
        for title, owner, field, stage, summary, routes in parsed:
            found = await session.scalar(select(Achievement).where(Achievement.title == title,
                                                                   Achievement.owner == owner))
            if found is None:
                found = Achievement(title=title, owner=owner)
                session.add(found)
                created += 1
            else:
                updated += 1
            found.field, found.stage, found.summary, found.routes = field, stage, summary, routes
            found.expert_id = experts.get(owner)
    return ImportReport("achievements", created, updated)


def rank(achievements: list[Achievement], demand: Demand) -> list[Match]:
    terms = _terms(demand)
    matches = []
    for achievement in achievements:
        text = f"{achievement.title} {achievement.summary}"
        hits = [t for t in terms if t in text]
        if not hits:
            continue
        score, reasons = WORD_HIT * min(len(hits), 4), ["涉及" + "、".join(hits[:3])]
        if achievement.field == demand.field:
            score += FIELD_FIT
            reasons.insert(0, "领域对口")
        if score >= MIN_SCORE:
            reasons.append("可" + "、".join(achievement.routes or []))
            matches.append(Match(achievement, score, "，".join(reasons)))
    return sorted(matches, key=lambda m: (-m.score, m.achievement.id))


async def for_demand(session: AsyncSession, demand: Demand, limit: int = 3) -> list[Match]:
    return rank(list((await session.scalars(select(Achievement))).all()), demand)[:limit]


def _terms(demand: Demand) -> list[str]:
    from bot.services.matching import _demand_terms

    return _demand_terms(demand)
