"""Enterprises and the matching hub: a contact registers the enterprise with its 统一社会信用代码 (a
wrong check digit is refused with the reason); the enterprise's question about 辣椒酱胀袋 is met
at once with a matching technology achievement and an expert, each with its reasons."""

from __future__ import annotations

import pytest

from bot.app import Services
from bot.config import Settings
from bot.memory import MemoryChat
from bot.services.achievements import HEADERS, import_achievements
from bot.services.directory import add_staff
from bot.services.enterprises import ALPHABET, WEIGHTS, credit_code_problem
from bot.services.people import LEADER, Account, ensure_person, grant_role
from storage.models import Expert, ServiceBase, ServiceTeam


def with_check_digit(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return first17 + ALPHABET[(31 - total % 31) % 31]


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", "91440300708461136T"])
def test_real_credit_codes_pass_the_check(code):
    assert credit_code_problem(code) is None


@pytest.mark.parametrize("code, reason", [
    ("91350100M000100Y44", "校验码"), ("9135010OM000100Y43", "不能有「O」"), ("9135", "18 位")])
def test_wrong_credit_codes_say_why(code, reason):
    assert reason in credit_code_problem(code)


@pytest.fixture
async def chat(db_url, understander, clock, tmp_path):
    services = Services.build(Settings(database_url=db_url, bot_token="memory"), understander, clock)
    async with services.sessions.begin() as session:
        leader = await ensure_person(session, Account("memory", "2001"), "王团长")
        grant_role(leader, LEADER)
        await session.flush()
        team = ServiceTeam(name="农产品加工服务团", fields=["processing"], regions=["430000"], leader_id=leader.id)
        session.add(team)
        session.add(ServiceBase(name="浏阳食品加工专家服务基地", host="浏阳经开区", region_code="430181",
                                status="approved", conditions={}))
        await session.flush()
        session.add(Expert(name="周教授", title="教授", employer="湖南农业大学食品科学技术学院", fields=["processing"],
                           specialties="辣椒制品、发酵食品杀菌、胀袋防控", regions=["430000"], team_id=team.id))
    sheet = tmp_path / "achievements.csv"
    sheet.write_text(",".join(HEADERS) + "\n辣椒酱低温杀菌防胀袋技术,湖南农业大学,农产品加工与储运,中试,"
                     "针对辣椒酱装瓶后胀袋、漏气，采用低温长时杀菌和充氮包装,技术转让、许可\n", "utf-8-sig")
    await import_achievements(services.sessions, sheet)
    await add_staff(services.sessions, Account("memory", "4001"), "王干事")
    try:
        yield MemoryChat(services)
    finally:
        await services.engine.dispose()


async def test_an_enterprise_registers_asks_and_sees_matches_with_reasons(chat):
    contact = chat.person("5001", "刘经理")
    await contact.command("enterprise")
    assert "统一社会信用代码" in contact.inbox[-1].text
    await contact.says("湖南辣味食品有限公司 91430181MA4L00000X")
    assert "校验码" in contact.inbox[-1].text  # refused, with the reason
    code = with_check_digit("91430181MA4L00000")
    await contact.says(f"湖南辣味食品有限公司 {code}")
    assert "已登记企业「湖南辣味食品有限公司」" in contact.inbox[-1].text

    await contact.says("我们厂的辣椒酱装瓶后出现胀袋，怎么解决")
    await contact.presses("提交")
    matched = next(m.text for m in contact.inbox if "平台为您匹配了" in m.text)
    assert "辣椒酱低温杀菌防胀袋技术" in matched and "涉及辣椒酱" in matched and "可技术转让、许可" in matched
    expert_line = next(line for line in matched.splitlines() if "周教授" in line)
    assert "领域对口" in expert_line and "擅长" in expert_line
    assert "浏阳食品加工专家服务基地" in matched  # the enterprise's region, read from its credit code
    clerk = chat.person("4001", "王干事")
    matches_message = next(m for m in contact.inbox if "平台为您匹配了" in m.text)
    stranger = chat.person("5002", "别人")
    await stranger.presses("了解第1项成果", matches_message)  # a forged press from someone else's list
    assert stranger.toasts[-1] == "没有这项技术成果。" and not clerk.inbox
    await contact.presses("了解第1项成果")
    assert "已转告成果方「湖南农业大学」" in contact.inbox[-1].text
    assert any("对技术成果「辣椒酱低温杀菌防胀袋技术」感兴趣" in m.text for m in clerk.inbox)

    leader = chat.person("2001", "王团长")
    await leader.presses("接单")
    assert any("匹配参考" in m.text and "辣椒酱低温杀菌防胀袋技术" in m.text for m in leader.inbox)


def test_the_policys_minimum_shares_are_checked_not_enforced():
    from bot.services.achievements import Terms, split_warnings

    assert split_warnings("湖南农业大学", Terms("某食品公司", "技术转让", researchers_share=75, staff_share=5)) == []
    low = split_warnings("湖南农业大学", Terms("某食品公司", "许可", researchers_share=60, staff_share=2))
    assert any("70%" in w for w in low) and any("5%" in w for w in low)
    assert split_warnings("某研究所", Terms("某合作社", "自行实施", profit_share=12, profit_years=4)) == []
    assert any("3 至 5 年" in w for w in split_warnings("某研究所", Terms("某合作社", "技术入股", profit_share=12,
                                                                          profit_years=8)))


async def test_the_enterprise_reports_jobs_kept_and_added_after_the_service(chat, clock):
    from sqlalchemy import select, update

    from bot.services import lifecycle
    from storage.models import Demand

    contact = chat.person("5001", "刘经理")
    await contact.command("enterprise", "湖南辣味食品有限公司", with_check_digit("91430181MA4L00000"))
    await contact.says("我们厂的辣椒酱装瓶后出现胀袋，怎么解决")
    await contact.presses("提交")
    async with chat.services.sessions.begin() as session:  # the service was given and closed
        await session.execute(update(Demand).values(status=lifecycle.CLOSED, closed_at=clock()))
        demand_id = (await session.scalar(select(Demand.id)))
    from bot.buttons import Solved

    await contact.presses_data(Solved(demand_id).encode(), contact.inbox[-1])
    await contact.presses("填写稳岗扩岗情况")
    await contact.says("二十 三")
    assert "没看懂" in contact.inbox[-1].text
    await contact.says("20 3")
    assert "稳定岗位 20 个，新增岗位 3 个" in contact.inbox[-1].text
    async with chat.services.sessions() as session:
        demand = await session.get(Demand, demand_id)
    assert (demand.jobs_kept, demand.jobs_added) == (20, 3)
