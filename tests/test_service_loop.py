"""The whole loop in chat: farmer → leader (接单, mode, experts) → expert (answer) → farmer
(reply) → expert (办结 with a service record) → farmer (未解决 reopens; 已解决 and stars);
transfer, return, triage and cancel paths; the timeline tells the story."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.services import lifecycle
from bot.services.people import EXPERT as EXPERT_ROLE
from bot.services.people import ensure_person, grant_role
from bot.services.situation import NEWCOMER
from bot.telegram.common import account_of
from storage.models import Demand, DemandEvent, DemandMessage, Expert, ServiceRecord
from tests.factories import make_staff, make_team
from tests.telegram_world import running_bot

FARMER, LEADER, EXPERT, OTHER_LEADER, STAFF, OTHER_FARMER = 1001, 2001, 3001, 2002, 4001, 1002
QUESTION = "浏阳的水稻叶子上好多褐色病斑，是不是稻瘟病，打什么药"


@pytest.fixture
async def world(db_url, understander, clock):
    async with running_bot(db_url, understander, clock) as world:
        # their own Telegram names
        world.api.user(LEADER, first_name="李团长")
        world.api.user(OTHER_LEADER, first_name="王团长")
        world.api.user(EXPERT, first_name="张专家")
        team = await make_team(world.sessions, "水稻植保服务团", ["plant_protection", "crop"], ["430000"],
                               leader_telegram_id=LEADER, leader_name="李团长")
        await make_team(world.sessions, "畜牧服务团", ["livestock"], leader_telegram_id=OTHER_LEADER, leader_name="王团长")
        await make_staff(world.sessions, STAFF)
        async with world.sessions.begin() as session:
            session.add(Expert(name="张专家", title="研究员", fields=["plant_protection"], specialties="稻瘟病防治、水稻栽培",
                               regions=["430100"], team_id=team.id))
        async with world.sessions.begin() as session:  # the expert has joined (as an invite would do)
            expert = await session.scalar(select(Expert).where(Expert.name == "张专家"))
            person = await ensure_person(session, account_of(EXPERT), "张专家")
            grant_role(person, EXPERT_ROLE)
            expert.person_id = person.id
        yield world


async def submit(api, text=QUESTION):
    mark = api.mark()
    api.send_text(FARMER, text, first_name="张大哥")
    confirm = await api.wait_for_message(FARMER, "提交", after=mark)
    api.press(FARMER, confirm, "提交")
    return await api.wait_for_message(LEADER, "新需求", after=mark)


async def assign_expert(api, text=QUESTION):
    """The leader accepts the submitted demand and assigns 张专家; returns the expert's card."""
    card = await submit(api, text)
    api.press(LEADER, card, "接单")
    await api.wait_idle()
    api.press(LEADER, api.current(card), "派专家")
    ranked = await api.wait_for_message(LEADER, "按匹配程度排序")
    api.press(LEADER, ranked, "张专家")
    return await api.wait_for_message(EXPERT, "派给您的需求")


async def close_service(api, brief, mode: str, record: str):
    """The expert closes the service with a record; returns the farmer's 解决了吗 question."""
    api.press(EXPERT, brief, "办结")
    close_mode = await api.wait_for_message(EXPERT, "哪种方式服务")
    api.press(EXPERT, close_mode, mode)
    await api.wait_for_message(EXPERT, "服务记录")
    api.send_text(EXPERT, record)
    return await api.wait_for_message(FARMER, "问题解决了吗")


async def timeline(world) -> list[tuple[str, str]]:
    async with world.sessions() as session:
        events = (await session.scalars(select(DemandEvent).order_by(DemandEvent.id))).all()
    return [(e.to_status, e.note) for e in events]


