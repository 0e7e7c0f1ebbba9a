"""The staff console over HTTP: staff sign in by the one-time link the bot sends on /console and see
their own area — the dashboard's figures match the database, filters narrow them, a demand's
timeline tells its story; county staff cannot open, filter to or export another county's demands;
a used link and a POST without the CSRF token are refused."""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import select

from bot.memory import MemoryChat
from bot.services import console_access, lifecycle
from bot.services.directory import add_staff
from bot.services.people import Account, ensure_person
from storage.models import Demand, DemandEvent, Person
from tests.web_world import web_chat

LIUYANG, NINGXIANG, XIANGXI_JISHOU = "430181", "430182", "433101"


async def seed(services, clock) -> dict[str, int]:
    """Demands in three counties (and one with no region), some accepted and closed."""
    now = clock()
    ids: dict[str, int] = {}
    async with services.sessions.begin() as session:
        farmer = await ensure_person(session, Account("memory", "1001"), "张大哥")
        await session.flush()
        plan = [(LIUYANG, "plant_protection", lifecycle.CLOSED), (LIUYANG, "plant_protection", lifecycle.WAITING),
                (LIUYANG, "livestock", lifecycle.ACCEPTED), (NINGXIANG, "crop", lifecycle.WAITING),
                (XIANGXI_JISHOU, "crop", lifecycle.CLOSED), (None, "other", lifecycle.TRIAGE)]
        for n, (region, field, status) in enumerate(plan, 1):
            created = now - timedelta(days=n)
            demand = Demand(tracking_no=f"XQ20261128-{n:04d}", text=f"第{n}个问题 <b>加粗</b>", submitter_id=farmer.id,
                            region_code=region, field=field, confidence=0.9, status=status, created_at=created,
                            accept_due_at=created + timedelta(hours=24))
            if status in (lifecycle.ACCEPTED, lifecycle.CLOSED):
                demand.accepted_at = created + timedelta(hours=2)
            if status == lifecycle.CLOSED:
                demand.closed_at, demand.rating = created + timedelta(hours=10), 5
            session.add(demand)
            await session.flush()
            session.add(DemandEvent(demand_id=demand.id, from_status=None, to_status=status, note="种子数据",
                                    created_at=created))
            ids[f"{region}:{n}"] = demand.id
    return ids


class Staff:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def sign_in(self, services, person_id: int, clock) -> None:
        token = await console_access.issue_link(services.sessions, person_id, clock())
        async with self.http.get(f"{self.base}/console/login", params={"token": token}) as response:
            page = await response.text()  # opening the link uses nothing (a link preview may open it)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        async with self.http.post(f"{self.base}/console/login", data={"csrf": csrf, "token": token}) as response:
            assert response.status == 200 and str(response.url).endswith("/console/")
        self.token, self.csrf = token, csrf

    async def form_token(self, path: str) -> str:
        """The form token of a page this staff member opens."""
        _, page = await self.get(path)
        return re.search(r'name="csrf" value="([^"]+)"', page).group(1)

    async def get(self, path: str, **params) -> tuple[int, str]:
        async with self.http.get(f"{self.base}{path}", params=params) as response:
            return response.status, await response.text()


def figure(html: str, element_id: str) -> int:
    return int(re.search(rf'id="{element_id}">(\d+)<', html).group(1))


@pytest.fixture
async def world(db_url, understander, clock, tmp_path):
    async with web_chat(db_url, understander, clock, tmp_path) as world:
        world.ids = await seed(world.services, clock)
        world.province = (await add_staff(world.services.sessions, Account("memory", "4001"), "省厅王干事")).id
        world.county = (await add_staff(world.services.sessions, Account("memory", "4002"), "浏阳李干事",
                                        region=LIUYANG)).id
        yield world


