"""Staff import the directory from their spreadsheets, invite leaders and experts, and the
invited join in chat; staff are added by Telegram id."""

import asyncio
import csv
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from bot.errors import Conflict, ImportFileError, NotAllowed, NotFound
from bot.services import directory, invites, tabular
from bot.services.directory import (
    EXPERT_HEADERS,
    TEAM_HEADERS,
    AmbiguousName,
    add_staff,
    import_experts,
    import_teams,
    normalize_phone,
)
from bot.services.people import address_of, find_person
from bot.services.tabular import read_table
from bot.telegram.common import account_of
from bot.telegram.links import invite_link
from storage import schema
from storage.db import create_engine, session_factory
from storage.models import Expert, Invite, Person, ServiceTeam
from tests.factories import person_id

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
CHANGSHA, LIUYANG, XIANGXI, JISHOU, PROVINCE = "430100", "430181", "433100", "433101", "430000"


@pytest.fixture
async def sessions(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/t.db"
    await schema.upgrade_async(url)
    engine = create_engine(url)
    yield session_factory(engine)
    await engine.dispose()


def write_csv(path: Path, headers, rows, encoding="utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def team_row(name="长沙市种植业专家服务团", fields="种植栽培", regions="长沙市", leader=""):
    return [name, fields, regions, leader]


def expert_row(name="张三", title="研究员", employer="示例农业科学研究院", fields="crop", specialties="水稻",
               regions="长沙市", team="", telegram_id="", phone=""):
    return [name, title, employer, fields, specialties, regions, team, telegram_id, phone]


async def teams_from(sessions, tmp_path, *rows, name="teams.csv"):
    return await import_teams(sessions, write_csv(tmp_path / name, TEAM_HEADERS, rows))


async def experts_from(sessions, tmp_path, *rows, name="experts.csv"):
    return await import_experts(sessions, write_csv(tmp_path / name, EXPERT_HEADERS, rows))


async def all_of(sessions, model):
    async with sessions() as session:
        return list(await session.scalars(select(model).order_by(model.id)))


async def person(sessions, telegram_id) -> Person | None:
    async with sessions() as session:
        return await find_person(session, account_of(telegram_id))


async def tg(sessions, person_id: int | None) -> int | None:
    """The Telegram id a person is reached on (what the sheets' TelegramID column names)."""
    if person_id is None:
        return None
    async with sessions() as session:
        account = await address_of(session, person_id)
    return int(account.external_id) if account else None


def row_errors(exc_info) -> dict[int, str]:
    return {e.row: e.reason for e in exc_info.value.errors}


# --- The example files staff copy ---------------------------------------------------------


async def test_the_documented_example_files_import(sessions):
    report = await import_teams(sessions, EXAMPLES / "teams.csv")
    assert report.summary() == "服务团：新增 3 个，更新 0 个"
    teams = {t.name: t for t in await all_of(sessions, ServiceTeam)}
    crops = teams["长沙市种植业专家服务团"]
    assert crops.fields == ["crop", "plant_protection", "soil_fertilizer"]
    assert crops.regions == [CHANGSHA]
    assert teams["湘西州畜牧水产专家服务团"].fields == ["livestock", "aquaculture"]
    assert teams["湘西州畜牧水产专家服务团"].regions == [XIANGXI, JISHOU]
    assert teams["湘西州畜牧水产专家服务团"].leader_id is None
    assert teams["全省农产品电商专家服务团"].regions == [PROVINCE]
    leader = await person(sessions, 100000001)
    assert crops.leader_id == leader.id and await tg(sessions, crops.leader_id) == 100000001
    assert "leader" in leader.role_names

    report = await import_experts(sessions, EXAMPLES / "experts.csv")
    assert report.summary() == "专家：新增 4 位，更新 0 位"
    experts = {e.name: e for e in await all_of(sessions, Expert)}
    assert experts["张三"].team_id == crops.id
    assert experts["张三"].regions == [CHANGSHA, LIUYANG]
    assert experts["张三"].specialties == "水稻栽培；稻飞虱防治"  # free text, not split
    assert experts["张三"].person_id == (await person(sessions, 100000011)).id
    assert experts["李四"].phone == "13800000002"
    assert experts["赵六"].phone == "13800000004" and experts["赵六"].team_id is None

    # The .xlsx copy of the same list updates the same four experts.
    report = await import_experts(sessions, EXAMPLES / "experts.xlsx")
    assert (report.created, report.updated) == (0, 4)
    assert len(await all_of(sessions, Expert)) == 4


# --- Reading files -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
async def test_csv_in_any_encoding_excel_or_wps_writes(sessions, tmp_path, encoding):
    path = write_csv(tmp_path / "teams.csv", TEAM_HEADERS, [team_row("湘潭市农机服务团", "农机与设施农业", "湘潭市")],
                     encoding=encoding)
    await import_teams(sessions, path)
    [team] = await all_of(sessions, ServiceTeam)
    assert (team.name, team.fields, team.regions) == ("湘潭市农机服务团", ["machinery"], ["430300"])


async def test_xlsx_numbers_and_dates_read_as_staff_typed_them(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([*EXPERT_HEADERS, "登记日期"])
    sheet.append(["张三", "研究员", "示例农业科学研究院", "crop", "水稻", "长沙市", "", 100000011, 13800000001.0,
                  datetime(2026, 3, 1)])
    sheet.append([None] * 10)  # an empty row in the middle is skipped, numbering is kept
    sheet.append(["  李四 ", None, None, "livestock", None, None, None, None, None, date(2026, 3, 2)])
    book.save(tmp_path / "experts.xlsx")

    headers, rows = read_table(tmp_path / "experts.xlsx", EXPERT_HEADERS)
    assert headers == [*EXPERT_HEADERS, "登记日期"]
    assert [number for number, _ in rows] == [2, 4]
    first, second = rows[0][1], rows[1][1]
    assert (first["TelegramID"], first["手机"], first["登记日期"]) == ("100000011", "13800000001", "2026-03-01")
    assert (second["姓名"], second["职称"], second["登记日期"]) == ("李四", "", "2026-03-02")


async def test_xlsx_import(sessions, tmp_path):
    await teams_from(sessions, tmp_path, team_row())
    book = openpyxl.Workbook()
    book.active.append(list(EXPERT_HEADERS))
    book.active.append(expert_row(team="长沙市种植业专家服务团", telegram_id=100000011, phone=13800000001))
    book.save(tmp_path / "experts.xlsx")
    assert (await import_experts(sessions, tmp_path / "experts.xlsx")).created == 1
    [expert] = await all_of(sessions, Expert)
    assert (await tg(sessions, expert.person_id), expert.phone) == (100000011, "13800000001")


async def test_headers_match_loosely_and_extra_columns_are_ignored(tmp_path):
    path = write_csv(tmp_path / "teams.csv", ["序号", " 服务团名称", "领域", "服务地区", "团长 Telegram ID"],
                     [["1", "长沙市种植业专家服务团", "crop", "长沙", ""]])
    headers, [(number, row)] = read_table(path, TEAM_HEADERS)
    assert number == 2 and row["团长TelegramID"] == "" and row["服务团名称"] == "长沙市种植业专家服务团"


async def test_missing_headers_are_named(sessions, tmp_path):
    path = write_csv(tmp_path / "experts.csv", ["姓名", "领域", "电话"], [["张三", "crop", "13800000001"]])
    with pytest.raises(ImportFileError) as exc:
        await import_experts(sessions, path)
    assert exc.value.errors[0].reason == (
        "缺少必需的列：职称、工作单位、擅长、服务地区、所属服务团、TelegramID、手机。第 1 行应是表头，请对照模板检查列名。"
    )


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("experts.xlsx", b"PK\x03\x04 this is not really a workbook", "不是有效的 .xlsx"),
        ("experts.xls", b"\xd0\xcf\x11\xe0", "不支持「.xls」"),
        ("experts.csv", b"", "是空的"),
        ("experts.csv", "姓名,领域\n".encode("utf-16"), "无法识别文件「experts.csv」的编码"),
    ],
)
async def test_unreadable_files_are_refused_with_a_reason(sessions, tmp_path, name, content, reason):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ImportFileError) as exc:
        await import_experts(sessions, tmp_path / name)
    assert reason in str(exc.value)