async def test_the_whole_loop(world):
    api = world.api
    card = await submit(api)
    api.press(LEADER, card, "接单")
    await api.wait_for_message(FARMER, "接单")
    await api.wait_idle()
    card = api.current(card)
    api.press(LEADER, card, "选择服务方式")
    ask_mode = await api.wait_for_message(LEADER, "哪种方式")
    api.press(LEADER, ask_mode, "线上服务")
    await api.wait_idle()
    api.press(LEADER, card, "派专家")
    ranked = await api.wait_for_message(LEADER, "按匹配程度排序")
    assert "张专家" in ranked.text and "领域对口" in ranked.text and "擅长稻瘟病" in ranked.text
    api.press(LEADER, ranked, "张专家")
    brief = await api.wait_for_message(EXPERT, "派给您的需求")
    assert "线上服务" in brief.text and "张大哥" in brief.text
    await api.wait_for_message(FARMER, "已安排专家 张专家")

    api.press(EXPERT, brief, "回复农户")
    await api.wait_for_message(EXPERT, "请发给农户的内容")
    api.send_text(EXPERT, "是稻瘟病，用三环唑按说明兑水喷雾，一周后再喷一次。")
    answer = await api.wait_for_message(FARMER, "三环唑")
    assert "专家 张专家 答复" in answer.text
    mark = api.mark()
    api.send_text(FARMER, "好的，要打几次？", reply_to=answer.message)
    relayed = await api.wait_for_message(EXPERT, "要打几次", after=mark)
    assert "张大哥" in relayed.text and "138" not in relayed.text

    api.press(EXPERT, brief, "办结")
    close_mode = await api.wait_for_message(EXPERT, "哪种方式服务")
    api.press(EXPERT, close_mode, "线上服务")
    await api.wait_for_message(EXPERT, "服务记录")
    api.send_text(EXPERT, "1.5 电话指导用药")
    ask = await api.wait_for_message(FARMER, "问题解决了吗")
    api.press(FARMER, ask, "未解决")
    await api.wait_for_message(LEADER, "没有解决")
    await api.wait_idle()
    api.press(FARMER, api.current(ask), "5星")
    await api.wait_idle()
    async with world.sessions() as session:
        demand = await session.scalar(select(Demand))
        record = await session.scalar(select(ServiceRecord))
    assert demand.status == lifecycle.REOPENED and demand.rating == 5
    assert record.hours == 1.5 and record.mode == "online" and record.summary == "电话指导用药"
    story = [status for status, _ in await timeline(world)]
    assert story == [lifecycle.WAITING, lifecycle.ACCEPTED, lifecycle.IN_SERVICE, lifecycle.ANSWERED,
                     lifecycle.CLOSED, lifecycle.REOPENED]




async def test_where_a_plain_message_goes_follows_where_the_person_stands(world):
    """Routing reads one situation: before an answer a farmer's text is a new question; once an
    expert has answered, a plain text (no reply) goes to that expert; the expert's own plain text
    asks which role it is in."""
    api, people, situations = world.api, world.services.people, world.services.situations
    assert await people.by_account(account_of(FARMER)) is None  # never wrote before
    assert await situations.of(0) == NEWCOMER
    brief = await assign_expert(api)
    farmer_id = (await people.by_account(account_of(FARMER))).id
    expert_id = (await people.by_account(account_of(EXPERT))).id
    farmer = await situations.of(farmer_id)
    assert not farmer.answered and not farmer.serving
    assert (await situations.of(expert_id)).serving
    api.press(EXPERT, brief, "回复农户")
    await api.wait_for_message(EXPERT, "请发给农户的内容")
    api.send_text(EXPERT, "先把病叶摘掉，再用三环唑喷雾。")
    await api.wait_for_message(FARMER, "三环唑")
    assert (await situations.of(farmer_id)).answered
    mark = api.mark()
    api.send_text(FARMER, "摘下来的叶子要烧掉吗")
    relayed = await api.wait_for_message(EXPERT, "要烧掉吗", after=mark)
    assert "张大哥" in relayed.text
    mark = api.mark()
    api.send_text(EXPERT, "明天我去田里看看")
    await api.wait_for_message(EXPERT, "这条消息是", after=mark)


async def test_leader_transfers_and_returns_with_reasons(world):
    api = world.api
    card = await submit(api)
    api.press(LEADER, card, "接单")
    await api.wait_idle()
    api.press(LEADER, api.current(card), "转派")
    choose = await api.wait_for_message(LEADER, "转派给哪个服务团")
    api.press(LEADER, choose, "畜牧服务团")
    await api.wait_for_message(LEADER, "原因")
    api.send_text(LEADER, "其实是养殖问题")
    moved = await api.wait_for_message(OTHER_LEADER, "转派来的需求")
    assert "其实是养殖问题" in moved.text
    await api.wait_for_message(FARMER, "转交")
    api.press(OTHER_LEADER, moved, "接单")
    await api.wait_idle()
    api.press(OTHER_LEADER, api.current(moved), "退回工作人员")
    await api.wait_for_message(OTHER_LEADER, "退回的原因")
    api.send_text(OTHER_LEADER, "不是我们的领域")
    notice = await api.wait_for_message(STAFF, "退回")
    assert "不是我们的领域" in notice.text
    mark = api.mark()
    api.send_text(STAFF, "/triage")
    queue = await api.wait_for_message(STAFF, "等待分派", after=mark)
    api.press(STAFF, queue, "分派")
    teams = await api.wait_for_message(STAFF, "分派给哪个服务团")
    api.press(STAFF, teams, "水稻植保服务团")
    await api.wait_for_message(LEADER, "新需求", after=mark)
    notes = [note for _, note in await timeline(world)]
    assert any("其实是养殖问题" in n for n in notes) and any("不是我们的领域" in n for n in notes)
    assert any("工作人员分派" in n for n in notes)