async def test_province_staff_see_the_whole_province_and_each_demands_story(world, clock):
    staff = Staff(world.base)
    try:
        await staff.sign_in(world.services, world.province, clock)
        status, html = await staff.get("/console/")
        assert status == 200 and "省厅王干事" in html
        assert (figure(html, "total"), figure(html, "open")) == (6, 4)
        status, html = await staff.get("/console/", region=LIUYANG)
        assert figure(html, "total") == 3
        status, html = await staff.get("/console/demands", field="crop")
        assert figure(html, "count") == 2
        status, html = await staff.get(f"/console/demands/{world.ids[f'{XIANGXI_JISHOU}:5']}")
        assert status == 200 and "种子数据" in html and "&lt;b&gt;加粗" in html  # text is escaped, never markup
        status, csv = await staff.get("/console/export.csv")
        assert status == 200 and "植物保护" in csv
        status, html = await staff.get("/console/enterprises")
        assert status == 200 and 'id="kept">0<' in html
        async with staff.http.post(f"{world.base}/console/login", data={"csrf": staff.csrf,
                                                                         "token": staff.token}) as response:
            assert response.status == 403  # a link works once
    finally:
        await staff.http.close()


async def test_county_staff_see_only_their_county(world, clock):
    staff = Staff(world.base)
    try:
        await staff.sign_in(world.services, world.county, clock)
        status, html = await staff.get("/console/")
        assert figure(html, "total") == 3
        status, html = await staff.get("/console/", region=XIANGXI_JISHOU)  # another county: ignored
        assert figure(html, "total") == 3
        for odd in ("/console/demands/99999999999999999999999", "/console/demands?page=99999999999999999999",
                    "/console/?until=9999-12-31", "/console/notices/99999999999999999999"):
            assert (await staff.get(odd))[0] in (200, 404)  # odd numbers and dates: never a 500
        for other in (f"{NINGXIANG}:4", f"{XIANGXI_JISHOU}:5", "None:6"):
            status, _ = await staff.get(f"/console/demands/{world.ids[other]}")
            assert status == 403
        status, csv = await staff.get("/console/export.csv")
        assert "浏阳" in csv and "吉首" not in csv and "宁乡" not in csv
        async with staff.http.post(f"{world.base}/console/logout") as response:
            assert response.status == 403  # no CSRF token
        async with staff.http.post(f"{world.base}/console/logout", data={"csrf": "forged"}) as response:
            assert response.status == 403
    finally:
        await staff.http.close()


async def test_only_staff_get_a_link_and_only_with_a_session(world, clock):
    chat = MemoryChat(world.services)
    farmer = chat.person("1001", "张大哥")
    await farmer.command("console")
    assert "只有工作人员" in farmer.inbox[-1].text
    clerk = chat.person("4001", "省厅王干事")
    await clerk.command("console")
    assert "/console/login?token=" in clerk.inbox[-1].text
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{world.base}/console/", allow_redirects=False) as response:
            assert response.status == 302 and response.headers["Location"] == "/console/login"


async def test_an_experts_file_with_a_bad_row_names_the_row_and_writes_nothing(world, clock, tmp_path):
    from sqlalchemy import func, select

    from bot.services.directory import EXPERT_HEADERS
    from storage.models import Expert

    good = ["张三", "研究员", "示例农业科学研究院", "crop", "水稻", "长沙市", "", "", ""]
    bad = ["李四", "研究员", "示例农业大学", "不存在的领域", "水稻", "长沙市", "", "", ""]
    lines = [",".join(EXPERT_HEADERS), ",".join(good), ",".join(bad)]
    staff = Staff(world.base)
    try:
        await staff.sign_in(world.services, world.province, clock)
        csrf = await staff.form_token("/console/directory")

        async def upload(text: str) -> str:
            form = aiohttp.FormData()
            form.add_field("csrf", csrf)
            form.add_field("kind", "experts")
            form.add_field("file", text.encode("utf-8-sig"), filename="experts.csv", content_type="text/csv")
            async with staff.http.post(f"{world.base}/console/directory", data=form) as response:
                return await response.text()

        html = await upload("\n".join(lines))
        assert "第 3 行" in html and "不存在的领域" in html and "没有导入任何数据" in html
        async with world.services.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Expert)) == 0
        html = await upload("\n".join(lines[:2]))
        assert "检查无误" in html and "新增 1 位" in html
        async with world.services.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Expert)) == 0  # a preview writes nothing
        upload_id = re.search(r'name="upload" value="([^"]+)"', html).group(1)
        async with staff.http.post(f"{world.base}/console/directory/confirm",
                                   data={"csrf": csrf, "upload": upload_id, "kind": "experts"}) as response:
            assert "已导入" in await response.text()
        async with world.services.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Expert)) == 1
    finally:
        await staff.http.close()
    county = Staff(world.base)
    try:
        await county.sign_in(world.services, world.county, clock)
        assert (await county.get("/console/directory"))[0] == 403  # directories are the province's
    finally:
        await county.http.close()