async def test_a_file_with_only_headers_is_refused(sessions, tmp_path):
    with pytest.raises(ImportFileError, match="没有数据行"):
        await teams_from(sessions, tmp_path)


# --- Values --------------------------------------------------------------------------------


async def test_several_values_in_one_cell_with_any_separator(sessions, tmp_path):
    await teams_from(sessions, tmp_path, team_row(
        fields="种植栽培、植保,土肥，livestock;水产 ； 林业、种植", regions="长沙市 、浏阳，湘西州;吉首市；全省"))
    [team] = await all_of(sessions, ServiceTeam)
    assert team.fields == ["crop", "plant_protection", "soil_fertilizer", "livestock", "aquaculture", "forestry"]
    assert team.regions == [CHANGSHA, LIUYANG, XIANGXI, JISHOU, PROVINCE]


@pytest.mark.parametrize(
    ("written", "stored"),
    [("13800000001", "13800000001"), ("138 0000 0001", "13800000001"), ("138-0000-0001", "13800000001"),
     ("+86 138 0000 0001", "13800000001"), ("8613800000001", "13800000001"), ("+8613800000001", "13800000001"),
     ("12800000001", None), ("1380000000", None), ("010-12345678", None), ("+1 2025550123", None)],
)
def test_mainland_mobile_numbers(written, stored):
    assert normalize_phone(written) == stored


