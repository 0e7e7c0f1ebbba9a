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
