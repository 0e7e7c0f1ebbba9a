"""Reading the spreadsheets staff keep (.xlsx, or .csv as Excel and WPS save it) into plain
rows, and writing reports back in the same two formats.

Every cell comes back as a stripped string, keyed by its column header, together with the
row number staff see in their spreadsheet (the header is row 1), so errors can point at it.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from pathlib import Path

from bot.errors import ImportFileError

SUPPORTED_SUFFIXES = (".xlsx", ".csv")
# Excel on Chinese Windows saves "CSV" in GBK; GB18030 is its superset.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")

UNSUPPORTED_FILE = "不支持「{suffix}」文件，请另存为 .xlsx（Excel 工作簿）或 .csv（逗号分隔）后再导入。"
UNREADABLE_FILE = "无法打开文件「{name}」：{reason}"
CORRUPT_XLSX = "文件「{name}」不是有效的 .xlsx 工作簿，可能已损坏；请用 Excel 打开后重新另存为 .xlsx。"
UNKNOWN_ENCODING = "无法识别文件「{name}」的编码，请另存为“CSV UTF-8（逗号分隔）”后再导入。"
BAD_CSV = "文件「{name}」不是有效的 CSV：{reason}"
EMPTY_FILE = "文件「{name}」是空的，没有表头。"
MISSING_HEADERS = "缺少必需的列：{headers}。第 1 行应是表头，请对照模板检查列名。"
DUPLICATE_HEADER = "列「{header}」出现了不止一次，请只保留一列。"

Row = tuple[int, dict[str, str]]


def read_table(path: str | Path, required: Sequence[str] = ()) -> tuple[list[str], list[Row]]:
    """Headers and the non-empty rows of the first sheet of a .xlsx or .csv file.

    Each row is (spreadsheet row number, {header: cell text}). Headers in `required` are
    matched ignoring spaces and letter case ("Team Name" is "TeamName") and come back
    spelled as in `required`; a missing one raises ImportFileError naming it.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ImportFileError(UNSUPPORTED_FILE.format(suffix=path.suffix or path.name))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(UNREADABLE_FILE.format(name=path.name, reason=exc.strerror or exc)) from exc
    records = _xlsx_records(raw, path.name) if suffix == ".xlsx" else _csv_records(raw, path.name)
    return _table(records, path.name, required)


def _xlsx_records(raw: bytes, name: str) -> list[tuple[int, list[str]]]:
    import openpyxl  # only imports need it; keeps `jiceng run` start-up light

    try:
        with warnings.catch_warnings():
            # openpyxl warns about Excel/WPS extensions it does not read (data validation,
            # conditional formats); the cell values are unaffected.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(raw), data_only=True)
    except Exception as exc:  # zip, XML and openpyxl errors alike mean "not a workbook"
        raise ImportFileError(CORRUPT_XLSX.format(name=name)) from exc
    try:
        sheet = book.worksheets[0]
        return [
            (number, [_cell_text(v) for v in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        book.close()


def _csv_records(raw: bytes, name: str) -> list[tuple[int, list[str]]]:
    for encoding in CSV_ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(UNKNOWN_ENCODING.format(name=name))
    # One record is one spreadsheet row, even when a quoted cell holds line breaks.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return [(number, [v.strip() for v in values]) for number, values in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise ImportFileError(BAD_CSV.format(name=name, reason=exc)) from exc


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel stores every number as a float: 13800000001 arrives as 13800000001.0.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value).strip()


def _header_key(header: str) -> str:
    return re.sub(r"\s+", "", header).casefold()


def _table(
    records: Iterable[tuple[int, list[str]]], name: str, required: Sequence[str]
) -> tuple[list[str], list[Row]]:
    records = iter(records)
    # The header is the first row that has anything in it (normally row 1).
    for _, values in records:
        if any(values):
            headers = values
            break
    else:
        raise ImportFileError(EMPTY_FILE.format(name=name))

    wanted = {_header_key(h): h for h in required}
    columns: dict[str, int] = {}
    for index, header in enumerate(headers):
        if not header:
            continue
        spelled = wanted.get(_header_key(header), header)
        if spelled in columns:
            if spelled in required:
                raise ImportFileError(DUPLICATE_HEADER.format(header=spelled))
            continue  # an extra column we ignore anyway
        columns[spelled] = index
    missing = [h for h in required if h not in columns]
    if missing:
        raise ImportFileError(MISSING_HEADERS.format(headers="、".join(missing)))

    rows: list[Row] = []
    for number, values in records:
        row = {h: (values[i] if i < len(values) else "") for h, i in columns.items()}
        if any(row.values()):
            rows.append((number, row))
    return list(columns), rows


def write_table(path: str | Path, headers: Sequence[str], rows: Iterable[Sequence[object]], *,
                sheet_title: str, widths: Sequence[int] = ()) -> Path:
    """A report as .xlsx (bold, frozen header) or as .csv in UTF-8 with a BOM, so that Excel
    on Chinese Windows does not read it as GBK. Whole floats are written as integers
    (3.0 -> 3); the caller checks the suffix and turns OSError into its own error."""
    path = Path(path)
    rows = [list(row) for row in rows]
    if path.suffix.lower() == ".xlsx":
        _write_xlsx(path, headers, rows, sheet_title, widths)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(headers)
            writer.writerows([_csv_cell(v) for v in row] for row in rows)
    return path


def _csv_cell(value: object) -> object:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return value


def _write_xlsx(path: Path, headers: Sequence[str], rows: Sequence[Sequence[object]], title: str,
                widths: Sequence[int]) -> None:
    import openpyxl  # only reports need it; keeps `jiceng run` start-up light
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([int(v) if isinstance(v, float) and v.is_integer() else v for v in row])
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    book.save(path)
