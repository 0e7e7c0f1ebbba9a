"""The service-hours ledger: hours by mode per expert and year (China time), converted to
继续教育学时 by a configurable rule with a yearly cap; the report staff hand on; /hours."""

from __future__ import annotations

import csv
import itertools
from datetime import date, datetime, timezone

import openpyxl
import pytest
from sqlalchemy import select

from bot.cli import main
from bot.errors import JicengError
from bot.services import hours
from bot.services.hours import CIRCUIT, ONLINE, SHORT_VISIT, ConversionRule, ReportFileError, RuleFileError
from bot.services.people import EXPERT, FARMER, ensure_person, grant_role
from bot.telegram.common import account_of
from storage.models import Demand, Expert, ServiceRecord
from tests.factories import make_team, person_id
from tests.telegram_world import running_bot

EXPERT_TG, FARMER_TG, OTHER_EXPERT_TG = 5001, 1001, 5002
_numbers = itertools.count(1)


async def make_expert(sessions, name: str, team=None, telegram_id: int | None = None,
                      title: str = "高级农艺师", employer: str = "湖南农业大学") -> Expert:
    """An expert from the directory; bound to a chat account (role expert) when telegram_id is given."""
    async with sessions.begin() as session:
        expert = Expert(name=name, title=title, employer=employer, team_id=team.id if team else None)
        if telegram_id is not None:
            person = await ensure_person(session, account_of(telegram_id), name)
            grant_role(person, EXPERT)
            await session.flush()
            expert.person_id = person.id
        session.add(expert)
    return expert


async def add_record(sessions, expert: Expert, mode: str, service_hours: float, *,
                     visit_date: date | None = None,
                     created_at: datetime = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)) -> None:
    """A closed demand's service record, as `办结` leaves it."""
    n = next(_numbers)
    async with sessions.begin() as session:
        farmer = await ensure_person(session, account_of(900_000 + n), "农户")
        demand = Demand(tracking_no=f"XQ-T{n:05d}", text="水稻稻瘟病", submitter_id=farmer.id, field="crop",
                        confidence=0.9, status="closed")
        session.add(demand)
        await session.flush()
        session.add(ServiceRecord(demand_id=demand.id, expert_id=expert.id, mode=mode, hours=service_hours,
                                  visit_date=visit_date, summary="现场指导", created_at=created_at))


@pytest.fixture
async def directory(sessions):
    """Two experts in two teams with records in 2025, 2026 and 2027."""
    rice = await make_team(sessions, "水稻植保服务团", ["plant_protection"])
    pigs = await make_team(sessions, "生猪养殖服务团", ["livestock"])
    wang = await make_expert(sessions, "王教授", rice, telegram_id=EXPERT_TG)
    li = await make_expert(sessions, "李研究员", pigs, title="研究员", employer="湖南省畜牧水产研究所")
    await add_record(sessions, wang, ONLINE, 3)
    await add_record(sessions, wang, ONLINE, 1.5)
    await add_record(sessions, wang, SHORT_VISIT, 8, visit_date=date(2026, 3, 10))
    await add_record(sessions, wang, CIRCUIT, 16, visit_date=date(2026, 9, 1))
    await add_record(sessions, wang, SHORT_VISIT, 100, visit_date=date(2025, 12, 31))  # last year
    await add_record(sessions, li, CIRCUIT, 40, visit_date=date(2026, 5, 5))
    await add_record(sessions, li, CIRCUIT, 40, visit_date=date(2026, 6, 5))
    await add_record(sessions, li, ONLINE, 2, created_at=datetime(2027, 1, 2, 1, 0, tzinfo=timezone.utc))
    return {"wang": wang, "li": li}


async def test_ledger_sums_each_experts_year_by_mode_and_converts_with_the_cap(sessions, directory):
    rows = await hours.ledger(sessions, 2026, ConversionRule())
    assert [(r.name, r.team) for r in rows] == [("李研究员", "生猪养殖服务团"), ("王教授", "水稻植保服务团")]
    li, wang = rows
    assert wang.hours_by_mode == {ONLINE: 4.5, SHORT_VISIT: 8, CIRCUIT: 16}
    assert wang.total_hours == 28.5 and wang.services == 4
    assert wang.credit_hours == 4.5 * 0.5 + 8 + 16 == 26.25 and not wang.capped
    assert (wang.title, wang.employer) == ("高级农艺师", "湖南农业大学")
    assert li.total_hours == 80 and li.services == 2
    assert li.credit_before_cap == 80 and li.credit_hours == 72 and li.capped