# --- All or nothing ------------------------------------------------------------------------


async def test_a_file_with_bad_rows_imports_nothing_and_names_every_bad_row(sessions, tmp_path):
    await teams_from(sessions, tmp_path, team_row())
    with pytest.raises(ImportFileError) as exc:
        await experts_from(
            sessions, tmp_path,
            expert_row("张三", phone="13800000001"),
            expert_row("李四", fields="种树和养鱼"),
            expert_row("王五", phone="1.38E+10"),
            expert_row("赵六", telegram_id="1.38e+10", regions="长沙市 浏阳市"),
            expert_row("钱七", team="不存在的服务团", telegram_id="@qianqi"),
            expert_row("", fields=""),
        )
    errors = exc.value.errors
    assert [e.row for e in errors] == sorted(e.row for e in errors)
    reasons = {}
    for e in errors:
        reasons.setdefault(e.row, []).append(e.reason)
    assert 2 not in reasons
    assert reasons[3] == ["领域无法识别：「种树和养鱼」。可填代码（如 crop）或中文名称（如 种植栽培）"]
    assert reasons[4] == ["手机 被 Excel 变成了科学计数法（1.38E+10），请把该列设为“文本”格式后重新填写"]
    assert any("TelegramID 被 Excel 变成了科学计数法（1.38e+10）" in r for r in reasons[5])
    assert any("「长沙市 浏阳市」" in r and "顿号" in r for r in reasons[5])
    assert any("所属服务团「不存在的服务团」不存在" in r and "先导入服务团" in r for r in reasons[6])
    assert any("TelegramID「@qianqi」应是正整数" in r for r in reasons[6])
    assert reasons[7] == ["姓名不能为空", "领域不能为空"]
    assert "第 4 行：手机 被 Excel 变成了科学计数法" in str(exc.value)
    assert await all_of(sessions, Expert) == []


async def test_bad_rows_found_only_against_the_database_also_import_nothing(sessions, tmp_path):
    await teams_from(sessions, tmp_path, team_row())
    with pytest.raises(ImportFileError) as exc:
        await experts_from(sessions, tmp_path, expert_row("张三", telegram_id="100000011"),
                           expert_row("李四", team="没导入的服务团"))
    assert list(row_errors(exc)) == [3]
    assert await all_of(sessions, Expert) == []
    assert await person(sessions, 100000011) is None


