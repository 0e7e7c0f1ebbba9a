"""The directory of service teams and experts: importing staff's spreadsheets, binding a leader's
or an expert's chat account, and adding staff (invites are in `bot.services.invites`).

Channel-neutral: callers pass plain values (a file path, a person id, an account, a name) and
get plain values back; errors are the domain errors of `bot.errors`. The spreadsheets carry each
leader's and expert's chat account id in one column (`bot.channels.ID_COLUMN`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import ID_COLUMN, SHEET_ACCOUNTS, WEB
from bot.errors import Conflict, ImportFileError, JicengError, NotFound, RowError
from bot.services.people import EXPERT, LEADER, STAFF, Account, ensure_person, grant_role
from bot.services.tabular import read_table
from intents import regions, taxonomy
from storage.models import ChannelAccount, Expert, Person, ServiceTeam, utcnow

log = logging.getLogger(__name__)

LEADER_ID_COLUMN = f"团长{ID_COLUMN}"
TEAM_HEADERS = ("服务团名称", "领域", "服务地区", LEADER_ID_COLUMN)
EXPERT_HEADERS = ("姓名", "职称", "工作单位", "领域", "擅长", "服务地区", "所属服务团", ID_COLUMN, "手机")

# --- What the directory says to people -------------------------------------------------

NO_DATA_ROWS = "文件里只有表头，没有数据行。"
BLANK_REQUIRED = "{column}不能为空"
DUPLICATE_TEAM = "服务团「{name}」与第 {row} 行重复"
DUPLICATE_ACCOUNT_ID = ID_COLUMN + " {value} 与第 {row} 行重复"
DUPLICATE_PHONE = "手机 {value} 与第 {row} 行重复"
DUPLICATE_NAME = "「{expert}」与第 {row} 行重复（没有 " + ID_COLUMN + " 和手机时按姓名+工作单位区分专家）"
SAME_EXPERT_TWICE = "与第 {row} 行对应同一位已导入的专家「{expert}」"
UNKNOWN_FIELDS = "领域无法识别：{values}。可填代码（如 crop）或中文名称（如 种植栽培）"
UNKNOWN_REGIONS = "服务地区无法识别：{values}。可填湖南的市州、县市区名称（如 长沙市、浏阳市）或“全省”"
SEPARATOR_HINT = "；多个值请用顿号（、）、逗号或分号分隔"
SCIENTIFIC = "{column} 被 Excel 变成了科学计数法（{value}），请把该列设为“文本”格式后重新填写"
NOT_AN_ID = "{column}「{value}」应是正整数（" + SHEET_ACCOUNTS.label + " 的数字 ID，不是用户名）"
NOT_A_MOBILE = "手机「{value}」不是有效的大陆手机号（11 位，以 1 开头）"
PHONE_TAKEN = "手机 {phone} 已登记给另一位专家「{expert}」"
NO_SUCH_TEAM_IN_ROW = "所属服务团「{name}」不存在，请先导入服务团名单（jiceng import teams）"

NO_SUCH_TEAM = "没有名为「{name}」的服务团，请检查名称或先导入服务团名单。"
NO_SUCH_EXPERT = "没有找到专家「{name}」，请检查姓名或先导入专家名单。"
LEADER_REPLACED = "工作人员已把「{team}」的团长换成了另一位，您不再担任该服务团团长。如有疑问请联系工作人员。"
EXPERT_MOVED = "工作人员已把专家「{name}」绑定到另一个账号，您这个账号不再以该专家身份接收需求。如有疑问请联系工作人员。"
AMBIGUOUS_EXPERT = "有 {count} 位专家都叫「{name}」：{candidates}。请写成「姓名@工作单位」或专家编号（如 #{example}）。"
ACCOUNT_BOUND_ELSEWHERE = "这个账号已经绑定了专家「{expert}」，不能再绑定「{other}」；如有疑问请联系工作人员。"


class AmbiguousName(JicengError):
    """Several experts share the name given; `.candidates` lists them."""

    def __init__(self, user_message: str, candidates: list[Expert]) -> None:
        super().__init__(user_message)
        self.candidates = candidates


# --- Cells ---------------------------------------------------------------------------

_SEPARATORS = re.compile(r"\s*[、,，;；]\s*")
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d*)?[eE][+-]?\d+")
_PHONE_PUNCTUATION = re.compile(r"[\s\-－‐–—]")
_MAINLAND_MOBILE = re.compile(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋", "0123456789+")
_MAX_BIGINT = 2**63 - 1


def split_values(text: str) -> list[str]:
    """"种植、植保, 土肥；畜牧" -> four values; blanks dropped."""
    return [v for v in _SEPARATORS.split(text.strip()) if v]


def normalize_phone(text: str) -> str | None:
    """The 11 digits of a mainland mobile number written with spaces, hyphens or a +86/86
    prefix (as chat apps send a shared contact); None when it is not one."""
    match = _MAINLAND_MOBILE.fullmatch(_PHONE_PUNCTUATION.sub("", text.translate(_FULL_WIDTH)))
    return match.group(1) if match else None


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _codes(text: str, resolve: Callable[[str], str | None], message: str, problems: list[str]) -> list[str]:
    codes: list[str] = []
    unknown: list[str] = []
    for value in split_values(text):
        code = resolve(value)
        (codes if code else unknown).append(code or value)
    if unknown:
        hint = SEPARATOR_HINT if any(re.search(r"\s", v) for v in unknown) else ""
        problems.append(message.format(values="、".join(f"「{v}」" for v in unknown)) + hint)
    return _unique(codes)


def _field_codes(text: str, problems: list[str]) -> list[str]:
    return _codes(text, taxonomy.resolve_field, UNKNOWN_FIELDS, problems)


def _region_codes(text: str, problems: list[str]) -> list[str]:
    def resolve(value: str) -> str | None:
        region = regions.resolve_region(value)
        return region.code if region else None

    return _codes(text, resolve, UNKNOWN_REGIONS, problems)


def _account_id(text: str, column: str, problems: list[str]) -> str | None:
    if not text:
        return None
    if _SCIENTIFIC.fullmatch(text):
        problems.append(SCIENTIFIC.format(column=column, value=text))
        return None
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= _MAX_BIGINT:
        problems.append(NOT_AN_ID.format(column=column, value=text))
        return None
    return str(int(text))


def _phone(text: str, problems: list[str]) -> str | None:
    if not text:
        return None
    if _SCIENTIFIC.fullmatch(text):
        problems.append(SCIENTIFIC.format(column="手机", value=text))
        return None
    phone = normalize_phone(text)
    if phone is None:
        problems.append(NOT_A_MOBILE.format(value=text))
    return phone


def _required(row: dict[str, str], column: str, problems: list[str]) -> str:
    if not row[column]:
        problems.append(BLANK_REQUIRED.format(column=column))
    return row[column]


CONSENT_COLUMN, TERM_START, TERM_END = "本人单位同意", "聘期开始", "聘期结束"  # optional columns
YES, NO = ("是", "同意", "已同意", "有", "y", "yes", "1"), ("否", "不同意", "未同意", "无", "n", "no", "0")
BELOW_ASSOCIATE = "职称「{title}」低于副高级，请审核"
NO_CONSENT = "没有登记本人单位同意"
BAD_CONSENT = "本人单位同意应填“是”或“否”：{value}"
BAD_DATE = "{column}「{value}」不是日期（如 2026-01-01）"
TERM_BACKWARDS = "聘期结束早于聘期开始"


ROLE_COLUMN = "团内角色"
ROLES_IN_TEAM = {"核心专家": "core", "核心": "core", "成员": "member", "团员": "member"}
BAD_ROLE = "团内角色应填“核心专家”或“成员”：{value}"


def _team_role(text: str, problems: list[str]) -> str | None:
    value = text.strip()
    if not value:
        return None
    if value not in ROLES_IN_TEAM:
        problems.append(BAD_ROLE.format(value=text))
        return None
    return ROLES_IN_TEAM[value]


def _consent(text: str, problems: list[str]) -> bool | None:
    value = text.strip().lower()
    if not value:
        return None
    if value in YES:
        return True
    if value in NO:
        return False
    problems.append(BAD_CONSENT.format(value=text))
    return None


def _date_cell(text: str, column: str, problems: list[str]) -> date | None:
    value = text.strip().split(" ")[0].replace("/", "-").replace(".", "-")
    if not value:
        return None
    try:
        year, month, day = (int(part) for part in value.split("-"))
        return date(year, month, day)
    except ValueError:
        problems.append(BAD_DATE.format(column=column, value=text))
        return None


def expert_flags(title: str, consent: bool | None) -> list[str]:
    from bot.services.titles import below_associate

    flags = [BELOW_ASSOCIATE.format(title=title or "（未填）")] if below_associate(title) else []
    if consent is not True:
        flags.append(NO_CONSENT)
    return flags


def labelled(expert_name: str, employer: str) -> str:
    return f"{expert_name}（{employer}）" if employer else expert_name


# --- Import ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    kind: str  # "teams" | "experts" | "knowledge" | "services" | "achievements"
    created: int
    updated: int
    flags: tuple[RowError, ...] = ()  # imported, but for staff to review (a title below 副高, no consent)

    def summary(self) -> str:
        noun, unit = _REPORT_NOUNS[self.kind]
        return f"{noun}：新增 {self.created} {unit}，更新 {self.updated} {unit}"


_REPORT_NOUNS = {"teams": ("服务团", "个"), "experts": ("专家", "位"), "knowledge": ("已解答问题", "条"),
                 "services": ("服务项目", "项"), "achievements": ("技术成果", "项")}


@dataclass(frozen=True)
class _TeamRow:
    row: int
    name: str
    fields: list[str]
    regions: list[str]
    leader_account: str | None
    term_start: date | None = None
    term_end: date | None = None


@dataclass(frozen=True)
class _ExpertRow:
    row: int
    name: str
    title: str
    employer: str
    fields: list[str]
    specialties: str
    regions: list[str]
    team_name: str
    account: str | None
    phone: str | None
    consent: bool | None = None
    term_start: date | None = None
    term_end: date | None = None
    team_role: str | None = None

    @property
    def label(self) -> str:
        return labelled(self.name, self.employer)

    @property
    def keyless(self) -> bool:
        return self.account is None and self.phone is None


def _raise_if(errors: list[RowError]) -> None:
    if errors:
        raise ImportFileError(sorted(errors, key=lambda e: e.row))


async def import_teams(sessions: async_sessionmaker[AsyncSession], path: str | Path, *,
                       dry_run: bool = False) -> ImportReport:
    """`jiceng import teams FILE`: all rows or none. A team is matched by 服务团名称; a blank
    团长<ID_COLUMN> keeps the leader the team already has (e.g. one who joined by invite)."""
    _, rows = read_table(path, TEAM_HEADERS)
    if not rows:
        raise ImportFileError(NO_DATA_ROWS)
    errors: list[RowError] = []
    parsed: list[_TeamRow] = []
    first_row: dict[str, int] = {}
    for number, row in rows:
        problems: list[str] = []
        name = _required(row, "服务团名称", problems)
        if name in first_row:
            problems.append(DUPLICATE_TEAM.format(name=name, row=first_row[name]))
        elif name:
            first_row[name] = number
        _required(row, "领域", problems)
        entry = _TeamRow(
            number, name, _field_codes(row["领域"], problems), _region_codes(row["服务地区"], problems),
            _account_id(row[LEADER_ID_COLUMN], LEADER_ID_COLUMN, problems),
            _date_cell(row.get(TERM_START, ""), TERM_START, problems), _date_cell(row.get(TERM_END, ""), TERM_END, problems),
        )
        errors += [RowError(number, p) for p in problems]
        parsed.append(entry)
    _raise_if(errors)

    created = updated = 0
    try:
        async with sessions.begin() as session:
            existing = {t.name: t for t in await session.scalars(select(ServiceTeam))}
            for entry in parsed:
                team = existing.get(entry.name)
                if team is None:
                    team = ServiceTeam(name=entry.name)
                    session.add(team)
                    created += 1
                else:
                    updated += 1
                team.fields, team.regions = entry.fields, entry.regions
                if entry.term_start is not None or entry.term_end is not None:
                    team.term_start, team.term_end = entry.term_start, entry.term_end
                if entry.leader_account is not None:
                    await session.flush()
                    leader = await ensure_person(session, _sheet_account(entry.leader_account))
                    if (replaced := await set_leader(session, team, leader)) is not None:
                        await tell_replaced(sessions, session, replaced, LEADER_REPLACED.format(team=team.name))
            if dry_run:  # a preview: every check and match made, nothing kept
                raise _Preview(ImportReport("teams", created, updated))
    except _Preview as preview:
        return preview.report
    return ImportReport("teams", created, updated)


async def import_experts(sessions: async_sessionmaker[AsyncSession], path: str | Path, *,
                         dry_run: bool = False) -> ImportReport:
    """`jiceng import experts FILE`: all rows or none.

    An expert is matched by account id (ID_COLUMN); failing that by 手机, then by 姓名+工作单位,
    each fallback only to an expert whose account/手机 do not contradict the row. Blank
    account id and 手机 keep what the expert already has (they may have joined in chat).
    """
    _, rows = read_table(path, EXPERT_HEADERS)
    if not rows:
        raise ImportFileError(NO_DATA_ROWS)
    errors: list[RowError] = []
    parsed: list[_ExpertRow] = []
    by_account: dict[str, int] = {}
    by_phone: dict[str, int] = {}
    by_label: dict[tuple[str, str], list[_ExpertRow]] = {}
    for number, row in rows:
        problems: list[str] = []
        _required(row, "姓名", problems)
        _required(row, "领域", problems)
        entry = _ExpertRow(
            number, row["姓名"], row["职称"], row["工作单位"], _field_codes(row["领域"], problems),
            row["擅长"], _region_codes(row["服务地区"], problems), row["所属服务团"],
            _account_id(row[ID_COLUMN], ID_COLUMN, problems), _phone(row["手机"], problems),
            _consent(row.get(CONSENT_COLUMN, ""), problems), _date_cell(row.get(TERM_START, ""), TERM_START, problems),
            _date_cell(row.get(TERM_END, ""), TERM_END, problems), _team_role(row.get(ROLE_COLUMN, ""), problems),
        )
        if entry.account is not None:
            if entry.account in by_account:
                problems.append(DUPLICATE_ACCOUNT_ID.format(value=entry.account, row=by_account[entry.account]))
            by_account.setdefault(entry.account, number)
        if entry.phone is not None:
            if entry.phone in by_phone:
                problems.append(DUPLICATE_PHONE.format(value=entry.phone, row=by_phone[entry.phone]))
            by_phone.setdefault(entry.phone, number)
        if entry.name:
            by_label.setdefault((entry.name, entry.employer), []).append(entry)
        errors += [RowError(number, p) for p in problems]
        parsed.append(entry)
    for namesakes in by_label.values():
        # A row with neither account id nor 手机 is known only by 姓名+工作单位, so it must be
        # the only row with them (an earlier keyless row or any keyed row takes precedence).
        for entry in namesakes:
            if entry.keyless:
                rivals = [n for n in namesakes if n is not entry and (n.row < entry.row or not n.keyless)]
                if rivals:
                    errors.append(RowError(entry.row, DUPLICATE_NAME.format(expert=entry.label, row=rivals[0].row)))
    for entry in parsed:
        if entry.term_start and entry.term_end and entry.term_end < entry.term_start:
            errors.append(RowError(entry.row, TERM_BACKWARDS))
    flags = tuple(RowError(entry.row, f"{entry.label}：{flag}") for entry in parsed
                  for flag in expert_flags(entry.title, entry.consent))
    malformed = {e.row for e in errors}

    created = updated = 0
    try:
        async with sessions.begin() as session:
            teams = {t.name: t for t in await session.scalars(select(ServiceTeam))}
            on_file = _Directory(list(await session.scalars(select(Expert).order_by(Expert.id))),
                                 await _expert_accounts(session))
            matches: dict[int, Expert | None] = {}
            claimed: dict[int, int] = {}
            for entry in parsed:
                if entry.team_name and entry.team_name not in teams:
                    errors.append(RowError(entry.row, NO_SUCH_TEAM_IN_ROW.format(name=entry.team_name)))
                if entry.row in malformed:
                    continue  # its keys are unreliable; matching it would only add noise
                match = matches[entry.row] = on_file.match(entry)
                if match is not None:
                    if match.id in claimed:
                        errors.append(RowError(entry.row, SAME_EXPERT_TWICE.format(
                            row=claimed[match.id], expert=labelled(match.name, match.employer))))
                    claimed.setdefault(match.id, entry.row)
                owner = on_file.phone_owner(entry.phone)
                if owner is not None and owner is not match:
                    errors.append(RowError(entry.row, PHONE_TAKEN.format(
                        phone=entry.phone, expert=labelled(owner.name, owner.employer))))
            _raise_if(errors)

            for entry in parsed:
                expert = matches[entry.row]
                if expert is None:
                    expert = Expert()
                    session.add(expert)
                    created += 1
                else:
                    updated += 1
                expert.name, expert.title, expert.employer = entry.name, entry.title, entry.employer
                expert.fields, expert.specialties, expert.regions = entry.fields, entry.specialties, entry.regions
                expert.team_id = teams[entry.team_name].id if entry.team_name else None
                if entry.phone is not None:
                    expert.phone = entry.phone
                if entry.consent is not None:
                    expert.employer_consent = entry.consent
                if entry.team_role is not None:
                    expert.team_role = entry.team_role
                if entry.term_start is not None or entry.term_end is not None:
                    expert.term_start, expert.term_end = entry.term_start, entry.term_end
                if entry.account is not None:
                    await session.flush()
                    person = await ensure_person(session, _sheet_account(entry.account))
                    if (replaced := await bind_expert(session, expert, person)) is not None:
                        await tell_replaced(sessions, session, replaced, EXPERT_MOVED.format(name=expert.name))
            if dry_run:  # a preview: every check and match made, nothing kept
                raise _Preview(ImportReport("experts", created, updated, flags))
    except _Preview as preview:
        return preview.report
    return ImportReport("experts", created, updated, flags)


class _Preview(Exception):
    """Rolls a dry run's transaction back, carrying what it would have done."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__()
        self.report = report


