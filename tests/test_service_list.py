"""技术服务清单: staff import each team's services (all or nothing, re-import updates);
farmers browse them with /services and a question asked about an item goes to its team,
whatever the classifier would have picked."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from bot import messages
from bot.errors import ImportFileError
from bot.services import lifecycle, service_list
from bot.services.intake import IntakeService
from bot.services.service_list import HEADERS, import_services
from storage.models import Demand, ServiceItem
from tests.factories import make_team, person_id
from tests.telegram_world import running_bot

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
FARMER, RICE_LEADER, SOIL_LEADER = 1001, 2001, 2002
RICE, SOIL = "水稻植保服务团", "土肥服务团"
# The classifier reads this as 植物保护 (the rice team's field), not 土壤肥料.
QUESTION = "浏阳的水稻叶子上好多褐色病斑，是不是稻瘟病，打什么药"


def write_csv(path: Path, rows, headers=HEADERS, encoding="utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows, headers=HEADERS) -> Path:
    book = openpyxl.Workbook()
    book.active.append(list(headers))
    for row in rows:
        book.active.append(list(row))
    book.save(path)
    return path


async def teams(sessions):
    rice = await make_team(sessions, RICE, ["plant_protection", "crop"], leader_telegram_id=RICE_LEADER, leader_name="李团长")
    soil = await make_team(sessions, SOIL, ["soil_fertilizer"], leader_telegram_id=SOIL_LEADER, leader_name="赵团长")
    return rice, soil


ROWS = [
    [SOIL, "测土配方施肥指导", "土肥", "按土壤检测结果给出施肥方案"],
    [SOIL, "酸化土壤改良", "soil_fertilizer", ""],
    [RICE, "水稻病虫害诊断", "植物保护", "看照片诊断稻瘟病、纹枯病"],
]


async def stored(sessions) -> list[tuple[str, str, str, str]]:
    async with sessions() as session:
        rows = (await session.execute(
            select(ServiceItem.team_id, ServiceItem.title, ServiceItem.field, ServiceItem.description)
            .order_by(ServiceItem.id))).all()
    return [tuple(r) for r in rows]


# --- import ----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
async def test_csv_import_in_utf8_and_gbk(sessions, tmp_path, encoding):
    rice, soil = await teams(sessions)
    report = await import_services(sessions, write_csv(tmp_path / "s.csv", ROWS, encoding=encoding))
    assert report.summary() == "服务项目：新增 3 项，更新 0 项"
    assert await stored(sessions) == [
        (soil.id, "测土配方施肥指导", "soil_fertilizer", "按土壤检测结果给出施肥方案"),
        (soil.id, "酸化土壤改良", "soil_fertilizer", ""),
        (rice.id, "水稻病虫害诊断", "plant_protection", "看照片诊断稻瘟病、纹枯病"),
    ]


async def test_xlsx_import_and_reimport_updates_by_team_and_title(sessions, tmp_path):
    rice, soil = await teams(sessions)
    await import_services(sessions, write_xlsx(tmp_path / "s.xlsx", ROWS))
    again = [
        [SOIL, "测土配方施肥指导", "土壤肥料", "新的说明"],
        [RICE, "测土配方施肥指导", "土壤肥料", "同名项目，另一个服务团"],
    ]
    report = await import_services(sessions, write_xlsx(tmp_path / "again.xlsx", again))
    assert (report.created, report.updated) == (1, 1)
    items = await stored(sessions)
    assert len(items) == 4
    assert (soil.id, "测土配方施肥指导", "soil_fertilizer", "新的说明") in items
    assert (rice.id, "测土配方施肥指导", "soil_fertilizer", "同名项目，另一个服务团") in items


async def test_bad_rows_import_nothing_and_say_why_by_row(sessions, tmp_path):
    await teams(sessions)
    rows = [
        [SOIL, "测土配方施肥指导", "土肥", ""],            # row 2: fine
        ["不存在的服务团", "某项服务", "crop", ""],           # row 3
        [SOIL, "", "crop", "没有名称"],                      # row 4
        [SOIL, "种树", "种树和养鱼", ""],                    # row 5
        [SOIL, "测土配方施肥指导", "crop", "重复"],          # row 6
        [SOIL, "整地", "", ""],                              # row 7
    ]
    with pytest.raises(ImportFileError) as caught:
        await import_services(sessions, write_csv(tmp_path / "bad.csv", rows))
    report = str(caught.value)
    assert "没有导入任何数据" in report
    assert "第 3 行：服务团「不存在的服务团」不存在，请先导入服务团名单（jiceng import teams）" in report
    assert "第 4 行：服务项目不能为空" in report
    assert "第 5 行：领域无法识别：「种树和养鱼」" in report
    assert f"第 6 行：服务团「{SOIL}」的服务项目「测土配方施肥指导」与第 2 行重复" in report
    assert "第 7 行：领域不能为空" in report
    assert "第 2 行" not in report.replace("与第 2 行", "")
    assert await stored(sessions) == []


async def test_the_description_column_is_required_even_when_empty(sessions, tmp_path):
    await teams(sessions)
    path = write_csv(tmp_path / "s.csv", [[SOIL, "测土", "土肥"]], headers=HEADERS[:3])
    with pytest.raises(ImportFileError) as caught:
        await import_services(sessions, path)
    assert "缺少必需的列：说明" in str(caught.value)


async def test_the_example_file_imports_after_the_example_teams(sessions):
    from bot.services.directory import import_teams

    await import_teams(sessions, EXAMPLES / "teams.csv")
    report = await import_services(sessions, EXAMPLES / "services.csv")
    assert report.created == 7
    fields = await service_list.fields_with_items(sessions)
    assert fields[0] == ("crop", 1) and ("plant_protection", 1) in fields and ("ecommerce", 1) in fields


async def test_fields_and_items_for_browsing(sessions, tmp_path):
    rice, soil = await teams(sessions)
    await import_services(sessions, write_csv(tmp_path / "s.csv", ROWS))
    assert await service_list.fields_with_items(sessions) == [("plant_protection", 1), ("soil_fertilizer", 2)]
    listed = await service_list.items(sessions, "soil_fertilizer")
    assert [(i.title, i.team_name) for i in listed] == [("测土配方施肥指导", SOIL), ("酸化土壤改良", SOIL)]
    assert (await service_list.item(sessions, listed[0].id)).team_id == soil.id
    assert await service_list.item(sessions, 999) is None


async def test_a_preset_question_keeps_its_field_and_goes_to_its_team(sessions, understander, knowledge, clock):
    rice, soil = await teams(sessions)
    intake = IntakeService(sessions, understander, knowledge, clock)
    farmer = await person_id(sessions, FARMER, "张大哥")
    view = await intake.new_question(farmer, QUESTION, preset_field="soil_fertilizer", preset_team_id=soil.id,
                                     service_item={"item_id": 7, "title": "测土配方施肥指导", "team": SOIL})
    assert view.draft.field == "soil_fertilizer" and not view.needs_field
    assert view.draft.entities["service_item"] == {"item_id": 7, "title": "测土配方施肥指导", "team": SOIL,
                                                   "team_id": soil.id}
    submission = await intake.submit(view.draft.id, farmer)
    assert submission.team.id == soil.id and submission.leader_id == await person_id(sessions, SOIL_LEADER)
    assert submission.demand.status == lifecycle.WAITING and submission.demand.field == "soil_fertilizer"
    plain = await intake.new_question(farmer, QUESTION)
    assert (await intake.submit(plain.draft.id, farmer)).team.id == rice.id  # the classifier's choice


# --- /services in chat -----------------------------------------------------------------


@pytest.fixture
async def world(db_url, understander, clock, tmp_path):
    async with running_bot(db_url, understander, clock) as world:
        await teams(world.sessions)
        await import_services(world.sessions, write_csv(tmp_path / "s.csv", ROWS))
        yield world


async def test_a_farmer_asks_about_a_listed_service_and_its_team_gets_the_card(world):
    api = world.api
    api.send_text(FARMER, "/services", first_name="张大哥")
    fields = await api.wait_for_message(FARMER, "技术服务清单")
    buttons = [b["text"] for row in fields.reply_markup["inline_keyboard"] for b in row]
    assert buttons == ["植物保护（1）", "土壤肥料（2）"]  # only fields with items, in taxonomy order

    api.press(FARMER, fields, "土壤肥料")
    listing = await api.wait_for_edit(fields, "测土配方施肥指导")
    assert SOIL in listing.text and "按土壤检测结果" in listing.text and "酸化土壤改良" in listing.text
    api.press(FARMER, api.current(fields), "测土配方施肥指导")
    ask = await api.wait_for_message(FARMER, "请说说您的具体情况")
    assert f"我会交给「{SOIL}」" in ask.text

    mark = api.mark()
    api.send_text(FARMER, QUESTION, first_name="张大哥")
    confirm = await api.wait_for_message(FARMER, "提交", after=mark)
    assert "领域：土壤肥料" in confirm.text and f"将交给「{SOIL}」" in confirm.text
    api.press(FARMER, confirm, "提交")
    card = await api.wait_for_message(SOIL_LEADER, "新需求", after=mark)
    assert "稻瘟病" in card.text and "土壤肥料" in card.text
    done = await api.wait_for_edit(confirm, "已提交")
    assert SOIL in done.text
    await api.wait_idle()
    assert not [m for m in api.messages_to(RICE_LEADER) if m.seq >= mark]
    async with world.sessions() as session:
        demand = await session.scalar(select(Demand))
    assert demand.status == lifecycle.WAITING and demand.field == "soil_fertilizer"
    assert demand.entities["service_item"]["title"] == "测土配方施肥指导"

    # The preset was for one message: the next question is routed as usual.
    mark = api.mark()
    api.send_text(FARMER, QUESTION, first_name="张大哥")
    confirm = await api.wait_for_message(FARMER, "提交", after=mark)
    assert "将交给" not in confirm.text
    api.press(FARMER, confirm, "提交")
    await api.wait_for_message(RICE_LEADER, "新需求", after=mark)


async def test_forged_and_stale_service_buttons_are_refused(world):
    api = world.api
    api.send_text(FARMER, "/services", first_name="张大哥")
    fields = await api.wait_for_message(FARMER, "技术服务清单")
    for data in ("sv:i:99999", "sv:i:abc", "sv:i:99999999999999999999999", "sv:f:nonsense:0", "sv:f:crop:-5",
                 "sv:x", "sv:zz"):
        api.press_data(FARMER, fields, data)
    await api.wait_idle()
    alerts = [a.text for a in api.answered_callbacks]
    assert alerts.count(messages.STALE_BUTTON) == 7
    assert await world.services.states.get(FARMER) is None


async def test_cancel_after_choosing_an_item_makes_the_next_message_an_ordinary_question(world):
    api = world.api
    api.send_text(FARMER, "/services", first_name="张大哥")
    fields = await api.wait_for_message(FARMER, "技术服务清单")
    api.press(FARMER, fields, "土壤肥料")
    await api.wait_for_edit(fields, "测土配方施肥指导")
    api.press(FARMER, api.current(fields), "酸化土壤改良")
    ask = await api.wait_for_message(FARMER, "请说说您的具体情况")
    api.press(FARMER, ask, messages.BTN_CANCEL)
    await api.wait_for_edit(ask, "不按服务项目提问")
    mark = api.mark()
    api.send_text(FARMER, QUESTION, first_name="张大哥")
    confirm = await api.wait_for_message(FARMER, "提交", after=mark)
    assert "将交给" not in confirm.text and "土壤肥料" not in confirm.text


async def test_services_with_an_empty_list_says_so(db_url, understander, clock):
    async with running_bot(db_url, understander, clock) as world:
        world.api.send_text(FARMER, "/services", first_name="张大哥")
        reply = await world.api.wait_for_message(FARMER, "技术服务清单")
        assert reply.text == messages.SERVICES_EMPTY
        async with world.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(ServiceItem)) == 0