async def test_duplicate_keys_within_one_file_are_bad_rows(sessions, tmp_path):
    with pytest.raises(ImportFileError) as exc:
        await teams_from(sessions, tmp_path, team_row("甲服务团"), team_row("乙服务团"), team_row("甲服务团"))
    assert row_errors(exc) == {4: "服务团「甲服务团」与第 2 行重复"}

    with pytest.raises(ImportFileError) as exc:
        await experts_from(
            sessions, tmp_path,
            expert_row("张三", telegram_id="100000011"),
            expert_row("张三丰", telegram_id="100000011"),
            expert_row("李四", phone="13800000002"),
            expert_row("李思", phone="138 0000 0002"),
            expert_row("王五", employer="示例农业大学"),
            expert_row("王五", employer="示例农业大学"),
            expert_row("王五", employer="另一所示例大学"),
        )
    assert row_errors(exc) == {
        3: "TelegramID 100000011 与第 2 行重复",
        5: "手机 13800000002 与第 4 行重复",
        7: "「王五（示例农业大学）」与第 6 行重复（没有 TelegramID 和手机时按姓名+工作单位区分专家）",
    }


@pytest.mark.parametrize(("telegram_id", "ok"), [("100000011", True), ("0", False), ("-5", False), ("12.5", False),
                                                 ("abc", False), ("１２３", False)])
async def test_telegram_ids_are_positive_integers(sessions, tmp_path, telegram_id, ok):
    if ok:
        await teams_from(sessions, tmp_path, team_row(leader=telegram_id))
    else:
        with pytest.raises(ImportFileError, match=f"第 2 行：团长TelegramID「{telegram_id}」应是正整数"):
            await teams_from(sessions, tmp_path, team_row(leader=telegram_id))


# --- Importing again ------------------------------------------------------------------------


async def test_reimporting_teams_updates_them_by_name(sessions, tmp_path):
    await teams_from(sessions, tmp_path, team_row("甲服务团", "crop", "长沙市"), team_row("乙服务团", "forestry"))
    report = await teams_from(sessions, tmp_path, team_row("甲服务团", "herbal", "湘西州", leader="100000001"),
                              team_row("丙服务团", "digital"))
    assert report.summary() == "服务团：新增 1 个，更新 1 个"
    teams = {t.name: t for t in await all_of(sessions, ServiceTeam)}
    assert sorted(teams) == ["丙服务团", "乙服务团", "甲服务团"]
    assert (teams["甲服务团"].fields, teams["甲服务团"].regions) == (["herbal"], [XIANGXI])
    assert await tg(sessions, teams["甲服务团"].leader_id) == 100000001


async def test_a_new_leader_replaces_the_old_one_who_stops_being_a_leader(sessions, tmp_path):
    await teams_from(sessions, tmp_path, team_row("甲服务团", leader="100000001"), team_row("乙服务团", leader="100000002"),
                     team_row("丙服务团", leader="100000002"))
    await teams_from(sessions, tmp_path, team_row("甲服务团", leader="100000003"), team_row("乙服务团", leader="100000003"))
    assert "leader" not in (await person(sessions, 100000001)).role_names
    assert "leader" in (await person(sessions, 100000002)).role_names  # still leads 丙服务团
    assert "leader" in (await person(sessions, 100000003)).role_names
    # A blank 团长TelegramID keeps the leader the team has.
    await teams_from(sessions, tmp_path, team_row("甲服务团", leader=""))
    teams = {t.name: t for t in await all_of(sessions, ServiceTeam)}
    assert await tg(sessions, teams["甲服务团"].leader_id) == 100000003