async def subscribers(services, region: str, count: int) -> None:
    from bot.services.notices import SubscriptionService

    async with services.sessions.begin() as session:
        people = [await ensure_person(session, Account("memory", f"50{region}{n:03d}"), f"学员{n}") for n in range(count)]
        await session.flush()
        ids = [p.id for p in people]
    for person_id in ids:
        await SubscriptionService(services.sessions).subscribe(person_id, "*", region)


async def test_a_notice_is_counted_sent_and_followed_to_100_percent(world, clock):
    import json

    from bot.memory import MemoryChat

    await subscribers(world.services, LIUYANG, 3)
    await subscribers(world.services, XIANGXI_JISHOU, 2)
    staff = Staff(world.base)
    try:
        await staff.sign_in(world.services, world.county, clock)
        csrf = await staff.form_token("/console/notices")
        when = (clock() + timedelta(days=3)).astimezone(__import__("bot.clock", fromlist=["CHINA_TIME"]).CHINA_TIME)
        form = {"csrf": csrf, "title": "水稻病虫害绿色防控", "content": "稻瘟病识别", "place": "浏阳市农业农村局",
                "starts_at": when.strftime("%Y-%m-%dT09:00"), "hours": "3", "action": "preview"}
        async with staff.http.post(f"{world.base}/console/notices", data=form) as response:
            html = await response.text()
        assert figure(html, "recipients") == 3  # the county's subscribers only, though no region was ticked
        async with staff.http.post(f"{world.base}/console/notices",
                                   data={**form, "region": XIANGXI_JISHOU}) as response:
            assert response.status == 403  # outside their county
        async with staff.http.post(f"{world.base}/console/notices", data={**form, "action": "send"},
                                   allow_redirects=False) as response:
            assert response.status == 302
            progress_page = response.headers["Location"]
        chat = MemoryChat(world.services)  # the memory channel's sender delivers the notices
        await chat.settle()
        async with staff.http.get(f"{world.base}{progress_page}/events") as response:
            last = None
            async for line in response.content:
                if line.startswith(b"data: "):
                    last = json.loads(line[6:])
                    if last["done"]:
                        break
        assert last == {"sent": 3, "failed": 0, "queued": 0, "total": 3, "percent": 100, "done": True}
    finally:
        await staff.http.close()