class _Directory:
    """The experts already imported, indexed by each matching key."""

    def __init__(self, experts: list[Expert], accounts: dict[int, str]) -> None:
        self._account = {e.id: accounts.get(e.person_id) if e.person_id is not None else None for e in experts}
        self._by_account = {account: e for e in experts if (account := self._account[e.id]) is not None}
        self._by_phone = {e.phone: e for e in experts if e.phone}
        self._by_label: dict[tuple[str, str], list[Expert]] = {}
        for e in experts:
            self._by_label.setdefault((e.name, e.employer), []).append(e)

    def match(self, row: _ExpertRow) -> Expert | None:
        def fits(e: Expert) -> bool:
            return (row.account is None or self._account[e.id] in (None, row.account)) and (
                row.phone is None or e.phone in (None, row.phone)
            )

        if row.account is not None and row.account in self._by_account:
            return self._by_account[row.account]
        if row.phone is not None and (e := self._by_phone.get(row.phone)) is not None and fits(e):
            return e
        return next((e for e in self._by_label.get((row.name, row.employer), ()) if fits(e)), None)

    def phone_owner(self, phone: str | None) -> Expert | None:
        return self._by_phone.get(phone) if phone else None


# --- Bindings --------------------------------------------------------------------------


async def set_leader(session: AsyncSession, team: ServiceTeam, person: Person) -> int | None:
    """Make the person the team's leader; gives the leader they replaced, if any."""
    previous = team.leader_id
    grant_role(person, LEADER)
    team.leader_id = person.id
    if previous is None or previous == person.id:
        return None
    still_leads = await session.scalar(
        select(ServiceTeam.id).where(ServiceTeam.leader_id == previous, ServiceTeam.id != team.id).limit(1)
    )
    if still_leads is None:
        await _drop_role(session, previous, LEADER)
    return previous


