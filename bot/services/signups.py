"""报名 and 出勤 for training notices, and the trainee learning record (学员学习档案, policy
point 五): seats up to the notice's capacity, then a waiting list that moves up when someone
cancels; a reminder the day before; attendance recorded by staff in chat or by importing the
exported sign-up list; per-person records and the trainees report.

Channel-neutral: plain values in, plain values out; errors are the domain errors of
`bot.errors`. Capacity holds under any number of simultaneous presses because a sign-up
counts the seats and writes its row in one transaction that first locks the notice row:
SQLite serialises writers at BEGIN IMMEDIATE (storage/db.py), PostgreSQL at
`SELECT … FOR UPDATE` (which SQLite ignores).

The reminder is a `ScheduledJob` of kind "training_reminder" (payload: notice, person and
the start time it was made for) written with the seat; `DeadlineService.run_due` sends it
through `reminder_for`, which checks the seat is still held and the time unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import messages
from bot.buttons import CancelSignup
from bot.channels import ID_COLUMN
from bot.errors import Conflict, ImportFileError, JicengError, NotAllowed, NotFound, RowError
from bot.services.calendar import QuietHours
from bot.services.notifier import Action
from bot.services.people import STAFF, person_by_id, sheet_accounts
from bot.services.scope import Scope
from bot.services.tabular import read_table, write_table
from intents import taxonomy
from storage.models import NoticeSignup, Person, ScheduledJob, TrainingNotice, utcnow

CONFIRMED, WAITING, CANCELLED = "confirmed", "waiting", "cancelled"
NOTICE_CANCELLED = "cancelled"  # a TrainingNotice.status that closes sign-up
TRAINING_REMINDER_KIND = "training_reminder"
REMIND_BEFORE = timedelta(hours=24)
PENDING, JOB_CANCELLED = "pending", "cancelled"  # ScheduledJob statuses (as in deadlines)


SIGNUP_HEADERS = ("序号", "姓名", ID_COLUMN, "状态", "出勤")
TRAINEE_HEADERS = ("姓名", ID_COLUMN, "报名次数", "出勤次数", "累计学时", "培训主题")
REPORT_SUFFIXES = (".xlsx", ".csv")
_SIGNUP_WIDTHS = (8, 16, 16, 10, 8)
_TRAINEE_WIDTHS = (16, 16, 10, 10, 10, 40)
_ATTENDED = {"是", "√", "✓", "✔", "1", "出勤", "y", "yes", "true"}
_ABSENT = {"否", "×", "✗", "✘", "x", "0", "缺勤", "n", "no", "false"}


class ReportFileError(JicengError):
    user_message = "无法保存报表。"


# --- Values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeInfo:
    id: int
    title: str
    starts_at: datetime | None
    place: str
    duration_hours: float
    topics: tuple[str, ...]  # Chinese names of the notice's fields

    @classmethod
    def of(cls, notice: TrainingNotice) -> NoticeInfo:
        return cls(notice.id, notice.title, notice.starts_at, notice.place or "", notice.duration_hours or 0.0,
                   topics(notice.fields))


@dataclass(frozen=True)
class SignupResult:
    notice: NoticeInfo
    status: str                # CONFIRMED or WAITING
    position: int | None       # place on the waiting list, from 1
    already: bool = False      # the person had signed up before: nothing changed


@dataclass(frozen=True)
class Promotion:
    person_id: int


@dataclass(frozen=True)
class CancelResult:
    notice: NoticeInfo
    was: str                            # CONFIRMED or WAITING
    promoted: tuple[Promotion, ...] = ()  # moved up from the waiting list: tell them


@dataclass(frozen=True)
class SignupLine:
    person_id: int
    name: str
    account_id: str | None  # the person's id on the channel the sheets carry (ID_COLUMN)
    status: str
    attended: bool | None
    position: int | None = None  # for WAITING


@dataclass(frozen=True)
class RecordEntry:
    notice: NoticeInfo
    status: str
    attended: bool | None
    hours: float  # the notice's duration when attended, else 0


@dataclass(frozen=True)
class LearningRecord:
    """学员学习档案 of one person: every training they signed up for (not cancelled)."""

    name: str
    entries: tuple[RecordEntry, ...]

    @property
    def signed_up(self) -> int:
        return len(self.entries)

    @property
    def attended(self) -> int:
        return sum(1 for e in self.entries if e.attended)

    @property
    def hours(self) -> float:
        return round(sum(e.hours for e in self.entries), 2)

    @property
    def topics(self) -> tuple[str, ...]:
        """What they learned: the topics of the trainings they attended, first seen first."""
        return tuple(dict.fromkeys(t for e in self.entries if e.attended for t in e.notice.topics))


@dataclass(frozen=True)
class TraineeRow:
    name: str
    account_id: str | None
    signed_up: int
    attended: int
    hours: float
    topics: tuple[str, ...]


@dataclass(frozen=True)
class AttendanceReport:
    title: str
    present: int
    absent: int
    unchanged: int

    def summary(self) -> str:
        return messages.ATTENDANCE_IMPORTED.format(title=self.title, present=self.present, absent=self.absent,
                                                   unchanged=self.unchanged)


def topics(field_codes: list[str] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(taxonomy.field_name(code) for code in field_codes or ()))


def format_hours(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def when(moment: datetime | None) -> str:
    return messages.china_time(moment) if moment is not None else messages.RECORD_NO_DATE


# --- The service ---------------------------------------------------------------------------


class SignupService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], datetime] = utcnow, quiet: QuietHours | None = None) -> None:
        self._sessions = sessions
        self._clock = clock
        self._quiet = quiet or QuietHours()

    # ---- 报名 and 取消报名 ----

    async def sign_up(self, notice_id: int, person_id: int) -> SignupResult:
        """A seat if one is free and nobody is waiting, else the end of the waiting list.
        Pressing again changes nothing and says where the person stands."""
        now = self._clock()
        async with self._sessions.begin() as session:
            notice = await _locked_notice(session, notice_id)
            person = await person_by_id(session, person_id)
            existing = await _signup(session, notice.id, person.id)
            if existing is not None and existing.status != CANCELLED:
                position = await _position(session, existing) if existing.status == WAITING else None
                return SignupResult(NoticeInfo.of(notice), existing.status, position, already=True)
            _check_open(notice, now, deadline=True)
            if existing is not None:  # signing up again after cancelling: to the back of the line
                await session.delete(existing)
                await session.flush()
            confirmed = await _count(session, notice.id, CONFIRMED)
            waiting = await _count(session, notice.id, WAITING)
            free = notice.capacity is None or (confirmed < notice.capacity and waiting == 0)
            signup = NoticeSignup(notice_id=notice.id, person_id=person.id, status=CONFIRMED if free else WAITING)
            session.add(signup)
            await session.flush()
            if free:
                await self._schedule_reminder(session, notice, person.id, now)
                return SignupResult(NoticeInfo.of(notice), CONFIRMED, None)
            return SignupResult(NoticeInfo.of(notice), WAITING, await _position(session, signup))

    async def cancel(self, notice_id: int, person_id: int) -> CancelResult:
        """Give up a seat (or a place on the waiting list); freed seats go to the first waiting."""
        now = self._clock()
        async with self._sessions.begin() as session:
            notice = await _locked_notice(session, notice_id)
            person = await person_by_id(session, person_id)
            signup = await _signup(session, notice.id, person.id)
            if signup is None or signup.status == CANCELLED:
                raise NotFound(messages.NOT_SIGNED_UP.format(title=notice.title))
            _check_open(notice, now, deadline=False)
            was = signup.status
            signup.status = CANCELLED
            await session.flush()
            await self._cancel_reminder(session, notice, person.id)
            promoted = await self._fill_seats(session, notice, now) if was == CONFIRMED else ()
            return CancelResult(NoticeInfo.of(notice), was, promoted)

    async def _fill_seats(self, session: AsyncSession, notice: TrainingNotice, now: datetime,
                          ) -> tuple[Promotion, ...]:
        confirmed = await _count(session, notice.id, CONFIRMED)
        free = None if notice.capacity is None else notice.capacity - confirmed
        query = (select(NoticeSignup)
                 .where(NoticeSignup.notice_id == notice.id, NoticeSignup.status == WAITING)
                 .order_by(NoticeSignup.id))
        if free is not None:
            query = query.limit(max(free, 0))
        promoted = []
        for signup in (await session.scalars(query)).all():
            signup.status = CONFIRMED
            await self._schedule_reminder(session, notice, signup.person_id, now)
            promoted.append(Promotion(signup.person_id))
        await session.flush()
        return tuple(promoted)

    async def signups(self, notice_id: int) -> list[SignupLine]:
        """Everyone who signed up: seats first, then the waiting list in order, then cancelled."""
        async with self._sessions() as session:
            await _notice(session, notice_id)
            return await _lines(session, notice_id)

    async def notice(self, notice_id: int) -> NoticeInfo:
        async with self._sessions() as session:
            return NoticeInfo.of(await _notice(session, notice_id))

    # ---- reminders ----

    def _reminder_due(self, notice: TrainingNotice) -> datetime | None:
        if notice.starts_at is None:
            return None
        return self._quiet.hold(notice.starts_at - REMIND_BEFORE)

    async def _schedule_reminder(self, session: AsyncSession, notice: TrainingNotice, person_id: int,
                                 now: datetime) -> None:
        due = self._reminder_due(notice)
        if due is None or due <= now:
            return  # signed up within the last day: the confirmation is the reminder
        assert notice.starts_at is not None  # a reminder is due only for a notice with a start
        for job in await _reminder_jobs(session, due, notice.id, person_id):
            if job.status == PENDING:
                return
        session.add(ScheduledJob(kind=TRAINING_REMINDER_KIND, due_at=due, status=PENDING, payload={
            "notice_id": notice.id, "person_id": person_id, "starts_at": _iso(notice.starts_at)}))

    async def _cancel_reminder(self, session: AsyncSession, notice: TrainingNotice, person_id: int) -> None:
        due = self._reminder_due(notice)
        if due is None:
            return
        for job in await _reminder_jobs(session, due, notice.id, person_id):
            if job.status == PENDING:
                job.status, job.done_at = JOB_CANCELLED, self._clock()

    # ---- 出勤 ----

    async def recent_notices(self, staff_id: int, limit: int = 10) -> list[NoticeInfo]:
        """Notices with sign-ups, the latest start first, for staff to pick one in /attend."""
        async with self._sessions() as session:
            await _require_staff(session, staff_id)
            with_signups = select(NoticeSignup.notice_id).distinct()
            notices = await session.scalars(
                select(TrainingNotice).where(TrainingNotice.id.in_(with_signups))
                .order_by(TrainingNotice.starts_at.desc(), TrainingNotice.id.desc()).limit(limit))
            return [NoticeInfo.of(n) for n in notices]

    async def attendance_sheet(self, notice_id: int, staff_id: int) -> tuple[NoticeInfo, list[SignupLine]]:
        """The notice and everyone holding a seat or waiting, for marking attendance."""
        async with self._sessions() as session:
            await _require_staff(session, staff_id)
            notice = await _notice(session, notice_id)
            lines = [line for line in await _lines(session, notice_id) if line.status != CANCELLED]
            return NoticeInfo.of(notice), lines

    async def record_attendance(self, notice_id: int, person_id: int, attended: bool,
                                staff_id: int) -> SignupLine:
        """Staff mark one person present or absent; setting a value (not toggling) keeps a
        replayed press harmless."""
        async with self._sessions.begin() as session:
            await _require_staff(session, staff_id)
            await _notice(session, notice_id)
            signup = await _signup(session, notice_id, person_id)
            if signup is None:
                raise NotFound(messages.ATTEND_NO_SIGNUP)
            signup.attended = attended
            person = await person_by_id(session, person_id)
            account = (await sheet_accounts(session, (person_id,))).get(person_id)
            return SignupLine(person_id, person.display_name, account, signup.status, attended)

    # ---- the sign-up list out, attendance back in ----

    async def export_signups(self, notice_id: int, path: str | Path) -> tuple[NoticeInfo, int]:
        """序号, 姓名, the account id (ID_COLUMN), 状态, 出勤 (what is recorded, else blank for staff to fill)."""
        path = check_report_path(path)
        async with self._sessions() as session:
            notice = NoticeInfo.of(await _notice(session, notice_id))
            lines = await _lines(session, notice_id)
        cells = [[n, line.name, line.account_id or "",
                  messages.SIGNUP_STATUS_NAMES[line.status], _attendance_cell(line.attended)]
                 for n, line in enumerate(lines, start=1)]
        _write(path, SIGNUP_HEADERS, cells, messages.SIGNUPS_SHEET, _SIGNUP_WIDTHS)
        return notice, len(lines)

    async def import_attendance(self, notice_id: int, path: str | Path) -> AttendanceReport:
        """The 出勤 column of the exported list, all rows or none; rows are matched by
        account id (ID_COLUMN), a blank 出勤 leaves what is recorded."""
        _, rows = read_table(path, (ID_COLUMN, "出勤"))
        async with self._sessions.begin() as session:
            notice = await _notice(session, notice_id)
            found = (await session.scalars(select(NoticeSignup).where(NoticeSignup.notice_id == notice.id))).all()
            accounts = await sheet_accounts(session, (signup.person_id for signup in found))
            by_account = {accounts[s.person_id]: s for s in found if s.person_id in accounts}
            errors: list[RowError] = []
            seen: dict[str, int] = {}
            marks: list[tuple[NoticeSignup, bool]] = []
            unchanged = 0
            for number, row in rows:
                account = _row_account_id(row[ID_COLUMN], number, errors)
                value = _attendance_value(row["出勤"], number, errors)
                if account is None:
                    continue
                if account in seen:
                    errors.append(RowError(number, messages.ATTENDANCE_DUPLICATE.format(
                        value=account, row=seen[account])))
                    continue
                seen[account] = number
                signup = by_account.get(account)
                if signup is None:
                    errors.append(RowError(number, messages.ATTENDANCE_UNKNOWN_ID.format(value=account)))
                elif value is None:
                    unchanged += 1
                else:
                    marks.append((signup, value))
            if errors:
                raise ImportFileError(sorted(errors, key=lambda e: e.row))
            for signup, value in marks:
                signup.attended = value
            present = sum(1 for _, v in marks if v)
            return AttendanceReport(notice.title, present, len(marks) - present, unchanged)

    # ---- 学员学习档案 ----

    async def records(self, person_id: int) -> LearningRecord:
        """The person's trainings (not cancelled), the latest first."""
        async with self._sessions() as session:
            person = await session.get(Person, person_id)
            if person is None:
                return LearningRecord("", ())
            found = (await session.execute(
                select(NoticeSignup, TrainingNotice).join(TrainingNotice, TrainingNotice.id == NoticeSignup.notice_id)
                .where(NoticeSignup.person_id == person.id, NoticeSignup.status != CANCELLED))).all()
        entries = [_entry(signup, notice) for signup, notice in found]
        entries.sort(key=lambda e: (e.notice.starts_at or datetime.max.replace(tzinfo=timezone.utc), e.notice.id),
                     reverse=True)
        return LearningRecord(person.display_name, tuple(entries))

    async def trainees(self, scope: Scope | None = None) -> list[TraineeRow]:
        """One row per person with any training signed up for, in pinyin order of names; within
        `scope`, the people whose own region lies in that 市州 or county."""
        scope = scope or Scope.province()
        async with self._sessions() as session:
            found = (await session.execute(
                select(NoticeSignup, TrainingNotice, Person)
                .join(TrainingNotice, TrainingNotice.id == NoticeSignup.notice_id)
                .join(Person, Person.id == NoticeSignup.person_id)
                .where(NoticeSignup.status != CANCELLED, scope.clause(Person.region_code))
                .order_by(TrainingNotice.starts_at, TrainingNotice.id))).all()
            by_person: dict[int, tuple[Person, list[RecordEntry]]] = {}
            for signup, notice, person in found:
                by_person.setdefault(person.id, (person, []))[1].append(_entry(signup, notice))
            accounts = await sheet_accounts(session, by_person)
        rows = []
        for person, entries in by_person.values():
            record = LearningRecord(person.display_name, tuple(entries))
            rows.append(TraineeRow(person.display_name, accounts.get(person.id), record.signed_up, record.attended,
                                   record.hours, record.topics))
        from pypinyin import lazy_pinyin

        rows.sort(key=lambda r: (lazy_pinyin(r.name), r.account_id or ""))
        return rows

    async def export_trainees(self, path: str | Path, scope: Scope | None = None) -> int:
        path = check_report_path(path)
        rows = await self.trainees(scope)
        cells = [[r.name, r.account_id or "", r.signed_up, r.attended,
                  float(r.hours), "、".join(r.topics)] for r in rows]
        _write(path, TRAINEE_HEADERS, cells, messages.TRAINEES_SHEET, _TRAINEE_WIDTHS)
        return len(rows)