async def test_farmer_withdraws_a_demand_nobody_accepted(world):
    api = world.api
    await submit(api)
    mark = api.mark()
    api.send_text(FARMER, "/my")
    page = await api.wait_for_message(FARMER, "您提交的问题", after=mark)
    api.press(FARMER, page, "撤回")
    await api.wait_idle()
    assert any("已撤回" in (a.text or "") for a in api.answered_callbacks)
    async with world.sessions() as session:
        assert (await session.scalar(select(Demand))).status == lifecycle.CANCELLED


async def test_outsiders_cannot_act_on_the_loop(world):
    api = world.api
    card = await submit(api)
    api.press(LEADER, card, "接单")
    await api.wait_idle()
    for data in ("ld:ex:1:-", "ld:a:1:1", "ld:tr:1:-", "ex:ans:1:-", "ex:close:1:-", "tg:1:1", "fb:no:1:-",
                 "ld:ex:x:-", "ld:m:1:bogus", "cx:x", "sg:", "cx:1:2"):
        api.press_data(OTHER_LEADER, api.current(card), data)
    await api.wait_idle()
    async with world.sessions() as session:
        demand = await session.scalar(select(Demand))
    assert demand.status == lifecycle.ACCEPTED
    assert len([a for a in api.answered_callbacks if a.show_alert]) >= 12
    assert sum("失效" in (a.text or "") for a in api.answered_callbacks) >= 5  # malformed data


async def test_reminders_survive_a_restart_and_the_follow_up_reopens(db_url, understander, clock):
    """A leader who does not accept is reminded, then staff are told (督办) — by a bot started
    after the reminders were scheduled. A week after 办结 the farmer gets the 回访; 没有 reopens."""
    from bot.standin import BotApiStandIn

    async with BotApiStandIn() as api:
        async with running_bot(db_url, understander, clock, api=api) as world:
            await make_team(world.sessions, "水稻植保服务团", ["plant_protection"], leader_telegram_id=LEADER,
                            leader_name="李团长")
            await make_staff(world.sessions, STAFF)
            clock.now = clock.now.replace(hour=2)  # 10:00 China time, a Saturday: due Monday 09:00 + 1 working day
            await submit(api)
        clock.advance(days=5)  # long past the accept deadline, while the bot was down
        async with running_bot(db_url, understander, clock, api=api) as world:
            await api.wait_for_message(LEADER, "XQ", timeout=10)  # the reminder
            overdue = await api.wait_for_message(STAFF, "超时", timeout=10)  # the escalation
            assert "XQ" in overdue.text
            mark = api.mark()
            api.send_text(STAFF, "/overdue")
            listing = await api.wait_for_message(STAFF, "超时的需求", after=mark)
            assert "水稻植保服务团" in listing.text


async def test_follow_up_a_week_after_closing_reopens_when_not_solved(world, clock):
    api = world.api
    brief = await assign_expert(api)
    ask = await close_service(api, brief, "短期服务", "3小时 上门查看并指导喷药")
    api.press(FARMER, ask, "已解决")
    await api.wait_idle()
    api.press(FARMER, api.current(ask), "4星")
    await api.wait_idle()
    clock.advance(days=8)
    await world.services.deadlines.run_due(world.services.outbox)
    follow_up = await api.wait_for_message(FARMER, "回访")
    api.press(FARMER, follow_up, "没有")
    await api.wait_for_message(LEADER, "没有解决")
    async with world.sessions() as session:
        demand = await session.scalar(select(Demand))
    assert demand.status == lifecycle.REOPENED and demand.rating == 4
    notes = [note for _, note in await timeline(world)]
    assert notes[-1] == "回访：问题没有解决"