async def test_staff_urge_reroute_and_note_a_demand_within_their_area(world, clock):
    from sqlalchemy import select

    from storage.models import OutboxMessage
    from tests.factories import make_team

    team = await make_team(world.services.sessions, "水稻植保服务团", ["plant_protection"], ["430000"],
                           leader_telegram_id=2001, leader_name="李团长")
    other = await make_team(world.services.sessions, "畜牧服务团", ["livestock"], ["430000"],
                            leader_telegram_id=2002, leader_name="王团长")
    waiting = world.ids[f"{LIUYANG}:2"]
    async with world.services.sessions.begin() as session:
        (await session.get(Demand, waiting)).team_id = team.id
    staff = Staff(world.base)
    try:
        await staff.sign_in(world.services, world.county, clock)
        csrf = await staff.form_token(f"/console/demands/{waiting}")

        async def act(demand_id: int, action: str, **fields) -> tuple[int, str]:
            async with staff.http.post(f"{world.base}/console/demands/{demand_id}/{action}",
                                       data={"csrf": csrf, **fields}) as response:
                return response.status, await response.text()

        status, html = await act(waiting, "urge", text="请今天内接单")
        assert status == 200 and "已督办，已通知 1 人。" in html and "督办：请今天内接单" in html
        status, html = await act(waiting, "note", text="农户电话打不通，已发短信")
        assert "备注：农户电话打不通" in html
        status, html = await act(waiting, "reroute", team=str(other.id), text="属于畜牧")
        assert "已改派" in html and "工作人员改派给畜牧服务团" in html
        async with world.services.sessions() as session:
            assert (await session.get(Demand, waiting)).team_id == other.id
            told = (await session.scalars(select(OutboxMessage.address))).all()
        assert "2001" in told and "2002" in told  # the old leader told, the new one gets the card
        status, _ = await act(world.ids[f"{NINGXIANG}:4"], "urge", text="越权")
        assert status == 403  # another county's demand
        status, _ = await act(waiting, "note", text="没有令牌", csrf="")
        assert status == 403
    finally:
        await staff.http.close()


async def test_reports_download_as_excel_each_staff_member_for_their_area(world, clock):
    import io

    from openpyxl import load_workbook

    async def workbook(staff: Staff, path: str) -> list[tuple]:
        async with staff.http.get(f"{world.base}{path}") as response:
            assert response.status == 200
            sheet = load_workbook(io.BytesIO(await response.read())).active  # a real workbook
            return list(sheet.iter_rows(min_row=2, values_only=True))

    staff = Staff(world.base)
    try:
        await staff.sign_in(world.services, world.province, clock)
        for path in ("/console/reports/hours.xlsx", "/console/reports/trainees.xlsx",
                     "/console/reports/service-record.xlsx"):
            await workbook(staff, path)
        teams = await workbook(staff, f"/console/reports/teams.xlsx?year={clock().year}")
        # 服务团, 团长, received, closed, solved, median accept hours, hours, ratings, average, 5 stars, 1-2 stars
        assert [row[2:4] + row[7:10] for row in teams] == [(6, 2, 2, 5, 2)]
        assert (await staff.get("/console/reports/signups/999.xlsx"))[0] == 404
    finally:
        await staff.http.close()
    county = Staff(world.base)
    try:
        await county.sign_in(world.services, world.county, clock)
        status, page = await county.get("/console/reports")
        assert status == 200 and "统计范围：长沙市浏阳市" in page
        teams = await workbook(county, f"/console/reports/teams.xlsx?year={clock().year}")
        assert [row[2:4] + row[7:10] for row in teams] == [(3, 1, 1, 5, 1)]  # 浏阳's three demands only
        await workbook(county, "/console/reports/trainees.xlsx")
    finally:
        await county.http.close()


async def test_trainings_show_sign_ups_and_take_attendance(world, clock):
    from bot.services.notices import NoticeDraft

    await subscribers(world.services, LIUYANG, 1)
    draft = NoticeDraft(step="preview", title="油茶修剪现场教学", content="现场教学", place="浏阳",
                        starts_at=clock() + timedelta(days=2), duration_hours=2, regions=[LIUYANG])
    created = await world.services.notices.send_draft(world.county, draft)
    async with world.services.sessions() as session:
        trainee = (await session.scalar(select(Person).where(Person.display_name == "学员0"))).id
    await world.services.signups.sign_up(created.notice_id, trainee)
    staff = Staff(world.base)
    try:
        await staff.sign_in(world.services, world.county, clock)
        _, html = await staff.get("/console/trainings")
        assert "油茶修剪现场教学" in html
        status, html = await staff.get(f"/console/trainings/{created.notice_id}")
        assert status == 200 and "学员0" in html and "已报名" in html
        csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
        async with staff.http.post(f"{world.base}/console/trainings/{created.notice_id}/attend",
                                   data={"csrf": csrf, "person": str(trainee), "attended": "1"}) as response:
            assert response.status == 200 and "出勤" in await response.text()
        assert (await world.services.signups.records(trainee)).entries[0].attended
    finally:
        await staff.http.close()
    other = (await add_staff(world.services.sessions, Account("memory", "4003"), "宁乡干事", region=NINGXIANG)).id
    neighbour = Staff(world.base)
    try:
        await neighbour.sign_in(world.services, other, clock)
        assert (await neighbour.get(f"/console/trainings/{created.notice_id}"))[0] == 403
    finally:
        await neighbour.http.close()


