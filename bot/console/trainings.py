"""Trainings: sign-ups, the waiting list, attendance and trainee records."""

from __future__ import annotations

from aiohttp import web

from bot.console.common import (
    _int,
    _page,
    _refused,
)
from bot.errors import NotFound
from bot.services import console_access


class TrainingPages:
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
