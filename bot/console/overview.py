"""The dashboard: figures, charts and tables of the staff member's area, with filters."""

from __future__ import annotations

from aiohttp import web

from bot.console.common import (
    _city_rows,
    _filters,
    _page,
    _query,
    _region_name,
)
from bot.services import oversight
from intents import taxonomy


class OverviewPages:
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