async def test_staff_sign_in_with_their_registered_phone(world, clock):
    await add_staff(world.services.sessions, Account("memory", "4001"), phone="13900004001")
    staff = Staff(world.base)
    try:
        csrf = await staff.form_token("/console/login")
        async with staff.http.post(f"{world.base}/console/login/code",
                                   data={"csrf": csrf, "phone": "13900004001"}) as response:
            assert "验证码已发送" in await response.text()
        async with staff.http.post(f"{world.base}/console/login/verify", data={
                "csrf": csrf, "phone": "13900004001", "code": world.sms.last["13900004001"]}) as response:
            html = await response.text()
        assert figure(html, "total") == 6  # the province's staff member, by phone
    finally:
        await staff.http.close()
    farmer = Staff(world.base)
    try:
        csrf = await farmer.form_token("/console/login")
        await farmer.http.post(f"{world.base}/console/login/code", data={"csrf": csrf, "phone": "13900001001"})
        async with farmer.http.post(f"{world.base}/console/login/verify", data={
                "csrf": csrf, "phone": "13900001001", "code": world.sms.last["13900001001"]}) as response:
            assert response.status == 409 and "只有工作人员" in await response.text()
    finally:
        await farmer.http.close()


async def test_notices_to_a_team_or_to_an_earlier_trainings_trainees(world, clock):
    from bot.services.notices import NoticeDraft
    from tests.factories import make_team

    team = await make_team(world.services.sessions, "水稻植保服务团", ["plant_protection"], ["430000"],
                           leader_telegram_id=2001, leader_name="李团长")
    await subscribers(world.services, LIUYANG, 2)
    first = await world.services.notices.send_draft(world.county, NoticeDraft(
        step="preview", title="第一期", content="c", place="浏阳", starts_at=clock() + timedelta(days=1),
        duration_hours=2, regions=[LIUYANG]))
    async with world.services.sessions() as session:
        trainee = (await session.scalar(select(Person).where(Person.display_name == "学员0"))).id
    await world.services.signups.sign_up(first.notice_id, trainee)

    county = Staff(world.base)
    try:
        await county.sign_in(world.services, world.county, clock)
        csrf = await county.form_token("/console/notices")
        when = (clock() + timedelta(days=5)).astimezone(__import__("bot.clock", fromlist=["CHINA_TIME"]).CHINA_TIME)
        form = {"csrf": csrf, "title": "第二期", "content": "进阶", "place": "浏阳", "hours": "2",
                "starts_at": when.strftime("%Y-%m-%dT09:00"), "action": "preview"}
        async with county.http.post(f"{world.base}/console/notices",
                                    data={**form, "audience": f"training:{first.notice_id}"}) as response:
            assert figure(await response.text(), "recipients") == 1  # the one who signed up
        async with county.http.post(f"{world.base}/console/notices",
                                    data={**form, "audience": f"team:{team.id}"}) as response:
            assert response.status == 403  # teams are notified by the province
    finally:
        await county.http.close()
    province = Staff(world.base)
    try:
        await province.sign_in(world.services, world.province, clock)
        csrf = await province.form_token("/console/notices")
        async with province.http.post(f"{world.base}/console/notices",
                                      data={**form, "csrf": csrf, "audience": f"team:{team.id}"}) as response:
            assert figure(await response.text(), "recipients") == 1  # the leader (no expert has joined)
    finally:
        await province.http.close()


