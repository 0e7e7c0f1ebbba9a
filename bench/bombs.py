"""Spreadsheet bombs: small .xlsx files that declare or unpack to enormous sheets.

Used by the tests and by `python -m bench.spreadsheets`. Each is a hand-built workbook (the
minimum parts Excel and openpyxl read), so the file stays a few KB whatever it declares."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
</Relationships>"""
_HEADER = ["姓名", "职称", "工作单位", "领域", "擅长", "服务地区", "所属服务团", "TelegramID", "手机"]


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _sheet(dimension: str, rows: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>')


def _header_row() -> str:
    return '<row r="1">' + "".join(_cell(f"{chr(65 + i)}1", h) for i, h in enumerate(_HEADER)) + "</row>"


def _book(sheet_xml: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return out.getvalue()


def whole_grid(path: Path) -> Path:
    """Declares A1:XFD1048576 and holds one header row."""
    path.write_bytes(_book(_sheet("A1:XFD1048576", _header_row())))
    return path


def far_cell(path: Path) -> Path:
    """The header, then one cell at the last row Excel has."""
    rows = _header_row() + '<row r="1048576">' + _cell("A1048576", "张三") + "</row>"
    path.write_bytes(_book(_sheet("A1:A1048576", rows)))
    return path


def deflate_bomb(path: Path, megabytes: int = 300) -> Path:
    """A sheet part that unzips to `megabytes` MB of the same empty row, a few hundred KB zipped."""
    filler = "<row/>" * (megabytes * 1024 * 1024 // 6)
    path.write_bytes(_book(_sheet("A1:I1", _header_row() + filler)))
    return path


def small_deflate_bomb(path: Path) -> Path:
    """About 5 KB: a sheet part that unzips to 5 MB of empty rows (a ratio of about 1,000)."""
    return deflate_bomb(path, megabytes=5)


def many_rows(path: Path, count: int = 200_000) -> Path:
    """Legitimate-looking: `count` rows of one short cell (compresses well, but not absurdly)."""
    rows = "".join(f'<row r="{n}">' + _cell(f"A{n}", f"专家{n}") + "</row>" for n in range(2, count + 2))
    path.write_bytes(_book(_sheet(f"A1:I{count + 1}", _header_row() + rows)))
    return path


BOMBS = {"whole_grid": whole_grid, "far_cell": far_cell, "small_deflate_bomb": small_deflate_bomb,
         "deflate_bomb": deflate_bomb, "many_rows": many_rows}
