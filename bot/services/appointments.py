"""Appointing experts as the policy has it (point 八): a 聘书 with its number and term for each
member of a provincial service team, generated as a .docx staff print or send; and the yearly
assessment (年度考核) with notes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import CHINA_TIME
from bot.errors import Conflict, NotAllowed, NotFound
from bot.services.people import STAFF, person_by_id
from storage.models import Expert, ExpertAssessment, ServiceTeam

ISSUER = "湖南省人力资源和社会保障厅"
RESULTS = ("优秀", "合格", "基本合格", "不合格")
ROLE_NAMES = {"core": "核心专家", "member": "成员"}
NO_TERM = "请先登记{name}的聘期（专家名单的“聘期开始”“聘期结束”，或服务团的聘期）。"
NO_TEAM = "{name}还没有加入服务团，不能颁发服务团聘书。"


@dataclass(frozen=True)
class Certificate:
    number: str
    name: str
    team: str
    role: str
    start: date
    end: date
    issued: date


async def issue_certificate(sessions: async_sessionmaker[AsyncSession], expert_id: int, now: datetime,
                            issuer: str = ISSUER) -> Certificate:
    """The expert's 聘书: numbered once (the same number when printed again)."""
    issued = now.astimezone(CHINA_TIME).date()
    async with sessions.begin() as session:
        expert = await session.get(Expert, expert_id)
        if expert is None:
            raise NotFound("没有这位专家。")
        team = await session.get(ServiceTeam, expert.team_id) if expert.team_id else None
        if team is None:
            raise Conflict(NO_TEAM.format(name=expert.name))
        start, end = expert.term_start or team.term_start, expert.term_end or team.term_end
        if start is None or end is None:
            raise Conflict(NO_TERM.format(name=expert.name))
        if expert.certificate_no is None:
            expert.certificate_no = await _next_number(session, issued.year)
        return Certificate(expert.certificate_no, expert.name, team.name, ROLE_NAMES.get(expert.team_role or "", "专家"),
                           start, end, issued)


async def _next_number(session: AsyncSession, year: int) -> str:
    prefix = f"湘专服聘〔{year}〕"
    count = await session.scalar(select(func.count()).select_from(Expert).where(
        Expert.certificate_no.startswith(prefix))) or 0
    return f"{prefix}{count + 1:04d}号"


def write_certificate(certificate: Certificate, path: str | Path, issuer: str = ISSUER) -> Path:
    """The 聘书 as a Word document (python-docx)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    c = certificate
    document = Document()
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("聘  书")
    run.bold, run.font.size = True, Pt(36)
    number = document.add_paragraph(c.number)
    number.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    body = document.add_paragraph(
        f"兹聘请 {c.name} 同志为湖南省专家服务团「{c.team}」{c.role}，"
        f"聘期自 {_day(c.start)} 至 {_day(c.end)}。")
    body.runs[0].font.size = Pt(16)
    for text in (issuer, _day(c.issued)):
        line = document.add_paragraph(text)
        line.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    path = Path(path)
    document.save(str(path))
    return path


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


async def assess(sessions: async_sessionmaker[AsyncSession], staff_id: int, expert_id: int, year: int,
                 result: str, notes: str, clock: Callable[[], datetime]) -> ExpertAssessment:
    """年度考核: one per expert and year (a second entry for the year replaces the first)."""
    if result not in RESULTS:
        raise Conflict("考核结果只能是 优秀、合格、基本合格 或 不合格。")
    async with sessions.begin() as session:
        if STAFF not in (await person_by_id(session, staff_id)).role_names:
            raise NotAllowed("只有工作人员可以登记年度考核。")
        if await session.get(Expert, expert_id) is None:
            raise NotFound("没有这位专家。")
        found = await session.scalar(select(ExpertAssessment).where(ExpertAssessment.expert_id == expert_id,
                                                                    ExpertAssessment.year == year))
        if found is None:
            found = ExpertAssessment(expert_id=expert_id, year=year)
            session.add(found)
        found.result, found.notes, found.assessed_by_id, found.at = result, notes.strip()[:2000], staff_id, clock()
        return found


async def assessments(sessions: async_sessionmaker[AsyncSession], expert_id: int) -> list[ExpertAssessment]:
    async with sessions() as session:
        return list((await session.scalars(select(ExpertAssessment).where(ExpertAssessment.expert_id == expert_id)
                                           .order_by(ExpertAssessment.year.desc()))).all())