async def test_province_staff_edit_an_expert_with_the_spreadsheets_checks(world, clock, tmp_path):
    from bot.services.directory import EXPERT_HEADERS, import_experts
    from storage.models import Expert

    sheet = tmp_path / "experts.csv"
    sheet.write_text(",".join(EXPERT_HEADERS) + "\n张三,研究员,示例农业科学研究院,crop,水稻,长沙市,,,\n", "utf-8-sig")
    await import_experts(world.services.sessions, sheet)
    async with world.services.sessions() as session:
        expert_id = (await session.scalar(select(Expert))).id
    staff = Staff(world.base)
    try:
        await staff.sign_in(world.services, world.province, clock)
        status, html = await staff.get(f"/console/experts/{expert_id}")
        assert status == 200 and "示例农业科学研究院" in html
        csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
        form = {"csrf": csrf, "name": "张三", "title": "二级研究员", "employer": "湖南省农业科学院",
                "fields": "种植栽培、不存在的领域", "specialties": "水稻栽培", "regions": "长沙市、浏阳市", "team": "",
                "phone": "12345"}
        async with staff.http.post(f"{world.base}/console/experts/{expert_id}", data=form) as response:
            html = await response.text()
        assert response.status == 400 and "不存在的领域" in html and "12345" in html
        async with world.services.sessions() as session:
            assert (await session.get(Expert, expert_id)).title == "研究员"  # nothing saved
        async with staff.http.post(f"{world.base}/console/experts/{expert_id}",
                                   data={**form, "fields": "种植栽培、植物保护", "phone": "13900000077"}) as response:
            assert "已保存" in await response.text()
        async with world.services.sessions() as session:
            expert = await session.get(Expert, expert_id)
        assert (expert.title, expert.fields, expert.phone) == ("二级研究员", ["crop", "plant_protection"], "13900000077")
    finally:
        await staff.http.close()


async def test_a_base_is_declared_approved_reviewed_and_revoked_in_the_console(world, clock):
    from bot.services.bases import CONDITIONS

    staff = Staff(world.base)
    try:
        await staff.sign_in(world.services, world.county, clock)
        csrf = await staff.form_token("/console/bases")
        form = aiohttp.FormData()
        for name, value in (("csrf", csrf), ("name", "浏阳油茶专家服务基地"), ("host", "浏阳市油茶产业园"),
                            ("region", LIUYANG)):
            form.add_field(name, value)
        for key in CONDITIONS:
            form.add_field(key, f"{key} 的情况说明")
            form.add_field(f"{key}_evidence", b"%PDF-1.4 evidence", filename=f"{key}.pdf", content_type="application/pdf")
        async with staff.http.post(f"{world.base}/console/bases", data=form) as response:
            html = await response.text()
            base_page = str(response.url)
        assert "已申报" in html and "证明材料 1" in html
        path = base_page.split(world.base, 1)[1]
        async with staff.http.get(f"{base_page}/evidence/support/0") as response:
            assert response.status == 200 and (await response.read()).startswith(b"%PDF")

        async def act(action: str, **fields) -> str:
            async with staff.http.post(f"{base_page}/{action}", data={"csrf": csrf, **fields}) as response:
                return await response.text()

        assert "已认定" in await act("decide", approve="1", reason="条件齐备")
        deadline = (clock() + timedelta(days=90)).date().isoformat()
        assert "限期整改中" in await act("review", outcome="限期整改", findings="活动太少", deadline=deadline)
        assert "水稻病虫害绿色防控培训方案" in await act("plan", year="2027", text="水稻病虫害绿色防控培训方案：四期")
        html = await act("review", outcome="撤销", findings="整改期满仍未开展活动")
        assert "已撤销" in html and "复核：限期整改" in html and "浏阳李干事" in html and "整改期满" in html
    finally:
        await staff.http.close()
    other = (await add_staff(world.services.sessions, Account("memory", "4009"), "吉首干事", region=XIANGXI_JISHOU)).id
    neighbour = Staff(world.base)
    try:
        await neighbour.sign_in(world.services, other, clock)
        assert (await neighbour.get(path))[0] == 403
        assert (await neighbour.get(f"{path}/evidence/support/0"))[0] == 403
    finally:
        await neighbour.http.close()


