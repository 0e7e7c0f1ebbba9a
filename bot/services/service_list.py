"""技术服务清单: the services each team offers (policy point 四), imported by staff from a
spreadsheet and browsed by farmers by field, so a question can go straight to the team
that offers the service.

Channel-neutral: callers pass plain values and get plain values back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import ImportFileError, RowError
from bot.services.directory import NO_DATA_ROWS, ImportReport, _raise_if
from bot.services.tabular import read_table
from intents import taxonomy
from storage.models import ServiceItem, ServiceTeam

HEADERS = ("服务团名称", "服务项目", "领域", "说明")
MAX_TITLE = 200  # service_items.title is String(200)
MAX_DESCRIPTION = 2000

BLANK = "{column}不能为空"
TOO_LONG = "{column}太长（{length} 字，最多 {limit} 字）"
NO_SUCH_TEAM = "服务团「{name}」不存在，请先导入服务团名单（jiceng import teams）"
UNKNOWN_FIELD = "领域无法识别：「{value}」。请填一个领域的代码（如 crop）或中文名称（如 种植栽培）"
DUPLICATE = "服务团「{team}」的服务项目「{title}」与第 {row} 行重复"


@dataclass(frozen=True)
class ListedService:
    """A service item as farmers see it: with the name of the team that offers it."""

    id: int
    team_id: int
    team_name: str
    title: str
    field: str
    description: str


@dataclass(frozen=True)
class _ItemRow:
    row: int
    team_name: str
    title: str
    field: str
    description: str


async def import_services(sessions: async_sessionmaker[AsyncSession], path: str | Path) -> ImportReport:
    """`jiceng import services FILE`: 服务团名称, 服务项目, 领域, 说明; all rows or none. The
    same 服务项目 of the same team again updates its 领域 and 说明; items not in the file stay."""
    _, rows = read_table(path, HEADERS)
    if not rows:
        raise ImportFileError(NO_DATA_ROWS)
    errors: list[RowError] = []
    parsed: list[_ItemRow] = []
    seen: dict[tuple[str, str], int] = {}
    for number, row in rows:
        problems: list[str] = []
        team_name, title, field_text, description = (row[h] for h in HEADERS)
        for column, value in (("服务团名称", team_name), ("服务项目", title)):
            if not value:
                problems.append(BLANK.format(column=column))
        for column, value, limit in (("服务项目", title, MAX_TITLE), ("说明", description, MAX_DESCRIPTION)):
            if len(value) > limit:
                problems.append(TOO_LONG.format(column=column, length=len(value), limit=limit))
        field = taxonomy.resolve_field(field_text) if field_text else None
        if not field_text:
            problems.append(BLANK.format(column="领域"))
        elif field is None:
            problems.append(UNKNOWN_FIELD.format(value=field_text))
        if team_name and title:
            key = (team_name, title)
            if key in seen:
                problems.append(DUPLICATE.format(team=team_name, title=title, row=seen[key]))
            seen.setdefault(key, number)
        errors += [RowError(number, p) for p in problems]
        parsed.append(_ItemRow(number, team_name, title, field or "", description))

    created = updated = 0
    async with sessions.begin() as session:
        teams = {t.name: t for t in await session.scalars(select(ServiceTeam))}
        for entry in parsed:
            if entry.team_name and entry.team_name not in teams:
                errors.append(RowError(entry.row, NO_SUCH_TEAM.format(name=entry.team_name)))
        _raise_if(errors)

        existing = {(i.team_id, i.title): i for i in await session.scalars(select(ServiceItem))}
        for entry in parsed:
            team_id = teams[entry.team_name].id
            item = existing.get((team_id, entry.title))
            if item is None:
                item = existing[(team_id, entry.title)] = ServiceItem(team_id=team_id, title=entry.title)
                session.add(item)
                created += 1
            else:
                updated += 1
            item.field, item.description = entry.field, entry.description
    return ImportReport("services", created, updated)


async def fields_with_items(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, int]]:
    """(field code, number of items) for every field that has items, in taxonomy order."""
    async with sessions() as session:
        counts = dict((await session.execute(
            select(ServiceItem.field, func.count()).group_by(ServiceItem.field)
        )).all())
    order = {code: n for n, code in enumerate(taxonomy.field_codes())}
    return sorted(counts.items(), key=lambda fc: (order.get(fc[0], len(order)), fc[0]))


async def items(sessions: async_sessionmaker[AsyncSession], field: str) -> list[ListedService]:
    """A field's items, in the order staff listed them."""
    async with sessions() as session:
        rows = (await session.execute(
            _listed().where(ServiceItem.field == field).order_by(ServiceItem.id)
        )).all()
    return [_listed_service(item, team_name) for item, team_name in rows]


async def item(sessions: async_sessionmaker[AsyncSession], item_id: int) -> ListedService | None:
    async with sessions() as session:
        row = (await session.execute(_listed().where(ServiceItem.id == item_id))).first()
    return _listed_service(*row) if row else None


def _listed() -> Select[ServiceItem, str]:
    return select(ServiceItem, ServiceTeam.name).join(ServiceTeam, ServiceTeam.id == ServiceItem.team_id)


def _listed_service(item: ServiceItem, team_name: str) -> ListedService:
    return ListedService(item.id, item.team_id, team_name, item.title, item.field, item.description)
