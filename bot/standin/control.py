"""HTTP routes for playing the user when the stand-in runs on its own.

With ``python -m bot.standin`` there is no test code to call ``send_text``;
these routes do the same over HTTP (curl-friendly JSON):

- ``POST /standin/send_text`` ``{"user_id": 42, "text": "/start"}``
- ``POST /standin/press`` ``{"user_id": 42, "chat_id": 42, "message_id": 3, "button": "好的"}``
- ``POST /standin/inject`` a raw update
- ``GET /standin/sent`` what the bot sent so far
- ``GET /standin/stats`` counts: messages sent, 429s answered (``?per_chat=1`` adds
  messages per chat), for benchmarks that count from the server's side
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.standin.server import BotApiStandIn


def add_control_routes(app: web.Application, api: BotApiStandIn) -> None:
    async def send_text(request: web.Request) -> web.Response:
        body = await request.json()
        user_id, text = int(body["user_id"]), body["text"]
        return web.json_response(api.send_text(user_id, text, first_name=body.get("first_name")))

    async def press(request: web.Request) -> web.Response:
        body = await request.json()
        key = (int(body["chat_id"]), int(body["message_id"]))
        message = next((m for m in api.sent if (m.chat_id, m.message_id) == key), None)
        if message is None:
            raise web.HTTPNotFound(text=f"the bot sent no message {key}")
        try:
            update = api.press(int(body["user_id"]), message, body["button"])
        except AssertionError as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        return web.json_response(update)

    async def inject(request: web.Request) -> web.Response:
        return web.json_response(api.inject(await request.json()))

    async def sent(request: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "seq": m.seq,
                    "method": m.method,
                    "chat_id": m.chat_id,
                    "message_id": m.message_id,
                    "text": m.text,
                    "buttons": m.buttons,
                    "edits": len(m.edits),
                    "deleted": m.deleted,
                }
                for m in api.sent
            ]
        )

    async def stats(request: web.Request) -> web.Response:
        body: dict = {"messages": len(api.sent), "too_many_requests": api.too_many_requests}
        if request.query.get("per_chat"):
            per_chat: dict[str, int] = {}
            for m in api.sent:
                per_chat[str(m.chat_id)] = per_chat.get(str(m.chat_id), 0) + 1
            body["per_chat"] = per_chat
        return web.json_response(body)

    app.router.add_post("/standin/send_text", send_text)
    app.router.add_post("/standin/press", press)
    app.router.add_post("/standin/inject", inject)
    app.router.add_get("/standin/sent", sent)
    app.router.add_get("/standin/stats", stats)
