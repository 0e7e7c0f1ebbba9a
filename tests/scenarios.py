"""Conversations told once, played on any channel.

A scenario speaks to people — `says`, `command`, `sends_photo`, `presses` a choice on a message
they got, `sees` a message containing some words — and never to a channel. `TelegramChannel`
plays it through the real python-telegram-bot Application and the Bot API stand-in over HTTP;
`MemoryChannel` through the in-memory channel (`bot.memory`). Both run the same conversation
(`bot.chat`) over the same services and the same outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select

from bot.services import lifecycle
from bot.services.people import LEADER, STAFF, Account, ensure_person, grant_role
from storage.models import Demand, Expert, ServiceTeam


@dataclass
class Seen:
    """A message a person got, as a scenario reads it."""

    text: str
    labels: list[str]
    raw: Any  # the channel's own message object


class Person(Protocol):
    name: str

    async def says(self, text: str, reply_to: Seen | None = None) -> None: ...
    async def command(self, name: str, *args: str) -> None: ...
    async def sends_photo(self, caption: str = "") -> None: ...
    async def presses(self, message: Seen, label: str) -> None: ...
    async def sees(self, words: str) -> Seen: ...
    async def current(self, message: Seen) -> Seen: ...


class Channel(Protocol):
    services: Any

    def account(self, number: int) -> Account: ...
    def person(self, number: int, name: str) -> Person: ...


# --- The directory every scenario starts from ------------------------------------------------

FARMER, LEADER_NO, EXPERT_NO, STAFF_NO = 1001, 2001, 3001, 4001
QUESTION = "老师你好，我家水稻叶子上好多褐色斑点，是不是稻瘟病，打什么药好"


async def directory(channel: Channel) -> None:
    """A rice plant-protection team led by 李团长, with 张专家 (joined) and one staff member."""
    async with channel.services.sessions.begin() as session:
        leader = await ensure_person(session, channel.account(LEADER_NO), "李团长")
        grant_role(leader, LEADER)
        await session.flush()
        team = ServiceTeam(name="水稻植保服务团", fields=["plant_protection", "crop"], regions=["430000"],
                           leader_id=leader.id)
        session.add(team)
        expert = await ensure_person(session, channel.account(EXPERT_NO), "张专家")
        grant_role(expert, "expert")
        await session.flush()
        session.add(Expert(name="张专家", title="研究员", fields=["plant_protection"], specialties="稻瘟病防治",
                           regions=["430100"], team_id=team.id, person_id=expert.id))
        grant_role(await ensure_person(session, channel.account(STAFF_NO), "王干事"), STAFF)


async def the_demand(channel: Channel) -> Demand:
    async with channel.services.sessions() as session:
        return await session.scalar(select(Demand))


# --- Scenarios ---------------------------------------------------------------------------------


async def intake(channel: Channel) -> Seen:
    """A farmer asks; the bot shows what it understood; 提交 gives a tracking number; the leader
    gets the card, presses 接单, and the farmer is told."""
    await directory(channel)
    farmer, leader = channel.person(FARMER, "张大哥"), channel.person(LEADER_NO, "李团长")
    await farmer.says(QUESTION)
    confirm = await farmer.sees("提交")
    assert "植物保护" in confirm.text and "提交" in " ".join(confirm.labels)
    await farmer.presses(confirm, "提交")
    submitted = await farmer.current(confirm)
    assert "XQ" in submitted.text
    card = await leader.sees("新需求")
    assert "稻瘟病" in card.text and "接单" in " ".join(card.labels)
    await leader.presses(card, "接单")
    told = await farmer.sees("接单")
    assert "水稻植保服务团" in told.text
    assert (await the_demand(channel)).status == lifecycle.ACCEPTED
    return card


async def service_loop(channel: Channel) -> None:
    """The leader assigns the expert, who answers; the farmer replies to the answer and it reaches
    the expert; the expert closes with a service record; the farmer says 未解决 and rates."""
    card = await intake(channel)
    farmer, leader = channel.person(FARMER, "张大哥"), channel.person(LEADER_NO, "李团长")
    expert = channel.person(EXPERT_NO, "张专家")
    await leader.presses(await leader.current(card), "派专家")
    ranked = await leader.sees("按匹配程度排序")
    assert "张专家" in ranked.text
    await leader.presses(ranked, "张专家")
    brief = await expert.sees("派给您的需求")
    await farmer.sees("已安排专家 张专家")
    await expert.presses(brief, "回复农户")
    await expert.sees("请发给农户的内容")
    await expert.says("是稻瘟病，用三环唑按说明兑水喷雾，一周后再喷一次。")
    answer = await farmer.sees("三环唑")
    assert "专家 张专家 答复" in answer.text
    await farmer.says("好的，要打几次？", reply_to=answer)
    relayed = await expert.sees("要打几次")
    assert "张大哥" in relayed.text
    await expert.presses(brief, "办结")
    close_mode = await expert.sees("哪种方式服务")
    await expert.presses(close_mode, "线上服务")
    await expert.sees("服务记录")
    await expert.says("1.5 电话指导用药")
    ask = await farmer.sees("问题解决了吗")
    await farmer.presses(ask, "未解决")
    await leader.sees("没有解决")
    await farmer.presses(await farmer.current(ask), "5星")
    demand = await the_demand(channel)
    assert demand.status == lifecycle.REOPENED and demand.rating == 5


async def privacy_notice(channel: Channel) -> None:
    """A newcomer reads the short privacy notice on /start and above their first question, and
    agrees (同意, or 提交 as the notice says); /privacy tells what is stored, for how long, who
    sees it and how to delete it."""
    await directory(channel)
    farmer, other = channel.person(FARMER, "张大哥"), channel.person(1002, "李大姐")
    await farmer.command("start")
    notice = await farmer.sees("隐私说明")
    await farmer.presses(notice, "同意")
    assert "谢谢" in (await farmer.current(notice)).text
    await farmer.says(QUESTION)
    assert "隐私说明" not in (await farmer.sees("提交")).text  # agreed already

    await other.says("柑橘红蜘蛛太多了，用什么药防治")
    confirm = await other.sees("提交")
    assert "隐私说明" in confirm.text and "即表示您同意" in confirm.text
    await other.presses(confirm, "提交")
    await other.command("privacy")
    full = await other.sees("存多久")
    assert "/forget" in full.text and "同意" not in " ".join(full.labels)  # agreed by submitting


async def sign_up(channel: Channel) -> None:
    """A farmer subscribes; staff compose a training notice step by step and send it; the farmer
    gets it and presses 报名, and holds a seat."""
    await directory(channel)
    farmer, staff = channel.person(FARMER, "张大哥"), channel.person(STAFF_NO, "王干事")
    await farmer.command("subscribe")
    fields = await farmer.sees("哪个领域")
    await farmer.presses(fields, "全部领域")
    await farmer.presses(await farmer.current(fields), "全省")
    assert "已订阅" in (await farmer.current(fields)).text

    await staff.command("notice")
    for step, answer in enumerate(("水稻病虫害绿色防控培训", "稻瘟病、稻飞虱的识别与防治", "12月10日 9:00", "3",
                                   "浏阳市农业农村局"), start=1):
        await staff.sees(f"第 {step} 步")
        await staff.says(answer)
    await staff.presses(await staff.sees("第 6 步"), "全部领域")
    await staff.presses(await staff.sees("第 7 步"), "全省")
    await staff.presses(await staff.sees("第 8 步"), "不限名额")
    await staff.presses(await staff.sees("第 9 步"), "不设截止")
    preview = await staff.sees("预览")
    await staff.presses(preview, "发送")
    notice = await farmer.sees("水稻病虫害绿色防控培训")
    await farmer.presses(notice, "报名")
    confirmed = await farmer.sees("报名成功")
    assert "取消报名" in " ".join(confirmed.labels)


SCENARIOS = {"intake": intake, "service_loop": service_loop, "sign_up": sign_up, "privacy_notice": privacy_notice}
