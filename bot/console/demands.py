"""The demand list, each demand's timeline, and 督办 / 改派 / notes on it."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from aiohttp import web

from bot.console.common import (
    PER_PAGE,
    _filters,
    _flash,
    _int,
    _page,
    _query,
    _refused,
)
from bot.errors import Conflict, NotAllowed, NotFound
from bot.services import console_access, oversight
from bot.services.scope import Scope
from intents import regions


class DemandPages:
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