async def test_reimporting_experts_matches_by_telegram_id_then_phone_then_name_and_employer(sessions, tmp_path):
    await experts_from(
        sessions, tmp_path,
        expert_row("张三", title="副研究员", telegram_id="100000011", phone="13800000001"),
        expert_row("李四", title="兽医师", employer="示例畜牧中心", phone="13800000002"),
        expert_row("王五", title="讲师", employer="示例农业大学"),
    )
    report = await experts_from(
        sessions, tmp_path,
        expert_row("张三（改名）", title="研究员", employer="新单位", telegram_id="100000011"),  # by TelegramID
        expert_row("李四", title="高级兽医师", employer="示例畜牧水产中心", phone="138-0000-0002"),  # by 手机
        expert_row("王五", title="副教授", employer="示例农业大学"),  # by 姓名+工作单位
        expert_row("王五", title="教授", employer="另一所示例大学"),  # a namesake elsewhere: new
    )
    assert report.summary() == "专家：新增 1 位，更新 3 位"
    experts = await all_of(sessions, Expert)
    assert [(e.name, e.title, e.employer) for e in experts] == [
        ("张三（改名）", "研究员", "新单位"),
        ("李四", "高级兽医师", "示例畜牧水产中心"),
        ("王五", "副教授", "示例农业大学"),
        ("王五", "教授", "另一所示例大学"),
    ]
    assert experts[0].phone == "13800000001"  # a blank 手机 keeps the number on file


async def test_an_expert_first_listed_by_phone_is_bound_when_the_telegram_id_is_added(sessions, tmp_path):
    await experts_from(sessions, tmp_path, expert_row("李四", phone="13800000002"))
    report = await experts_from(sessions, tmp_path, expert_row("李四", phone="13800000002", telegram_id="100000012"))
    assert (report.created, report.updated) == (0, 1)
    [expert] = await all_of(sessions, Expert)
    bound = await person(sessions, 100000012)
    assert (await tg(sessions, expert.person_id), expert.person_id) == (100000012, bound.id)
    assert "expert" in bound.role_names


async def test_a_phone_already_filed_for_another_expert_is_a_bad_row(sessions, tmp_path):
    await experts_from(sessions, tmp_path, expert_row("张三", telegram_id="100000011", phone="13800000001"))
    with pytest.raises(ImportFileError) as exc:
        await experts_from(sessions, tmp_path, expert_row("张三", telegram_id="100000099", phone="13800000001"))
    assert row_errors(exc) == {2: "手机 13800000001 已登记给另一位专家「张三（示例农业科学研究院）」"}


async def test_two_rows_that_would_update_one_expert_are_bad_rows(sessions, tmp_path):
    await experts_from(sessions, tmp_path, expert_row("张三"))
    with pytest.raises(ImportFileError) as exc:
        await experts_from(sessions, tmp_path, expert_row("张三", telegram_id="100000011"),
                           expert_row("张三", phone="13800000001"))
    assert row_errors(exc) == {3: "与第 2 行对应同一位已导入的专家「张三（示例农业科学研究院）」"}


# --- Invites -------------------------------------------------------------------------------


async def test_a_leader_joins_by_a_one_time_invite(sessions, tmp_path):
    await teams_from(sessions, tmp_path, team_row("长沙市种植业专家服务团"))
    code = await invites.create(sessions, "leader", "长沙市种植业专家服务团")
    assert len(code) <= 32 and all(c.isascii() and (c.isalnum() or c in "-_") for c in code)
    assert invite_link("@jiceng_bot", code) == f"https://t.me/jiceng_bot?start={code}"

    joined = await invites.redeem(sessions, code, await person_id(sessions, 100000001, "刘团长"))
    assert (joined.kind, joined.name) == ("leader", "长沙市种植业专家服务团")
    assert joined.message == "您已作为「长沙市种植业专家服务团」团长加入。"
    leader = await person(sessions, 100000001)
    assert leader.display_name == "刘团长" and "leader" in leader.role_names
    [team] = await all_of(sessions, ServiceTeam)
    assert (team.leader_id, await tg(sessions, team.leader_id)) == (leader.id, 100000001)

    with pytest.raises(Conflict, match="已经被使用过了"):
        await invites.redeem(sessions, code, await person_id(sessions, 100000002, "冒名者"))
    assert "leader" not in (await person(sessions, 100000002)).role_names
    again = await invites.redeem(sessions, code, await person_id(sessions, 100000001, "刘团长"))  # pressed the link twice
    assert again.already_joined and again.message == "您已经是「长沙市种植业专家服务团」团长了。"


