"""The staff console (server-rendered with aiohttp-jinja2, served by `jiceng web` under /console):
staff sign in by the one-time link the bot sends on /console and see their own area — the
dashboard, the demand list with filters, each demand's timeline, exports of what is on screen.
Every page checks the staff member's scope on the server; every export and action is audited."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import get_session, new_session

from bot.clock import CHINA_TIME
from bot.errors import Conflict, ImportFileError, JicengError, NotAllowed, NotFound, RowError
from bot.services import console_access, lifecycle, oversight
from bot.services.notices import NoticeDraft
from bot.services.oversight import Filters, Scope
from intents import regions, taxonomy

if TYPE_CHECKING:
    from bot.app import Services
    from bot.config import Settings
    from bot.web.signin import SignIn

STATUS_NAMES = {
    lifecycle.WAITING: "待接单", lifecycle.TRIAGE: "待分派", lifecycle.ACCEPTED: "已接单",
    lifecycle.IN_SERVICE: "服务中", lifecycle.ANSWERED: "已答复", lifecycle.CLOSED: "已办结",
    lifecycle.REOPENED: "重新办理", lifecycle.CANCELLED: "已撤回",
}
STATUS_FILTERS = [("open", "办理中"), ("overdue", "超时"), *STATUS_NAMES.items()]
FLASH = {"reroute": "已改派。", "urge": "已督办，已通知 {n} 人。", "note": "已加备注。", "saved": "已保存。"}


def _flash(request: web.Request) -> str:
    """What the page says after an action: one of ours by key (never text from the URL)."""
    return FLASH.get(request.query.get("done", ""), "").format(n=_int(request.query.get("n")))
NEED_LINK = "请在聊天里给机器人发 /console，用收到的一次性链接登录，或用登记过的手机号登录。"
PER_PAGE = 50
STREAM_SECONDS = 600  # a progress stream ends after this long; the browser opens a new one


class Console:
    def __init__(self, services: Services, upload_dir: str | Path, signin: SignIn | None = None,
                 settings: Settings | None = None) -> None:
        from bot.config import Settings as DefaultSettings

        self.services = services
        self.services_settings = settings or DefaultSettings()
        self.upload_dir = Path(upload_dir)
        self.signin = signin  # the web chat's phone + SMS code sign-in, when it is served

    def attach(self, app: web.Application) -> None:
        env = aiohttp_jinja2.setup(app, loader=jinja2.PackageLoader("bot.console", "templates"),
                                   autoescape=jinja2.select_autoescape(default=True))
        env.globals.update(field_name=taxonomy.field_name, region_name=_region_name, status_name=_status_name,
                           when=_when, hours=_hours, level=_level, percent=_percent, mask=_mask)
        env.filters.update(field_name=taxonomy.field_name, region_name=_region_name)
        from bot.services.bases import ACTION_NAMES
        from bot.services.bases import STATUS_NAMES as BASE_STATUS

        env.globals.update(base_status=lambda s: BASE_STATUS.get(s, s), action_name=lambda a: ACTION_NAMES.get(a, a))
        app.router.add_get("/console/login", self.login)
        app.router.add_post("/console/login", self.login_with_link)
        app.router.add_post("/console/logout", self.logout)
        app.router.add_post("/console/login/code", self.login_code)
        app.router.add_post("/console/login/verify", self.login_verify)
        app.router.add_get("/console/", self.dashboard)
        app.router.add_get("/console", self.dashboard)
        app.router.add_get("/console/demands", self.demands)
        app.router.add_get("/console/demands/{id}", self.demand)
        app.router.add_post("/console/demands/{id}/{action}", self.demand_action)
        app.router.add_get("/console/export.csv", self.export_csv)
        app.router.add_get("/console/export.xlsx", self.export_xlsx)
        app.router.add_get("/console/directory", self.directory)
        app.router.add_post("/console/directory", self.directory_check)
        app.router.add_post("/console/directory/confirm", self.directory_import)
        app.router.add_get("/console/experts/{id}", self.expert)
        app.router.add_post("/console/experts/{id}", self.expert_save)
        app.router.add_get("/console/experts/{id}/certificate.docx", self.expert_certificate)
        app.router.add_post("/console/experts/{id}/assess", self.expert_assess)
        app.router.add_get("/console/notices", self.notices)
        app.router.add_post("/console/notices", self.notice_compose)
        app.router.add_get("/console/notices/{id}", self.notice_progress)
        app.router.add_get("/console/notices/{id}/events", self.notice_events)
        app.router.add_post("/console/notices/{id}/cancel", self.notice_cancel)
        app.router.add_get("/console/trainings", self.trainings)
        app.router.add_get("/console/trainings/{id}", self.training)
        app.router.add_post("/console/trainings/{id}/attend", self.training_attend)
        app.router.add_get("/console/enterprises", self.enterprises)
        app.router.add_get("/console/achievements", self.achievements)
        app.router.add_post("/console/achievements", self.achievement_agreement)
        app.router.add_get("/console/bases", self.bases)
        app.router.add_post("/console/bases", self.base_declare)
        app.router.add_get("/console/bases/{id}", self.base)
        app.router.add_post("/console/bases/{id}/{action}", self.base_action)
        app.router.add_get("/console/bases/{id}/evidence/{key}/{n}", self.base_evidence)
        app.router.add_get("/console/reports", self.reports)
        app.router.add_get("/console/reports/hours.xlsx", self.report_hours)
        app.router.add_get("/console/reports/trainees.xlsx", self.report_trainees)
        app.router.add_get("/console/reports/service-record.xlsx", self.report_service_record)
        app.router.add_get("/console/reports/signups/{id}.xlsx", self.report_signups)
        app.router.add_static("/console/static", _static_folder())

    # -- signing in -----------------------------------------------------------------------

    async def login(self, request: web.Request) -> web.StreamResponse:
        """The link itself changes nothing (a chat app's link preview may open it first): it shows a
        button, and the press (a POST) uses the link."""
        if "token" not in request.query:
            return await self._login_page(request)
        session = await get_session(request)
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(24)
        return _page(request, "login_link.html", {"csrf": session["csrf"], "token": request.query["token"][:100]})

    async def login_with_link(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        try:
            staff_id = await console_access.redeem_link(self.services.sessions, str(form.get("token", "")),
                                                        self.services.clock())
        except (NotFound, NotAllowed) as error:
            return _page(request, "error.html", {"title": "无法登录", "message": error.user_message}, status=403)
        session = await new_session(request)
        session["csrf"] = secrets.token_urlsafe(24)
        session["staff_id"] = staff_id
        await console_access.audit(self.services.sessions, staff_id, "console.login")
        raise web.HTTPFound("/console/")

    async def _login_page(self, request: web.Request, message: str = "", phone: str = "",
                          status: int = 200) -> web.StreamResponse:
        session = await get_session(request)
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(24)
        return _page(request, "login.html", {"csrf": session["csrf"], "message": message, "phone": phone},
                     status=status)

    async def login_code(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        phone = str(form.get("phone", "")).strip()
        if self.signin is None:
            return await self._login_page(request, NEED_LINK, phone, 400)
        try:
            from bot.web.server import client_address

            message = await self.signin.send_code(phone, client_address(request, self.services_settings))
        except JicengError as error:
            return await self._login_page(request, error.user_message, phone, 409)
        return await self._login_page(request, message, phone)

    async def login_verify(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        phone = str(form.get("phone", "")).strip()
        if self.signin is None:
            return await self._login_page(request, NEED_LINK, phone, 400)
        try:
            signed = await self.signin.verify(phone, str(form.get("code", "")))
            async with self.services.sessions() as db:
                await oversight.scope_of(db, signed.person_id)  # staff only
        except JicengError as error:
            return await self._login_page(request, error.user_message, phone, 409)
        session = await new_session(request)
        session["csrf"] = secrets.token_urlsafe(24)
        session["staff_id"] = signed.person_id
        session["phone"], session["person_id"] = signed.phone, signed.person_id
        await console_access.audit(self.services.sessions, signed.person_id, "console.login", "phone")
        raise web.HTTPFound("/console/")

    async def logout(self, request: web.Request) -> web.StreamResponse:
        session = await get_session(request)
        session.invalidate()
        raise web.HTTPFound("/console/login")

    async def _staff(self, request: web.Request) -> tuple[int, Scope, dict[str, Any]]:
        session = await get_session(request)
        staff_id = session.get("staff_id")
        if not staff_id:
            raise web.HTTPFound("/console/login")
        try:
            async with self.services.sessions() as db:
                scope = await oversight.scope_of(db, staff_id)
        except (NotAllowed, NotFound) as error:
            raise _refused(request, "没有权限", error.user_message, 403) from None
        person = await self.services.people.get(staff_id)
        context = {"staff": {"name": person.display_name if person else ""}, "scope": scope,
                   "csrf": session.get("csrf", "")}
        return staff_id, scope, context

    # -- pages ----------------------------------------------------------------------------

    async def dashboard(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._staff(request)
        filters = _filters(request, scope)
        board = await oversight.dashboard(self.services.sessions, scope, filters, self.services.clock())
        columns = [(code, _region_name(code), n) for code, n in board.by_region]
        month_max = max((n for _, n in board.by_month), default=1)
        city_rows = _city_rows(board.by_region)
        chart_data = {"months": board.by_month,
                      "fields": [[taxonomy.field_name(f), n] for f, n in board.by_field],
                      "cities": [[name, n] for _, name, n, _ in city_rows]}
        context.update(await self._filter_context(scope, filters), board=board, region_columns=columns, month_max=month_max,
                       query=_query(filters), city_rows=city_rows, chart_data=chart_data)
        return _page(request, "dashboard.html", context)

    async def demands(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._staff(request)
        filters = _filters(request, scope)
        page = max(1, _int(request.query.get("page")) or 1)
        rows, total = await oversight.demands(self.services.sessions, scope, filters, self.services.clock(),
                                              page, PER_PAGE)
        context.update(await self._filter_context(scope, filters), rows=rows, total=total, page=page,
                       pages=max(1, math.ceil(total / PER_PAGE)), query=_query(filters))
        return _page(request, "demands.html", context)

    async def demand(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._staff(request)
        try:
            found = await oversight.timeline(self.services.sessions, scope, _int(request.match_info["id"]))
        except NotAllowed as error:
            await console_access.audit(self.services.sessions, staff_id, "console.refused",
                                       f"demand:{request.match_info['id']}")
            raise _refused(request, "没有权限", error.user_message, 403) from None
        except NotFound as error:
            raise _refused(request, "没有找到", error.user_message, 404) from None
        context.update(t=found, teams=await self._teams_serving(scope), flash=_flash(request))
        return _page(request, "demand.html", context)

    async def demand_action(self, request: web.Request) -> web.StreamResponse:
        """改派, 督办 or 备注 on one demand (the service checks the scope again)."""
        staff_id, scope, context = await self._staff(request)
        demand_id, action = _int(request.match_info["id"]), request.match_info["action"]
        form = await request.post()
        supervision = self.services.supervision
        assert supervision is not None
        text = str(form.get("text", ""))
        try:
            if action == "reroute":
                done = await supervision.reroute(demand_id, staff_id, _int(form.get("team")), text)
            elif action == "urge":
                done = await supervision.urge(demand_id, staff_id, text)
            elif action == "note":
                done = await supervision.note(demand_id, staff_id, text)
            else:
                raise web.HTTPNotFound()
        except NotAllowed as error:
            await console_access.audit(self.services.sessions, staff_id, "console.refused", f"demand:{demand_id}")
            raise _refused(request, "没有权限", error.user_message, 403) from None
        except (NotFound, Conflict) as error:
            context.update(t=await oversight.timeline(self.services.sessions, scope, demand_id),
                           teams=await self._teams_serving(scope), flash=error.user_message)
            return _page(request, "demand.html", context, status=409)
        await console_access.audit(self.services.sessions, staff_id, f"demand.{action}", f"demand:{demand_id}",
                                   {"text": text[:200], "told": done.told})
        raise web.HTTPFound(f"/console/demands/{demand_id}?{urlencode({'done': action, 'n': len(done.told)})}")

    async def _experts(self) -> list[tuple[int, str]]:
        from bot.services.directory import expert_lines

        return [(e.id, f"{e.name}（{e.employer}）" if e.employer else e.name)
                for e in await expert_lines(self.services.sessions)]

    async def _teams_serving(self, scope: Scope) -> list[tuple[int, str]]:
        """The teams a demand of this area may be rerouted to (all, for province staff)."""
        from bot.services.directory import team_lines

        return [(t.id, t.name) for t in await team_lines(self.services.sessions)
                if scope.everything or any(regions.covers(r, scope.region) or scope.contains(r) for r in t.regions)]

    async def _teams(self) -> list[tuple[int, str]]:
        return await self.services.triage.all_teams()

    # -- directories: upload, every error by row, then import all or nothing -------------------

    async def directory(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._province_staff(request)
        return _page(request, "directory.html", await self._with_directory(context))

    async def _with_directory(self, context: dict[str, Any]) -> dict[str, Any]:
        from bot.services import service_list
        from bot.services.directory import expert_lines, team_lines

        sessions = self.services.sessions
        listed = [item for field, _ in await service_list.fields_with_items(sessions)
                  for item in await service_list.items(sessions, field)]
        context.update(teams=await team_lines(sessions), experts=await expert_lines(sessions), services=listed)
        return context

    async def expert(self, request: web.Request) -> web.StreamResponse:
        from bot.services.directory import expert_edit

        staff_id, scope, context = await self._province_staff(request)
        try:
            context.update(edit=await expert_edit(self.services.sessions, _int(request.match_info["id"])))
        except NotFound as error:
            raise _refused(request, "没有找到", error.user_message, 404) from None
        context.update(teams=await self._teams())
        return _page(request, "expert.html", await self._expert_extras(context, _int(request.match_info["id"])))

    async def _expert_extras(self, context: dict[str, Any], expert_id: int) -> dict[str, Any]:
        from bot.services.appointments import RESULTS, assessments
        from bot.services.hours import china_year

        context.update(expert_id=expert_id, results=RESULTS, year=china_year(self.services.clock()) - 1,
                       assessments=await assessments(self.services.sessions, expert_id))
        return context

    async def expert_certificate(self, request: web.Request) -> web.StreamResponse:
        from bot.services.appointments import issue_certificate, write_certificate

        staff_id, scope, context = await self._province_staff(request)
        expert_id = _int(request.match_info["id"])
        try:
            certificate = await issue_certificate(self.services.sessions, expert_id, self.services.clock())
        except (NotFound, Conflict) as error:
            raise _refused(request, "不能生成聘书", error.user_message, 409 if isinstance(error, Conflict) else 404) \
                from None
        await console_access.audit(self.services.sessions, staff_id, "expert.certificate", f"expert:{expert_id}",
                                   {"number": certificate.number})
        return await self._report_file(staff_id, f"certificate-{expert_id}",
                                       lambda path: write_certificate(certificate, path), suffix=".docx")

    async def expert_assess(self, request: web.Request) -> web.StreamResponse:
        from bot.services.appointments import assess

        staff_id, scope, context = await self._province_staff(request)
        expert_id = _int(request.match_info["id"])
        form = await request.post()
        try:
            await assess(self.services.sessions, staff_id, expert_id, _int(form.get("year")),
                         str(form.get("result", "")), str(form.get("notes", "")), self.services.clock)
        except (NotFound, Conflict) as error:
            raise _refused(request, "没有保存", error.user_message, 409) from None
        await console_access.audit(self.services.sessions, staff_id, "expert.assess", f"expert:{expert_id}",
                                   {"year": _int(form.get("year")), "result": str(form.get("result", ""))})
        raise web.HTTPFound(f"/console/experts/{expert_id}")

    async def expert_save(self, request: web.Request) -> web.StreamResponse:
        from bot.services.directory import ExpertEdit, update_expert

        staff_id, scope, context = await self._province_staff(request)
        form = await request.post()
        edit = ExpertEdit(**{k: str(form.get(k, "")) for k in ExpertEdit.__dataclass_fields__})
        expert_id = _int(request.match_info["id"])
        context.update(edit=edit, teams=await self._teams())
        try:
            await update_expert(self.services.sessions, expert_id, edit)
        except NotFound as error:
            raise _refused(request, "没有找到", error.user_message, 404) from None
        except ImportFileError as error:
            context.update(errors=error.errors)
            return _page(request, "expert.html", await self._expert_extras(context, expert_id), status=400)
        await console_access.audit(self.services.sessions, staff_id, "expert.edit", f"expert:{expert_id}",
                                   {"name": edit.name})
        context.update(saved=True)
        return _page(request, "expert.html", await self._expert_extras(context, expert_id))

    async def directory_check(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._province_staff(request)
        form = await request.post()
        kind = "teams" if form.get("kind") == "teams" else "experts"
        upload = form.get("file")
        if not isinstance(upload, web.FileField) or not upload.filename:
            context.update(errors=[RowError(0, "请选择要上传的文件。")], file_name="")
            return _page(request, "directory.html", await self._with_directory(context), status=400)
        suffix = Path(upload.filename).suffix.lower()
        if suffix not in (".xlsx", ".csv"):
            context.update(errors=[RowError(0, "只能上传 .xlsx 或 .csv 文件。")], file_name=upload.filename)
            return _page(request, "directory.html", await self._with_directory(context), status=400)
        token = secrets.token_urlsafe(12)
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        path = self.upload_dir / f"{token}{suffix}"
        path.write_bytes(upload.file.read())
        context.update(file_name=upload.filename, kind=kind)
        try:
            context["preview"] = await _importer(kind)(self.services.sessions, path, dry_run=True)
            context["upload"] = f"{token}{suffix}"
        except ImportFileError as error:
            path.unlink(missing_ok=True)
            context["errors"] = error.errors
        await console_access.audit(self.services.sessions, staff_id, "directory.check", kind,
                                   {"file": upload.filename, "ok": "preview" in context})
        return _page(request, "directory.html", await self._with_directory(context))

    async def directory_import(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._province_staff(request)
        form = await request.post()
        kind = "teams" if form.get("kind") == "teams" else "experts"
        name = str(form.get("upload", ""))
        path = self.upload_dir / name
        if not name or "/" in name or name.startswith(".") or not path.is_file():
            raise _refused(request, "文件已过期", "请重新上传名单。", 404)
        try:
            context["done"] = await _importer(kind)(self.services.sessions, path)
        except ImportFileError as error:  # changed meanwhile (another import): nothing written
            context.update(errors=error.errors, file_name=name)
        finally:
            path.unlink(missing_ok=True)
        await console_access.audit(self.services.sessions, staff_id, "directory.import", kind,
                                   {"result": context["done"].summary() if "done" in context else "refused"})
        return _page(request, "directory.html", await self._with_directory(context))

    async def _province_staff(self, request: web.Request) -> tuple[int, Scope, dict[str, Any]]:
        staff_id, scope, context = await self._staff(request)
        if not scope.everything:
            raise _refused(request, "没有权限", "名单由省级工作人员维护。", 403)
        return staff_id, scope, context

    # -- training notices: compose, count, send, watch, cancel ----------------------------------

    async def notices(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._staff(request)
        context.update(await self._notice_context(scope, staff_id), form=_NoticeForm(),
                       recent=await self.services.notices.sent_by(staff_id))
        return _page(request, "notices.html", context)

    async def notice_compose(self, request: web.Request) -> web.StreamResponse:
        from bot.services.broadcast import render_notice

        staff_id, scope, context = await self._staff(request)
        form = _NoticeForm.read(await request.post())
        context.update(await self._notice_context(scope, staff_id), form=form, recent=[])
        outside = [r for r in form.regions if not scope.contains(r)]
        if outside:
            await console_access.audit(self.services.sessions, staff_id, "notice.refused", ",".join(outside))
            raise _refused(request, "没有权限", f"只能向{scope.name}内发送通知。", 403)
        audience = form.audience_choice() or {}
        allowed_trainings = {n.id for n in context["trainings"]}
        if ("team_id" in audience and not scope.everything) or \
                ("training_id" in audience and audience["training_id"] not in allowed_trainings):
            await console_access.audit(self.services.sessions, staff_id, "notice.refused", form.audience)
            raise _refused(request, "没有权限", "只能发给自己地区的学员；服务团成员由省级工作人员通知。", 403)
        try:
            draft = form.draft(scope, self.services.clock())
        except ValueError as error:
            context["error"] = str(error)
            return _page(request, "notices.html", context, status=400)
        if form.action != "send":
            context.update(preview=render_notice(draft.to_notice()),
                           count=await self.services.subscriptions.count_recipients(draft))
            return _page(request, "notices.html", context)
        try:
            created = await self.services.notices.send_draft(staff_id, draft)
        except (Conflict, NotFound) as error:  # a base that may no longer host trainings
            context["error"] = error.user_message
            return _page(request, "notices.html", context, status=409)
        await console_access.audit(self.services.sessions, staff_id, "notice.send", f"notice:{created.notice_id}",
                                   {"title": created.title, "recipients": created.queued,
                                    "regions": draft.regions, "fields": draft.fields})
        raise web.HTTPFound(f"/console/notices/{created.notice_id}")

    async def _own_notice(self, request: web.Request) -> tuple[int, Scope, dict[str, Any], int]:
        staff_id, scope, context = await self._staff(request)
        notice_id = _int(request.match_info["id"])
        try:
            notice = await self.services.notices.get(notice_id)
        except NotFound as error:
            raise _refused(request, "没有找到", error.user_message, 404) from None
        if not scope.everything and notice.created_by_id != staff_id:
            raise _refused(request, "没有权限", "只能查看自己发出的通知。", 403)
        return staff_id, scope, context, notice_id

    async def notice_progress(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context, notice_id = await self._own_notice(request)
        progress = await self.services.notices.progress(notice_id)
        counts = _progress(progress.counts)
        context.update(notice_id=notice_id, title=progress.title, counts=counts, percent=counts["percent"],
                       cancellable=counts["queued"] > 0)
        return _page(request, "notice.html", context)

    async def notice_events(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context, notice_id = await self._own_notice(request)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        last: dict[str, Any] | None = None
        started = quiet = asyncio.get_running_loop().time()
        with contextlib.suppress(ConnectionResetError, asyncio.CancelledError):
            while True:
                now = asyncio.get_running_loop().time()
                counts = _progress((await self.services.notices.progress(notice_id)).counts)
                if counts != last:
                    await response.write(f"event: progress\ndata: {json.dumps(counts)}\n\n".encode())
                    last, quiet = counts, now
                elif now - quiet > 15:  # a closed page shows up as a failed write
                    await response.write(b": keep-alive\n\n")
                    quiet = now
                if counts["done"] or now - started > STREAM_SECONDS:  # the page's EventSource reconnects
                    break
                await asyncio.sleep(0.5)
        return response

    async def notice_cancel(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context, notice_id = await self._own_notice(request)
        await self.services.notices.cancel(staff_id, notice_id)
        await console_access.audit(self.services.sessions, staff_id, "notice.cancel", f"notice:{notice_id}")
        raise web.HTTPFound(f"/console/notices/{notice_id}")

    async def _notice_context(self, scope: Scope, staff_id: int) -> dict[str, Any]:
        places = _places(scope)
        if not scope.everything:  # their own area first (a city's staff may pick its counties too)
            places = [(scope.region, _region_name(scope.region)), *places]
        trainings = (await self.services.notices.recent() if scope.everything
                     else await self.services.notices.sent_by(staff_id, 50))
        return {"fields": [(c, taxonomy.field_name(c)) for c in taxonomy.field_codes()], "places": places,
                "teams": await self._teams() if scope.everything else [], "trainings": trainings,
                "hosting": [b for b in await self._bases().hosting() if scope.covers(b.region_code)],
                "experts": await self._experts()}

    # -- trainings: sign-ups, waiting list, attendance, trainee records ------------------------

    async def trainings(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._staff(request)
        notices = (await self.services.notices.recent() if scope.everything
                   else await self.services.notices.sent_by(staff_id, 50))
        context.update(notices=notices, trainees=await self.services.signups.trainees() if scope.everything else [])
        return _page(request, "trainings.html", context)

    async def training(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context, notice_id = await self._own_notice(request)
        info, lines = await self.services.signups.attendance_sheet(notice_id, staff_id)
        context.update(info=info, lines=lines)
        return _page(request, "training.html", context)

    async def training_attend(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context, notice_id = await self._own_notice(request)
        form = await request.post()
        person_id, attended = _int(form.get("person")), form.get("attended") == "1"
        try:
            await self.services.signups.record_attendance(notice_id, person_id, attended, staff_id)
        except NotFound as error:
            raise _refused(request, "没有找到", error.user_message, 404) from None
        await console_access.audit(self.services.sessions, staff_id, "training.attend", f"notice:{notice_id}",
                                   {"person": person_id, "attended": attended})
        raise web.HTTPFound(f"/console/trainings/{notice_id}")

    async def achievements(self, request: web.Request, warnings: list[str] | None = None) -> web.StreamResponse:
        from bot.services.achievements import ROUTES, SELF, listed

        staff_id, scope, context = await self._province_staff(request)
        context.update(rows=await listed(self.services.sessions), routes=[*ROUTES, SELF], warnings=warnings)
        return _page(request, "achievements.html", context)

    async def achievement_agreement(self, request: web.Request) -> web.StreamResponse:
        from bot.services.achievements import Terms, record_agreement

        staff_id, scope, context = await self._province_staff(request)
        form = await request.post()

        def number(name: str) -> float | None:
            try:
                return float(str(form.get(name, ""))) if str(form.get(name, "")).strip() else None
            except ValueError:
                return None

        terms = Terms(str(form.get("party", "")), str(form.get("route", "")), number("researchers_share"),
                      number("profit_share"), _int(form.get("profit_years")) or None, number("staff_share"))
        achievement_id = _int(form.get("achievement"))
        try:
            warnings = await record_agreement(self.services.sessions, achievement_id, staff_id, terms)
        except (Conflict, NotFound) as error:
            raise _refused(request, "没有记录", error.user_message, 409) from None
        await console_access.audit(self.services.sessions, staff_id, "achievement.agreement",
                                   f"achievement:{achievement_id}", {"party": terms.party, "warnings": warnings})
        return await self.achievements(request, warnings)

    async def enterprises(self, request: web.Request) -> web.StreamResponse:
        from bot.services.enterprises import served

        staff_id, scope, context = await self._staff(request)
        rows = [e for e in await served(self.services.sessions) if scope.covers(e.region_code)]
        context.update(rows=rows, kept=sum(e.jobs_kept for e in rows), added=sum(e.jobs_added for e in rows))
        return _page(request, "enterprises.html", context)

    # -- 专家服务基地: declare (with evidence), 认定, 复核 ----------------------------------------

    async def bases(self, request: web.Request, error: str = "") -> web.StreamResponse:
        from bot.services.bases import CONDITIONS

        staff_id, scope, context = await self._staff(request)
        places = _places(scope) if scope.everything else [(scope.region, _region_name(scope.region)), *_places(scope)]
        context.update(bases=await self._bases().listed(staff_id), conditions=CONDITIONS, places=places, error=error)
        return _page(request, "bases.html", context, status=400 if error else 200)

    async def base_declare(self, request: web.Request) -> web.StreamResponse:
        from bot.services.bases import CONDITIONS

        staff_id, scope, context = await self._staff(request)
        form = await request.post()  # (the CSRF middleware has read it already)
        fields = {k: str(v)[:2000] for k, v in form.items() if isinstance(v, str)}
        evidence: dict[str, list[str]] = {key: [] for key in CONDITIONS}
        store = self._evidence_store()
        for key in CONDITIONS:
            for upload in form.getall(f"{key}_evidence", []):
                if not isinstance(upload, web.FileField) or not upload.filename:
                    continue
                data = upload.file.read(MAX_EVIDENCE + 1)
                suffix = _evidence_suffix(upload.filename)
                if data and len(data) <= MAX_EVIDENCE and suffix:
                    evidence[key].append(store.save(data, suffix))
        region = fields.get("region") or None
        if region is None or not regions.get(region) or not scope.contains(region):
            raise _refused(request, "没有权限", f"只能登记{scope.name}内的基地。", 403)
        answers = {key: {"answer": fields.get(key, ""), "evidence": evidence[key]} for key in CONDITIONS}
        try:
            base = await self._bases().declare(staff_id, fields.get("name", ""), fields.get("host", ""), region,
                                               answers)
        except Conflict as error:
            return await self.bases(request, error.user_message)
        await console_access.audit(self.services.sessions, staff_id, "base.declare", f"base:{base.id}")
        raise web.HTTPFound(f"/console/bases/{base.id}")

    async def base(self, request: web.Request) -> web.StreamResponse:
        from bot.services.bases import CONDITIONS, OUTCOMES

        staff_id, scope, context = await self._staff(request)
        base = await self._base_in_scope(request, scope)
        context.update(b=base, steps=await self._bases().history(base.id), conditions=CONDITIONS,
                       outcomes=list(OUTCOMES), flash=_flash(request), trainings=await self._bases().trainings(base.id),
                       year=self.services.clock().astimezone(CHINA_TIME).year)
        return _page(request, "base_detail.html", context)

    async def base_action(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._staff(request)
        base = await self._base_in_scope(request, scope)
        form = await request.post()
        action = request.match_info["action"]
        try:
            if action == "decide":
                await self._bases().decide(staff_id, base.id, form.get("approve") == "1", str(form.get("reason", "")))
            elif action == "plan":
                await self._bases().set_plan(staff_id, base.id, _int(form.get("year")), str(form.get("text", "")))
            elif action == "review":
                deadline = _date(str(form.get("deadline", "")))
                await self._bases().review(staff_id, base.id, str(form.get("outcome", "")),  # type: ignore[arg-type]
                                           str(form.get("findings", "")), deadline)
            else:
                raise web.HTTPNotFound()
        except (Conflict, NotAllowed) as error:
            from bot.services.bases import CONDITIONS, OUTCOMES

            context.update(b=await self._bases().get(base.id), steps=await self._bases().history(base.id),
                           conditions=CONDITIONS, outcomes=list(OUTCOMES), flash=error.user_message,
                           trainings=await self._bases().trainings(base.id),
                           year=self.services.clock().astimezone(CHINA_TIME).year)
            return _page(request, "base_detail.html", context, status=409)
        await console_access.audit(self.services.sessions, staff_id, f"base.{action}", f"base:{base.id}",
                                   {k: str(v)[:200] for k, v in form.items() if k != "csrf"})
        raise web.HTTPFound(f"/console/bases/{base.id}?{urlencode({'done': 'saved'})}")

    async def base_evidence(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._staff(request)
        base = await self._base_in_scope(request, scope)
        refs = (base.conditions.get(request.match_info["key"]) or {}).get("evidence") or []
        n = _int(request.match_info["n"])
        path = self._evidence_store().path(refs[n]) if 0 <= n < len(refs) else None
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{path.name}"'})

    async def _base_in_scope(self, request: web.Request, scope: Scope) -> Any:
        try:
            base = await self._bases().get(_int(request.match_info["id"]))
        except NotFound as error:
            raise _refused(request, "没有找到", error.user_message, 404) from None
        if not scope.covers(base.region_code):
            raise _refused(request, "没有权限", "这个基地不在您负责的地区。", 403)
        return base

    def _bases(self) -> Any:
        assert self.services.bases is not None
        return self.services.bases

    def _evidence_store(self) -> Any:
        from bot.media import MediaStore

        return MediaStore(self.upload_dir.parent / "evidence")

    # -- reports, as the CLI writes them (province staff: they cover every area) ---------------

    async def reports(self, request: web.Request) -> web.StreamResponse:
        from bot.services.hours import china_year

        staff_id, scope, context = await self._province_staff(request)
        context.update(year=china_year(self.services.clock()), notices=await self.services.notices.recent())
        return _page(request, "reports.html", context)

    async def report_hours(self, request: web.Request) -> web.StreamResponse:
        from bot.services import hours

        staff_id, scope, context = await self._province_staff(request)
        year = _int(request.query.get("year")) or hours.china_year(self.services.clock())
        rows = await hours.ledger(self.services.sessions, year, hours.ConversionRule())
        return await self._report_file(staff_id, f"hours-{year}", lambda path: hours.write_report(rows, path))

    async def report_service_record(self, request: web.Request) -> web.StreamResponse:
        from bot.services import hours, service_record

        staff_id, scope, context = await self._province_staff(request)
        year = _int(request.query.get("year")) or hours.china_year(self.services.clock())
        rows = await service_record.yearly(self.services.sessions, year)
        return await self._report_file(staff_id, f"service-record-{year}",
                                       lambda path: service_record.write_report(rows, path))

    async def report_trainees(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._province_staff(request)
        signups = self.services.signups
        return await self._report_file(staff_id, "trainees", signups.export_trainees)

    async def report_signups(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._province_staff(request)
        notice_id = _int(request.match_info["id"])
        try:
            return await self._report_file(staff_id, f"signups-{notice_id}",
                                           lambda path: self.services.signups.export_signups(notice_id, path))
        except NotFound as error:
            raise _refused(request, "没有找到", error.user_message, 404) from None

    async def _report_file(self, staff_id: int, name: str, write: Callable[[Path], Any],
                           suffix: str = ".xlsx") -> web.StreamResponse:
        import inspect
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{name}{suffix}"
            result = write(path)
            if inspect.isawaitable(result):
                await result
            data = path.read_bytes()
        await console_access.audit(self.services.sessions, staff_id, "report", name)
        kind = "wordprocessingml.document" if suffix == ".docx" else "spreadsheetml.sheet"
        return web.Response(body=data, content_type=f"application/vnd.openxmlformats-officedocument.{kind}",
                            headers={"Content-Disposition": f'attachment; filename="{name}{suffix}"'})

    # -- exports of what is on screen ----------------------------------------------------------

    async def _export_rows(self, request: web.Request) -> tuple[list[list[Any]], Filters]:
        staff_id, scope, _ = await self._staff(request)
        filters = _filters(request, scope)
        board = await oversight.dashboard(self.services.sessions, scope, filters, self.services.clock())
        rows: list[list[Any]] = [["领域", "地区", "需求数"]]
        rows += [[taxonomy.field_name(f), _region_name(r), n] for (f, r), n in sorted(board.heat.items(),
                                                                                     key=lambda item: -item[1])]
        await console_access.audit(self.services.sessions, staff_id, "console.export", scope.region,
                                   {"filters": _query(filters)})
        return rows, filters

    async def export_csv(self, request: web.Request) -> web.StreamResponse:
        return await self._export(request, ".csv", "text/csv")

    async def export_xlsx(self, request: web.Request) -> web.StreamResponse:
        return await self._export(request, ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    async def _export(self, request: web.Request, suffix: str, content_type: str) -> web.StreamResponse:
        """The same safe writer as the CLI's reports (cells that would be formulas stay text)."""
        import tempfile
        from pathlib import Path

        from bot.services.tabular import write_table

        rows, _ = await self._export_rows(request)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"demands{suffix}"
            write_table(path, [str(h) for h in rows[0]], rows[1:], sheet_title="需求统计")
            data = path.read_bytes()
        return web.Response(body=data, content_type=content_type,
                            headers={"Content-Disposition": f'attachment; filename="demands{suffix}"'})

    async def _filter_context(self, scope: Scope, filters: Filters) -> dict[str, Any]:
        return {"filters": filters, "fields": [(c, taxonomy.field_name(c)) for c in taxonomy.field_codes()],
                "places": _places(scope), "statuses": STATUS_FILTERS, "teams": await self._teams()}


# -- helpers -------------------------------------------------------------------------------


@dataclass
class _NoticeForm:
    """What staff typed in the notice composer (kept to show the form again)."""

    title: str = ""
    content: str = ""
    starts_at: str = ""
    hours: str = ""
    place: str = ""
    capacity: str = ""
    audience: str = ""  # "", "team:N" or "training:N"
    base: str = ""      # the hosting 专家服务基地's id
    lecturers: list[str] = dataclass_field(default_factory=list)  # expert ids
    fields: list[str] = dataclass_field(default_factory=list)
    regions: list[str] = dataclass_field(default_factory=list)
    action: str = "preview"

    @classmethod
    def read(cls, form: Any) -> _NoticeForm:
        return cls(title=str(form.get("title", "")).strip(), content=str(form.get("content", "")).strip(),
                   starts_at=str(form.get("starts_at", "")), hours=str(form.get("hours", "")),
                   place=str(form.get("place", "")).strip(), capacity=str(form.get("capacity", "")).strip(),
                   audience=str(form.get("audience", "")).strip(), base=str(form.get("base", "")).strip(),
                   lecturers=[str(v) for v in form.getall("lecturer", []) if str(v).isdigit()],
                   fields=[f for f in form.getall("field", []) if taxonomy.is_field(f)],
                   regions=[r for r in form.getall("region", []) if regions.get(r)],
                   action=str(form.get("action", "preview")))

    def draft(self, scope: Scope, now: datetime) -> NoticeDraft:
        """The notice these answers make; ValueError names what to correct. A county's or city's
        staff who tick no region send to their own area, never the whole province."""
        if not self.title or not self.content or not self.place:
            raise ValueError("请填写标题、内容和地点。")
        try:
            starts = datetime.fromisoformat(self.starts_at).replace(tzinfo=CHINA_TIME)
        except ValueError:
            raise ValueError("请填写培训时间。") from None
        if starts <= now:
            raise ValueError("培训时间已经过去了，请重新填写。")
        try:
            hours = float(self.hours or 2)
            capacity = int(self.capacity) if self.capacity else None
        except ValueError:
            raise ValueError("时长和名额请填数字。") from None
        if not 0 < hours <= 24 or (capacity is not None and capacity < 1):
            raise ValueError("时长应在 0 到 24 小时之间，名额至少 1 人。")
        return NoticeDraft(step="preview", title=self.title[:60], content=self.content[:1000], starts_at=starts,
                           duration_hours=hours, place=self.place[:100], fields=list(self.fields),
                           regions=list(self.regions) or ([] if scope.everything else [scope.region]),
                           capacity=capacity, audience=self.audience_choice(),
                           base_id=int(self.base) if self.base.isdigit() else None,
                           lecturers=[int(v) for v in self.lecturers])

    def audience_choice(self) -> dict[str, int] | None:
        kind, _, number = self.audience.partition(":")
        if kind in ("team", "training") and number.isdigit():
            return {f"{kind}_id": int(number)}
        return None


def _progress(counts: dict[str, int]) -> dict[str, Any]:
    from bot.services.outbox import BLOCKED, FAILED, OPEN_STATUSES, SENT

    total = sum(counts.values())
    sent, failed = counts.get(SENT, 0), counts.get(FAILED, 0) + counts.get(BLOCKED, 0)
    queued = sum(counts.get(s, 0) for s in OPEN_STATUSES)
    percent = 100 if total == 0 else round(100 * (total - queued) / total)
    return {"sent": sent, "failed": failed, "queued": queued, "total": total, "percent": percent,
            "done": queued == 0}


def _city_rows(by_region: list[tuple[str | None, int]]) -> list[tuple[str, str, int, list[tuple[str, int]]]]:
    """Hunan's 14 市州 with their demands, and each county's beside it (a map, as a table)."""
    counts = dict(by_region)
    rows = []
    for city in regions.cities():
        counties = [(c.name, counts[c.code]) for c in regions.counties(city.code) if counts.get(c.code)]
        total = counts.get(city.code, 0) + sum(n for _, n in counties)
        rows.append((city.code, city.name, total, sorted(counties, key=lambda item: -item[1])))
    return rows


MAX_EVIDENCE = 10 * 1024 * 1024
EVIDENCE_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx")


def _evidence_suffix(filename: str) -> str | None:
    """Evidence is kept under a random name with its own suffix (never the uploader's path)."""
    suffix = Path(filename).suffix.lower()
    return suffix if suffix in EVIDENCE_SUFFIXES else None


def _importer(kind: str) -> Any:
    from bot.services import directory

    return directory.import_teams if kind == "teams" else directory.import_experts


def _static_folder() -> str:
    from importlib import resources

    return str(resources.files("bot.console").joinpath("static"))


def _page(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    return response


def _refused(request: web.Request, title: str, message: str, status: int) -> web.HTTPException:
    body = aiohttp_jinja2.render_string("error.html", request, {"title": title, "message": message})
    cls = {401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 404: web.HTTPNotFound, 409: web.HTTPConflict}[status]
    return cls(text=body, content_type="text/html")


def _filters(request: web.Request, scope: Scope) -> Filters:
    q = request.query
    field = q.get("field") or None
    region = q.get("region") or None
    return Filters(
        field=field if field and taxonomy.is_field(field) else None,
        region=region if region and regions.get(region) and scope.contains(region) else None,
        status=q.get("status") or None, team_id=_int(q.get("team")) or None,
        since=_date(q.get("since")), until=_date(q.get("until")),
        text=(q.get("q") or "").strip()[:50] or None,
    )


def _query(filters: Filters) -> str:
    values = {"field": filters.field, "region": filters.region, "status": filters.status, "team": filters.team_id,
              "since": filters.since.isoformat() if filters.since else None,
              "until": filters.until.isoformat() if filters.until else None, "q": filters.text}
    return urlencode({k: v for k, v in values.items() if v})


def _places(scope: Scope) -> list[tuple[str, str]]:
    if scope.everything:
        found = []
        for city in regions.cities():
            found.append((city.code, city.name))
            found += [(c.code, f"　{c.name}") for c in regions.counties(city.code)]
        return found
    if regions.city_of(scope.region) == scope.region:
        return [(c.code, c.name) for c in regions.counties(scope.region)]
    return []


def _date(text: str | None) -> date | None:
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day is None or date(2000, 1, 1) <= day <= date(2100, 12, 31) else None


def _int(value: object) -> int:
    """A non-negative id or number from a request; 0 for anything else (or out of 64-bit range)."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return 0
    return number if 0 <= number < 2**63 else 0


def _mask(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else phone


def _region_name(code: str | None) -> str:
    return regions.full_name(code) if code else "未填写"


def _status_name(status: str) -> str:
    return STATUS_NAMES.get(status, status)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M") if moment else ""


def _hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} 小时" if value < 48 else f"{value / 24:.1f} 天"


def _level(n: int) -> int:
    return 0 if n <= 0 else min(5, 1 + int(math.log10(n) * 1.5))


def _percent(n: int, most: int) -> int:
    return round(100 * n / most) if most else 0