async def test_a_rule_file_changes_factors_and_cap(sessions, directory, tmp_path):
    toml = tmp_path / "rule.toml"
    toml.write_text('yearly_cap = false\n[factors]\n"线上服务" = 1\ncircuit = 0.5\n', "utf-8")
    rule = ConversionRule.load(toml)
    li, wang = await hours.ledger(sessions, 2026, rule)
    assert wang.credit_hours == 4.5 + 8 + 8
    assert li.credit_hours == 40 and not li.capped

    as_json = tmp_path / "rule.json"
    as_json.write_text('{"yearly_cap": 20}', "utf-8")
    li, wang = await hours.ledger(sessions, 2026, ConversionRule.load(as_json))
    assert (wang.credit_hours, li.credit_hours) == (20, 20)


@pytest.mark.parametrize("content, words", [
    ("[factors]\nonline = -1\n", "不小于 0"),
    ("[factors]\nonsite = 1\n", "onsite"),
    ("cap = 10\n", "cap"),
    ("yearly_cap = 0\n", "上限"),
    ("yearly_cap = \n", "格式有误"),
])
def test_a_bad_rule_file_is_refused_in_chinese(tmp_path, content, words):
    path = tmp_path / "rule.toml"
    path.write_text(content, "utf-8")
    with pytest.raises(RuleFileError) as caught:
        ConversionRule.load(path)
    assert words in caught.value.user_message


async def test_year_follows_the_visit_date_else_creation_in_china_time(sessions):
    team = await make_team(sessions, "水稻植保服务团", ["plant_protection"])
    zhao = await make_expert(sessions, "赵专家", team)
    # 2026-12-31 20:00 UTC is 2027-01-01 04:00 in China.
    await add_record(sessions, zhao, ONLINE, 2, created_at=datetime(2026, 12, 31, 20, 0, tzinfo=timezone.utc))
    # 2026-12-31 15:59 UTC is still 2026-12-31 23:59 in China.
    await add_record(sessions, zhao, ONLINE, 1, created_at=datetime(2026, 12, 31, 15, 59, tzinfo=timezone.utc))
    # Entered in 2027 (China time) for a visit made in 2026: counts in 2026.
    await add_record(sessions, zhao, CIRCUIT, 6, visit_date=date(2026, 12, 30),
                     created_at=datetime(2027, 1, 3, 2, 0, tzinfo=timezone.utc))
    [in_2026] = await hours.ledger(sessions, 2026)
    [in_2027] = await hours.ledger(sessions, 2027)
    assert in_2026.hours_by_mode == {ONLINE: 1, SHORT_VISIT: 0, CIRCUIT: 6}
    assert in_2027.hours_by_mode == {ONLINE: 2, SHORT_VISIT: 0, CIRCUIT: 0}
    assert await hours.ledger(sessions, 2025) == []


async def test_expert_hours_for_an_expert_a_new_expert_and_a_farmer(sessions, directory):
    wang = await hours.expert_hours(sessions, await person_id(sessions, EXPERT_TG), 2026, ConversionRule())
    assert wang.name == "王教授" and wang.total_hours == 28.5
    new = await make_expert(sessions, "钱专家", telegram_id=OTHER_EXPERT_TG)
    row = await hours.expert_hours(sessions, await person_id(sessions, OTHER_EXPERT_TG), 2026, ConversionRule())
    assert row.expert_id == new.id and row.services == 0 and row.credit_hours == 0
    async with sessions.begin() as session:
        grant_role(await ensure_person(session, account_of(FARMER_TG), "张大哥"), FARMER)
    assert await hours.expert_hours(sessions, await person_id(sessions, FARMER_TG), 2026, ConversionRule()) is None
    assert await hours.expert_hours(sessions, 424242, 2026, ConversionRule()) is None


# --- jiceng report hours -----------------------------------------------------------------


@pytest.fixture
def env(monkeypatch, db_url):
    monkeypatch.setenv("JICENG_DATABASE_URL", db_url)
    return db_url


async def _in_thread(function, *args):
    # `jiceng` runs its own event loop; tests that build data with ours call it from a thread.
    import asyncio

    return await asyncio.to_thread(function, *args)


