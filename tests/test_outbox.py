"""Every message goes through the outbox: a 429 loses nothing, the most urgent rows go first,
a crash between send and mark sends again at most what was in flight, a leader who cannot be
reached puts the demand in front of staff, an expert who never bound the bot cannot be assigned."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select, update

from bot.cli import main
from bot.services import lifecycle
from bot.services.outbox import ACTION, BULK, REMINDER, REPLY, Outbox, Outgoing
from bot.services.people import ensure_person
from bot.services.sender import Sender
from bot.standin import BotApiStandIn
from bot.telegram.common import account_of
from storage.models import Demand, DemandAssignment, Expert, OutboxMessage
from tests.factories import make_staff, make_team
from tests.telegram_world import BOT_USERNAME, TOKEN, running_bot
from tests.test_broadcast import FakeChannel, FakeClock

FARMER, LEADER, EXPERT, STAFF = 1001, 2001, 3001, 4001
QUESTION = "水稻叶子上好多褐色病斑，是不是稻瘟病，打什么药"


class Recording(FakeChannel):
    """A fake channel that also keeps the texts, in the order they went out."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    async def send(self, address, message):
        self.texts.append(message.text)
        return await super().send(address, message)


async def rows(sessions, **where) -> list[OutboxMessage]:
    async with sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list((await session.scalars(query)).all())


# --- the sender, with a fake channel and clock --------------------------------------------


async def test_the_most_urgent_rows_go_first(sessions, clock):
    outbox = Outbox(sessions, clock)
    for n in range(40):
        await outbox.send(account_of(20_000 + n), Outgoing(f"群发{n}"), BULK)
    await outbox.send(account_of(10_003), Outgoing("提醒"), REMINDER)
    await outbox.send(account_of(10_002), Outgoing("新需求"), ACTION)
    await outbox.send(account_of(10_001), Outgoing("回复"), REPLY)
    channel = Recording()
    await Sender(sessions, channel, FakeClock(), lease_ttl=3600).run()
    assert channel.texts[:3] == ["回复", "新需求", "提醒"]
    assert sorted(channel.texts[3:]) == sorted(f"群发{n}" for n in range(40))


async def test_a_reply_put_during_a_broadcast_jumps_the_queue(sessions, clock):
    outbox = Outbox(sessions, clock)
    async with sessions.begin() as session:
        for n in range(150):
            await outbox.put(session, account_of(20_000 + n), Outgoing(f"群发{n}"), BULK)
    channel = Recording()
    sender = Sender(sessions, channel, rate=20, lease_ttl=3600)  # real time: a message every 50 ms
    outbox.listen(sender.wake)
    running = asyncio.create_task(sender.run(stop_when_idle=False))
    while len(channel.texts) < 10:
        await asyncio.sleep(0.005)
    await outbox.send(account_of(10_001), Outgoing("回复"), REPLY)
    while "回复" not in channel.texts:
        await asyncio.sleep(0.005)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    # Bulk messages already given a slot may go first, and those sent while the reply was being
    # written (a few at 20 a second); not the 140 still waiting.
    assert channel.texts.index("回复") <= 10 + 8


async def test_a_crash_between_send_and_mark_sends_again_only_what_was_in_flight(sessions, clock):
    outbox = Outbox(sessions, clock)
    for n in range(10):
        await outbox.send(account_of(10_000 + n), Outgoing(f"回复{n}"), REPLY)
    async with sessions.begin() as session:  # as a killed sender leaves it
        ids = [r.id for r in await rows(sessions)]
        await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids[:2])).values(status="sent"))
        await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids[2:5])).values(status="sending"))
    channel = Recording()
    sender = Sender(sessions, channel, FakeClock(), lease_ttl=3600)
    await sender.run()
    assert Counter(channel.texts) == {f"回复{n}": 1 for n in range(2, 10)}  # the 3 in flight once more, none lost
    assert sender.counters.resumed == 3
    assert {r.status for r in await rows(sessions)} == {"sent"}


async def test_a_long_text_becomes_several_messages_in_order_with_the_buttons_on_the_last(sessions, clock):
    from bot.services.notifier import Action

    text = "\n".join(f"第{n}行：水稻田间管理要点，注意水层、追肥和病虫害防治。" for n in range(400))
    outbox = Outbox(sessions, clock)
    await outbox.send(account_of(FARMER), Outgoing(text, ((Action("好的", "ok"),),)), REPLY, request_key="tg:9:1001/1#0")
    await outbox.send(account_of(FARMER), Outgoing(text, ((Action("好的", "ok"),),)), REPLY, request_key="tg:9:1001/1#0")
    parts = await rows(sessions)
    assert len(parts) == 3 and all(len(p.body["text"]) <= 4096 for p in parts)
    assert [bool(p.body.get("actions")) for p in parts] == [False, False, True]
    channel = Recording()
    # fake time runs ahead while the database works in real time: a lease that cannot run out
    await Sender(sessions, channel, FakeClock(), lease_ttl=10**9).run()
    assert "\n".join(channel.texts) == text


async def test_putting_a_message_again_under_its_request_key_adds_nothing(sessions, clock):
    outbox = Outbox(sessions, clock)
    for _ in range(3):  # a handler retried, an update replayed after a crash
        await outbox.send(account_of(FARMER), Outgoing("已提交！"), REPLY, request_key="tg:7:1001/5#0")
    assert len(await rows(sessions)) == 1


