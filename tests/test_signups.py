"""报名 and 出勤 for training notices and the 学员学习档案: seats under simultaneous presses,
the waiting list, deadlines, the day-before reminder, /attend and /records through the real
bot, the sign-up list out and attendance back in, and the trainees report."""

from __future__ import annotations

import asyncio
import csv
from datetime import datetime

import openpyxl
import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.clock import CHINA_TIME
from bot.errors import Conflict, ImportFileError, NotAllowed
from bot.services.calendar import WorkCalendar
from bot.services.deadlines import DeadlinePolicy, DeadlineService
from bot.services.notifier import Action
from bot.services.outbox import BULK, Outgoing
from bot.services.people import ensure_person
from bot.services.signups import CONFIRMED, TRAINING_REMINDER_KIND, WAITING, SignupService
from bot.telegram.common import account_of
from storage.models import NoticeSignup, ScheduledJob, TrainingNotice
from tests.factories import make_staff
from tests.factories import person_id as person_for
from tests.telegram_world import running_bot

STAFF = 4001
ZHANG, LI, WANG = 5001, 5002, 5003


def cn(y, mo, d, h=0, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=CHINA_TIME)


async def make_notice(sessions, title="水稻病虫害绿色防控培训", *, capacity=None, starts_at=cn(2026, 12, 2, 9),
                      deadline=cn(2026, 12, 1, 18), hours=3.0, fields=("plant_protection", "crop"),
                      status="sent") -> int:
    async with sessions.begin() as session:
        notice = TrainingNotice(title=title, content="", starts_at=starts_at, duration_hours=hours, place="浏阳市农技站",
                                fields=list(fields), regions=[], capacity=capacity, signup_deadline=deadline,
                                status=status)
        session.add(notice)
    return notice.id


async def name(sessions, telegram_id: int, display_name: str) -> None:
    async with sessions.begin() as session:
        await ensure_person(session, account_of(telegram_id), display_name)