# --- Reminders, as DeadlineService.run_due sends them ---------------------------------------


async def reminder_for(session: AsyncSession, job: ScheduledJob, now: datetime,
                       ) -> tuple[int, str, tuple[tuple[Action, ...], ...]] | None:
    """(person, text, buttons) of a due training reminder, or None when it no longer applies
    (seat given up, notice cancelled or moved, training already begun)."""
    payload = job.payload or {}
    notice = await session.get(TrainingNotice, payload.get("notice_id"))
    person = await session.get(Person, payload.get("person_id"))
    if notice is None or person is None:
        return None
    signup = await _signup(session, notice.id, person.id)
    if (signup is None or signup.status != CONFIRMED or notice.status == NOTICE_CANCELLED
            or notice.starts_at is None or _iso(notice.starts_at) != payload.get("starts_at")
            or notice.starts_at <= now):
        return None
    place = messages.TRAINING_PLACE.format(place=notice.place) if notice.place else ""
    text = messages.TRAINING_REMINDER.format(title=notice.title, when=when(notice.starts_at), place=place)
    actions = ((Action(messages.BTN_SIGNUP_CANCEL, CancelSignup(notice.id).encode()),),)
    return person.id, text, actions


# --- Helpers ---------------------------------------------------------------------------------


async def _notice(session: AsyncSession, notice_id: int) -> TrainingNotice:
    notice = await session.get(TrainingNotice, notice_id)
    if notice is None:
        raise NotFound(messages.NOTICE_GONE)
    return notice


