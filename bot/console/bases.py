"""专家服务基地: declaration with evidence, 认定, 复核, yearly plans and hosted trainings."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.clock import CHINA_TIME
from bot.console.common import (
    MAX_EVIDENCE,
    _date,
    _evidence_suffix,
    _flash,
    _int,
    _page,
    _places,
    _refused,
    _region_name,
)
from bot.errors import Conflict, NotAllowed, NotFound
from bot.services import console_access
from bot.services.scope import Scope
from intents import regions


class BasePages:
    # -- 专家服务基地: declare (with evidence), 认定, 复核 ----------------------------------------

    async def bases(self, request: web.Request, error: str = "") -> web.StreamResponse:
        from bot.services.bases import CONDITIONS

        staff_id, scope, context = await self._staff(request)
        places = _places(scope) if scope.everything else [(scope.region, _region_name(scope.region)), *_places(scope)]
        context.update(bases=await self.services.bases.listed(staff_id), conditions=CONDITIONS, places=places, error=error)
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
            base = await self.services.bases.declare(staff_id, fields.get("name", ""), fields.get("host", ""), region,
                                               answers)
        except Conflict as error:
            return await self.bases(request, error.user_message)
        await console_access.audit(self.services.sessions, staff_id, "base.declare", f"base:{base.id}")
        raise web.HTTPFound(f"/console/bases/{base.id}")

    async def base(self, request: web.Request) -> web.StreamResponse:
        from bot.services.bases import CONDITIONS, OUTCOMES

        staff_id, scope, context = await self._staff(request)
        base = await self._base_in_scope(request, scope)
        context.update(b=base, steps=await self.services.bases.history(base.id), conditions=CONDITIONS,
                       outcomes=list(OUTCOMES), flash=_flash(request), trainings=await self.services.bases.trainings(base.id),
                       year=self.services.clock().astimezone(CHINA_TIME).year)
        return _page(request, "base_detail.html", context)

    async def base_action(self, request: web.Request) -> web.StreamResponse:
        staff_id, scope, context = await self._staff(request)
        base = await self._base_in_scope(request, scope)
        form = await request.post()
        action = request.match_info["action"]
        try:
            if action == "decide":
                await self.services.bases.decide(staff_id, base.id, form.get("approve") == "1", str(form.get("reason", "")))
            elif action == "plan":
                await self.services.bases.set_plan(staff_id, base.id, _int(form.get("year")), str(form.get("text", "")))
            elif action == "review":
                deadline = _date(str(form.get("deadline", "")))
                await self.services.bases.review(staff_id, base.id, str(form.get("outcome", "")),  # type: ignore[arg-type]
                                           str(form.get("findings", "")), deadline)
            else:
                raise web.HTTPNotFound()
        except (Conflict, NotAllowed) as error:
            from bot.services.bases import CONDITIONS, OUTCOMES

            context.update(b=await self.services.bases.get(base.id), steps=await self.services.bases.history(base.id),
                           conditions=CONDITIONS, outcomes=list(OUTCOMES), flash=error.user_message,
                           trainings=await self.services.bases.trainings(base.id),
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
            base = await self.services.bases.get(_int(request.match_info["id"]))
        except NotFound as error:
            raise _refused(request, "没有找到", error.user_message, 404) from None
        if not scope.covers(base.region_code):
            raise _refused(request, "没有权限", "这个基地不在您负责的地区。", 403)
        return base


    def _evidence_store(self) -> Any:
        from bot.media import MediaStore

        return MediaStore(self.upload_dir.parent / "evidence")
