"""专家服务基地 (expert service bases), as the policy's point 一 and its annex set them out.

A host organisation (依托单位) declares a base by answering the annex's four conditions, each with
evidence; staff approve (认定) or reject it. Approved bases are reviewed (复核) from time to time:
表扬 and 合格 keep them approved, 限期整改 gives a deadline and a re-check, 撤销 ends them. Every
step is recorded with who, when and why; a revoked (or not yet approved) base hosts no training."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict, NotAllowed, NotFound
from bot.services.oversight import scope_of
from bot.services.people import person_by_id
from storage.models import BaseEvent, ServiceBase

# The annex's four conditions (省级专家服务基地申报条件), in its order.
CONDITIONS: dict[str, str] = {
    "support": "一、所在地政府及主管部门重视，能提供政策支持和经费保障",
    "demand": "二、周边市场主体或个体劳动者有较密集的专家智力资源需求，思路明确、内在动力强",
    "facilities": "三、有较好的配套服务设施，与我省产业发展、乡村振兴关联性强，有承载能力和示范带动效应",
    "management": "四、组织管理及运行机制较完善，有配套服务机构和人员，能提供支持措施和服务保障",
}
DECLARED, APPROVED, RECTIFYING, REVOKED, REJECTED = "declared", "approved", "rectifying", "revoked", "rejected"
STATUS_NAMES = {DECLARED: "已申报（待认定）", APPROVED: "已认定", RECTIFYING: "限期整改中", REVOKED: "已撤销",
                REJECTED: "不予认定"}
Outcome = Literal["表扬", "合格", "限期整改", "撤销"]
OUTCOMES: dict[str, tuple[str, str]] = {  # 复核 outcome → (action, status after)
    "表扬": ("praise", APPROVED), "合格": ("qualify", APPROVED), "限期整改": ("rectify", RECTIFYING),
    "撤销": ("revoke", REVOKED),
}
ACTION_NAMES = {"plan": "登记", "declare": "申报", "approve": "认定", "reject": "不予认定", "praise": "复核：通报表扬",
                "qualify": "复核：合格", "rectify": "复核：限期整改", "revoke": "撤销"}

MISSING = "申报条件「{condition}」没有填写或没有证明材料。"
NO_NAME = "请填写基地名称和依托单位。"
NOT_DECLARED = "这个基地不是待认定状态。"
NOT_UNDER_REVIEW = "只有已认定或限期整改中的基地可以复核。"
NEEDS_REASON = "请写明理由或复核意见。"
NEEDS_DEADLINE = "限期整改要写整改期限（今天以后的日期）。"
CANNOT_HOST = "基地「{name}」{status}，不能承办培训。"
OUTSIDE = "这个基地不在您负责的地区。"


@dataclass(frozen=True)
class Step:
    action: str
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    at: datetime


class Bases:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._clock = clock

    async def declare(self, person_id: int, name: str, host: str, region_code: str | None,
                      answers: dict[str, dict[str, Any]]) -> ServiceBase:
        """Every condition needs an answer and at least one piece of evidence."""
        if not name.strip() or not host.strip():
            raise Conflict(NO_NAME)
        for key, title in CONDITIONS.items():
            answer = answers.get(key) or {}
            if not str(answer.get("answer", "")).strip() or not answer.get("evidence"):
                raise Conflict(MISSING.format(condition=title))
        async with self._sessions.begin() as session:
            base = ServiceBase(name=name.strip()[:200], host=host.strip()[:200], region_code=region_code,
                               status=DECLARED, declared_by_id=person_id, created_at=self._clock(),
                               conditions={k: {"answer": str(answers[k]["answer"]).strip()[:2000],
                                               "evidence": list(answers[k]["evidence"])[:10]} for k in CONDITIONS})
            session.add(base)
            await session.flush()
            self._record(session, base, "declare", None, person_id, "")
            return base

    async def decide(self, staff_id: int, base_id: int, approve: bool, reason: str) -> ServiceBase:
        """认定 or 不予认定 of a declared base (staff of its area)."""
        async with self._sessions.begin() as session:
            base = await self._in_scope(session, staff_id, base_id)
            if base.status != DECLARED:
                raise Conflict(NOT_DECLARED)
            if not approve and not reason.strip():
                raise Conflict(NEEDS_REASON)
            before = base.status
            base.status = APPROVED if approve else REJECTED
            self._record(session, base, "approve" if approve else "reject", before, staff_id, reason)
            return base

    async def review(self, staff_id: int, base_id: int, outcome: Outcome, findings: str,
                     deadline: date | None = None) -> ServiceBase:
        """复核 (or the re-check after 限期整改): 表扬 / 合格 / 限期整改 (with a deadline) / 撤销."""
        if outcome not in OUTCOMES:
            raise Conflict("复核结论只能是 表扬、合格、限期整改 或 撤销。")
        if not findings.strip():
            raise Conflict(NEEDS_REASON)
        today = self._clock().date()
        if outcome == "限期整改" and (deadline is None or deadline <= today):
            raise Conflict(NEEDS_DEADLINE)
        async with self._sessions.begin() as session:
            base = await self._in_scope(session, staff_id, base_id)
            if base.status not in (APPROVED, RECTIFYING):
                raise Conflict(NOT_UNDER_REVIEW)
            action, after = OUTCOMES[outcome]
            before = base.status
            base.status = after
            base.rectify_by = deadline if outcome == "限期整改" else None
            reason = findings.strip() + (f"（整改期限：{deadline.isoformat()}）" if deadline else "")
            self._record(session, base, action, before, staff_id, reason)
            return base

    async def set_plan(self, staff_id: int, base_id: int, year: int, text: str) -> ServiceBase:
        """The base's 年度培训方案 for a year (replaced when written again)."""
        if not text.strip() or not 2000 <= year <= 2100:
            raise Conflict("请写上年度培训方案和年份。")
        async with self._sessions.begin() as session:
            base = await self._in_scope(session, staff_id, base_id)
            base.plans = {**(base.plans or {}), str(year): text.strip()[:5000]}
            self._record(session, base, "plan", base.status, staff_id, f"{year} 年度培训方案")
            return base

    async def trainings(self, base_id: int) -> list[tuple[str, datetime | None, int, int]]:
        """The trainings the base hosted: title, time, people signed up and people who attended."""
        from sqlalchemy import func

        from storage.models import NoticeSignup, TrainingNotice

        async with self._sessions() as session:
            rows = (await session.execute(
                select(TrainingNotice.title, TrainingNotice.starts_at,
                       func.count(NoticeSignup.id).filter(NoticeSignup.status != "cancelled"),
                       func.count(NoticeSignup.id).filter(NoticeSignup.attended.is_(True)))
                .outerjoin(NoticeSignup, NoticeSignup.notice_id == TrainingNotice.id)
                .where(TrainingNotice.base_id == base_id).group_by(TrainingNotice.id)
                .order_by(TrainingNotice.starts_at))).all()
        return [(title, starts, signed, attended) for title, starts, signed, attended in rows]

    async def history(self, base_id: int) -> list[Step]:
        async with self._sessions() as session:
            events = (await session.scalars(select(BaseEvent).where(BaseEvent.base_id == base_id)
                                            .order_by(BaseEvent.id))).all()
            steps = []
            for event in events:
                actor = (await person_by_id(session, event.actor_id)).display_name if event.actor_id else "系统"
                steps.append(Step(event.action, event.from_status, event.to_status, actor, event.reason, event.at))
            return steps

    async def get(self, base_id: int) -> ServiceBase:
        async with self._sessions() as session:
            base = await session.get(ServiceBase, base_id)
        if base is None:
            raise NotFound("没有这个专家服务基地。")
        return base

    async def listed(self, staff_id: int) -> list[ServiceBase]:
        async with self._sessions() as session:
            scope = await scope_of(session, staff_id)
            bases = (await session.scalars(select(ServiceBase).order_by(ServiceBase.id))).all()
        return [b for b in bases if scope.covers(b.region_code)]

    async def hosting(self) -> list[ServiceBase]:
        """The bases that may host a training now."""
        async with self._sessions() as session:
            return list((await session.scalars(select(ServiceBase).where(ServiceBase.status == APPROVED)
                                               .order_by(ServiceBase.name))).all())

    async def _in_scope(self, session: AsyncSession, staff_id: int, base_id: int) -> ServiceBase:
        scope = await scope_of(session, staff_id)
        base = await session.get(ServiceBase, base_id)
        if base is None:
            raise NotFound("没有这个专家服务基地。")
        if not scope.covers(base.region_code):
            raise NotAllowed(OUTSIDE)
        return base

    def _record(self, session: AsyncSession, base: ServiceBase, action: str, before: str | None,
                actor_id: int | None, reason: str) -> None:
        session.add(BaseEvent(base_id=base.id, action=action, from_status=before, to_status=base.status,
                              actor_id=actor_id, reason=reason.strip()[:1000], at=self._clock()))


async def check_can_host(session: AsyncSession, base_id: int | None) -> None:
    """A training names its base only if the base is approved (not declared, rectifying or revoked)."""
    if base_id is None:
        return
    base = await session.get(ServiceBase, base_id)
    if base is None:
        raise NotFound("没有这个专家服务基地。")
    if base.status != APPROVED:
        raise Conflict(CANNOT_HOST.format(name=base.name, status=STATUS_NAMES[base.status]))
