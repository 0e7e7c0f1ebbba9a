"""Intake without Telegram: a question becomes a draft, 提交 makes a numbered demand in
the right team's queue (or staff triage), and photos find their question."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.errors import NotFound
from bot.services import lifecycle
from bot.services.intake import AlreadySubmitted, IntakeService
from storage.models import DemandEvent, DemandMedia
from tests.factories import make_staff, make_team, person_id

FARMER = 1001


@pytest.fixture
async def farmer(sessions) -> int:
    """The person behind FARMER's account."""
    return await person_id(sessions, FARMER, "张大哥")
RICE_BLAST = "浏阳的水稻叶子上有好多褐色的斑点，是不是稻瘟病，打什么药"


@pytest.fixture
def intake(sessions, understander, knowledge, clock):
    return IntakeService(sessions, understander, knowledge, clock)


async def test_question_becomes_a_draft_with_field_keywords_and_region(intake, farmer):
    view = await intake.new_question(farmer, RICE_BLAST)
    assert view.draft.field == "plant_protection"
    assert not view.needs_field
    assert "稻瘟病" in view.draft.keywords
    assert view.draft.region_code == "430181"  # 浏阳市, found in the text


async def test_submit_numbers_demands_per_day_and_routes_to_the_field_team(intake, sessions, clock, farmer):
    team = await make_team(sessions, "植保服务团", ["plant_protection"], leader_telegram_id=2001)
    first = await intake.submit((await intake.new_question(farmer, RICE_BLAST)).draft.id, farmer)
    second = await intake.submit((await intake.new_question(farmer, "辣椒长蚜虫了用什么药")).draft.id, farmer)
    assert first.demand.tracking_no == "XQ20261128-0001"
    assert second.demand.tracking_no == "XQ20261128-0002"
    assert first.team.id == team.id and first.leader_id == await person_id(sessions, 2001)
    assert first.demand.status == lifecycle.WAITING
    clock.advance(days=1)
    third = await intake.submit((await intake.new_question(farmer, RICE_BLAST)).draft.id, farmer)
    assert third.demand.tracking_no == "XQ20261129-0001"


async def test_tracking_number_follows_china_date(intake, clock, farmer):
    clock.now = clock.now.replace(hour=17)  # 01:00 next day in Beijing
    submission = await intake.submit((await intake.new_question(farmer, RICE_BLAST)).draft.id, farmer)
    assert submission.demand.tracking_no == "XQ20261129-0001"


async def test_the_team_serving_the_farmers_region_is_preferred(intake, sessions, farmer):
    await make_team(sessions, "全省植保团", ["plant_protection"], ["430000"], leader_telegram_id=2001)
    changsha = await make_team(sessions, "长沙植保团", ["plant_protection"], ["430100"], leader_telegram_id=2002)
    await make_team(sessions, "邵阳植保团", ["plant_protection"], ["430500"], leader_telegram_id=2003)
    submission = await intake.submit((await intake.new_question(farmer, RICE_BLAST)).draft.id, farmer)
    assert submission.team.id == changsha.id


async def test_no_team_for_the_field_goes_to_staff_triage(intake, sessions, farmer):
    await make_team(sessions, "畜牧团", ["livestock"], leader_telegram_id=2001)
    await make_staff(sessions, 3001)
    submission = await intake.submit((await intake.new_question(farmer, RICE_BLAST)).draft.id, farmer)
    assert submission.team is None
    assert submission.demand.status == lifecycle.TRIAGE
    assert submission.staff_ids == [await person_id(sessions, 3001)]


async def test_second_submit_of_one_draft_changes_nothing(intake, sessions, farmer):
    draft = (await intake.new_question(farmer, RICE_BLAST)).draft
    first = await intake.submit(draft.id, farmer)
    with pytest.raises(AlreadySubmitted) as raised:
        await intake.submit(draft.id, farmer)
    assert first.demand.tracking_no in raised.value.user_message
    async with sessions() as session:
        events = (await session.scalars(select(DemandEvent))).all()
    assert len(events) == 1


async def test_a_question_torn_between_two_fields_lets_the_farmer_choose_them_first(intake, farmer):
    view = await intake.new_question(farmer, "想开网店卖脐橙，但是脐橙有炭疽病")
    assert view.needs_field
    assert {code for code, _ in view.draft.top_fields[:2]} == {"ecommerce", "plant_protection"}
    chosen = await intake.choose_field(view.draft.id, farmer, "plant_protection")
    assert not chosen.needs_field  # a field the farmer picked is never asked again


async def test_someone_elses_draft_cannot_be_submitted(intake, farmer):
    draft = (await intake.new_question(farmer, RICE_BLAST)).draft
    with pytest.raises(NotFound):
        await intake.submit(draft.id, 9999)
    with pytest.raises(NotFound):
        await intake.submit(424242, farmer)


async def test_farmer_corrects_field_and_region(intake, farmer):
    draft = (await intake.new_question(farmer, "这个咋办")).draft
    view = await intake.choose_field(draft.id, farmer, "livestock")
    assert view.draft.field == "livestock" and not view.needs_field
    view = await intake.choose_region(draft.id, farmer, "430582")
    assert view.draft.region_code == "430582"
    with pytest.raises(NotFound):
        await intake.choose_field(draft.id, farmer, "no_such_field")


async def test_photo_before_question_joins_it_and_photo_after_submit_joins_the_demand(intake, sessions, clock, farmer):
    held = await intake.attach_media(farmer, "photo", "PHOTO-1")
    assert held.kind == "held"
    draft = (await intake.new_question(farmer, RICE_BLAST)).draft
    submission = await intake.submit(draft.id, farmer)
    assert [m.file_id for m in submission.media] == ["PHOTO-1"]
    clock.advance(minutes=10)
    later = await intake.attach_media(farmer, "voice", "VOICE-1")
    assert later.kind == "demand" and later.demand.id == submission.demand.id
    clock.advance(minutes=31)
    assert (await intake.attach_media(farmer, "photo", "PHOTO-2")).kind == "held"
    async with sessions() as session:
        attached = (await session.scalars(select(DemandMedia).where(DemandMedia.demand_id == submission.demand.id))).all()
    assert sorted(m.file_id for m in attached) == ["PHOTO-1", "VOICE-1"]


async def test_my_demands_are_paged_newest_first(intake, farmer):
    for i in range(7):
        await intake.submit((await intake.new_question(farmer, f"{RICE_BLAST}{i}")).draft.id, farmer)
    page, total = await intake.my_demands(farmer, 5, 5)
    assert total == 7
    assert [d.tracking_no for d in page] == ["XQ20261128-0002", "XQ20261128-0001"]
