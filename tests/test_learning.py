"""The classifier learns from corrections and the knowledge base grows: `jiceng intents
retrain` reports held-out accuracy before and after; a running bot picks up the new model
and newly imported answers without a restart; `jiceng intents classify` for staff."""

from __future__ import annotations

import json
import subprocess
import sys

from bot.services import learning
from bot.services.knowledge import KnowledgeBase, import_knowledge, starter_entries
from bot.services.live import LiveUnderstanding
from intents.similar import KnowledgeIndex
from storage.models import FieldCorrection, FieldModelVersion

PIG_SALES = "我的猪仔卖不出去，收购的老板压价"  # livestock words, but a marketing question


async def add_corrections(sessions, text: str, field: str, times: int = 30) -> None:
    async with sessions.begin() as session:
        for i in range(times):
            session.add(FieldCorrection(text=f"{text}{i}", from_field="livestock", to_field=field, source="farmer"))


async def test_retrain_folds_in_corrections_and_the_running_bot_swaps_the_model(sessions, understander, knowledge, clock):
    from intents.model import LinearFieldModel

    shipped = understander.model
    try:
        await add_corrections(sessions, PIG_SALES, "ecommerce")
        report = await learning.retrain(sessions, understander, clock())
        assert report.corrections == 30 and report.stored
        assert "留出集准确率：重新训练前" in report.summary()
        live = LiveUnderstanding(sessions, understander, knowledge)
        await live.refresh()
        assert live.model_id == report.model_id
        assert understander.model is not shipped
        assert understander.understand(PIG_SALES + "怎么办").field == "ecommerce"
    finally:
        understander.swap_model(shipped if isinstance(shipped, LinearFieldModel) else LinearFieldModel.shipped())


async def test_a_model_worse_on_the_held_out_split_is_not_used(sessions, understander, clock, monkeypatch):
    import numpy as np

    from intents import training
    from intents.model import LinearFieldModel

    always_other = LinearFieldModel(("other",), {}, np.zeros(0), np.zeros((0, 1)), np.zeros(1), 0.0, {})
    monkeypatch.setattr(training, "fit", lambda *args, **kwargs: always_other)
    report = await learning.retrain(sessions, understander, clock())
    assert not report.stored and "没有采用" in report.summary()
    async with sessions() as session:
        assert await session.get(FieldModelVersion, 1) is None


async def test_imported_answers_reach_a_running_index(sessions, understander, tmp_path):
    index = KnowledgeBase(KnowledgeIndex(understander.segmenter))
    live = LiveUnderstanding(sessions, understander, index)
    await live.refresh()
    assert len(index) == len(starter_entries())  # the first load builds the whole base
    assert not [h for h in index.search("黄桃为什么会裂果") if "黄桃裂果" in h.entry.question]
    source = tmp_path / "knowledge.csv"
    source.write_text("问题,答案,领域\n黄桃裂果是什么原因,多为水分忽干忽湿，注意均匀灌溉并补钙。,种植栽培\n", "utf-8")
    report = await import_knowledge(sessions, source)
    assert report.summary() == "已解答问题：新增 1 条，更新 0 条"
    await live.refresh()
    assert index.search("黄桃为什么会裂果")[0].entry.question == "黄桃裂果是什么原因"
    source.write_text("问题,答案,领域\n黄桃裂果是什么原因,新的答案：均匀灌溉。,crop\n", "utf-8")
    assert (await import_knowledge(sessions, source)).updated == 1
    await live.refresh()
    assert index.search("黄桃为什么会裂果")[0].entry.answer.startswith("新的答案")


async def test_a_bad_knowledge_file_imports_nothing(sessions, tmp_path):
    import pytest

    from bot.errors import ImportFileError

    source = tmp_path / "knowledge.csv"
    source.write_text("问题,答案,领域\n好问题,好答案,crop\n,没有问题,crop\n坏领域,答案,天文\n", "utf-8")
    with pytest.raises(ImportFileError) as raised:
        await import_knowledge(sessions, source)
    assert "第 3 行" in str(raised.value) and "第 4 行" in str(raised.value)


def test_classify_command_writes_one_json_object_per_line(tmp_path):
    env = {"JICENG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/none.db", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "intents", "classify"], input="浏阳3亩水稻道温病打什么药\n\n🙂\n",
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    first = lines[0]
    assert first["field"] == "plant_protection" and len(first["top3"]) >= 1
    assert "稻瘟病" in first["entities"]["pests_diseases"] and first["entities"]["places"] == ["430181"]
    assert first["corrections"] == [["道温病", "稻瘟病"]]
    assert lines[1]["field"] == "other" and lines[1]["confidence"] == 0
    assert not (tmp_path / "none.db").exists()  # classifying never creates a database


def test_evaluate_command_reports_per_field_scores_and_confusion_beside_the_baseline(tmp_path):
    labelled = tmp_path / "questions.tsv"
    labelled.write_text(
        "question\tcategory\n"
        "水稻叶子上有梭形病斑 打什么药\t病害防治\n"        # a Q&A board's category word
        "辣椒什么时候育苗最好\t种植栽培\n"                  # a field's Chinese name
        "猪不吃食还发烧怎么办\tlivestock\n"                 # a field code
        "这行的标签谁也不认识\t天文\n", "utf-8")            # skipped and counted
    env = {"JICENG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/none.db", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "intents", "evaluate", str(labelled)],
                            capture_output=True, text=True, env=env, timeout=300, check=True)
    out = result.stdout
    assert "questions.tsv: 3 questions (1 rows skipped" in out
    assert "jiceng" in out and "SVM baseline" in out and "macro-F1" in out
    per_field = out.split("field ", 1)[1]
    assert all(code in per_field for code in ("crop", "plant_protection", "livestock"))
    assert out.count("confusion,") == 2


def test_evaluate_command_names_a_missing_file(tmp_path):
    env = {"JICENG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/none.db", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "intents", "evaluate", str(tmp_path / "no.tsv")],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2 and "找不到文件" in result.stderr