async def test_an_invite_that_would_replace_the_leader_waits_for_staff(sessions, tmp_path):
    """A second leader invite opened by someone else changes nothing until staff confirm; the
    current leader can be told at once; the first decision stands."""
    await teams_from(sessions, tmp_path, team_row("长沙市种植业专家服务团", leader="100000001"))
    current = (await person(sessions, 100000001)).id
    staff = (await add_staff(sessions, account_of(100000009), "王干事")).id
    code = await invites.create(sessions, "leader", "长沙市种植业专家服务团")
    newcomer = await person_id(sessions, 100000002, "赵新")
    joined = await invites.redeem(sessions, code, newcomer)
    t = joined.takeover
    assert (t.current_id, t.newcomer_id, t.newcomer_name, t.role, t.staff) == (current, newcomer, "赵新", "团长", (staff,))
    assert "需要工作人员确认" in joined.message
    [team] = await all_of(sessions, ServiceTeam)
    assert team.leader_id == current  # nothing changed yet
    again = await invites.redeem(sessions, code, newcomer)
    assert again.takeover is None and "需要工作人员确认" in again.message
    assert [i.state for i in await invites.list_all(sessions)] == ["pending"]

    with pytest.raises(NotAllowed):
        await invites.decide(sessions, code, True, staff_id=newcomer)  # not staff
    decision = await invites.decide(sessions, code[:8], True, staff_id=staff)
    assert decision.first and decision.confirmed and "接替您" in decision.to_current
    [team] = await all_of(sessions, ServiceTeam)
    assert team.leader_id == newcomer
    assert "leader" not in (await person(sessions, 100000001)).role_names
    assert not (await invites.decide(sessions, code, False, staff_id=staff)).first  # the first decision stands


async def test_an_invite_that_would_move_an_expert_can_be_refused(sessions, tmp_path):
    await experts_from(sessions, tmp_path, expert_row("张三", telegram_id="100000011"))
    code = await invites.create(sessions, "expert", "张三")
    joined = await invites.redeem(sessions, code, await person_id(sessions, 100000012, "冒名者"))
    assert joined.takeover is not None and joined.takeover.role == "专家账号"
    decision = await invites.decide(sessions, code, False)  # on the command line the operator is staff
    assert not decision.confirmed and "仍是" in decision.to_current and "没有确认" in decision.to_newcomer
    [expert] = await all_of(sessions, Expert)
    assert await tg(sessions, expert.person_id) == 100000011
    assert "expert" not in (await person(sessions, 100000012)).role_names
    refused = await invites.redeem(sessions, code, await person_id(sessions, 100000012))
    assert "没有确认" in refused.message


async def test_an_import_that_replaces_a_leader_tells_the_one_replaced(sessions, tmp_path):
    from storage.models import OutboxMessage

    await teams_from(sessions, tmp_path, team_row("长沙市种植业专家服务团", leader="100000001"))
    await teams_from(sessions, tmp_path, team_row("长沙市种植业专家服务团", leader="100000002"), name="v2.csv")
    [told] = await all_of(sessions, OutboxMessage)
    assert told.address == "100000001" and "不再担任" in told.body["text"]


