"""Training notices staff write in a file for `jiceng notice send`: a .toml file, or a
.xlsx/.csv sheet of two columns 项目/内容 (one notice per file), read into the same
`NoticeDraft` as composing in chat. Errors are Chinese and name the row or key; nothing is
created unless the whole file is right.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from datetime import date, datetime, time, timezone
from pathlib import Path

from bot.clock import CHINA_TIME
from bot.errors import ImportFileError, RowError
from bot.services.directory import split_values
from bot.services.notices import NoticeDraft
from bot.services.tabular import read_table
from intents import regions, taxonomy

# The rows of a .xlsx/.csv notice, and the .toml key each stands for.
ITEMS = {
    "标题": "title", "内容": "content", "开始时间": "starts_at", "时长": "duration_hours", "地点": "place",
    "领域": "fields", "地区": "regions", "名额": "capacity", "报名截止": "signup_deadline",
}
KEY_NAMES = {key: name for name, key in ITEMS.items()}
SHEET_HEADERS = ("项目", "内容")
NO_LIMIT_WORDS = ("", "不限", "无", "0")

UNSUPPORTED = "不支持「{suffix}」文件。培训通知请写成 .toml，或 .xlsx/.csv（两列：项目、内容）。"
BAD_TOML = "文件「{name}」不是有效的 TOML：{reason}"
UNKNOWN_ITEM = "不认识的项目「{item}」。可用的项目：{known}"
REPEATED_ITEM = "项目「{item}」与第 {row} 行重复"
NO_TITLE = "缺少标题"
BAD_TIME = "{item}「{value}」看不懂，请写成“2026-12-05 09:00”（北京时间）"
NEED_CLOCK_TIME = "{item}「{value}」缺少时刻，请写成“2026-12-05 09:00”"
BAD_HOURS = "时长「{value}」应是不小于 0 的数字（小时），如 2 或 1.5"
BAD_CAPACITY = "名额「{value}」应是正整数，不限名额请留空或写“不限”"
UNKNOWN_FIELDS = "领域无法识别：{values}。可填代码（如 crop）或中文名称（如 种植栽培）"
UNKNOWN_REGIONS = "地区无法识别：{values}。可填湖南的市州、县市区名称（如 长沙市、浏阳市）或“全省”"
DEADLINE_AFTER_START = "报名截止（{deadline}）晚于开始时间（{start}）"


def read_notice_file(path: str | Path) -> NoticeDraft:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".toml":
        values, where, errors = _toml_values(path)
    elif suffix in (".xlsx", ".csv"):
        values, where, errors = _sheet_values(path)
    else:
        raise ImportFileError(UNSUPPORTED.format(suffix=path.suffix or path.name))
    return _draft(values, where, errors)


def _toml_values(path: Path) -> tuple[dict[str, object], dict[str, int], list[RowError]]:
    try:
        data = tomllib.loads(path.read_text("utf-8-sig"))
    except OSError as error:
        raise ImportFileError(f"无法打开文件「{path.name}」：{error.strerror or error}") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ImportFileError(BAD_TOML.format(name=path.name, reason=error)) from error
    known = set(ITEMS.values())
    errors = [RowError(0, UNKNOWN_ITEM.format(item=k, known="、".join(ITEMS.values()))) for k in data
              if k not in known]
    return data, {}, errors


def _sheet_values(path: Path) -> tuple[dict[str, object], dict[str, int], list[RowError]]:
    _, rows = read_table(path, required=SHEET_HEADERS)
    values: dict[str, object] = {}
    where: dict[str, int] = {}
    errors: list[RowError] = []
    for number, row in rows:
        item = _item_key(row["项目"])
        key = ITEMS.get(item)
        if key is None:
            errors.append(RowError(number, UNKNOWN_ITEM.format(item=row["项目"], known="、".join(ITEMS))))
        elif key in where:
            errors.append(RowError(number, REPEATED_ITEM.format(item=row["项目"], row=where[key])))
        else:
            values[key], where[key] = row["内容"], number
    return values, where, errors


def _item_key(label: str) -> str:
    # "时长（小时）", "时长(小时)" and "时长" are one item.
    return re.sub(r"[\s（）()]|小时", "", label)


def _draft(values: dict[str, object], where: dict[str, int], errors: list[RowError]) -> NoticeDraft:

    def fail(key: str, message: str) -> None:
        errors.append(RowError(where.get(key, 0), message))

    def text(key: str) -> str:
        value = values.get(key, "")
        if isinstance(value, list):
            return "、".join(str(v) for v in value)
        return str(value).strip() if value is not None else ""

    draft = NoticeDraft(title=text("title"), content=text("content"), place=text("place"))
    if not draft.title:
        fail("title", NO_TITLE)
    draft.starts_at = _moment(values.get("starts_at"), KEY_NAMES["starts_at"], False, lambda m: fail("starts_at", m))
    draft.signup_deadline = _moment(values.get("signup_deadline"), KEY_NAMES["signup_deadline"], True,
                                    lambda m: fail("signup_deadline", m))
    hours = text("duration_hours")
    if hours:
        try:
            draft.duration_hours = float(hours)
            if draft.duration_hours < 0:
                raise ValueError
        except ValueError:
            fail("duration_hours", BAD_HOURS.format(value=hours))
    capacity = text("capacity")
    if capacity not in NO_LIMIT_WORDS:
        if capacity.isascii() and capacity.isdigit() and int(capacity) > 0:
            draft.capacity = int(capacity)
        else:
            fail("capacity", BAD_CAPACITY.format(value=capacity))
    draft.fields = _codes(_list(values.get("fields")), taxonomy.resolve_field, UNKNOWN_FIELDS,
                          lambda m: fail("fields", m))

    def region_code(value: str) -> str | None:
        region = regions.resolve_region(value)
        return region.code if region else None

    draft.regions = _codes(_list(values.get("regions")), region_code, UNKNOWN_REGIONS, lambda m: fail("regions", m))
    if regions.PROVINCE_CODE in draft.regions:
        draft.regions = []  # the whole province is everyone
    if draft.starts_at and draft.signup_deadline and draft.signup_deadline > draft.starts_at:
        fail("signup_deadline", DEADLINE_AFTER_START.format(deadline=_show(draft.signup_deadline),
                                                            start=_show(draft.starts_at)))
    if errors:
        raise ImportFileError(sorted(errors, key=lambda e: e.row))
    return draft


def _list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return split_values(str(value))


def _codes(values: list[str], resolve: Callable[[str], str | None], message: str,
           fail: Callable[[str], None]) -> list[str]:
    codes: list[str] = []
    unknown: list[str] = []
    for value in values:
        code = resolve(value)
        (codes if code else unknown).append(code or value)
    if unknown:
        fail(message.format(values="、".join(f"「{v}」" for v in unknown)))
    return list(dict.fromkeys(codes))


_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M",
            "%Y-%m-%dT%H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H:%M", "%Y年%m月%d日%H时%M分",
            "%Y年%m月%d日 %H时%M分", "%Y年%m月%d日%H时", "%Y年%m月%d日 %H时", "%Y年%m月%d日%H点", "%Y年%m月%d日 %H点")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日")


def _moment(value: object, item: str, date_means_end_of_day: bool,
            fail: Callable[[str], None]) -> datetime | None:
    """A China-time moment as UTC; a bare date is the end of that day for a deadline."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=CHINA_TIME)
        return local.astimezone(timezone.utc)
    if isinstance(value, date):
        day = value
    else:
        raw = str(value).strip()
        for pattern in _FORMATS:
            try:
                return datetime.strptime(raw, pattern).replace(tzinfo=CHINA_TIME).astimezone(timezone.utc)
            except ValueError:
                continue
        for pattern in _DATE_FORMATS:
            try:
                day = datetime.strptime(raw, pattern).date()
                break
            except ValueError:
                continue
        else:
            fail(BAD_TIME.format(item=item, value=raw))
            return None
    if not date_means_end_of_day:
        fail(NEED_CLOCK_TIME.format(item=item, value=value))
        return None
    return datetime.combine(day, time(23, 59), CHINA_TIME).astimezone(timezone.utc)


def _show(moment: datetime) -> str:
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")
