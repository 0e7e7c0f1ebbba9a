"""Subscriptions to training notices: who a notice reaches (fields, regions, the whole
province, county vs city), the service, /subscribe and /unsubscribe in chat, and the offer
after a farmer's first demand."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.services.notices import ALL_FIELDS, NoticeDraft, SubscriptionService, recipients
from bot.services.people import ensure_person
from bot.telegram.common import account_of
from intents import taxonomy
from storage.models import Subscription, TrainingNotice
from tests.factories import make_team, person_id
from tests.telegram_world import running_bot

CHANGSHA, LIUYANG, NINGXIANG, ZHUZHOU, PROVINCE = "430100", "430181", "430182", "430200", "430000"


async def subscribe(sessions, telegram_id: int, field: str, region: str, active: bool = True) -> int:
    async with sessions.begin() as session:
        person = await ensure_person(session, account_of(telegram_id), f"农户{telegram_id}")
        session.add(Subscription(person_id=person.id, field=field, region_code=region, active=active))
    return person.id


async def reached(sessions, fields: list[str], regions: list[str]) -> set[int]:
    async with sessions() as session:
        found = await recipients(session, TrainingNotice(title="t", fields=fields, regions=regions))
    return {int(account.external_id) for _, account in found}


async def test_a_notice_reaches_matching_fields_and_regions(sessions):
    await subscribe(sessions, 1, "crop", LIUYANG)          # county inside the notice's city
    await subscribe(sessions, 2, "crop", CHANGSHA)         # city containing the notice's county
    await subscribe(sessions, 3, "crop", PROVINCE)         # the whole province
    await subscribe(sessions, 4, "crop", ZHUZHOU)          # another city
    await subscribe(sessions, 5, "livestock", CHANGSHA)    # another field
    await subscribe(sessions, 6, ALL_FIELDS, CHANGSHA)     # every field
    await subscribe(sessions, 7, "crop", NINGXIANG)        # a neighbouring county
    await subscribe(sessions, 8, "crop", CHANGSHA, active=False)  # unsubscribed

    assert await reached(sessions, ["crop"], [CHANGSHA]) == {1, 2, 3, 6, 7}
    assert await reached(sessions, ["crop"], [LIUYANG]) == {1, 2, 3, 6}
    assert await reached(sessions, ["crop", "livestock"], [CHANGSHA]) == {1, 2, 3, 5, 6, 7}
    assert await reached(sessions, ["crop"], [ZHUZHOU, LIUYANG]) == {1, 2, 3, 4, 6}
    assert await reached(sessions, [], [ZHUZHOU]) == {3, 4}                     # any field
    assert await reached(sessions, ["livestock"], []) == {5, 6}                 # the whole province
    assert await reached(sessions, [], []) == {1, 2, 3, 4, 5, 6, 7}


async def test_a_person_with_two_matching_subscriptions_is_reached_once(sessions):
    await subscribe(sessions, 1, "crop", LIUYANG)
    await subscribe(sessions, 1, ALL_FIELDS, PROVINCE)
    async with sessions() as session:
        found = await recipients(session, TrainingNotice(title="t", fields=["crop"], regions=[CHANGSHA]))
    assert [account.external_id for _, account in found] == ["1"]
    assert await SubscriptionService(sessions).count_recipients(NoticeDraft(fields=["crop"])) == 1


async def test_subscribe_is_idempotent_and_unsubscribe_switches_off(sessions):
    service = SubscriptionService(sessions)
    farmer = await person_id(sessions, 1)
    first = await service.subscribe(farmer, "crop", LIUYANG)
    again = await service.subscribe(farmer, "crop", LIUYANG)
    other = await service.subscribe(farmer, ALL_FIELDS, PROVINCE)
    assert first.id == again.id and first.label == "种植栽培·长沙市浏阳市" and other.label == "全部领域·全省"
    assert [s.id for s in await service.list(farmer)] == [first.id, other.id]

    assert [s.id for s in await service.unsubscribe(farmer, first.id)] == [first.id]
    assert [s.id for s in await service.list(farmer)] == [other.id]
    assert await service.unsubscribe(await person_id(sessions, 2), other.id) == []          # not theirs
    assert await service.unsubscribe(farmer, first.id) == []          # already off
    back = await service.subscribe(farmer, "crop", LIUYANG)           # reactivated, not a twin
    assert back.id == first.id
    assert len(await service.unsubscribe(farmer)) == 2
    assert await service.list(farmer) == []
    async with sessions() as session:
        assert len((await session.scalars(select(Subscription))).all()) == 2


FARMER, LEADER = 1001, 2001


@pytest.fixture
async def world(db_url, understander, clock):
    async with running_bot(db_url, understander, clock) as world:
        yield world


async def active_subscriptions(world, telegram_id: int) -> list[tuple[str, str]]:
    person = await world.services.people.by_account(account_of(telegram_id))
    return [(s.field, s.region_code) for s in await world.services.subscriptions.list(person.id)] if person else []


async def test_subscribe_with_buttons_and_unsubscribe(world):
    api = world.api
    api.send_text(FARMER, "/subscribe", first_name="张大哥")
    pick = await api.wait_for_message(FARMER, "哪个领域")
    assert "全部领域" in pick.buttons and "种植栽培" in pick.buttons and len(pick.buttons) == 16
    api.press(FARMER, pick, "种植栽培")
    await api.wait_for_edit(pick, "请选择市州")
    assert "全省" in api.current(pick).buttons
    api.press(FARMER, api.current(pick), "长沙市")
    await api.wait_for_edit(pick, "长沙市下面的县市区")
    api.press(FARMER, api.current(pick), "浏阳市")
    await api.wait_for_edit(pick, "已订阅：种植栽培·长沙市浏阳市")

    mark = api.mark()
    api.send_text(FARMER, "/subscribe")
    pick = await api.wait_for_message(FARMER, "哪个领域", after=mark)
    api.press(FARMER, pick, "全部领域")
    await api.wait_for_edit(pick, "请选择市州")
    api.press(FARMER, api.current(pick), "全省")
    await api.wait_for_edit(pick, "已订阅：全部领域·全省")
    assert await active_subscriptions(world, FARMER) == [("crop", LIUYANG), (ALL_FIELDS, PROVINCE)]

    mark = api.mark()
    api.send_text(FARMER, "/unsubscribe")
    listed = await api.wait_for_message(FARMER, "您订阅的培训通知", after=mark)
    assert "种植栽培·长沙市浏阳市" in listed.text and "全部退订" in listed.buttons
    api.press(FARMER, listed, "退订 种植栽培")
    await api.wait_for_edit(listed, "已退订：种植栽培·长沙市浏阳市")
    assert await active_subscriptions(world, FARMER) == [(ALL_FIELDS, PROVINCE)]
    api.press(FARMER, api.current(listed), "全部退订")
    await api.wait_for_edit(listed, "已全部退订")
    assert await active_subscriptions(world, FARMER) == []

    mark = api.mark()
    api.send_text(FARMER, "/unsubscribe")
    await api.wait_for_message(FARMER, "您还没有订阅", after=mark)


async def test_forged_subscription_buttons_are_refused(world):
    api = world.api
    api.send_text(FARMER, "/subscribe")
    pick = await api.wait_for_message(FARMER, "哪个领域")
    for data in ("sb:s:nonsense:430100", "sb:s:crop:999999", "sb:u:abc:-", "sb:c:crop:430181"):
        api.press_data(FARMER, pick, data)
    await api.wait_idle()
    assert await active_subscriptions(world, FARMER) == []
    assert sum(1 for c in api.answered_callbacks if c.text and "失效" in c.text) == 4


async def submit_question(api, text: str):
    mark = api.mark()
    api.send_text(FARMER, text, first_name="张大哥")
    confirm = await api.wait_for_message(FARMER, "提交", after=mark)
    api.press(FARMER, confirm, "提交")
    await api.wait_for_message(FARMER, "已提交", after=mark)
    await api.wait_idle()
    return mark


async def test_the_first_demand_offers_a_subscription_to_its_field_and_region(world):
    api = world.api
    await make_team(world.sessions, "水稻植保服务团", ["plant_protection", "crop"], leader_telegram_id=LEADER)
    await submit_question(api, "浏阳的水稻叶子上好多褐色病斑，是不是稻瘟病，打什么药")
    offer = await api.wait_for_message(FARMER, "要不要订阅")
    assert "「长沙市浏阳市」" in offer.text and offer.buttons == ["订阅", "不用了"]
    api.press(FARMER, offer, "订阅")
    await api.wait_for_edit(offer, "已订阅：")
    [(field, region)] = await active_subscriptions(world, FARMER)
    assert region == LIUYANG and field in ("plant_protection", "crop")
    assert f"「{taxonomy.field_name(field)}」在「长沙市浏阳市」" in offer.params["text"]

    mark = await submit_question(api, "浏阳的辣椒苗发黄，是缺肥还是病了")
    assert not [m for m in api.messages_to(FARMER) if m.seq >= mark and "要不要订阅" in (m.text or "")]


async def test_no_offer_to_someone_already_subscribed_and_declining_subscribes_nothing(world):
    api = world.api
    await make_team(world.sessions, "水稻植保服务团", ["plant_protection", "crop"], leader_telegram_id=LEADER)
    await world.services.subscriptions.subscribe(await person_id(world.sessions, FARMER + 1), ALL_FIELDS, PROVINCE)
    api.send_text(FARMER + 1, "/start")
    await api.wait_idle()
    mark = api.mark()
    api.send_text(FARMER + 1, "浏阳的水稻叶子上好多褐色病斑，是不是稻瘟病，打什么药")
    confirm = await api.wait_for_message(FARMER + 1, "提交", after=mark)
    api.press(FARMER + 1, confirm, "提交")
    await api.wait_for_message(LEADER, "新需求", after=mark)
    await api.wait_idle()
    assert not [m for m in api.messages_to(FARMER + 1) if "要不要订阅" in (m.text or "")]

    await submit_question(api, "浏阳的水稻叶子上好多褐色病斑，是不是稻瘟病，打什么药")
    offer = await api.wait_for_message(FARMER, "要不要订阅")
    api.press(FARMER, offer, "不用了")
    await api.wait_for_edit(offer, "不订阅")
    assert await active_subscriptions(world, FARMER) == []
