"""HTTP routes for playing the user when the stand-in runs on its own.

With ``python -m bot.standin`` there is no test code to call ``send_text``;
these routes do the same over HTTP (curl-friendly JSON):

- ``POST /standin/send_text`` ``{"user_id": 42, "text": "/start"}``
- ``POST /standin/send_texts`` ``[{"user_id": 42, "text": "..."}, ...]``: many at once
  (for benchmarks); answers ``[{"update_id", "chat_id", "message_id", "at"}, ...]``
- ``POST /standin/press`` ``{"user_id": 42, "chat_id": 42, "message_id": 3, "button": "好的"}``:
  answers the update, with ``at``, when it was injected
- ``POST /standin/inject`` a raw update
- ``GET /standin/sent`` what the bot sent so far (``?from=N`` skips the first N,
  ``?chat_id=C`` keeps only what went to chat C)
- ``GET /standin/stats`` counts: messages sent, 429s answered, getUpdates calls
  (``?per_chat=1`` adds messages per chat; ``?attempts=1`` adds message-sending calls
  per chat, refused ones included, optionally only those that arrived between ``since``
  and ``until``), for benchmarks that count from the server's side

Times (``at``, ``now``) are ``time.monotonic()`` in the stand-in's process, which on one
machine is the same clock as in any other process.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.standin.server import BotApiStandIn


def add_control_routes(app: web.Application, api: BotApiStandIn) -> None:
    async def send_text(request: web.Request) -> web.Response:
        body = await request.json()
        user_id, text = int(body["user_id"]), body["text"]
        return web.json_response(api.send_text(user_id, text, first_name=body.get("first_name")))

    async def send_texts(request: web.Request) -> web.Response:
        answers = []
        for item in await request.json():
            update = api.send_text(int(item["user_id"]), item["text"],
                                   first_name=item.get("first_name"))
            message = update["message"]
            answers.append({
                "update_id": update["update_id"],
                "chat_id": message["chat"]["id"],
                "message_id": message["message_id"],
                "at": api.injected_at[update["update_id"]],
            })
        return web.json_response(answers)

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
        return web.json_response({**update, "at": api.injected_at.get(update["update_id"])})

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
                    "edited_at": m.edits[-1].at if m.edits else None,
                    "deleted": m.deleted,
                    "at": m.at,
                }
                for m in api.sent[int(request.query.get("from", 0)):]
                if "chat_id" not in request.query or str(m.chat_id) == request.query["chat_id"]
            ]
        )

    async def stats(request: web.Request) -> web.Response:
        body: dict = {"messages": len(api.sent), "too_many_requests": api.too_many_requests,
                      "polls": sum(1 for call in api.calls if call.method == "getUpdates"),
                      "now": time.monotonic()}
        if request.query.get("per_chat"):
            per_chat: dict[str, int] = {}
            for m in api.sent:
                per_chat[str(m.chat_id)] = per_chat.get(str(m.chat_id), 0) + 1
            body["per_chat"] = per_chat
        if request.query.get("attempts"):
            from bot.standin.server import RATE_LIMITED_METHODS  # server imports this module

            since = float(request.query.get("since", "-inf"))
            until = float(request.query.get("until", "inf"))
            attempts: dict[str, int] = {}
            for call in api.calls:
                if call.method in RATE_LIMITED_METHODS and since <= call.at <= until:
                    chat = str(call.params.get("chat_id")).strip('"')
                    attempts[chat] = attempts.get(chat, 0) + 1
            body["attempts_per_chat"] = attempts
        return web.json_response(body)

    app.router.add_post("/standin/send_text", send_text)
    app.router.add_post("/standin/send_texts", send_texts)
    app.router.add_post("/standin/press", press)
    app.router.add_post("/standin/inject", inject)
    app.router.add_get("/standin/sent", sent)
    app.router.add_get("/standin/stats", stats)
