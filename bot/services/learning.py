"""The classifier learns from corrections: farmers' and leaders' corrected fields are
stored; `jiceng intents retrain` folds them in, reports held-out accuracy before and after,
and stores the new model, which running bots pick up without a restart."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Row, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intents.model import LinearFieldModel
from intents.understand import Understander
from storage.models import Draft, FieldCorrection, FieldModelVersion

if TYPE_CHECKING:
    from intents.training import Example

FARMER_PICKED = "farmer"
LEADER_TRANSFERRED = "leader"
WORSE_BY_AT_MOST = 0.02  # a retrained model may lose this much held-out accuracy and still be used


async def record_draft_correction(session: AsyncSession, draft: Draft, predicted: str, chosen: str, actor_id: int) -> None:
    """One correction per draft: the farmer's latest choice against the classifier's guess."""
    await session.execute(delete(FieldCorrection).where(FieldCorrection.draft_id == draft.id))
    if chosen != predicted:
        session.add(FieldCorrection(
            text=draft.text, from_field=predicted, to_field=chosen, source=FARMER_PICKED,
            actor_id=actor_id, draft_id=draft.id,
        ))


async def newest_model(sessions: async_sessionmaker[AsyncSession], after_id: int = 0) -> tuple[int, LinearFieldModel] | None:
    async with sessions() as session:
        row = await session.scalar(
            select(FieldModelVersion).where(FieldModelVersion.id > after_id).order_by(FieldModelVersion.id.desc()).limit(1)
        )
    return (row.id, LinearFieldModel.from_bytes(row.blob)) if row else None


@dataclass(frozen=True)
class RetrainReport:
    examples: int
    corrections: int
    heldout: int
    accuracy_before: float
    accuracy_after: float
    stored: bool
    model_id: int | None

    def summary(self) -> str:
        verdict = (f"已保存为第 {self.model_id} 版模型，运行中的机器人一分钟内自动换用。" if self.stored
                   else "新模型在留出集上明显变差，没有采用（可加 --force 强制采用）。")
        return (
            f"训练样例 {self.examples} 条（其中纠正 {self.corrections} 条），留出集 {self.heldout} 条。\n"
            f"留出集准确率：重新训练前 {self.accuracy_before:.1%}，重新训练后 {self.accuracy_after:.1%}。\n{verdict}"
        )


async def retrain(sessions: async_sessionmaker[AsyncSession], understander: Understander, now: datetime,
                  *, force: bool = False) -> RetrainReport:
    from intents import training  # scikit-learn: only here, never in the running bot

    async with sessions() as session:
        rows = (await session.execute(select(FieldCorrection.text, FieldCorrection.to_field).order_by(FieldCorrection.id))).all()
    corrections = _latest_per_text(rows)
    examples = training.load_examples() + corrections
    train, heldout = training.split(examples)
    current = await newest_model(sessions)
    current_model = current[1] if current else understander.model
    assert current_model is not None  # an Understander always has a model once built
    before = training.accuracy(current_model, heldout, understander.prepare)
    model = training.fit(train, understander.prepare, meta={"corrections": len(corrections)})
    after = training.accuracy(model, heldout, understander.prepare)
    stored = force or after >= before - WORSE_BY_AT_MOST
    model_id = None
    if stored:
        async with sessions.begin() as session:
            version = FieldModelVersion(
                blob=model.to_bytes(), examples=len(train), corrections=len(corrections),
                accuracy_before=before, accuracy_after=after, created_at=now,
            )
            session.add(version)
            await session.flush()
            model_id = version.id
    return RetrainReport(len(train), len(corrections), len(heldout), before, after, stored, model_id)


def _latest_per_text(rows: Iterable[Row[str, str]]) -> list[Example]:
    from intents.training import Example

    latest: dict[str, str] = {}
    for text, field in rows:
        latest[text] = field  # a later correction of the same text wins
    return [Example(text, field) for text, field in latest.items()]


async def count_corrections(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(FieldCorrection)) or 0
