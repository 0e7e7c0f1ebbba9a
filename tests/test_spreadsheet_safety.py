"""Spreadsheets in and out are safe: a report never carries a live formula, and a small file
that declares or unpacks to an enormous sheet is refused quickly, changing nothing."""

from __future__ import annotations

import csv

import openpyxl
import pytest
from sqlalchemy import func, select

from bench.bombs import deflate_bomb, far_cell, many_rows, small_deflate_bomb, whole_grid
from bot.errors import ImportFileError
from bot.services import directory
from bot.services.tabular import Limits, read_table, write_table
from storage.models import Expert

HOSTILE = ['=HYPERLINK("http://x","点我")', "@SUM(1)", "+1+1", "-2+3", "\tcmd", "\r=1+1"]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_no_exported_cell_is_a_formula(tmp_path, suffix):
    path = write_table(tmp_path / f"名单{suffix}", ["姓名", "出勤"], [[name, 1] for name in HOSTILE],
                       sheet_title="名单")
    if suffix == ".xlsx":
        sheet = openpyxl.load_workbook(path).active
        cells = [row[0] for row in sheet.iter_rows(min_row=2)]
        # As text; a bare \r comes back as \n through openpyxl's plain XML parser, kept with lxml.
        assert [c.value in (h, h.replace("\r", "\n")) for c, h in zip(cells, HOSTILE, strict=True)] == [True] * 6
        assert all(c.data_type == "s" for c in cells)        # not "f" (formula)
    else:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))[1:]
        assert [r[0] for r in rows] == ["'" + name for name in HOSTILE]


async def test_a_farmer_named_like_a_formula_is_text_in_the_trainees_report(sessions, clock, tmp_path):
    from bot.services.signups import SignupService
    from storage.models import TrainingNotice
    from tests.factories import person_id

    async with sessions.begin() as session:
        notice = TrainingNotice(title="培训", status="sent")
        session.add(notice)
    signups = SignupService(sessions, clock)
    await signups.sign_up(notice.id, await person_id(sessions, 5001, HOSTILE[0]))
    path = tmp_path / "学员.xlsx"
    await signups.export_trainees(path)
    cell = openpyxl.load_workbook(path).active["A2"]
    assert cell.value == HOSTILE[0] and cell.data_type == "s"


@pytest.mark.parametrize("bomb", [far_cell, small_deflate_bomb, deflate_bomb, many_rows])
async def test_spreadsheet_bombs_are_refused_and_change_nothing(sessions, tmp_path, bomb):
    path = bomb(tmp_path / f"{bomb.__name__}.xlsx")
    with pytest.raises(ImportFileError) as refused:
        await directory.import_experts(sessions, path)
    assert "超出了导入上限" in str(refused.value) and "exceeds an import limit" in str(refused.value)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Expert)) == 0


def test_a_sheet_declaring_the_whole_grid_is_read_as_what_it_holds(tmp_path):
    headers, rows = read_table(whole_grid(tmp_path / "grid.xlsx"))
    assert headers[0] == "姓名" and rows == []


def test_limits_name_what_was_exceeded(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("姓名," + ",".join(f"c{i}" for i in range(60)) + "\n张三\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="超过 50 列"):
        read_table(path)
    long = tmp_path / "long.csv"
    long.write_text("姓名\n" + "长" * 6000 + "\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="超过 5000 个字"):
        read_table(long)
    with pytest.raises(ImportFileError, match="上限 10 B"):
        read_table(long, limits=Limits(file_bytes=10))