async def bind_expert(session: AsyncSession, expert: Expert, person: Person) -> int | None:
    """Bind an expert to a person; a person is at most one expert (experts.person_id is unique).
    Gives the person the expert was bound to before, if another."""
    other = await session.scalar(select(Expert).where(Expert.person_id == person.id, Expert.id != expert.id))
    if other is not None:
        raise Conflict(ACCOUNT_BOUND_ELSEWHERE.format(expert=other.name, other=expert.name))
    previous = expert.person_id
    grant_role(person, EXPERT)
    expert.person_id = person.id
    if expert.name:
        person.display_name = expert.name  # the directory's name, not the channel's nickname
    if previous is None or previous == person.id:
        return None
    await _drop_role(session, previous, EXPERT)
    return previous


async def tell_replaced(sessions: async_sessionmaker[AsyncSession], session: AsyncSession, person_id: int,
                        text: str) -> None:
    """The leader or expert account that staff replaced hears it (through the outbox, so a running
    bot delivers it even when the change came from the command line)."""
    from bot.services.outbox import ACTION, Outbox, Outgoing

    await Outbox(sessions, utcnow).put(session, person_id, Outgoing(text), ACTION)


async def _drop_role(session: AsyncSession, person_id: int, role: str) -> None:
    person = await session.get(Person, person_id)
    if person is not None:
        person.roles = [r for r in person.roles if r.role != role]