class Recorder:
    """An outbox double: remembers what was put in it."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, list[list[Action]]]] = []

    async def put(self, session, address, message, priority, **row) -> None:
        self.sent.append((int(address), message.text, [list(r) for r in message.actions]))

    def wake(self) -> None:
        pass


@pytest.fixture
def signups(sessions, clock) -> SignupService:
    return SignupService(sessions, clock)


# --- seats and the waiting list ---------------------------------------------------------------


async def test_twenty_simultaneous_signups_fill_five_seats_and_queue_the_rest(sessions, signups):
    notice_id = await make_notice(sessions, capacity=5)
    trainees = [await person_for(sessions, 6000 + n, f"学员{n}") for n in range(20)]
    results = await asyncio.gather(*(signups.sign_up(notice_id, trainee) for trainee in trainees))
    assert sum(r.status == CONFIRMED for r in results) == 5
    waiting = [r for r in results if r.status == WAITING]
    assert len(waiting) == 15
    assert sorted(r.position for r in waiting) == list(range(1, 16))
    async with sessions() as session:
        confirmed = await session.scalar(select(func.count()).select_from(NoticeSignup).where(
            NoticeSignup.status == CONFIRMED))
    assert confirmed == 5
    lines = await signups.signups(notice_id)
    assert [line.position for line in lines if line.status == WAITING] == list(range(1, 16))


async def test_pressing_again_at_once_keeps_one_seat(sessions, signups):
    notice_id = await make_notice(sessions, capacity=1)
    zhang = await person_for(sessions, ZHANG)
    results = await asyncio.gather(*(signups.sign_up(notice_id, zhang) for _ in range(5)))
    assert all(r.status == CONFIRMED for r in results)
    assert sum(not r.already for r in results) == 1
    assert len(await signups.signups(notice_id)) == 1


async def test_cancelling_a_seat_promotes_the_first_waiting(sessions, signups):
    notice_id = await make_notice(sessions, capacity=1)
    assert (await signups.sign_up(notice_id, await person_for(sessions, ZHANG, "张三"))).status == CONFIRMED
    assert (await signups.sign_up(notice_id, await person_for(sessions, LI, "李四"))).position == 1
    assert (await signups.sign_up(notice_id, await person_for(sessions, WANG, "王五"))).position == 2
    result = await signups.cancel(notice_id, await person_for(sessions, ZHANG))
    assert result.was == CONFIRMED
    assert [p.person_id for p in result.promoted] == [await person_for(sessions, LI)]
    lines = {int(line.account_id): line for line in await signups.signups(notice_id)}
    assert lines[LI].status == CONFIRMED and lines[WANG].position == 1 and lines[ZHANG].status == "cancelled"
    # Signing up again after cancelling goes to the back of the line.
    again = await signups.sign_up(notice_id, await person_for(sessions, ZHANG))
    assert again.status == WAITING and again.position == 2
    # Leaving the waiting list frees no seat and promotes nobody.
    assert (await signups.cancel(notice_id, await person_for(sessions, WANG))).promoted == ()


async def test_signup_is_refused_after_the_deadline_and_for_a_cancelled_notice(sessions, signups, clock):
    notice_id = await make_notice(sessions, capacity=5)
    clock.now = cn(2026, 12, 1, 18, 1)
    with pytest.raises(Conflict) as refused:
        await signups.sign_up(notice_id, await person_for(sessions, ZHANG))
    assert "报名已于" in refused.value.user_message and "截止" in refused.value.user_message
    cancelled_id = await make_notice(sessions, "取消了的培训", status="cancelled", deadline=None)
    with pytest.raises(Conflict) as refused:
        await signups.sign_up(cancelled_id, await person_for(sessions, ZHANG))
    assert "已取消" in refused.value.user_message
    assert await signups.signups(notice_id) == [] and await signups.signups(cancelled_id) == []


# --- the reminder the day before --------------------------------------------------------------


async def test_a_reminder_goes_the_day_before_to_those_holding_a_seat(sessions, clock):
    clock.now = cn(2026, 11, 28, 10)
    signups = SignupService(sessions, clock)
    deadlines = DeadlineService(sessions, WorkCalendar.load(), DeadlinePolicy(), clock)
    notice_id = await make_notice(sessions, capacity=5, starts_at=cn(2026, 12, 2, 9))
    await signups.sign_up(notice_id, await person_for(sessions, ZHANG, "张三"))
    await signups.sign_up(notice_id, await person_for(sessions, LI, "李四"))
    await signups.cancel(notice_id, await person_for(sessions, LI))
    async with sessions() as session:
        jobs = (await session.scalars(select(ScheduledJob).where(ScheduledJob.kind == TRAINING_REMINDER_KIND))).all()
    assert {job.due_at for job in jobs} == {cn(2026, 12, 1, 9)}

    recorder = Recorder()
    clock.now = cn(2026, 12, 1, 8, 59)
    await deadlines.run_due(recorder)
    assert recorder.sent == []
    clock.now = cn(2026, 12, 1, 9)
    await deadlines.run_due(recorder)
    assert len(recorder.sent) == 1
    who, text, actions = recorder.sent[0]
    assert who == await person_for(sessions, ZHANG) and "培训提醒" in text and "水稻病虫害绿色防控培训" in text and "浏阳市农技站" in text
    assert actions[0][0].data == f"sgx:{notice_id}"
    await deadlines.run_due(recorder)
    assert len(recorder.sent) == 1  # once only


async def test_a_reminder_due_in_the_night_waits_for_the_morning(sessions, clock):
    clock.now = cn(2026, 11, 28, 10)
    signups = SignupService(sessions, clock)
    deadlines = DeadlineService(sessions, WorkCalendar.load(), DeadlinePolicy(), clock)
    notice_id = await make_notice(sessions, starts_at=cn(2026, 12, 2, 6), deadline=None)
    await signups.sign_up(notice_id, await person_for(sessions, ZHANG))
    await signups.sign_up(notice_id, await person_for(sessions, LI))
    recorder = Recorder()
    clock.now = cn(2026, 12, 1, 6, 30)
    await deadlines.run_due(recorder)
    assert recorder.sent == []
    clock.now = cn(2026, 12, 1, 7)
    await deadlines.run_due(recorder)
    assert sorted(who for who, _, _ in recorder.sent) == [await person_for(sessions, ZHANG), await person_for(sessions, LI)]


async def test_a_promoted_person_gets_the_reminder(sessions, clock):
    clock.now = cn(2026, 11, 28, 10)
    signups = SignupService(sessions, clock)
    deadlines = DeadlineService(sessions, WorkCalendar.load(), DeadlinePolicy(), clock)
    notice_id = await make_notice(sessions, capacity=1)
    await signups.sign_up(notice_id, await person_for(sessions, ZHANG))
    await signups.sign_up(notice_id, await person_for(sessions, LI))
    await signups.cancel(notice_id, await person_for(sessions, ZHANG))
    recorder = Recorder()
    clock.now = cn(2026, 12, 1, 9)
    await deadlines.run_due(recorder)
    assert [who for who, _, _ in recorder.sent] == [await person_for(sessions, LI)]


# --- attendance, records and reports ----------------------------------------------------------


async def test_only_staff_record_attendance(sessions, signups):
    notice_id = await make_notice(sessions)
    await signups.sign_up(notice_id, await person_for(sessions, ZHANG, "张三"))
    person_id = (await signups.signups(notice_id))[0].person_id
    with pytest.raises(NotAllowed):
        await signups.record_attendance(notice_id, person_id, True, await person_for(sessions, ZHANG))
    await make_staff(sessions, STAFF)
    line = await signups.record_attendance(notice_id, person_id, True, await person_for(sessions, STAFF))
    assert line.attended is True


async def test_export_fill_attendance_import_and_the_record_shows_hours(sessions, signups, tmp_path):
    notice_id = await make_notice(sessions, capacity=2, hours=3.5)
    for telegram_id, who in ((ZHANG, "张三"), (LI, "李四"), (WANG, "王五")):
        await signups.sign_up(notice_id, await person_for(sessions, telegram_id, who))
    out = tmp_path / "报名名单.xlsx"
    notice, count = await signups.export_signups(notice_id, out)
    assert count == 3
    book = openpyxl.load_workbook(out)
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == ["序号", "姓名", "TelegramID", "状态", "出勤"]
    assert [list(r[:4]) for r in rows[1:]] == [[1, "张三", str(ZHANG), "已报名"], [2, "李四", str(LI), "已报名"],
                                               [3, "王五", str(WANG), "候补"]]
    assert all(r[4] is None for r in rows[1:])
    sheet["E2"], sheet["E3"] = "是", "×"  # 王五 left blank: unchanged
    book.save(out)

    report = await signups.import_attendance(notice_id, out)
    assert (report.present, report.absent, report.unchanged) == (1, 1, 1)
    record = await signups.records(await person_for(sessions, ZHANG))
    assert record.signed_up == 1 and record.attended == 1 and record.hours == 3.5
    assert record.topics == ("植物保护", "种植栽培")
    assert (await signups.records(await person_for(sessions, LI))).hours == 0
    assert (await signups.records(9999)).entries == ()


async def test_a_bad_attendance_file_imports_nothing(sessions, signups, tmp_path):
    notice_id = await make_notice(sessions)
    await signups.sign_up(notice_id, await person_for(sessions, ZHANG, "张三"))
    await signups.sign_up(notice_id, await person_for(sessions, LI, "李四"))
    bad = tmp_path / "出勤.csv"
    with bad.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["序号", "姓名", "TelegramID", "状态", "出勤"])
        writer.writerow([1, "张三", ZHANG, "已报名", "是"])
        writer.writerow([2, "李四", LI, "已报名", "来了"])
        writer.writerow([3, "外人", 777, "已报名", "是"])
    with pytest.raises(ImportFileError) as failed:
        await signups.import_attendance(notice_id, bad)
    text = str(failed.value)
    assert "第 3 行" in text and "来了" in text and "第 4 行" in text and "777" in text
    assert all(line.attended is None for line in await signups.signups(notice_id))


async def test_trainees_report_through_the_cli(sessions, signups, tmp_path, monkeypatch, db_url, capsys):
    monkeypatch.setenv("JICENG_DATABASE_URL", db_url)
    await make_staff(sessions, STAFF)
    first = await make_notice(sessions, "水稻培训", hours=3, fields=("crop",), starts_at=cn(2026, 12, 2, 9))
    second = await make_notice(sessions, "生猪培训", hours=2.5, fields=("livestock",), starts_at=cn(2026, 12, 3, 9))
    for notice_id in (first, second):
        await signups.sign_up(notice_id, await person_for(sessions, ZHANG, "张三"))
        person_id = (await signups.signups(notice_id))[0].person_id
        await signups.record_attendance(notice_id, person_id, True, await person_for(sessions, STAFF))
    await signups.sign_up(first, await person_for(sessions, LI, "李四"))

    out = tmp_path / "学员.csv"
    assert await asyncio.to_thread(main, ["report", "trainees", "--out", str(out)]) == 0
    assert "2 位学员" in capsys.readouterr().out
    rows = list(csv.reader(out.read_bytes().decode("utf-8-sig").splitlines()))
    assert rows[0] == ["姓名", "TelegramID", "报名次数", "出勤次数", "累计学时", "培训主题"]
    assert rows[1] == ["李四", str(LI), "1", "0", "0", ""]
    assert rows[2] == ["张三", str(ZHANG), "2", "2", "5.5", "种植栽培、畜牧兽医"]

    xlsx = tmp_path / "学员.xlsx"
    assert await asyncio.to_thread(main, ["report", "trainees", "--out", str(xlsx)]) == 0
    assert openpyxl.load_workbook(xlsx).active["E3"].value == 5.5

    signup_list = tmp_path / "名单.csv"
    assert await asyncio.to_thread(main, ["report", "signups", str(first), "--out", str(signup_list)]) == 0
    text = signup_list.read_bytes().decode("utf-8-sig")
    assert "张三" in text and "是" in text
    filled = text.replace(f"{LI},已报名,", f"{LI},已报名,出勤")
    signup_list.write_text(filled, "utf-8-sig")
    assert await asyncio.to_thread(main, ["import", "attendance", str(first), str(signup_list)]) == 0
    assert "出勤 2 人" in capsys.readouterr().out
    assert (await signups.records(await person_for(sessions, LI))).hours == 3
    assert await asyncio.to_thread(main, ["report", "trainees", "--out", str(tmp_path / "x.pdf")]) == 1


# --- in chat ----------------------------------------------------------------------------------


@pytest.fixture
async def world(db_url, understander, clock):
    clock.now = cn(2026, 11, 28, 10)
    async with running_bot(db_url, understander, clock) as world:
        await make_staff(world.sessions, STAFF, "王工作人员")
        yield world


async def notice_message(world, telegram_id: int, notice_id: int):
    """The notice as the broadcast delivers it: a message with the 报名 button."""
    mark = world.api.mark()
    await world.services.outbox.send(account_of(telegram_id), Outgoing("📢 培训通知", ((Action("报名", f"sg:{notice_id}"),),)), BULK)
    return await world.api.wait_for_message(telegram_id, "培训通知", after=mark)


async def test_signup_cancel_and_promotion_in_chat(world):
    api = world.api
    notice_id = await make_notice(world.sessions, capacity=1)
    zhang_notice = await notice_message(world, ZHANG, notice_id)
    li_notice = await notice_message(world, LI, notice_id)
    api.send_text(ZHANG, "/start", first_name="张三")
    await api.wait_idle()
    api.press(ZHANG, zhang_notice, "报名")
    seat = await api.wait_for_message(ZHANG, "报名成功，座位已保留")
    api.press(LI, li_notice, "报名")
    await api.wait_for_message(LI, "名额已满，您在候补第 1 位")
    assert any(a.text and "报名成功" in a.text for a in api.answered_callbacks)

    mark = api.mark()
    api.press(ZHANG, seat, "取消报名")
    await api.wait_for_edit(seat, "已取消报名", after=mark)
    promoted = await api.wait_for_message(LI, "从候补转为正式报名", after=mark)
    assert "取消报名" in str(promoted.message.get("reply_markup"))

    mark = api.mark()
    api.send_text(LI, "/records", first_name="李四")
    record = await api.wait_for_message(LI, "学员学习档案", after=mark)
    assert "水稻病虫害绿色防控培训" in record.text and "已报名" in record.text
    mark = api.mark()
    api.send_text(WANG, "/records", first_name="王五")
    assert "还没有报名过培训" in (await api.wait_for_message(WANG, after=mark)).text


async def test_staff_mark_attendance_with_attend(world):
    api = world.api
    signups = world.services.signups
    notice_id = await make_notice(world.sessions, hours=2)
    await signups.sign_up(notice_id, await person_for(world.sessions, ZHANG, "张三"))
    await signups.sign_up(notice_id, await person_for(world.sessions, LI, "李四"))

    mark = api.mark()
    api.send_text(ZHANG, "/attend", first_name="张三")
    await api.wait_idle()
    assert not [m for m in api.messages_to(ZHANG) if m.seq >= mark and "登记哪次培训" in (m.text or "")]
    assert any("工作人员" in (m.text or "") for m in api.messages_to(ZHANG) if m.seq >= mark)

    api.send_text(STAFF, "/attend", first_name="王工作人员")
    pick = await api.wait_for_message(STAFF, "登记哪次培训的出勤")
    api.press(STAFF, pick, "水稻病虫害绿色防控培训")
    sheet = await api.wait_for_edit(pick, "已到 0 / 报名 2")
    api.press(STAFF, api.current(sheet), "⬜ 张三")
    await api.wait_for_edit(pick, "已到 1 / 报名 2")
    assert "✅ 张三" in str(api.current(pick).message.get("reply_markup"))
    lines = {int(line.account_id): line.attended for line in await signups.signups(notice_id)}
    assert lines == {ZHANG: True, LI: None}

    mark = api.mark()
    api.send_text(ZHANG, "/records", first_name="张三")
    record = await api.wait_for_message(ZHANG, "学员学习档案", after=mark)
    assert "出勤 1 次" in record.text and "累计 2 学时" in record.text and "已出勤" in record.text
