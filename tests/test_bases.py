"""专家服务基地: declared against the annex's four conditions with evidence, then approved, reviewed
(复核) with 限期整改, re-checked and revoked — each step with who, when and why — and a revoked base
hosts no new training."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import Conflict, NotAllowed
from bot.services.bases import APPROVED, CONDITIONS, RECTIFYING, REVOKED, Bases
from bot.services.directory import add_staff
from bot.services.notices import NoticeDraft, NoticeService
from bot.services.people import Account

LIUYANG, JISHOU = "430181", "433101"


def answers(evidence: bool = True) -> dict:
    return {key: {"answer": f"关于{title[:4]}的说明", "evidence": ["web:证明材料.pdf"] if evidence else []}
            for key, title in CONDITIONS.items()}


async def test_a_base_from_declaration_to_revocation(sessions, clock):
    bases = Bases(sessions, clock)
    province = (await add_staff(sessions, Account("memory", "4001"), "省厅王干事")).id
    county = (await add_staff(sessions, Account("memory", "4002"), "吉首张干事", region=JISHOU)).id
    with pytest.raises(Conflict, match="证明材料"):
        await bases.declare(province, "浏阳油茶专家服务基地", "浏阳市油茶产业园", LIUYANG, answers(evidence=False))
    base = await bases.declare(province, "浏阳油茶专家服务基地", "浏阳市油茶产业园", LIUYANG, answers())
    with pytest.raises(NotAllowed):
        await bases.decide(county, base.id, True, "")  # another area's staff
    await bases.decide(province, base.id, True, "四项条件齐备，材料真实")
    clock.advance(days=365)
    with pytest.raises(Conflict, match="整改期限"):
        await bases.review(province, base.id, "限期整改", "全年只办了一次培训")
    deadline = (clock() + timedelta(days=90)).date()
    assert (await bases.review(province, base.id, "限期整改", "全年只办了一次培训", deadline)).status == RECTIFYING
    clock.advance(days=91)
    assert (await bases.review(province, base.id, "撤销", "整改期满仍未开展活动")).status == REVOKED
    steps = await bases.history(base.id)
    assert [(s.action, s.to_status) for s in steps] == [
        ("declare", "declared"), ("approve", APPROVED), ("rectify", RECTIFYING), ("revoke", REVOKED)]
    assert all(s.actor == "省厅王干事" and s.at for s in steps)
    assert deadline.isoformat() in steps[2].reason and "整改期满" in steps[3].reason

    notices = NoticeService(sessions, clock)
    draft = NoticeDraft(step="preview", title="油茶修剪", content="现场教学", place="基地", base_id=base.id,
                        starts_at=clock() + timedelta(days=3), duration_hours=2)
    with pytest.raises(Conflict, match="已撤销"):
        await notices.send_draft(province, draft)  # a revoked base gets no new trainings
