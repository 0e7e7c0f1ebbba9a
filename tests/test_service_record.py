"""An expert's yearly service record: hours from a demand they served but another expert closed
(each logs their own), lecture hours from trainings they taught, and the ratings received."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from bot.services import lifecycle
from bot.services.expert import ExpertService
from bot.services.people import EXPERT, Account, ensure_person, grant_role
from bot.services.scope import Scope
from bot.services.service_record import write_report, yearly
from storage.models import Demand, DemandAssignment, Expert, ServiceTeam, TrainingNotice

LIUYANG, CHANGSHA_CITY, HENGYANG_CITY = "430181", "430100", "430400"


async def test_hours_from_demands_closed_by_others_and_lecture_hours(sessions, clock, tmp_path):
    now = clock()
    async with sessions.begin() as session:
        farmer = await ensure_person(session, Account("memory", "1001"), "张大哥")
        people = []
        for number, name in ((3001, "张专家"), (3002, "李专家")):
            person = await ensure_person(session, Account("memory", str(number)), name)
            grant_role(person, EXPERT)
            people.append(person)
        team = ServiceTeam(name="水稻植保服务团", fields=["plant_protection"], regions=["430000"])
        session.add(team)
        await session.flush()
        zhang = Expert(name="张专家", title="研究员", fields=["plant_protection"], team_id=team.id, person_id=people[0].id)
        li = Expert(name="李专家", title="副研究员", fields=["plant_protection"], team_id=team.id, person_id=people[1].id)
        session.add_all([zhang, li])
        await session.flush()
        demand = Demand(tracking_no="XQ20261128-0001", text="稻瘟病", submitter_id=farmer.id, field="plant_protection",
                        confidence=0.9, status=lifecycle.IN_SERVICE, team_id=team.id, created_at=now, rating=5,
                        service_mode="short_visit", region_code=LIUYANG)
        session.add(demand)
        await session.flush()
        session.add_all([DemandAssignment(demand_id=demand.id, expert_id=zhang.id),
                         DemandAssignment(demand_id=demand.id, expert_id=li.id)])
        session.add(TrainingNotice(title="稻瘟病识别讲座", content="", starts_at=now + timedelta(days=3),
                                   duration_hours=3, status="sent", lecturers=[li.id], regions=[LIUYANG]))
        ids = (demand.id, people[0].id, people[1].id, li.id)
    demand_id, zhang_person, li_person, li_id = ids

    experts = ExpertService(sessions, clock)
    closing = await experts.close(demand_id, zhang_person, "short_visit", 4, "上门查看")
    assert closing.co_experts == [li_person]  # 李专家 is offered to log theirs
    await experts.log_own_hours(demand_id, li_person, 2.5, "电话指导")

    records = {r.name: r for r in await yearly(sessions, 2026)}
    li_record = records["李专家"]
    assert li_record.demands == [("XQ20261128-0001", 2.5, False)]  # served, did not close
    assert li_record.lectures == [("稻瘟病识别讲座", 3.0)] and li_record.lecture_hours == 3.0
    assert li_record.ratings == [5]
    assert records["张专家"].demands == [("XQ20261128-0001", 4.0, True)]

    path = write_report(list(records.values()), tmp_path / "record.xlsx")
    sheet = load_workbook(io.BytesIO(path.read_bytes())).active
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["李专家"][4:10] == (1, 0, 2.5, 1, 3, 5.5)

    # The same record as the city's and the county's staff count it; another city sees none of it.
    for area in (LIUYANG, CHANGSHA_CITY):
        local = {r.name: r for r in await yearly(sessions, 2026, Scope(area))}
        assert local["李专家"].demands == li_record.demands and local["李专家"].lectures == li_record.lectures
    assert await yearly(sessions, 2026, Scope(HENGYANG_CITY)) == []
