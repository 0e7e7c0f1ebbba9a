"""Enterprises (企业) as the policy's platform knows them: registered by a contact person with the
统一社会信用代码, checked by its check digit (GB 32100-2015), so a typo is caught at once; the
contact then asks as the enterprise."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict
from bot.services.people import ENTERPRISE, grant_role, person_by_id
from intents import regions
from storage.models import Enterprise

# GB 32100-2015: 18 characters from this alphabet (no I, O, Z, S, V); the 18th is a check
# character over the first 17 with these weights, modulo 31.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

WRONG_LENGTH = "统一社会信用代码应是 18 位（现在是 {n} 位）。"
WRONG_CHARACTER = "统一社会信用代码里不能有「{c}」（只用数字和除 I、O、Z、S、V 以外的大写字母）。"
WRONG_CHECK = "统一社会信用代码的最后一位校验码不对，请核对营业执照上的代码。"
TAKEN = "这个统一社会信用代码已经登记过了（{name}）。如需更换联系人，请联系工作人员。"
NO_NAME = "请写上企业名称。"


def credit_code_problem(code: str) -> str | None:
    """Why a 统一社会信用代码 cannot be right, or None."""
    if len(code) != 18:
        return WRONG_LENGTH.format(n=len(code))
    for c in code:
        if c not in ALPHABET:
            return WRONG_CHARACTER.format(c=c)
    total = sum(ALPHABET.index(c) * w for c, w in zip(code[:17], WEIGHTS, strict=True))
    if ALPHABET[(31 - total % 31) % 31] != code[17]:
        return WRONG_CHECK
    return None


def normalize_code(text: str) -> str:
    return "".join(text.split()).upper().replace("－", "").replace("-", "")


@dataclass(frozen=True)
class Registered:
    enterprise_id: int
    name: str
    credit_code: str
    region_code: str | None


async def register(sessions: async_sessionmaker[AsyncSession], person_id: int, name: str,
                   credit_code: str) -> Registered:
    """The person registers their enterprise and becomes its contact (role "enterprise")."""
    code = normalize_code(credit_code)
    if not name.strip():
        raise Conflict(NO_NAME)
    problem = credit_code_problem(code)
    if problem is not None:
        raise Conflict(problem)
    region = _region_of(code)
    async with sessions.begin() as session:
        existing = await session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
        if existing is not None and existing.contact_id != person_id:
            raise Conflict(TAKEN.format(name=existing.name))
        person = await person_by_id(session, person_id)
        grant_role(person, ENTERPRISE)
        if existing is None:
            existing = Enterprise(name=name.strip()[:200], credit_code=code, region_code=region, contact_id=person.id)
            session.add(existing)
            await session.flush()
        else:
            existing.name = name.strip()[:200]
        return Registered(existing.id, existing.name, code, existing.region_code)


async def of_contact(session: AsyncSession, person_id: int) -> Enterprise | None:
    return await session.scalar(select(Enterprise).where(Enterprise.contact_id == person_id).order_by(Enterprise.id))


def _region_of(code: str) -> str | None:
    """Characters 3–8 are the registering authority's administrative division (行政区划代码)."""
    division = code[2:8]
    return division if regions.get(division) is not None else None


OUTCOME_ONLY_AFTER = "服务办结后才能填写稳岗扩岗情况。"
NOT_YOURS = "只能填写本企业的需求。"


async def report_jobs(sessions: async_sessionmaker[AsyncSession], demand_id: int, person_id: int, kept: int,
                      added: int) -> None:
    """The enterprise's contact says how many jobs the service helped keep (稳岗) and add (扩岗)."""
    from bot.errors import NotFound
    from bot.services import lifecycle
    from storage.models import Demand

    if not (0 <= kept <= 100_000 and 0 <= added <= 100_000):
        raise Conflict("岗位数请填 0 到 100000 之间的整数。")
    async with sessions.begin() as session:
        demand = await session.get(Demand, demand_id)
        enterprise = await of_contact(session, person_id)
        if demand is None:
            raise NotFound("没有这条需求。")
        if enterprise is None or demand.enterprise_id != enterprise.id:
            raise Conflict(NOT_YOURS)
        if demand.status not in (lifecycle.CLOSED, lifecycle.REOPENED):
            raise Conflict(OUTCOME_ONLY_AFTER)
        demand.jobs_kept, demand.jobs_added = kept, added


@dataclass(frozen=True)
class Served:
    name: str
    credit_code: str
    region_code: str | None
    demands: int
    fields: dict[str, int]
    jobs_kept: int
    jobs_added: int


async def served(sessions: async_sessionmaker[AsyncSession]) -> list[Served]:
    """Enterprises with their demands by field and the jobs they reported (the console filters by area)."""
    from sqlalchemy import func

    from storage.models import Demand

    async with sessions() as session:
        rows = (await session.execute(
            select(Enterprise, Demand.field, func.count(Demand.id), func.sum(Demand.jobs_kept), func.sum(Demand.jobs_added))
            .join(Demand, Demand.enterprise_id == Enterprise.id).group_by(Enterprise.id, Demand.field))).all()
    found: dict[int, Served] = {}
    for enterprise, field, count, kept, added in rows:
        before = found.get(enterprise.id)
        fields = dict(before.fields) if before else {}
        fields[field] = count
        found[enterprise.id] = Served(enterprise.name, enterprise.credit_code, enterprise.region_code,
                                      (before.demands if before else 0) + count, fields,
                                      (before.jobs_kept if before else 0) + (kept or 0),
                                      (before.jobs_added if before else 0) + (added or 0))
    return sorted(found.values(), key=lambda s: -s.demands)
