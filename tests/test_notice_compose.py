"""Staff compose a training notice in chat (/notice): each step, bad answers asked again,
the preview with the recipient count, 取消 and /cancel leaving nothing, non-staff refused;
发送 delivers to the subscribers through the shared sender with one progress message."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from bot.services import broadcast
from bot.services.notices import (
    ALL_FIELDS,
    BadAnswer,
    NoticeDraft,
    SubscriptionService,
    parse_capacity,
    parse_china_time,
    parse_hours,
    recipients,
)
from storage.models import ChatState, OutboxMessage, TrainingNotice
from tests.factories import make_staff, person_id
from tests.telegram_world import running_bot

STAFF, FARMER = 4001, 1001
LIUYANG_CROP, PROVINCE_ALL, CHANGSHA_LIVESTOCK, ZHUZHOU_CROP, BLOCKED = 5001, 5002, 5003, 5004, 5005
NOW = datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc)


def test_times_are_read_in_china_time():
    nine_am = datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc)
    for text in ("2026-12-05 09:00", "12月5日 9:00", "12-05 09:00", "１２月５日 ９：００", "12月5日9点", "2026年12月5日 9:00"):
        assert parse_china_time(text, NOW, need_clock=True) == nine_am, text
    assert parse_china_time("12月5日下午2点半", NOW, need_clock=True) == datetime(2026, 12, 5, 6, 30, tzinfo=timezone.utc)
    assert parse_china_time("1月3日 8:00", NOW, need_clock=True).year == 2027  # no year: the next one to come
    assert parse_china_time("12月4日", NOW, need_clock=False) == datetime(2026, 12, 4, 15, 59, tzinfo=timezone.utc)
    for bad in ("明天上午", "12月5日", "2026-11-01 09:00", "13-40 9:00", "12月5日 25:00"):
        with pytest.raises(BadAnswer):
            parse_china_time(bad, NOW, need_clock=True)


def test_numbers_and_the_deadline_rule():
    assert parse_hours("1.5") == 1.5 and parse_hours("2小时") == 2
    assert parse_capacity("不限") is None and parse_capacity("30人") == 30
    for bad in ("0", "-1", "两个钟", "500"):
        with pytest.raises(BadAnswer):
            parse_hours(bad)
    for bad in ("abc", "-3", "1.5"):
        with pytest.raises(BadAnswer):
            parse_capacity(bad)
    draft = NoticeDraft(step="deadline", starts_at=datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc))
    with pytest.raises(BadAnswer):
        draft.answer("12月6日 9:00", NOW)
    assert draft.step == "deadline"
    draft.answer("不设", NOW)
    assert draft.signup_deadline is None and draft.step == "preview"
    assert NoticeDraft.from_dict(draft.to_dict()) == draft


@pytest.fixture
async def world(db_url, understander, clock):
    async with running_bot(db_url, understander, clock) as world:
        await make_staff(world.sessions, STAFF, "王工作人员")
        subscriptions = world.services.subscriptions
        await subscriptions.subscribe(await person_id(world.sessions, LIUYANG_CROP), "crop", "430181")
        await subscriptions.subscribe(await person_id(world.sessions, PROVINCE_ALL), ALL_FIELDS, "430000")
        await subscriptions.subscribe(await person_id(world.sessions, CHANGSHA_LIVESTOCK), "livestock", "430100")
        await subscriptions.subscribe(await person_id(world.sessions, ZHUZHOU_CROP), "crop", "430200")
        yield world


async def say(api, text: str, expect: str):
    mark = api.mark()
    api.send_text(STAFF, text, first_name="王工作人员")
    return await api.wait_for_message(STAFF, expect, after=mark)


async def compose_to_preview(api):
    await say(api, "/notice", "请发通知的标题")
    await say(api, "水稻病虫害绿色防控现场培训", "请发通知的内容")
    await say(api, "讲解稻飞虱、稻瘟病的绿色防控，田间现场演示。请带笔记本。", "什么时候开始")
    bad = await say(api, "下周五上午", "没看懂这个时间")
    assert "12月5日 9:00" in bad.text  # asked again, with an example
    await say(api, "12月5日 9:00", "多少小时")
    await say(api, "两个钟", "时长请发一个")
    await say(api, "3", "地点")
    fields = await say(api, "浏阳市永安镇农技站", "哪些领域")
    api.press(STAFF, fields, "种植栽培")
    await api.wait_for_edit(fields, "已选：种植栽培")
    api.press(STAFF, api.current(fields), "植物保护")
    await api.wait_for_edit(fields, "已选：种植栽培、植物保护")
    mark = api.mark()
    api.press(STAFF, api.current(fields), "✅ 植物保护")  # toggled off again
    await api.wait_for_edit(fields, "已选：种植栽培", after=mark)
    assert api.current(fields).text.endswith("已选：种植栽培")
    mark = api.mark()
    api.press(STAFF, api.current(fields), "完成")
    areas = await api.wait_for_message(STAFF, "哪些地区", after=mark)
    api.press(STAFF, areas, "长沙市")
    await api.wait_for_edit(areas, "已选：长沙市")
    mark = api.mark()
    api.press(STAFF, api.current(areas), "完成")
    await api.wait_for_message(STAFF, "多少个名额", after=mark)
    await say(api, "很多", "名额请发一个正整数")
    await say(api, "30", "报名什么时候截止")
    await say(api, "12月6日 18:00", "不能晚于培训开始时间")
    return await say(api, "12月4日 18:00", "将发给")


async def test_staff_compose_a_notice_to_the_preview(world):
    preview = await compose_to_preview(world.api)
    text = preview.text
    assert "📢 培训通知：水稻病虫害绿色防控现场培训" in text
    assert "2026年12月05日 09:00" in text and "约 3 小时" in text and "浏阳市永安镇农技站" in text
    assert "名额：30 人" in text and "报名截止：2026年12月04日 18:00" in text and "稻飞虱" in text
    assert "目标领域：种植栽培" in text and "目标地区：长沙市" in text
    assert "将发给 2 位订阅者" in text  # 浏阳 crop and the province-wide one; not livestock, not 株洲
    assert preview.buttons == ["📢 发送", "取消"]


async def count(world, model) -> int:
    async with world.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def notice_rows(world) -> int:
    """Outbox rows of training notices (every other message the bot sends is a row too)."""
    async with world.sessions() as session:
        return await session.scalar(select(func.count()).where(OutboxMessage.notice_id.is_not(None)))


async def test_cancel_at_the_preview_leaves_nothing(world):
    api = world.api
    preview = await compose_to_preview(api)
    api.press(STAFF, preview, "取消")
    await api.wait_for_edit(preview, "没有保存")
    assert await count(world, TrainingNotice) == 0 and await count(world, ChatState) == 0
    api.press_data(STAFF, preview, "nt:send:-")  # the old 发送 button
    await api.wait_idle()
    assert await count(world, TrainingNotice) == 0 and await notice_rows(world) == 0


async def test_slash_cancel_stops_composing_and_the_next_text_is_a_question(world):
    api = world.api
    await say(api, "/notice", "请发通知的标题")
    await say(api, "冬季油菜田管技术培训", "请发通知的内容")
    await say(api, "/cancel", "没有保存")
    assert await count(world, ChatState) == 0
    await say(api, "/cancel", "没有要取消的操作")
    assert await count(world, TrainingNotice) == 0


async def test_non_staff_are_refused(world):
    api = world.api
    mark = api.mark()
    api.send_text(FARMER, "/notice", first_name="张大哥")
    refusal = await api.wait_for_message(FARMER, "只能由工作人员发布", after=mark)
    assert "/subscribe" in refusal.text
    api.press_data(FARMER, refusal, "nt:send:-")
    await api.wait_idle()
    assert await count(world, ChatState) == 0 and await count(world, TrainingNotice) == 0


async def test_send_delivers_to_the_subscribers_with_live_progress_and_a_final_report(world):
    api = world.api
    await world.services.subscriptions.subscribe(await person_id(world.sessions, BLOCKED), "crop", "430100")
    api.blocked_chats.add(BLOCKED)
    preview = await compose_to_preview(api)
    assert "将发给 3 位订阅者" in preview.text
    mark = api.mark()
    api.press(STAFF, preview, "发送")
    progress = await api.wait_for_message(STAFF, "正在准备发给 3 位订阅者", after=mark)
    for chat in (LIUYANG_CROP, PROVINCE_ALL):
        notice = await api.wait_for_message(chat, "📢 培训通知：水稻病虫害绿色防控现场培训", after=mark)
        assert notice.buttons == ["报名"]
    report = await api.wait_for_edit(progress, "发送完毕", timeout=15)
    assert "共 3 人：已送达 2，未送达 1（其中 1 人已屏蔽机器人" in report.text
    await api.wait_idle()
    assert not api.messages_to(CHANGSHA_LIVESTOCK) and not api.messages_to(ZHUZHOU_CROP)
    assert not api.current(preview).buttons  # 发送 pressed once is gone
    async with world.sessions() as session:
        notice = await session.scalar(select(TrainingNotice))
        statuses = sorted((await session.scalars(select(OutboxMessage.status).where(
            OutboxMessage.notice_id.is_not(None)))).all())
    assert notice.status == broadcast.NOTICE_SENT and notice.fields == ["crop"] and notice.regions == ["430100"]
    assert notice.capacity == 30 and notice.progress_message_id == progress.message_id
    assert statuses == ["blocked", "sent", "sent"]
    assert await world.services.subscriptions.list(await person_id(world.sessions, BLOCKED)) == []  # blocked: no longer subscribed

    api.press_data(STAFF, preview, "nt:send:-")  # pressed again: nothing more is sent
    await api.wait_idle()
    assert await count(world, TrainingNotice) == 1 and await notice_rows(world) == 3


async def test_a_notice_left_in_the_outbox_is_sent_when_the_bot_starts(db_url, understander, clock, sessions):
    """A stop cut the sending short: the next start carries on, without anyone pressing anything."""
    await SubscriptionService(sessions).subscribe(await person_id(sessions, LIUYANG_CROP), "crop", "430181")
    async with sessions.begin() as session:
        notice = NoticeDraft(title="柑橘冬季清园培训", fields=["crop"]).to_notice()
        session.add(notice)
        assert await broadcast.enqueue(session, notice, await recipients(session, notice)) == 1
    async with running_bot(db_url, understander, clock) as world:
        await world.api.wait_for_message(LIUYANG_CROP, "柑橘冬季清园培训", timeout=10)
    async with sessions() as session:
        assert await session.scalar(select(OutboxMessage.status).where(OutboxMessage.notice_id.is_not(None))) == "sent"