async def _locked_notice(session: AsyncSession, notice_id: int) -> TrainingNotice:
    # The lock every sign-up and cancellation of this notice queues on (PostgreSQL; SQLite
    # already serialises the whole transaction at BEGIN IMMEDIATE).
    notice = await session.scalar(
        select(TrainingNotice).where(TrainingNotice.id == notice_id).with_for_update()
        .execution_options(populate_existing=True))
    if notice is None:
        raise NotFound(messages.NOTICE_GONE)
    return notice


def _check_open(notice: TrainingNotice, now: datetime, *, deadline: bool) -> None:
    if notice.status == NOTICE_CANCELLED:
        raise Conflict(messages.NOTICE_CANCELLED.format(title=notice.title))
    if notice.starts_at is not None and notice.starts_at <= now:
        raise Conflict(messages.TRAINING_STARTED.format(title=notice.title))
    if deadline and notice.signup_deadline is not None and notice.signup_deadline < now:
        raise Conflict(messages.SIGNUP_DEADLINE_PASSED.format(title=notice.title, when=when(notice.signup_deadline)))


async def _signup(session: AsyncSession, notice_id: int, person_id: int) -> NoticeSignup | None:
    return await session.scalar(
        select(NoticeSignup).where(NoticeSignup.notice_id == notice_id, NoticeSignup.person_id == person_id)
        .execution_options(populate_existing=True))