async def test_report_hours_writes_an_xlsx_staff_can_open(env, directory, tmp_path, capsys):
    out = tmp_path / "学时台账.xlsx"
    assert await _in_thread(main, ["report", "hours", "--year", "2026", "--out", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "2026 年" in summary and "2 位专家" in summary and str(out) in summary
    book = openpyxl.load_workbook(out)
    sheet = book.active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == ["姓名", "职称", "工作单位", "所属服务团", "线上服务(小时)", "短期服务(小时)",
                               "巡回服务(小时)", "合计(小时)", "服务次数", "折算继续教育学时"]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.column_dimensions["C"].width >= 20
    assert list(values[1]) == ["李研究员", "研究员", "湖南省畜牧水产研究所", "生猪养殖服务团", 0, 0, 80, 80, 2, 72]
    assert list(values[2]) == ["王教授", "高级农艺师", "湖南农业大学", "水稻植保服务团", 4.5, 8, 16, 28.5, 4, 26.25]
    assert len(values) == 3


async def test_report_hours_writes_a_utf8_csv_with_bom_and_honours_the_rule(env, directory, tmp_path, capsys):
    rule = tmp_path / "rule.toml"
    rule.write_text("yearly_cap = 50\n", "utf-8")
    out = tmp_path / "hours.csv"
    args = ["report", "hours", "--year", "2026", "--out", str(out), "--rule", str(rule)]
    assert await _in_thread(main, args) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")  # UTF-8 throughout: nothing in GBK
    rows = list(csv.reader(text.splitlines()))
    assert rows[0][0] == "姓名" and rows[0][-1] == "折算继续教育学时"
    assert rows[1] == ["李研究员", "研究员", "湖南省畜牧水产研究所", "生猪养殖服务团", "0", "0", "80", "80", "2", "50"]
    assert rows[2][-3:] == ["28.5", "4", "26.25"]


async def test_report_hours_refuses_an_unknown_suffix_in_chinese(env, directory, tmp_path, capsys):
    out = tmp_path / "hours.pdf"
    assert await _in_thread(main, ["report", "hours", "--year", "2026", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "不支持" in err and ".pdf" in err and ".xlsx" in err
    assert not out.exists()
    with pytest.raises(ReportFileError) as caught:
        hours.write_report([], tmp_path / "hours.txt")
    assert isinstance(caught.value, JicengError) and ".csv" in caught.value.user_message


# --- /hours through the real bot ---------------------------------------------------------


@pytest.fixture
async def world(db_url, understander, clock):
    async with running_bot(db_url, understander, clock) as world:
        yield world


async def test_hours_command_shows_an_expert_this_years_hours(world, clock):
    await _directory_in(world.sessions)
    clock.now = datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc)
    world.api.send_text(EXPERT_TG, "/hours", first_name="王教授")
    reply = await world.api.wait_for_message(EXPERT_TG, "学时")
    assert "2026 年" in reply.text
    assert "线上服务：4.5 小时" in reply.text and "短期服务：8 小时" in reply.text and "巡回服务：16 小时" in reply.text
    assert "合计：28.5 小时（共 4 次服务）" in reply.text
    assert "继续教育学时：26.25 学时" in reply.text


async def test_hours_command_tells_a_farmer_politely_what_it_is_for(world):
    async with world.sessions.begin() as session:
        grant_role(await ensure_person(session, account_of(FARMER_TG), "张大哥"), FARMER)
    world.api.send_text(FARMER_TG, "/hours", first_name="张大哥")
    reply = await world.api.wait_for_message(FARMER_TG, "专家")
    assert "还没有以专家身份加入" in reply.text
    assert "学时：" not in reply.text


async def _directory_in(sessions):
    rice = await make_team(sessions, "水稻植保服务团", ["plant_protection"])
    wang = await make_expert(sessions, "王教授", rice, telegram_id=EXPERT_TG)
    await add_record(sessions, wang, ONLINE, 3)
    await add_record(sessions, wang, ONLINE, 1.5)
    await add_record(sessions, wang, SHORT_VISIT, 8, visit_date=date(2026, 3, 10))
    await add_record(sessions, wang, CIRCUIT, 16, visit_date=date(2026, 9, 1))
    await add_record(sessions, wang, SHORT_VISIT, 100, visit_date=date(2025, 12, 31))


async def test_a_county_ledger_counts_only_demands_asked_in_the_county(env, directory, sessions, tmp_path, capsys):
    async with sessions.begin() as session:  # one of 王教授's demands was asked in 浏阳
        demand = await session.scalar(select(Demand).join(ServiceRecord, ServiceRecord.demand_id == Demand.id)
                                      .join(Expert, Expert.id == ServiceRecord.expert_id)
                                      .where(Expert.name == "王教授", ServiceRecord.mode == SHORT_VISIT))
        demand.region_code = "430181"
    out = tmp_path / "浏阳.xlsx"
    assert await _in_thread(main, ["report", "hours", "--year", "2026", "--out", str(out), "--region", "浏阳市"]) == 0
    rows = list(openpyxl.load_workbook(out).active.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == ["王教授"] and rows[0][5] > 0 and rows[0][4] == 0 == rows[0][6]

    teams = tmp_path / "teams.xlsx"
    assert await _in_thread(main, ["report", "teams", "--year", "2026", "--out", str(teams), "--region", "长沙市"]) == 0
    assert "长沙市" in capsys.readouterr().out
    assert await _in_thread(main, ["report", "hours", "--out", str(out), "--region", "火星"]) == 1
    assert "没有这个地区：火星" in capsys.readouterr().err