async def test_an_expert_joins_by_invite_and_namesakes_must_be_told_apart(sessions, tmp_path):
    await teams_from(sessions, tmp_path, team_row("长沙市种植业专家服务团"))
    await experts_from(sessions, tmp_path, expert_row("张三", employer="示例农业大学", team="长沙市种植业专家服务团"),
                       expert_row("张三", employer="示例农科院"), expert_row("李四"))
    first, second, _ = await all_of(sessions, Expert)

    with pytest.raises(AmbiguousName) as exc:
        await invites.create(sessions, "expert", "张三")
    assert "张三（示例农业大学）" in exc.value.user_message and "张三（示例农科院）" in exc.value.user_message
    assert "姓名@工作单位" in exc.value.user_message
    with pytest.raises(NotFound):
        await invites.create(sessions, "expert", "张三@不存在的单位")

    code = await invites.create(sessions, "expert", "张三@示例农业大学")
    joined = await invites.redeem(sessions, code, await person_id(sessions, 100000011, "Zhang San"))
    assert joined.message == "张三您好，您已作为专家加入「长沙市种植业专家服务团」。"
    by_id = await invites.redeem(sessions, await invites.create(sessions, "expert", f"#{second.id}"), await person_id(sessions, 100000022, ""))
    assert by_id.message == "张三您好，您已作为专家加入。"
    first, second, _ = await all_of(sessions, Expert)
    assert (await tg(sessions, first.person_id), await tg(sessions, second.person_id)) == (100000011, 100000022)
    assert first.person_id == (await person(sessions, 100000011)).id
    assert "expert" in (await person(sessions, 100000022)).role_names
    # The directory's name stays: their Telegram nickname does not replace it in reports.
    assert (await person(sessions, 100000011)).display_name == "张三"
    await person_id(sessions, 100000011, "Zhang San")
    assert (await person(sessions, 100000011)).display_name == "张三"

    # One account is one expert.
    with pytest.raises(Conflict, match="已经绑定了专家「张三」"):
        await invites.redeem(sessions, await invites.create(sessions, "expert", "李四"), await person_id(sessions, 100000011, ""))


async def test_unknown_invites_and_targets(sessions, tmp_path):
    with pytest.raises(NotFound, match="没有名为「不存在的服务团」的服务团"):
        await invites.create(sessions, "leader", "不存在的服务团")
    with pytest.raises(NotFound, match="没有找到专家"):
        await invites.create(sessions, "expert", "#999")
    for code in ("no-such-code", "bad code!", "x" * 65):
        with pytest.raises(NotFound, match="邀请链接无效"):
            await invites.redeem(sessions, code, await person_id(sessions, 100000001, ""))


async def test_of_many_people_opening_one_invite_at_once_exactly_one_joins(sessions, tmp_path):
    await teams_from(sessions, tmp_path, team_row("长沙市种植业专家服务团"))
    code = await invites.create(sessions, "leader", "长沙市种植业专家服务团")
    people = [await person_id(sessions, 100000100 + i, f"用户{i}") for i in range(6)]
    results = await asyncio.gather(*(invites.redeem(sessions, code, p) for p in people), return_exceptions=True)
    joined = [r for r in results if not isinstance(r, BaseException)]
    assert len(joined) == 1
    assert all(isinstance(r, Conflict) for r in results if r not in joined)
    [team] = await all_of(sessions, ServiceTeam)
    async with sessions() as session:
        [invite] = list(await session.scalars(select(Invite)))
    assert team.leader_id == invite.used_by_id == joined[0].person_id


# --- Joining by a shared phone number, staff ------------------------------------------------


async def test_an_expert_joins_by_sharing_their_phone_number(sessions, tmp_path):
    await experts_from(sessions, tmp_path, expert_row("李四", phone="138-0000-0002"), expert_row("王五", phone="13800000003"))
    assert await invites.bind_by_phone(sessions, await person_id(sessions, 100000012, "Li Si"), "8613900000009") is None
    assert await invites.bind_by_phone(sessions, await person_id(sessions, 100000012, "Li Si"), "not a number") is None

    joined = await invites.bind_by_phone(sessions, await person_id(sessions, 100000012, "Li Si"), "+86 138 0000 0002")
    assert (joined.kind, joined.name) == ("expert", "李四")
    li = (await all_of(sessions, Expert))[0]
    bound = await person(sessions, 100000012)
    assert (li.person_id, await tg(sessions, li.person_id)) == (bound.id, 100000012) and "expert" in bound.role_names
    assert (await invites.bind_by_phone(sessions, await person_id(sessions, 100000012, "Li Si"), "13800000002")).already_joined
    with pytest.raises(Conflict, match="另一个账号"):
        await invites.bind_by_phone(sessions, await person_id(sessions, 100000099, ""), "13800000002")


