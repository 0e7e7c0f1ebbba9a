"""Teams, experts and the service list: upload with a check of every row first, edit one
expert, the 聘书 and the yearly assessment."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.console.common import (
    _importer,
    _int,
    _page,
    _refused,
)
from bot.errors import Conflict, ImportFileError, NotFound, RowError
from bot.services import console_access
from bot.services.scope import Scope


class DirectoryPages:
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
