"""Signing in to the console: the one-time link from /console (opened, then pressed), or a
registered phone and an SMS code; and who a request comes from, with their area."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web
from aiohttp_session import get_session, new_session

from bot.console.common import (
    NEED_LINK,
    _page,
    _refused,
)
from bot.errors import JicengError, NotAllowed, NotFound
from bot.services import console_access, oversight
from bot.services.scope import Scope


class SigninPages:
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

            message = await self.signin.send_code(phone, client_address(request, self.settings))
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
