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


# --- Agreements, and the policy's minimum shares as a check (not legal advice) --------------

SELF = "自行实施"
TRANSFER_MIN, PROFIT_MIN, STAFF_MIN = 70.0, 10.0, 5.0
PROFIT_YEARS = (3, 5)
BELOW_TRANSFER = "转让、许可：科技人员奖励不低于净收入的 70%（记录为 {v:g}%）"
BELOW_PROFIT = "自行或合作实施：投产后连续 3 至 5 年、每年不低于营业利润的 10%（记录为 {v:g}%，{y} 年）"
BELOW_STAFF = "高等院校：转化管理和中介服务人员原则上不低于净收入的 5%（记录为 {v:g}%）"
UNIVERSITY_WORDS = ("大学", "学院")


@dataclass(frozen=True)
class Terms:
    party: str
    route: str
    researchers_share: float | None = None
    profit_share: float | None = None
    profit_years: int | None = None
    staff_share: float | None = None


def split_warnings(owner: str, terms: Terms) -> list[str]:
    """Where a recorded split falls below the policy's minimums (point 六); empty when it meets them."""
    warnings = []
    if terms.route in ("技术转让", "许可"):
        if terms.researchers_share is None or terms.researchers_share < TRANSFER_MIN:
            warnings.append(BELOW_TRANSFER.format(v=terms.researchers_share or 0))
        if any(word in owner for word in UNIVERSITY_WORDS) and (terms.staff_share or 0) < STAFF_MIN:
            warnings.append(BELOW_STAFF.format(v=terms.staff_share or 0))
    else:  # carried out by the owner or with others: a share of the profit for 3–5 years
        years = terms.profit_years or 0
        if (terms.profit_share or 0) < PROFIT_MIN or not PROFIT_YEARS[0] <= years <= PROFIT_YEARS[1]:
            warnings.append(BELOW_PROFIT.format(v=terms.profit_share or 0, y=years))
    return warnings


async def record_agreement(sessions: async_sessionmaker[AsyncSession], achievement_id: int, staff_id: int,
                           terms: Terms) -> list[str]:
    """Staff record an agreement; gives the warnings the split raises (recorded all the same)."""
    from bot.errors import Conflict, NotFound
    from storage.models import AchievementAgreement

    if terms.route not in (*ROUTES, SELF) or not terms.party.strip():
        raise Conflict("请写明受让方，转化方式为 技术转让、许可、技术承包、技术入股 或 自行实施。")
    async with sessions.begin() as session:
        achievement = await session.get(Achievement, achievement_id)
        if achievement is None:
            raise NotFound("没有这项技术成果。")
        session.add(AchievementAgreement(achievement_id=achievement.id, party=terms.party.strip()[:200],
                                         route=terms.route, researchers_share=terms.researchers_share,
                                         profit_share=terms.profit_share, profit_years=terms.profit_years,
                                         staff_share=terms.staff_share, recorded_by_id=staff_id))
        return split_warnings(achievement.owner, terms)


@dataclass(frozen=True)
class Interest:
    title: str
    owner: str
    tracking_no: str  # the demand it was matched to
    tell: list[int]   # the owner expert (if they joined) and staff


async def interest(sessions: async_sessionmaker[AsyncSession], achievement_id: int, demand_id: int,
                   person_id: int) -> Interest:
    """Who hears that the asker of a demand wants to know more about an achievement matched to it
    (only the demand's own asker may ask from it)."""
    from bot.errors import NotFound
    from bot.services.people import staff_ids

    async with sessions() as session:
        achievement = await session.get(Achievement, achievement_id)
        demand = await session.get(Demand, demand_id)
        if achievement is None or demand is None or demand.submitter_id != person_id:
            raise NotFound("没有这项技术成果。")
        expert = await session.get(Expert, achievement.expert_id) if achievement.expert_id else None
        tell = [expert.person_id] if expert is not None and expert.person_id is not None else []
        tell += [p for p in await staff_ids(session) if p not in tell]
        return Interest(achievement.title, achievement.owner, demand.tracking_no, tell)


async def listed(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[Achievement, int]]:
    """Every achievement with how many agreements are recorded for it."""
    from sqlalchemy import func

    from storage.models import AchievementAgreement

    async with sessions() as session:
        counts = dict((await session.execute(select(AchievementAgreement.achievement_id, func.count())
                                             .group_by(AchievementAgreement.achievement_id))).all())
        achievements = (await session.scalars(select(Achievement).order_by(Achievement.title))).all()
    return [(a, counts.get(a.id, 0)) for a in achievements]