async def test_an_experts_certificate_and_yearly_assessment(world, clock, tmp_path):
    import io

    from docx import Document

    from bot.services.directory import EXPERT_HEADERS, TEAM_HEADERS, import_experts, import_teams
    from storage.models import Expert

    teams = tmp_path / "teams.csv"
    teams.write_text(",".join([*TEAM_HEADERS, "聘期开始", "聘期结束"]) + "\n水稻植保服务团,植物保护,全省,,2025-01-01,2027-12-31\n",
                     "utf-8-sig")
    await import_teams(world.services.sessions, teams)
    experts = tmp_path / "experts.csv"
    experts.write_text(",".join([*EXPERT_HEADERS, "团内角色"]) + "\n张三,研究员,湖南省农业科学院,植物保护,稻瘟病,全省,"
                       "水稻植保服务团,,,核心专家\n李四,研究员,湖南农业大学,植物保护,稻飞虱,全省,,,,\n", "utf-8-sig")
    await import_experts(world.services.sessions, experts)
    async with world.services.sessions() as session:
        ids = {e.name: e.id for e in (await session.scalars(select(Expert))).all()}
    staff = Staff(world.base)
    try:
        await staff.sign_in(world.services, world.province, clock)
        assert (await staff.get(f"/console/experts/{ids['李四']}/certificate.docx"))[0] == 409  # no team yet
        numbers = []
        for _ in range(2):
            async with staff.http.get(f"{world.base}/console/experts/{ids['张三']}/certificate.docx") as response:
                assert response.status == 200
                text = "\n".join(p.text for p in Document(io.BytesIO(await response.read())).paragraphs)
            numbers.append(re.search(r"湘专服聘〔\d{4}〕\d{4}号", text).group(0))
            assert "张三" in text and "水稻植保服务团" in text and "核心专家" in text and "2027年12月31日" in text
        assert numbers[0] == numbers[1]  # numbered once
        csrf = await staff.form_token(f"/console/experts/{ids['张三']}")
        async with staff.http.post(f"{world.base}/console/experts/{ids['张三']}/assess",
                                   data={"csrf": csrf, "year": "2025", "result": "优秀", "notes": "全年服务 40 次"}) as r:
            html = await r.text()
        assert "优秀" in html and "全年服务 40 次" in html
    finally:
        await staff.http.close()


async def test_an_agreement_is_recorded_and_checked_against_the_policys_shares(world, clock, tmp_path):
    from bot.services.achievements import HEADERS, import_achievements

    sheet = tmp_path / "achievements.csv"
    sheet.write_text(",".join(HEADERS) + "\n辣椒酱低温杀菌防胀袋技术,湖南农业大学,农产品加工与储运,中试,低温杀菌,技术转让\n",
                     "utf-8-sig")
    await import_achievements(world.services.sessions, sheet)
    staff = Staff(world.base)
    try:
        await staff.sign_in(world.services, world.province, clock)
        _, page = await staff.get("/console/achievements")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        achievement = re.search(r'<option value="(\d+)">辣椒酱', page).group(1)
        form = {"csrf": csrf, "achievement": achievement, "party": "湖南辣味食品有限公司", "route": "技术转让",
                "researchers_share": "60", "staff_share": "2"}
        async with staff.http.post(f"{world.base}/console/achievements", data=form) as response:
            html = await response.text()
        assert "低于政策要求" in html and "70%" in html and "5%" in html
        async with staff.http.post(f"{world.base}/console/achievements",
                                   data={**form, "researchers_share": "75", "staff_share": "5"}) as response:
            assert "符合政策要求" in await response.text()
    finally:
        await staff.http.close()
