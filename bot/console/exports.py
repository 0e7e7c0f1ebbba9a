"""CSV and Excel exports of what the dashboard shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from bot.console.common import (
    STATUS_FILTERS,
    _filters,
    _places,
    _query,
    _region_name,
)
from bot.services import console_access, oversight
from bot.services.oversight import Filters
from bot.services.scope import Scope
from intents import taxonomy


class ExportPages:
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
