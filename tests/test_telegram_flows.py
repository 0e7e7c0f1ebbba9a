"""End to end over HTTP: a farmer asks in chat, presses 提交, gets a tracking number; the
team leader gets the card and presses 接单; everyone else is told politely what they can't do."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.services import directory, invites, lifecycle
from bot.telegram.common import account_of
from storage.models import ChannelAccount, Demand, DemandEvent, Person
from tests.factories import make_staff, make_team
from tests.telegram_world import running_bot

FARMER, LEADER, STAFF, OUTSIDER = 1001, 2001, 3001, 4001
QUESTION = "老师你好，我家水稻叶子上好多褐色斑点，是不是稻瘟病，打什么药好"


@pytest.fixture
async def world(db_url, understander, clock):
    async with running_bot(db_url, understander, clock) as world:
        yield world


@pytest.fixture
async def team(world):
    world.api.user(LEADER, first_name="李团长")  # the leader's own Telegram name
    return await make_team(world.sessions, "水稻植保服务团", ["plant_protection", "crop"],
                           ["430000"], leader_telegram_id=LEADER, leader_name="李团长")


async def test_start_greets_and_asks_region_city_then_county(world):
    api = world.api
    api.send_text(FARMER, "/start", first_name="张大哥")
    await api.wait_for_message(FARMER, "专家服务基层")
    ask = await api.wait_for_message(FARMER, "市州")
    api.press(FARMER, ask, "长沙市")
    await api.wait_idle()
    assert "浏阳市" in str(api.current(ask).reply_markup)
    api.press(FARMER, api.current(ask), "浏阳市")
    await api.wait_idle()
    assert "长沙市浏阳市" in api.current(ask).text
    person = await world.services.people.by_account(account_of(FARMER))
    assert person.region_code == "430181"


async def test_question_submitted_and_accepted_by_the_leader(world, team):
    api = world.api
    api.send_text(FARMER, QUESTION, first_name="张大哥")
    confirm = await api.wait_for_message(FARMER, "提交")
    assert "植物保护" in confirm.text and "稻瘟病" in confirm.text
    api.press(FARMER, confirm, "提交")
    await api.wait_idle()
    assert "XQ20261128-0001" in api.current(confirm).text
    card = await api.wait_for_message(LEADER, "XQ20261128-0001")
    assert "张大哥" in card.text and "植物保护" in card.text and QUESTION in card.text
    mark = api.mark()
    api.press(LEADER, card, "接单")
    await api.wait_for_message(FARMER, "已由", after=mark)
    assert "已由 李团长" in api.current(card).text
    async with world.sessions() as session:
        demand = await session.scalar(select(Demand))
    assert demand.status == lifecycle.ACCEPTED


async def test_outsiders_and_second_taps_change_nothing(world, team):
    api = world.api
    api.send_text(FARMER, QUESTION)
    confirm = await api.wait_for_message(FARMER, "提交")
    api.press(FARMER, confirm, "提交")
    card = await api.wait_for_message(LEADER, "新需求")
    api.press(OUTSIDER, card, "接单")
    api.press(FARMER, card, "接单")
    api.press_data(LEADER, card, "ac:99999")
    api.press_data(LEADER, card, "ac:not-a-number")
    api.press_data(FARMER, confirm, "dr:sub:1:-")  # the same draft again
    await api.wait_idle()
    alerts = [a.text for a in api.answered_callbacks]
    assert sum("团长" in (t or "") for t in alerts) >= 2
    assert any("失效" in (t or "") for t in alerts)
    async with world.sessions() as session:
        assert await session.scalar(select(Demand.status)) == lifecycle.WAITING
        assert await session.scalar(select(func.count()).select_from(Demand)) == 1
    api.press(LEADER, card, "接单")
    api.press(LEADER, card, "接单")
    await api.wait_idle()
    async with world.sessions() as session:
        accepted = await session.scalar(
            select(func.count()).select_from(DemandEvent).where(DemandEvent.to_status == lifecycle.ACCEPTED))
    assert accepted == 1


async def test_unsure_question_asks_for_the_field(world, team):
    api = world.api
    api.send_text(FARMER, "这个咋办")
    ask = await api.wait_for_message(FARMER, "领域")
    api.press(FARMER, ask, "植物保护")
    await api.wait_idle()
    assert "提交" in str(api.current(ask).reply_markup)
    api.press(FARMER, api.current(ask), "提交")
    await api.wait_for_message(LEADER, "新需求")


async def test_no_team_for_the_field_goes_to_staff_and_the_farmer_is_told(world, team):
    api = world.api
    await make_staff(world.sessions, STAFF)
    api.send_text(FARMER, "我家的猪不吃食还拉稀，发烧，怎么治")
    confirm = await api.wait_for_message(FARMER, "畜牧")
    api.press(FARMER, confirm, "提交")
    await api.wait_for_message(STAFF, "分派")
    assert "工作人员" in api.current(confirm).text


async def test_region_can_be_given_at_the_confirm_step(world, team):
    api = world.api
    api.send_text(FARMER, QUESTION)
    confirm = await api.wait_for_message(FARMER, "未填写")
    api.press(FARMER, confirm, "选择地区")
    await api.wait_idle()
    api.press(FARMER, api.current(confirm), "邵阳市")
    await api.wait_idle()
    api.press(FARMER, api.current(confirm), "邵东市")
    await api.wait_idle()
    assert "邵阳市邵东市" in api.current(confirm).text
    api.press(FARMER, api.current(confirm), "提交")
    card = await api.wait_for_message(LEADER, "新需求")
    assert "邵东市" in card.text


async def test_photo_without_caption_goes_with_the_question_to_the_leader(world, team):
    api = world.api
    api.send_photo(FARMER)
    await api.wait_for_message(FARMER, "照片")
    api.send_text(FARMER, QUESTION)
    confirm = await api.wait_for_message(FARMER, "提交")
    api.press(FARMER, confirm, "提交")
    await api.wait_for_message(LEADER, "新需求")
    await api.wait_idle()
    assert any(m.method == "sendPhoto" and m.chat_id == LEADER for m in api.sent)


async def test_photo_with_caption_is_a_new_question(world, team):
    api = world.api
    api.send_photo(FARMER, caption="柑橘叶子卷了，有红蜘蛛吗")
    confirm = await api.wait_for_message(FARMER, "提交")
    assert "柑橘" in confirm.text


async def test_my_lists_demands_in_pages(world, team):
    api = world.api
    for i in range(7):
        mark = api.mark()
        api.send_text(FARMER, f"{QUESTION}{i}")
        confirm = await api.wait_for_message(FARMER, "提交", after=mark)
        api.press(FARMER, confirm, "提交")
        await api.wait_idle()
    mark = api.mark()
    api.send_text(FARMER, "/my")
    page = await api.wait_for_message(FARMER, "共 7 条", after=mark)
    assert "XQ20261128-0007" in page.text and "XQ20261128-0001" not in page.text
    api.press(FARMER, page, "下一页")
    await api.wait_idle()
    assert "XQ20261128-0001" in api.current(page).text


async def test_leader_queue_lists_waiting_demands(world, team):
    api = world.api
    api.send_text(FARMER, QUESTION)
    confirm = await api.wait_for_message(FARMER, "提交")
    api.press(FARMER, confirm, "提交")
    await api.wait_for_message(LEADER, "新需求")
    mark = api.mark()
    api.send_text(LEADER, "/queue")
    queue = await api.wait_for_message(LEADER, "待接单", after=mark)
    assert "XQ20261128-0001" in queue.text
    api.send_text(FARMER, "/queue")
    await api.wait_for_message(FARMER, "只有服务团团长")


async def test_leader_joins_by_invite_link(world):
    api = world.api
    await make_team(world.sessions, "油茶服务团", ["forestry"])
    code = await invites.create(world.sessions, "leader", "油茶服务团")
    api.send_text(LEADER, f"/start {code}", first_name="王团长")
    await api.wait_for_message(LEADER, "团长")
    api.send_text(FARMER, "油茶树叶子发黄掉果，怎么管理")
    confirm = await api.wait_for_message(FARMER, "提交")
    api.press(FARMER, confirm, "提交")
    await api.wait_for_message(LEADER, "新需求")
    mark = api.mark()
    api.send_text(OUTSIDER, f"/start {code}")
    await api.wait_for_message(OUTSIDER, "邀请", after=mark)


async def test_a_leader_invite_opened_by_someone_else_waits_for_staff(world, team):
    """Someone opens a leader invite for a team that has a leader: the leader is warned, staff
    get 确认更换 / 不同意, and only staff's yes changes the leader — both are told."""
    api = world.api
    await make_staff(world.sessions, STAFF)
    code = await invites.create(world.sessions, "leader", "水稻植保服务团")
    api.send_text(OUTSIDER, f"/start {code}", first_name="赵新")
    await api.wait_for_message(OUTSIDER, "需要工作人员确认")
    await api.wait_for_message(LEADER, "尽快联系工作人员")
    card = await api.wait_for_message(STAFF, "确认是本人")
    assert "赵新" in card.text and "李团长" in card.text
    api.press(OUTSIDER, card, "确认更换")  # a forged press by the newcomer
    await api.wait_idle()
    async with world.sessions() as session:
        assert (await session.get(type(team), team.id)).leader_id != (await session.scalar(
            select(Person.id).join(ChannelAccount).where(ChannelAccount.external_id == str(OUTSIDER))))
    api.press(STAFF, card, "确认更换")
    await api.wait_for_message(OUTSIDER, "您已作为「水稻植保服务团」团长加入")
    await api.wait_for_message(LEADER, "不再担任")
    await api.wait_for_edit(STAFF, "双方都已通知")