async def test_a_solved_demand_joins_the_knowledge_base_only_if_the_farmer_agrees_and_the_leader_publishes(world):
    from storage.models import KnowledgeEntry

    api = world.api
    brief = await assign_expert(api)
    api.press(EXPERT, brief, "回复农户")
    await api.wait_for_message(EXPERT, "请发给农户的内容")
    api.send_text(EXPERT, "是稻瘟病，用三环唑按标签用量喷雾。")
    await api.wait_for_message(FARMER, "三环唑")
    ask = await close_service(api, brief, "线上服务", "1 线上指导")
    api.press(FARMER, ask, "已解决")
    share = await api.wait_for_message(FARMER, "可以给遇到同样问题的农户参考吗")
    async with world.sessions() as session:
        assert await session.scalar(select(KnowledgeEntry)) is None  # nothing shared before a yes
    api.press(FARMER, share, "可以分享")
    card = await api.wait_for_message(LEADER, "请核对后发布")
    async with world.sessions() as session:
        entry = await session.scalar(select(KnowledgeEntry))
    assert entry.question == QUESTION and "三环唑" in entry.answer and entry.status == "review"
    await world.services.live.refresh()
    assert f"db:{entry.id}" not in world.services.knowledge.index  # not before review

    api.press(EXPERT, card, "发布")  # not the leader: refused
    api.press(LEADER, card, "修改答案")
    await api.wait_for_message(LEADER, "修改后的答案")
    api.send_text(LEADER, "稻瘟病：发病初期用三环唑按标签用量喷雾，间隔7天再喷一次。电话13800000000")
    corrected = await api.wait_for_message(LEADER, "间隔7天")
    assert "13800000000" not in corrected.text  # numbers are taken out of corrections too
    drop = next(b["callback_data"] for row in corrected.reply_markup["inline_keyboard"] for b in row
                if b["text"] == "不发布")
    api.press(LEADER, corrected, "发布")
    await api.wait_for_edit(LEADER, "已发布")
    assert "间隔7天" in world.services.knowledge.get(f"db:{entry.id}").answer
    mark = api.mark()
    api.press_data(LEADER, corrected, drop)  # a second decision does not undo the first
    await api.wait_idle()
    async with world.sessions() as session:
        assert (await session.scalar(select(KnowledgeEntry))).status == "published"
    assert not [m for m in api.messages_to(EXPERT) if m.seq > mark]


async def test_a_shared_answer_never_shows_the_first_farmers_phone_or_name(world):
    """Farmer A gives name, village and phone; after A agrees to share, farmer B asking the same
    sees the answer — without any of them — and cannot open answers B was never shown."""
    from storage.models import KnowledgeEntry

    api = world.api
    personal = "我是王建国，住在青山村，电话13912345678，水稻稻瘟病怎么防治？"
    brief = await assign_expert(api, personal)
    api.press(EXPERT, brief, "回复农户")
    await api.wait_for_message(EXPERT, "请发给农户的内容")
    api.send_text(EXPERT, "王建国您好，稻瘟病用三环唑喷雾，有问题打我电话 13800000000。")
    await api.wait_for_message(FARMER, "三环唑")
    ask = await close_service(api, brief, "线上服务", "1 线上指导")
    api.press(FARMER, ask, "已解决")
    api.press(FARMER, await api.wait_for_message(FARMER, "可以给遇到同样问题的农户参考吗"), "可以分享")
    card = await api.wait_for_message(LEADER, "请核对后发布")
    async with world.sessions() as session:
        entry = await session.scalar(select(KnowledgeEntry))
    for secret in ("王建国", "青山村", "13912345678", "13800000000"):
        assert secret not in entry.question and secret not in entry.answer and secret not in card.text
    api.press(LEADER, card, "发布")
    await api.wait_for_edit(LEADER, "已发布")
    mark = api.mark()
    api.send_text(OTHER_FARMER, "请问水稻稻瘟病怎么防治？", first_name="李大姐")
    confirm = await api.wait_for_message(OTHER_FARMER, "提交", after=mark)
    assert "三环唑" in confirm.text
    api.press(OTHER_FARMER, confirm, "看第1条答案")
    full = await api.wait_for_message(OTHER_FARMER, "三环唑", after=mark + 1)
    seen = confirm.text + full.text
    for secret in ("王建国", "青山村", "13912345678", "13800000000"):
        assert secret not in seen
    api.press_data(FARMER, confirm, "kb:db:1")   # an old-style key naming any entry
    api.press_data(FARMER, confirm, next(b["callback_data"] for row in confirm.reply_markup["inline_keyboard"]
                                         for b in row if "答案" in b["text"]))  # B's button, pressed by A
    await api.wait_idle()
    assert not [m for m in api.messages_to(FARMER) if m.seq > mark and "三环唑" in (m.text or "")]


