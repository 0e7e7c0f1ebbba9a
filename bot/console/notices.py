"""Training notices: compose, count, send, follow the sending live, withdraw."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from bot.console.common import (
    STREAM_SECONDS,
    _int,
    _NoticeForm,
    _page,
    _places,
    _progress,
    _refused,
    _region_name,
)
from bot.errors import Conflict, NotFound
from bot.services import console_access
from bot.services.scope import Scope
from intents import taxonomy


class NoticePages:
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
                "hosting": [b for b in await self.services.bases.hosting() if scope.covers(b.region_code)],
                "experts": await self._experts()}