async def _count(session: AsyncSession, notice_id: int, status: str) -> int:
    return await session.scalar(select(func.count()).select_from(NoticeSignup).where(
        NoticeSignup.notice_id == notice_id, NoticeSignup.status == status)) or 0


async def _position(session: AsyncSession, signup: NoticeSignup) -> int:
    return await session.scalar(select(func.count()).select_from(NoticeSignup).where(
        NoticeSignup.notice_id == signup.notice_id, NoticeSignup.status == WAITING, NoticeSignup.id <= signup.id)) or 0


async def _lines(session: AsyncSession, notice_id: int) -> list[SignupLine]:
    found = (await session.execute(
        select(NoticeSignup, Person).join(Person, Person.id == NoticeSignup.person_id)
        .where(NoticeSignup.notice_id == notice_id).order_by(NoticeSignup.id))).all()
    accounts = await sheet_accounts(session, (person.id for _, person in found))
    order = {CONFIRMED: 0, WAITING: 1, CANCELLED: 2}
    found = sorted(found, key=lambda pair: (order.get(pair[0].status, 3), pair[0].id))
    lines, waiting = [], 0
    for signup, person in found:
        position = None
        if signup.status == WAITING:
            waiting += 1
            position = waiting
        lines.append(SignupLine(person.id, person.display_name, accounts.get(person.id), signup.status,
                                signup.attended, position))
    return lines


