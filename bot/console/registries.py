"""The achievements registry with its agreements, and the enterprises served."""

from __future__ import annotations

from aiohttp import web

from bot.console.common import (
    _int,
    _page,
    _refused,
)
from bot.errors import Conflict, NotFound
from bot.services import console_access


class RegistryPages:
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