# --- Finding an expert by what staff type ------------------------------------------------


async def find_expert(session: AsyncSession, target: str) -> Expert:
    """An expert by "姓名", "姓名@工作单位" or "#编号"; AmbiguousName when a name is shared."""
    target = target.strip().replace("＠", "@").replace("＃", "#")
    if match := re.fullmatch(r"#\s*(\d+)", target):
        expert = await session.get(Expert, int(match.group(1)))
        if expert is None:
            raise NotFound(NO_SUCH_EXPERT.format(name=target))
        return expert
    name, _, employer = (part.strip() for part in target.partition("@"))
    query = select(Expert).where(Expert.name == name).order_by(Expert.id)
    if "@" in target:
        query = query.where(Expert.employer == employer)
    found = list(await session.scalars(query))
    if not found:
        raise NotFound(NO_SUCH_EXPERT.format(name=target))
    if len(found) > 1:
        candidates = "、".join(f"#{e.id} {labelled(e.name, e.employer)}" for e in found)
        raise AmbiguousName(
            AMBIGUOUS_EXPERT.format(count=len(found), name=target, candidates=candidates, example=found[0].id),
            found,
        )
    return found[0]


async def add_staff(sessions: async_sessionmaker[AsyncSession], account: Account, name: str | None = None, *,
                    region: str | None = None, phone: str | None = None) -> Person:
    """`jiceng staff add`: give a chat account's person the staff role (and a name, if given), over
    an area (a city's or county's code; None: the whole province)."""
    async with sessions.begin() as session:
        person = await ensure_person(session, account, name or "")
        if name:
            person.display_name = name
        grant_role(person, STAFF)
        person.staff_region = region if region != "430000" else None
        if phone is not None:  # their number signs them in on the web (web chat and console)
            number = normalize_phone(phone)
            if number is None:
                raise Conflict(NOT_A_MOBILE.format(value=phone))
            await session.flush()
            taken = await session.scalar(select(ChannelAccount).where(ChannelAccount.channel == WEB.name,
                                                                      ChannelAccount.external_id == number))
            if taken is None:
                session.add(ChannelAccount(channel=WEB.name, external_id=number, person_id=person.id))
            elif taken.person_id != person.id:
                raise Conflict(f"手机 {number} 已经是另一个人的登录手机号。")
    return person


