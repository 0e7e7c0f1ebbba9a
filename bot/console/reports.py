"""Reports as the CLI writes them, downloaded as files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.console.common import (
    _int,
    _page,
    _refused,
)
from bot.errors import NotFound
from bot.services import console_access
from bot.services.scope import Scope


class ReportPages:
    # -- reports, as the CLI writes them with --region: each staff member gets their own area's ---

    async def reports(self, request: web.Request) -> web.StreamResponse:
        from bot.services.hours import china_year

        staff_id, scope, context = await self._staff(request)
        notices = [n for n in await self.services.notices.recent() if scope.reaches(n.regions)]
        context.update(year=china_year(self.services.clock()), notices=notices)
        return _page(request, "reports.html", context)

    async def report_hours(self, request: web.Request) -> web.StreamResponse:
        from bot.services import hours

        staff_id, scope, context = await self._staff(request)
        year = _int(request.query.get("year")) or hours.china_year(self.services.clock())
        rows = await hours.ledger(self.services.sessions, year, hours.ConversionRule(), scope)
        return await self._report_file(staff_id, _named(f"hours-{year}", scope),
                                       lambda path: hours.write_report(rows, path))

    async def report_service_record(self, request: web.Request) -> web.StreamResponse:
        from bot.services import service_record

        return await self._yearly_file(request, service_record, "service-record")

    async def report_teams(self, request: web.Request) -> web.StreamResponse:
        from bot.services import team_report

        return await self._yearly_file(request, team_report, "teams")

    async def _yearly_file(self, request: web.Request, report: Any, name: str) -> web.StreamResponse:
        """A yearly report of the staff member's area: `report.yearly(sessions, year, scope)`."""
        from bot.services.hours import china_year

        staff_id, scope, context = await self._staff(request)
        year = _int(request.query.get("year")) or china_year(self.services.clock())
        rows = await report.yearly(self.services.sessions, year, scope)
        return await self._report_file(staff_id, _named(f"{name}-{year}", scope),
                                       lambda path: report.write_report(rows, path))

    async def report_trainees(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._staff(request)
        signups = self.services.signups
        return await self._report_file(staff_id, _named("trainees", scope),
                                       lambda path: signups.export_trainees(path, scope))

    async def report_signups(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._staff(request)
        notice_id = _int(request.match_info["id"])
        try:
            if not scope.reaches((await self.services.notices.get(notice_id or 0)).regions):
                raise _refused(request, "没有权限", "这次培训不在您负责的地区。", 403)
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


def _named(name: str, scope: Scope) -> str:
    """A report's file name, with the area's code when it is not the whole province."""
    return name if scope.everything else f"{name}-{scope.region}"
