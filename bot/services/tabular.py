"""Reading the spreadsheets staff keep (.xlsx, or .csv as Excel and WPS save it) into plain
rows, and writing reports back in the same two formats.

Every cell comes back as a stripped string, keyed by its column header, together with the
row number staff see in their spreadsheet (the header is row 1), so errors can point at it.

Files are read within limits (`Limits`: file size, unpacked size and compression ratio of an
.xlsx, rows, columns, cell length), streaming in openpyxl's read-only mode, so a small file that
declares a huge sheet or unpacks to gigabytes is refused in moments with a message naming the
limit, before anything is written. Reports are written safe to open: a text cell starting with
= + - @, a tab or a carriage return is never a formula (OWASP's CSV injection guidance): in .csv
it gets a leading apostrophe, in .xlsx it is stored as text.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
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
TOO_BIG = ("文件「{name}」超出了导入上限：{what}。请拆分成几个文件或删掉多余内容后再导入。"
           " / The file exceeds an import limit: {what_en}.")


@dataclass(frozen=True)
class Limits:
    """How much one imported spreadsheet may hold. Staff's directories are hundreds of rows."""

    file_bytes: int = 10 * 1024 * 1024        # the file itself
    unpacked_bytes: int = 100 * 1024 * 1024   # an .xlsx's parts, unzipped
    compression_ratio: int = 100              # unzipped / zipped, per part
    rows: int = 20_000
    columns: int = 50
    cell_chars: int = 5_000


LIMITS = Limits()
# A cell that a spreadsheet program would run as a formula (or as DDE) when it starts so.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Row = tuple[int, dict[str, str]]


def read_table(path: str | Path, required: Sequence[str] = (),
               limits: Limits = LIMITS) -> tuple[list[str], list[Row]]:
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
        size = path.stat().st_size
        if size > limits.file_bytes:
            _too_big(path.name, f"文件 {_size(size)}，上限 {_size(limits.file_bytes)}",
                     f"{_size(size)}, the limit is {_size(limits.file_bytes)}")
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(UNREADABLE_FILE.format(name=path.name, reason=exc.strerror or exc)) from exc
    if suffix == ".xlsx":
        records = _bounded(_xlsx_records(raw, path.name, limits), path.name, limits)
    else:
        records = _bounded(_csv_records(raw, path.name), path.name, limits)
    return _table(records, path.name, required)


def _size(n: int) -> str:
    for unit, scale in (("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{n / scale:.0f} {unit}"
    return f"{n} B"


def _too_big(name: str, what: str, what_en: str) -> None:
    raise ImportFileError(TOO_BIG.format(name=name, what=what, what_en=what_en))


def _bounded(records: Iterable[tuple[int, list[str]]], name: str,
             limits: Limits) -> Iterator[tuple[int, list[str]]]:
    """The records, refused as soon as one passes a limit (rows, columns, cell length)."""
    for number, values in records:
        if number > limits.rows + 1:
            _too_big(name, f"超过 {limits.rows} 行", f"more than {limits.rows} rows")
        while values and not values[-1]:
            values.pop()
        if len(values) > limits.columns:
            _too_big(name, f"第 {number} 行超过 {limits.columns} 列", f"row {number} has more than {limits.columns} columns")
        for value in values:
            if len(value) > limits.cell_chars:
                _too_big(name, f"第 {number} 行有单元格超过 {limits.cell_chars} 个字",
                         f"a cell in row {number} is longer than {limits.cell_chars} characters")
        yield number, values


def _check_zip(raw: bytes, name: str, limits: Limits) -> None:
    """Refuse an .xlsx whose parts unzip to far more than the file (a zip bomb)."""
    try:
        parts = zipfile.ZipFile(io.BytesIO(raw)).infolist()
    except zipfile.BadZipFile as exc:
        raise ImportFileError(CORRUPT_XLSX.format(name=name)) from exc
    unpacked = sum(p.file_size for p in parts)
    if unpacked > limits.unpacked_bytes:
        _too_big(name, f"解压后 {_size(unpacked)}，上限 {_size(limits.unpacked_bytes)}",
                 f"it unpacks to {_size(unpacked)}, the limit is {_size(limits.unpacked_bytes)}")
    for part in parts:
        if part.file_size > 1024 * 1024 and part.file_size > limits.compression_ratio * max(part.compress_size, 1):
            _too_big(name, f"压缩比超过 {limits.compression_ratio} 倍", f"a part is compressed more than "
                     f"{limits.compression_ratio} times")


def _xlsx_records(raw: bytes, name: str, limits: Limits) -> Iterator[tuple[int, list[str]]]:
    import openpyxl  # only imports need it; keeps `jiceng run` start-up light

    _check_zip(raw, name, limits)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about Excel/WPS extensions it does not read (data validation,
            # conditional formats); the cell values are unaffected.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(raw), data_only=True, read_only=True)
    except Exception as exc:  # zip, XML and openpyxl errors alike mean "not a workbook"
        raise ImportFileError(CORRUPT_XLSX.format(name=name)) from exc
    try:
        sheet = book.worksheets[0]
        # Read one column past the limit (to notice a wider sheet) and never the declared
        # dimension, which a file may set to the whole 16,384 × 1,048,576 grid.
        rows = sheet.iter_rows(max_col=limits.columns + 1, values_only=True)
        for number, values in enumerate(rows, start=1):
            if number > limits.rows + 1:
                _too_big(name, f"超过 {limits.rows} 行", f"more than {limits.rows} rows")
            yield number, [_cell_text(v) for v in values]
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError(CORRUPT_XLSX.format(name=name)) from exc
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
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # shown as text by Excel, WPS and LibreOffice, never run
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
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith(_FORMULA_START):
                cell.data_type = "s"  # text, not a formula: openpyxl would store "=…" as one
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    book.save(path)