async def test_bad_input_gets_a_clear_answer(world):
    api = world.api
    api.send_sticker(FARMER)
    await api.wait_for_message(FARMER, "表情")
    api.send_text(FARMER, "稻" * 4001)
    await api.wait_for_message(FARMER, "太长")
    api.send_text(FARMER, "/nonsense")
    await api.wait_for_message(FARMER, "没有这个命令")
    api.send_edited_text(FARMER, 1, "改一下")
    await api.wait_for_message(FARMER, "修改")
    api.send_group_text(-100123, FARMER, "/start")
    await api.wait_for_message(-100123, "私聊")


async def test_malformed_updates_are_skipped_once_and_the_bot_keeps_serving(world, caplog):
    """A message with no chat, a message that is not an object, an id past 64 bits: each is
    logged once by its update id (never its content) and nobody else waits behind it."""
    caplog.set_level(logging.INFO)
    api = world.api
    api.inject({"message": {"message_id": 1, "date": 1, "text": "电话13912345678"}})
    api.inject({"message": "nonsense"})
    huge = {"id": 2**64, "is_bot": False, "first_name": "x"}
    api.inject({"message": {"message_id": 2, "date": 1, "chat": {"id": 2**64, "type": "private"}, "from": huge,
                            "text": "hi"}})
    api.inject({"callback_query": {"id": "9", "chat_instance": "1", "data": "ac:1"}})
    near = 2**63 - 1
    api.send_text(near, "水稻叶子发黄怎么办")
    await api.wait_for_message(near, "提交")
    api.send_text(FARMER, "水稻叶子发黄怎么办")
    await api.wait_for_message(FARMER, "提交")
    await api.wait_idle()
    skipped = [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()]
    assert len(skipped) == 4
    assert not any("13912345678" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_odd_messages_each_get_a_polite_answer_and_no_traceback(world, caplog):
    """A 4,096-character message, emoji only, a sticker, a location, someone else's contact, and a
    writer whose id is near 2^63: each is answered in plain Chinese; the log has no traceback."""
    caplog.set_level(logging.INFO)
    api = world.api
    near = 2**63 - 2
    api.send_text(FARMER, "稻" * 4096)
    await api.wait_for_message(FARMER, "太长")
    mark = api.mark()
    api.send_text(FARMER, "😀😀🌾！")
    assert "表情" in (await api.wait_for_message(FARMER, after=mark)).text
    for send in (lambda: api.send_sticker(FARMER),
                 lambda: api.send_location(FARMER), lambda: api.send_contact(FARMER, "13912345678", own=False)):
        mark = api.mark()
        send()
        reply = await api.wait_for_message(FARMER, after=mark)
        assert reply.text and not reply.text.isascii()
    api.send_text(near, "/start", first_name="大号")
    await api.wait_for_message(near, "专家服务基层")
    await api.wait_idle()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not any("13912345678" in r.getMessage() for r in caplog.records)


async def test_the_same_update_delivered_twice_has_one_effect(world, team):
    from telegram import Update

    api = world.api
    api.send_text(FARMER, QUESTION)
    confirm = await api.wait_for_message(FARMER, "提交")
    press = api.press(FARMER, confirm, "提交")
    await api.wait_for_message(LEADER, "新需求")
    mark = api.mark()
    await world.app.update_queue.put(Update.de_json(press, world.app.bot))  # redelivered, same update_id
    await api.wait_idle()
    assert api.sent[mark:] == []
    async with world.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Demand)) == 1


