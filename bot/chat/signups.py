"""报名 in chat: the 报名 button of a training notice, 取消报名, /records for the trainee's
learning record, and /attend for staff to mark attendance with buttons."""

from __future__ import annotations

from bot import messages
from bot.buttons import Attendance, CancelSignup, SignUp
from bot.chat.commands import command
from bot.chat.presses import on
from bot.chat.turn import Choice, Choices, Turn, rows
from bot.services.signups import (
    CONFIRMED,
    WAITING,
    LearningRecord,
    NoticeInfo,
    SignupLine,
    SignupService,
    format_hours,
    when,
)

MAX_SHEET_BUTTONS = 90  # chat apps allow about 100 buttons on one message


def cancel_keyboard(notice_id: int) -> Choices:
    return [[Choice(messages.BTN_SIGNUP_CANCEL, CancelSignup(notice_id))]]


def _service(turn: Turn) -> SignupService:
    return turn.services.signups


@on(SignUp)
async def signup_pressed(turn: Turn, button: SignUp) -> None:
    notice_id = button.notice_id
    result = await _service(turn).sign_up(notice_id, turn.person_id)
    notice = result.notice
    if result.status == CONFIRMED:
        text = (messages.ALREADY_SIGNED_UP.format(title=notice.title) if result.already
                else messages.SIGNED_UP.format(title=notice.title, when=when(notice.starts_at)))
    else:
        template = messages.ALREADY_WAITING if result.already else messages.SIGNED_UP_WAITING
        text = template.format(title=notice.title, position=result.position)
    await turn.answer(text[:190])
    await turn.say(text, cancel_keyboard(notice_id))


@on(CancelSignup)
async def cancel_pressed(turn: Turn, button: CancelSignup) -> None:
    notice_id = button.notice_id
    result = await _service(turn).cancel(notice_id, turn.person_id)
    template = messages.SIGNUP_CANCELLED if result.was == CONFIRMED else messages.WAITING_CANCELLED
    await turn.answer()
    await turn.edit(template.format(title=result.notice.title))
    for promoted in result.promoted:
        await turn.notify(promoted.person_id,
                     messages.PROMOTED.format(title=result.notice.title, when=when(result.notice.starts_at)),
                     cancel_keyboard(notice_id))


def records_text(record: LearningRecord) -> str:
    if not record.entries:
        return messages.RECORDS_EMPTY
    lines = [messages.RECORDS_HEADER.format(name=record.name or "", signed=record.signed_up,
                                            attended=record.attended, hours=format_hours(record.hours))]
    if record.topics:
        lines.append(messages.RECORDS_TOPICS.format(topics="、".join(record.topics)))
    for n, entry in enumerate(record.entries, start=1):
        if entry.attended:
            state = messages.RECORD_STATE_ATTENDED
        elif entry.attended is False:
            state = messages.RECORD_STATE_ABSENT
        else:
            state = messages.RECORD_STATE_CONFIRMED if entry.status == CONFIRMED else messages.RECORD_STATE_WAITING
        hours = messages.RECORDS_ITEM_HOURS.format(hours=format_hours(entry.hours)) if entry.attended else ""
        line = messages.RECORDS_ITEM.format(n=n, title=entry.notice.title, when=when(entry.notice.starts_at),
                                            state=state, hours=hours)
        if entry.notice.topics:
            line += messages.RECORDS_ITEM_TOPICS.format(topics="、".join(entry.notice.topics))
        lines.append(line)
    return "\n".join(lines)


@command("records")
async def records_command(turn: Turn) -> None:
    record = await _service(turn).records(turn.person_id)
    await turn.say(records_text(record))


@command("attend")
async def attend_command(turn: Turn) -> None:
    notices = await _service(turn).recent_notices(turn.person_id)
    if not notices:
        await turn.say(messages.ATTEND_NO_NOTICES)
        return
    buttons = [Choice(messages.BTN_ATTEND_NOTICE.format(title=messages.short(n.title, 30), when=when(n.starts_at)),
                   Attendance(n.id)) for n in notices]
    await turn.say(messages.ATTEND_PICK_NOTICE,
               rows(buttons, 1))


def attendance_sheet(notice: NoticeInfo, lines: list[SignupLine]) -> tuple[str, Choices]:
    if not lines:
        return messages.ATTEND_EMPTY.format(title=notice.title), []
    present = sum(1 for line in lines if line.attended)
    text = messages.ATTEND_SHEET.format(title=notice.title, when=when(notice.starts_at), present=present,
                                        total=len(lines))
    buttons = []
    for line in lines[:MAX_SHEET_BUTTONS]:
        name = (line.name or str(line.person_id)) + (messages.BTN_WAITING_MARK if line.status == WAITING else "")
        label = (messages.BTN_ATTENDED if line.attended else messages.BTN_NOT_ATTENDED).format(name=name)
        # The press sets the opposite of what the button shows, so a replayed press changes nothing twice.
        buttons.append(Choice(label, Attendance(notice.id, line.person_id, not line.attended)))
    return text, rows(buttons, 2)


@on(Attendance)
async def attend_pressed(turn: Turn, button: Attendance) -> None:
    """A notice's sheet (no person), or one person marked present or absent on it."""
    staff = turn.person_id
    service = _service(turn)
    notice_id = button.notice_id
    answer = None
    if button.person_id:
        line = await service.record_attendance(notice_id, button.person_id, button.attended, staff)
        state = messages.ATTEND_PRESENT if line.attended else messages.ATTEND_ABSENT
        answer = messages.ATTEND_SAVED.format(name=line.name, state=state)
    notice, lines = await service.attendance_sheet(notice_id, staff)
    await turn.answer(answer)
    text, markup = attendance_sheet(notice, lines)
    await turn.edit(text, markup)