def _sheet_account(external_id: str) -> Account:
    return Account(SHEET_ACCOUNTS.name, external_id)


async def _expert_accounts(session: AsyncSession) -> dict[int, str]:
    """person id → account id on the sheets' channel, for every bound expert."""
    rows = await session.execute(
        select(ChannelAccount.person_id, ChannelAccount.external_id)
        .join(Expert, Expert.person_id == ChannelAccount.person_id)
        .where(ChannelAccount.channel == SHEET_ACCOUNTS.name).order_by(ChannelAccount.id))
    return {person_id: external_id for person_id, external_id in rows}


# --- What staff see of the directory --------------------------------------------------------


@dataclass(frozen=True)
class TeamLine:
    id: int
    name: str
    fields: list[str]
    regions: list[str]
    leader: str | None
    experts: int


@dataclass(frozen=True)
class ExpertLine:
    id: int
    name: str
    title: str
    employer: str
    fields: list[str]
    specialties: str
    team: str | None
    joined: bool         # bound to a person (can be reached in chat)
    phone: str | None
    review: tuple[str, ...] = ()  # why staff should look (a title below 副高, no employer consent)
    term_end: date | None = None


async def team_lines(sessions: async_sessionmaker[AsyncSession]) -> list[TeamLine]:
    async with sessions() as session:
        teams = (await session.scalars(select(ServiceTeam).order_by(ServiceTeam.name))).all()
        counts = dict((await session.execute(select(Expert.team_id, func.count()).group_by(Expert.team_id))).all())
        leaders = {p.id: p.display_name for p in (await session.scalars(select(Person).where(
            Person.id.in_([t.leader_id for t in teams if t.leader_id is not None])))).all()}
    return [TeamLine(t.id, t.name, list(t.fields or []), list(t.regions or []), leaders.get(t.leader_id or 0),
                     counts.get(t.id, 0)) for t in teams]