async def _reminder_jobs(session: AsyncSession, due: datetime, notice_id: int, person_id: int) -> list[ScheduledJob]:
    jobs = await session.scalars(select(ScheduledJob).where(
        ScheduledJob.kind == TRAINING_REMINDER_KIND, ScheduledJob.due_at == due))
    return [job for job in jobs
            if (job.payload or {}).get("notice_id") == notice_id and (job.payload or {}).get("person_id") == person_id]


async def _require_staff(session: AsyncSession, staff_id: int) -> Person:
    person = await session.get(Person, staff_id)
    if person is None or STAFF not in person.role_names:
        raise NotAllowed(messages.ATTEND_STAFF_ONLY)
    return person


def _entry(signup: NoticeSignup, notice: TrainingNotice) -> RecordEntry:
    hours = (notice.duration_hours or 0.0) if signup.attended else 0.0
    return RecordEntry(NoticeInfo.of(notice), signup.status, signup.attended, hours)


def _attendance_cell(attended: bool | None) -> str:
    if attended is None:
        return ""
    return messages.ATTENDANCE_YES if attended else messages.ATTENDANCE_NO


def _attendance_value(text: str, row: int, errors: list[RowError]) -> bool | None:
    value = text.strip().casefold()
    if not value:
        return None
    if value in _ATTENDED:
        return True
    if value in _ABSENT:
        return False
    errors.append(RowError(row, messages.ATTENDANCE_BAD_VALUE.format(value=text)))
    return None


def _row_account_id(text: str, row: int, errors: list[RowError]) -> str | None:
    if not text:
        errors.append(RowError(row, messages.ATTENDANCE_NO_ID))
        return None
    if not text.isascii() or not text.isdigit():
        errors.append(RowError(row, messages.ATTENDANCE_BAD_ID.format(value=text)))
        return None
    return str(int(text))


def check_report_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in REPORT_SUFFIXES:
        raise ReportFileError(messages.REPORT_BAD_SUFFIX.format(suffix=path.suffix or path.name))
    return path


def _write(path: Path, headers: Sequence[str], cells: Iterable[Sequence[object]], title: str,
           widths: Sequence[int]) -> None:
    try:
        write_table(path, headers, cells, sheet_title=title, widths=widths)
    except OSError as exc:
        raise ReportFileError(messages.REPORT_UNWRITABLE.format(name=path, reason=exc.strerror or exc)) from exc


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()
