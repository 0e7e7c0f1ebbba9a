"""Reading Bot API request parameters the way Telegram does.

Parameters arrive as a JSON body, a url-encoded form, multipart form data, or
the query string. python-telegram-bot sends forms in which every non-string
value (numbers, booleans, reply_markup, ...) is itself JSON-encoded, so form
values are JSON-decoded unless the field is free text.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.standin.records import Upload

# Fields whose value is always a plain string, even when it looks like JSON.
FREE_TEXT_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "action",
        "title",
        "description",
        "short_description",
        "name",
        "query",
        "emoji",
        "performer",
        "file_name",
        "secret_token",
        "first_name",
        "last_name",
        "phone_number",
        "language_code",
    }
)


class ApiError(Exception):
    """An error answer: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def response(self) -> web.Response:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return web.json_response(body, status=self.code)


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def decode_form_value(name: str, value: str) -> Any:
    """Undo python-telegram-bot's JSON encoding of one form field."""
    if name in FREE_TEXT_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The request's parameters, and its uploaded files keyed by part name."""
    params = {name: decode_form_value(name, value) for name, value in request.query.items()}
    uploads: dict[str, Upload] = {}
    if not request.body_exists:
        return params, uploads
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON") from None
        if not isinstance(body, dict):
            raise bad_request("JSON body must be an object")
        params.update(body)
        return params, uploads
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, web.FileField):
            uploads[name] = Upload(name, value.filename, value.content_type, value.file.read())
        else:
            params[name] = decode_form_value(name, value)
    return params, uploads


def chat_id_of(params: dict[str, Any], field: str = "chat_id") -> int:
    """The integer chat id in ``params[field]``; usernames (@channel) are not known here."""
    value = params.get(field)
    if value is None or value == "":
        raise bad_request(f"{field} is empty")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request("chat not found") from None


def int_param(params: dict[str, Any], field: str, default: int | None = None) -> int | None:
    return _number_param(params, field, default, int)


def float_param(params: dict[str, Any], field: str, default: float) -> float:
    return _number_param(params, field, default, float)


def _number_param(params: dict[str, Any], field: str, default: Any, kind: type) -> Any:
    value = params.get(field)
    if value is None or value == "":
        return default
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {field} specified") from None