async def test_adding_staff(sessions):
    staff = await add_staff(sessions, account_of(100000900), "省厅小王")
    assert staff.display_name == "省厅小王" and staff.role_names == {"staff"}
    again = await add_staff(sessions, account_of(100000900))
    assert again.id == staff.id and again.display_name == "省厅小王" and again.role_names == {"staff"}
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 1


def test_directory_workflow_knows_nothing_of_telegram():
    for module in (directory, tabular):
        source = Path(module.__file__).read_text("utf-8")
        assert "import telegram" not in source and "from telegram" not in source


async def test_invites_expire_after_a_week_and_can_be_revoked(sessions, tmp_path):
    from datetime import timedelta, timezone


    await teams_from(sessions, tmp_path, team_row("长沙市种植业专家服务团"))
    monday = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)
    stale = await invites.create(sessions, "leader", "长沙市种植业专家服务团", now=monday)
    with pytest.raises(NotFound, match="过期或被收回"):
        await invites.redeem(sessions, stale, await person_id(sessions, 100000001, "刘团长"),
                            now=monday + timedelta(days=7, seconds=1))
    fresh = await invites.create(sessions, "leader", "长沙市种植业专家服务团", now=monday)
    revoked = await invites.revoke(sessions, fresh[:8], now=monday + timedelta(hours=1))
    assert revoked.state == "revoked"
    with pytest.raises(NotFound, match="过期或被收回"):
        await invites.redeem(sessions, fresh, await person_id(sessions, 100000001), now=monday + timedelta(hours=2))
    states = {i.code: i.state for i in await invites.list_all(sessions, now=monday + timedelta(days=8))}
    assert states == {stale: "expired", fresh: "revoked"}
    with pytest.raises(NotFound):
        await invites.revoke(sessions, "zz")  # too short to name one invite
    [team] = await all_of(sessions, ServiceTeam)
    assert team.leader_id is None


async def test_300_experts_with_titles_and_terms_flag_low_titles_and_missing_consent(sessions, tmp_path):
    """Below-副高 titles and rows without 本人单位同意 are imported but flagged — in the preview,
    in the report, and in the list staff see."""
    from openpyxl import Workbook

    from bot.services.directory import expert_lines

    book = Workbook()
    sheet = book.active
    sheet.append([*EXPERT_HEADERS, "本人单位同意", "聘期开始", "聘期结束"])
    titles = ["研究员", "副研究员", "高级农艺师", "农艺师", "教授", "讲师"]
    for n in range(300):
        title = titles[n % len(titles)]
        consent = "否" if n % 50 == 0 else "是"
        sheet.append([f"专家{n:03d}", title, "湖南省农业科学院", "种植栽培", "水稻", "长沙市", "", "", f"139{n:08d}",
                      consent, "2025-01-01", "2027-12-31"])
    path = tmp_path / "experts.xlsx"
    book.save(path)

    preview = await import_experts(sessions, path, dry_run=True)
    low = sum(1 for n in range(300) if titles[n % len(titles)] in ("农艺师", "讲师"))
    unconsented = 300 // 50
    assert (preview.created, len(preview.flags)) == (300, low + unconsented)
    assert any("职称「农艺师」低于副高级" in str(f) for f in preview.flags)
    assert any("没有登记本人单位同意" in str(f) for f in preview.flags)
    assert await all_of(sessions, Expert) == []  # a preview writes nothing

    report = await import_experts(sessions, path)
    assert report.created == 300 and len(report.flags) == len(preview.flags)
    experts = await all_of(sessions, Expert)
    assert experts[1].term_end.isoformat() == "2027-12-31" and experts[1].employer_consent is True
    flagged = [line for line in await expert_lines(sessions) if line.review]
    assert len(flagged) == low + sum(1 for n in range(0, 300, 50) if titles[n % len(titles)] not in ("农艺师", "讲师"))