async def test_a_second_tap_on_submit_has_one_effect(world, team):
    api = world.api
    api.send_text(FARMER, QUESTION)
    confirm = await api.wait_for_message(FARMER, "提交")
    press = api.press(FARMER, confirm, "提交")
    await api.wait_for_message(LEADER, "新需求")
    api.inject(dict(press))  # a new update for the same button
    await api.wait_idle()
    async with world.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Demand)) == 1
    assert any("已经提交" in (a.text or "") for a in api.answered_callbacks)


async def test_long_demands_reach_the_leader_split_below_telegrams_limit(world, team):
    api = world.api
    long_name = "张" * 60
    question = ("湘西土家族苗族自治州保靖县水稻稻瘟病" + "很严重，" * 1000)[:3999]
    api.send_text(FARMER, question, first_name=long_name)
    confirm = await api.wait_for_message(FARMER, "提交")
    api.press(FARMER, confirm, "提交")
    await api.wait_for_message(LEADER, "新需求")
    await api.wait_idle()
    assert all(len(m.text or "") <= 4096 for m in api.sent)
    assert len(api.messages_to(LEADER)) >= 2


async def test_command_menu_is_set_at_start(world):
    assert any(c.method.lower() == "setmycommands" for c in world.api.calls)



async def test_an_unexpected_error_gets_an_apology_and_is_logged_with_the_update_id(world, caplog, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(world.services.intake, "new_question", broken)
    update = world.api.send_text(FARMER, QUESTION)
    await world.api.wait_for_message(FARMER, "抱歉")
    assert any(f"update {update['update_id']}" in r.getMessage() for r in caplog.records)


async def test_expert_joins_by_sharing_the_phone_number_from_the_directory(world):
    api = world.api
    examples = Path(__file__).resolve().parents[1] / "docs" / "examples"
    await directory.import_teams(world.sessions, examples / "teams.csv")
    await directory.import_experts(world.sessions, examples / "experts.csv")
    phone = "13800000004"  # 赵六 has a 手机 but no TelegramID in the example file
    api.send_text(5001, "/join", first_name="刘专家")
    await api.wait_for_message(5001, "手机号")
    api.send_contact(5001, "86" + phone)
    await api.wait_for_message(5001, "已作为专家加入")
    person = await world.services.people.by_account(account_of(5001))
    assert "expert" in person.role_names
    api.send_contact(5002, "8613900000000", own=False)
    await api.wait_for_message(5002, "自己")


async def test_voice_note_after_submitting_reaches_the_leader(world, team):
    api = world.api
    api.send_text(FARMER, QUESTION)
    confirm = await api.wait_for_message(FARMER, "提交")
    api.press(FARMER, confirm, "提交")
    await api.wait_for_message(LEADER, "新需求")
    api.send_voice(FARMER)
    await api.wait_for_message(FARMER, "已补充到需求 XQ20261128-0001")
    await api.wait_idle()
    assert any(m.method == "sendVoice" and m.chat_id == LEADER for m in api.sent)


async def test_confirm_step_shows_entities_typo_reading_and_similar_answers(world, team):
    api = world.api
    api.send_text(FARMER, "我家3亩水稻叶子上起了梭形的斑，中间灰白，是不是道温病，打什么药")
    confirm = await api.wait_for_message(FARMER, "提交")
    assert "对象：水稻" in confirm.text and "数量：3亩" in confirm.text
    assert "按“稻瘟病”理解" in confirm.text
    assert "这些已解答的问题可能对您有帮助" in confirm.text
    mark = api.mark()
    api.press(FARMER, confirm, "看第1条答案")
    answer = await api.wait_for_message(FARMER, "答：", after=mark)
    assert "稻瘟" in answer.text


async def test_urgent_demands_are_flagged_to_the_farmer_and_the_leader(world, team):
    api = world.api
    api.send_text(FARMER, "水稻稻瘟病暴发了，一夜之间大面积死亡，救命")
    confirm = await api.wait_for_message(FARMER, "提交")
    assert "紧急" in confirm.text
    api.press(FARMER, confirm, "提交")
    card = await api.wait_for_message(LEADER, "新需求")
    assert card.text.startswith("【紧急】")


async def test_farmer_picking_another_field_is_stored_as_a_correction(world, team):
    from storage.models import FieldCorrection

    api = world.api
    api.send_text(FARMER, "辣椒卖不出去价格太低了")
    confirm = await api.wait_for_message(FARMER, "提交")
    api.press(FARMER, confirm, "换个领域")
    await api.wait_idle()
    api.press(FARMER, api.current(confirm), "经营管理")
    await api.wait_idle()
    async with world.sessions() as session:
        correction = await session.scalar(select(FieldCorrection))
    assert correction.to_field == "management" and correction.text == "辣椒卖不出去价格太低了"