async def expert_lines(sessions: async_sessionmaker[AsyncSession]) -> list[ExpertLine]:
    async with sessions() as session:
        rows = (await session.execute(select(Expert, ServiceTeam.name).outerjoin(
            ServiceTeam, ServiceTeam.id == Expert.team_id).order_by(Expert.name))).all()
    return [ExpertLine(e.id, e.name, e.title or "", e.employer or "", list(e.fields or []), e.specialties or "",
                       team, e.person_id is not None, e.phone, tuple(expert_flags(e.title or "", e.employer_consent)),
                       e.term_end) for e, team in rows]


@dataclass(frozen=True)
class ExpertEdit:
    """What staff change of one expert in the console; texts as in the spreadsheet's cells."""

    name: str
    title: str
    employer: str
    fields: str
    specialties: str
    regions: str
    team: str      # the team's name; "" for none
    phone: str     # "" keeps no number


async def expert_edit(sessions: async_sessionmaker[AsyncSession], expert_id: int) -> ExpertEdit:
    async with sessions() as session:
        expert = await session.get(Expert, expert_id)
        if expert is None:
            raise NotFound(NO_SUCH_EXPERT.format(name=f"#{expert_id}"))
        team = await session.get(ServiceTeam, expert.team_id) if expert.team_id else None
    return ExpertEdit(expert.name, expert.title or "", expert.employer or "",
                      "、".join(taxonomy.field_name(f) for f in expert.fields or []), expert.specialties or "",
                      "、".join(regions.full_name(r) for r in expert.regions or []), team.name if team else "",
                      expert.phone or "")