# --- the running bot ------------------------------------------------------------------------


async def test_replies_refused_with_429_arrive_after_the_pause(db_url, understander, clock):
    async with BotApiStandIn(token=TOKEN, bot_username=BOT_USERNAME, rate_limit_per_chat=1) as api:
        async with running_bot(db_url, understander, clock, api=api) as world:  # not paced: it meets 429s
            for n in range(3):
                api.send_text(FARMER, f"{QUESTION}，第{n}块田")
            for n in range(3):
                await api.wait_for_message(FARMER, f"第{n}块田", timeout=15)
            await api.wait_idle()
            assert api.too_many_requests >= 1
            assert {r.status for r in await rows(world.sessions)} == {"sent"}
            assert {r.priority for r in await rows(world.sessions)} == {REPLY}


@pytest.fixture
async def world(db_url, understander, clock):
    async with running_bot(db_url, understander, clock) as world:
        # their own Telegram names
        world.api.user(LEADER, first_name="李团长")
        world.api.user(EXPERT, first_name="张专家")
        team = await make_team(world.sessions, "水稻植保服务团", ["plant_protection", "crop"],
                               leader_telegram_id=LEADER, leader_name="李团长")
        await make_staff(world.sessions, STAFF)
        async with world.sessions.begin() as session:  # imported from the directory, never joined
            session.add(Expert(name="赵六", title="高级农艺师", fields=["plant_protection"], team_id=team.id))
            expert = await ensure_person(session, account_of(EXPERT), "张专家")  # imported with its TelegramID
            session.add(Expert(name="张专家", title="研究员", fields=["plant_protection"], team_id=team.id,
                               person_id=expert.id))
        yield world


async def submit(api):
    mark = api.mark()
    api.send_text(FARMER, QUESTION, first_name="张大哥")
    confirm = await api.wait_for_message(FARMER, "提交", after=mark)
    api.press(FARMER, confirm, "提交")
    return confirm


async def accept_and_assign(api, expert_name: str) -> None:
    """The farmer submits; the leader accepts and presses 派专家, then the expert's name."""
    await submit(api)
    card = await api.wait_for_message(LEADER, "新需求")
    api.press(LEADER, card, "接单")
    await api.wait_idle()
    api.press(LEADER, api.current(card), "派专家")
    ranked = await api.wait_for_message(LEADER, "按匹配程度排序")
    api.press(LEADER, ranked, expert_name)


async def test_a_leader_who_blocked_the_bot_puts_the_new_demand_in_front_of_staff(world, monkeypatch, capsys):
    api = world.api
    api.blocked_chats.add(LEADER)
    await submit(api)
    warning = await api.wait_for_message(STAFF, "没有送到团长", timeout=10)
    assert "屏蔽" in warning.text and QUESTION in warning.text
    [card] = await rows(world.sessions, address=str(LEADER))
    assert (card.status, card.priority) == ("blocked", ACTION) and card.purpose.startswith("new_demand:")

    monkeypatch.setenv("JICENG_DATABASE_URL", world.app.bot_data["services"].engine.url.render_as_string(False))
    monkeypatch.setenv("JICENG_HEALTH_PORT", "0")
    assert await asyncio.to_thread(main, ["outbox", "status"]) == 0
    shown = capsys.readouterr().out
    assert "待发消息：0 条" in shown and "1 条  对方已屏蔽或账号不存在" in shown


async def test_an_expert_who_never_bound_the_bot_cannot_be_assigned(world):
    api = world.api
    await accept_and_assign(api, "赵六")
    await api.wait_idle()
    alert = api.answered_callbacks[-1]
    assert alert.show_alert and "还没有绑定" in alert.text
    async with world.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DemandAssignment)) == 0
        assert (await session.scalar(select(Demand))).status == lifecycle.ACCEPTED
    assert not any("已安排专家" in (m.text or "") for m in api.messages_to(FARMER))


async def test_an_expert_who_blocked_the_bot_sends_the_leader_back_to_choose(world):
    api = world.api
    api.blocked_chats.add(EXPERT)
    await accept_and_assign(api, "张专家")
    told = await api.wait_for_message(LEADER, "没有送到", timeout=10)
    assert "张专家" in told.text and "改派" in told.text


async def test_a_sender_that_yields_hands_the_rest_to_the_sender_that_waits(sessions, clock):
    """`jiceng notice send` sending on its own hands over to a `jiceng run` started meanwhile."""
    outbox = Outbox(sessions, clock)
    async with sessions.begin() as session:
        for n in range(3000):
            await outbox.put(session, account_of(20_000 + n), Outgoing(f"群发{n}"), BULK)
    fast = {"rate": 2000, "lease_ttl": 6.0}  # real time, a fast server: the hand-over comes within 2 s
    command = Sender(sessions, Recording(), holder="cli", yields=True, **fast)
    bot = Sender(sessions, Recording(), holder="bot", **fast)
    first = asyncio.create_task(command.run())
    while len(command._channel.texts) < 20:
        await asyncio.sleep(0.01)
    await bot.run(wait_for_lease=True)
    await first
    assert command.yielded and 20 <= len(command._channel.texts) < 3000
    assert Counter(command._channel.texts + bot._channel.texts) == {f"群发{n}": 1 for n in range(3000)}