async def test_a_leader_serving_themselves_or_a_long_record_waits_for_staff(world):
    """A leader may assign themselves, but their hours count only once staff approve; so do any
    hours above 24; above 72 a record is refused."""
    from bot.services import hours
    from bot.services.hours import ConversionRule
    from storage.models import ServiceRecord

    api = world.api
    card = await submit(api)
    api.press(LEADER, card, "接单")
    await api.wait_idle()
    api.press(LEADER, api.current(card), "派专家")
    ranked = await api.wait_for_message(LEADER, "按匹配程度排序")
    api.press(LEADER, ranked, "李团长")
    brief = await api.wait_for_message(LEADER, "派给您的需求")
    api.press(LEADER, brief, "办结")
    api.press(LEADER, await api.wait_for_message(LEADER, "哪种方式服务"), "线上服务")
    await api.wait_for_message(LEADER, "服务记录")
    mark = api.mark()
    api.send_text(LEADER, "100 电话指导")
    await api.wait_for_message(LEADER, "0 到 72 小时", after=mark)
    api.send_text(LEADER, "2 电话指导")
    await api.wait_for_message(LEADER, "要经工作人员审核", after=mark)
    review = await api.wait_for_message(STAFF, "请审核服务时长", after=mark)
    assert "团长把需求派给了自己" in review.text and "2 小时" in review.text

    async def counted() -> float:
        rows = await hours.ledger(world.sessions, 2026, ConversionRule())
        return sum(r.total_hours for r in rows)

    assert await counted() == 0
    api.press(LEADER, review, "认可")                    # not staff: refused
    await api.wait_idle()
    assert await counted() == 0
    api.press(STAFF, review, "认可")
    await api.wait_idle()
    assert "已认可" in api.current(review).text and await counted() == 2
    async with world.sessions() as session:
        assert (await session.scalar(select(ServiceRecord))).review == "approved"


async def test_a_farmer_deletes_their_personal_data(world):
    """/forget, after a yes: the name, accounts and words go; the demand stays as statistics;
    the farmer's next message starts a new person. A directory member is refused."""
    from bot.services.forget import FORGOTTEN
    from bot.telegram.common import account_of
    from storage.models import ChannelAccount, Person

    api = world.api
    brief = await assign_expert(api, "我是王建国，电话13912345678，水稻稻瘟病怎么防治？")
    api.send_photo(FARMER)
    api.press(EXPERT, brief, "回复农户")
    await api.wait_for_message(EXPERT, "请发给农户的内容")
    api.send_text(EXPERT, "王建国您好，用三环唑。")
    await api.wait_for_message(FARMER, "三环唑")
    farmer = (await world.services.people.by_account(account_of(FARMER))).id
    mark = api.mark()
    api.send_text(FARMER, "/forget")
    ask = await api.wait_for_message(FARMER, "确定要删除吗", after=mark)
    api.press(FARMER, ask, "确定删除")
    await api.wait_idle()
    assert "已删除您的个人信息" in api.current(ask).text
    async with world.sessions() as session:
        demand = await session.scalar(select(Demand))
        person = await session.get(Person, farmer)
        accounts = (await session.scalars(select(ChannelAccount).where(ChannelAccount.person_id == farmer))).all()
        words = " ".join((await session.scalars(select(DemandMessage.text))).all())
    assert demand.text == FORGOTTEN and demand.field == "plant_protection" and demand.status == lifecycle.ANSWERED
    assert person.display_name == "" and accounts == [] and "王建国" not in words and "13912345678" not in words
    mark = api.mark()
    api.send_text(FARMER, "柑橘红蜘蛛怎么防治", first_name="新用户")
    await api.wait_for_message(FARMER, "提交", after=mark)
    assert (await world.services.people.by_account(account_of(FARMER))).id != farmer

    mark = api.mark()
    api.send_text(EXPERT, "/forget")
    api.press(EXPERT, await api.wait_for_message(EXPERT, "确定要删除吗", after=mark), "确定删除")
    await api.wait_idle()
    assert any("由工作人员维护" in (a.text or "") for a in api.answered_callbacks)