async def update_expert(sessions: async_sessionmaker[AsyncSession], expert_id: int, edit: ExpertEdit) -> None:
    """The same checks as a spreadsheet row; ImportFileError names every problem, nothing changes."""
    problems: list[str] = []
    name = edit.name.strip()
    if not name:
        problems.append(BLANK_REQUIRED.format(column="姓名"))
    fields = _field_codes(edit.fields.strip(), problems)
    places = _region_codes(edit.regions.strip(), problems)
    phone = _phone(edit.phone.strip(), problems)
    async with sessions.begin() as session:
        expert = await session.get(Expert, expert_id)
        if expert is None:
            raise NotFound(NO_SUCH_EXPERT.format(name=f"#{expert_id}"))
        team = None
        if edit.team.strip():
            team = await session.scalar(select(ServiceTeam).where(ServiceTeam.name == edit.team.strip()))
            if team is None:
                problems.append(NO_SUCH_TEAM_IN_ROW.format(name=edit.team.strip()))
        if phone is not None:
            owner = await session.scalar(select(Expert).where(Expert.phone == phone, Expert.id != expert_id))
            if owner is not None:
                problems.append(PHONE_TAKEN.format(phone=phone, expert=labelled(owner.name, owner.employer)))
        if problems:
            raise ImportFileError([RowError(0, problem) for problem in problems])
        expert.name, expert.title, expert.employer = name, edit.title.strip(), edit.employer.strip()
        expert.fields, expert.specialties, expert.regions = fields, edit.specialties.strip(), places
        expert.team_id, expert.phone = (team.id if team else None), phone
