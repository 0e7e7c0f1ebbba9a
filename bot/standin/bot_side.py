"""The server side: Bot API methods answered the way Telegram answers them.

Each ``_api_<method>`` takes the recorded ``Call`` and returns the ``result``
of a successful answer, or raises ``ApiError`` with Telegram's description.
Messages are kept in ``_messages`` (every chat, users' messages too) and the
bot's own in ``sent``, updated in place as the bot edits or deletes them.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from bot.standin import objects
from bot.standin.formatting import EntityError, plain_text
from bot.standin.params import ApiError, bad_request, chat_id_of, float_param, int_param
from bot.standin.records import (
    AnsweredCallback,
    Call,
    Edit,
    SentMessage,
    StoredFile,
    Upload,
)
from bot.standin.webhook import WebhookDelivery

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

# Message fields that copyMessage and forwardMessage carry over.
CONTENT_FIELDS = (
    "text", "entities", "caption", "caption_entities",
    "photo", "voice", "audio", "video", "document", "sticker", "contact",
)  # fmt: skip


class BotSide(WebhookDelivery):
    """Bot API methods; mixed into ``BotApiStandIn``, which holds the state.

    Also used from there: ``_changes``, ``_next_message_id()`` and ``store_file()``.
    """

    bot_user: dict
    sent: list[SentMessage]
    answered_callbacks: list[AnsweredCallback]
    files: dict[str, StoredFile]
    commands: dict[tuple[str, str], list[dict]]
    menu_buttons: dict[int | None, dict]
    webhook_url: str
    _updates: list[dict]
    _delivered_through: int
    _users: dict[int, dict]
    _messages: dict[tuple[int, int], dict]
    _sent_by_key: dict[tuple[int, int], SentMessage]
    _callback_queries: set[str]
    _next_media_group: int
    _poll_generation: int
    _closing: bool
    _last_activity: float
    _changes: Any  # server._Changes

    # --- basics

    def _api_get_me(self, call: Call) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_log_out(self, call: Call) -> bool:
        return True

    def _api_close(self, call: Call) -> bool:
        return True

    def _api_set_webhook(self, call: Call) -> bool:
        self.webhook_url = str(call.params.get("url") or "")
        self.webhook_secret = str(call.params.get("secret_token") or "")
        self.webhook_max_connections = int_param(call.params, "max_connections", 40) or 40
        if self.webhook_url:
            self._start_delivery()
        return True

    def _api_delete_webhook(self, call: Call) -> bool:
        self.webhook_url = ""
        self._changes.notify()
        if call.params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_get_webhook_info(self, call: Call) -> dict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _api_get_chat(self, call: Call) -> dict:
        chat_id = chat_id_of(call.params)
        return {
            **objects.chat_dict(chat_id, self._users.get(chat_id)),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    # --- updates

    async def _api_get_updates(self, call: Call) -> list[dict]:
        """Long polling: wait up to ``timeout`` s for updates at or after ``offset``."""
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        self._confirm(int_param(call.params, "offset"))
        limit = min(max(int_param(call.params, "limit", 100) or 100, 1), 100)
        timeout = float_param(call.params, "timeout", 0.0)
        self._poll_generation += 1  # a newer poll makes any older one step aside
        generation = self._poll_generation
        self._changes.notify()
        if not self._updates and timeout > 0:
            await self._changes.wait_until(
                lambda: self._updates or self._closing or generation != self._poll_generation,
                timeout,
                on_timeout=None,
            )
        if generation != self._poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        batch = self._updates[:limit]
        if batch:
            self._delivered_through = max(self._delivered_through, batch[-1]["update_id"])
            self._last_activity = time.monotonic()
        return batch

    def _confirm(self, offset: int | None) -> None:
        """Forget updates before ``offset``; a negative offset keeps the last -offset."""
        if not offset:
            return
        if offset < 0:
            del self._updates[:offset]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    # --- messages

    def _api_send_message(self, call: Call) -> dict:
        chat_id = chat_id_of(call.params)
        text = _rendered_text(call.params)
        return self._post_message(call, chat_id, {"text": text}).message

    def _api_send_photo(self, call: Call) -> dict:
        return self._send_media(call, "photo")

    def _api_send_voice(self, call: Call) -> dict:
        return self._send_media(call, "voice")

    def _api_send_document(self, call: Call) -> dict:
        return self._send_media(call, "document")

    def _api_send_audio(self, call: Call) -> dict:
        return self._send_media(call, "audio")

    def _api_send_video(self, call: Call) -> dict:
        return self._send_media(call, "video")

    def _send_media(self, call: Call, kind: str) -> dict:
        chat_id = chat_id_of(call.params)
        caption = _rendered_caption(call.params)
        file = self._media_file(call, kind, call.params.get(kind), call.uploads.get(kind))
        content = {kind: objects.media_object(kind, file, call.params)}
        if caption:
            content["caption"] = caption
        return self._post_message(call, chat_id, content).message

    def _api_send_media_group(self, call: Call) -> list[dict]:
        chat_id = chat_id_of(call.params)
        items = call.params.get("media")
        if not isinstance(items, list) or not 2 <= len(items) <= 10:
            raise bad_request("media group must include 2-10 items")
        group_id = str(self._next_media_group)
        self._next_media_group += 1
        contents = [self._media_group_item(call, item, group_id) for item in items]
        return [self._post_message(call, chat_id, content).message for content in contents]

    def _media_group_item(self, call: Call, item: Any, group_id: str) -> dict:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in ("photo", "video", "audio", "document"):
            raise bad_request("unsupported media type in the media group")
        file = self._media_file(call, kind, item.get("media"))
        content = {kind: objects.media_object(kind, file, item), "media_group_id": group_id}
        caption = _rendered_caption(item)
        if caption:
            content["caption"] = caption
        return content

    def _api_copy_message(self, call: Call) -> dict:
        chat_id = chat_id_of(call.params)
        source = self._source_message(call, "copy")
        content = {k: v for k, v in source.items() if k in CONTENT_FIELDS}
        if "caption" in call.params:
            content["caption"] = _rendered_caption(call.params)
        sent = self._post_message(call, chat_id, content)
        return {"message_id": sent.message_id}

    def _api_forward_message(self, call: Call) -> dict:
        chat_id = chat_id_of(call.params)
        source = self._source_message(call, "forward")
        content = {k: v for k, v in source.items() if k in CONTENT_FIELDS}
        content["forward_origin"] = {
            "type": "user",
            "sender_user": source.get("from", self.bot_user),
            "date": source["date"],
        }
        return self._post_message(call, chat_id, content).message

    def _source_message(self, call: Call, verb: str) -> dict:
        key = (chat_id_of(call.params, "from_chat_id"), int_param(call.params, "message_id"))
        source = self._messages.get(key)  # type: ignore[arg-type]
        if source is None:
            raise bad_request(f"message to {verb} not found")
        return source

    def _api_send_chat_action(self, call: Call) -> bool:
        chat_id_of(call.params)
        if not call.params.get("action"):
            raise bad_request("action is empty")
        return True

    def _post_message(self, call: Call, chat_id: int, content: dict) -> SentMessage:
        """Store a new bot message in ``chat_id`` and record it in ``sent``."""
        reply_to = self._reply_target(call.params, chat_id)
        markup = call.params.get("reply_markup")
        message_id = self._next_message_id(chat_id)
        message = {
            "message_id": message_id,
            "from": dict(self.bot_user),
            "chat": objects.chat_dict(chat_id, self._users.get(chat_id)),
            "date": objects.now(),
            **content,
        }
        if reply_to:
            message["reply_to_message"] = reply_to
        if objects.is_inline_keyboard(markup):
            message["reply_markup"] = markup
        sent = SentMessage(
            seq=call.seq,
            method=call.method,
            chat_id=chat_id,
            message_id=message_id,
            params=call.params,
            message=message,
            reply_markup=markup,
        )
        self._messages[(chat_id, message_id)] = message
        self._sent_by_key[(chat_id, message_id)] = sent
        self.sent.append(sent)
        return sent

    def _reply_target(self, params: dict, chat_id: int) -> dict | None:
        """The message being replied to (without its own reply), if any."""
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id") or params.get("reply_to_message_id")
        if not message_id:
            return None
        target = self._messages.get((int(reply.get("chat_id", chat_id)), int(message_id)))
        if target is not None:
            return {k: v for k, v in target.items() if k != "reply_to_message"}
        if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")

    # --- edits

    def _api_edit_message_text(self, call: Call) -> dict:
        sent = self._editable(call)
        if "text" not in sent.message:
            raise bad_request("there is no text in the message to edit")
        return self._apply_edit(call, sent, {"text": _rendered_text(call.params)})

    def _api_edit_message_caption(self, call: Call) -> dict:
        sent = self._editable(call)
        if "text" in sent.message:
            raise bad_request("there is no caption in the message to edit")
        return self._apply_edit(call, sent, {"caption": _rendered_caption(call.params)})

    def _api_edit_message_reply_markup(self, call: Call) -> dict:
        return self._apply_edit(call, self._editable(call), {})

    def _editable(self, call: Call) -> SentMessage:
        if call.params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the stand-in")
        key = (chat_id_of(call.params), int_param(call.params, "message_id"))
        sent = self._sent_by_key.get(key)  # type: ignore[arg-type]
        if sent is not None and not sent.deleted:
            return sent
        if key in self._messages:
            raise bad_request("message can't be edited")
        raise bad_request("message to edit not found")

    def _apply_edit(self, call: Call, sent: SentMessage, changes: dict) -> dict:
        """Replace fields (None removes one) and the markup, keeping the history."""
        markup = call.params.get("reply_markup")
        message = {k: v for k, v in sent.message.items() if k not in ("reply_markup", "edit_date")}
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        if objects.is_inline_keyboard(markup):
            message["reply_markup"] = markup
        if _without_edit_date(sent.message) == message and markup == sent.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        message["edit_date"] = objects.now()
        sent.message = message
        sent.reply_markup = markup
        sent.edits.append(Edit(call.seq, call.method, sent.text, markup, call.params))
        self._messages[(sent.chat_id, sent.message_id)] = message
        return message

    def _api_delete_message(self, call: Call) -> bool:
        key = (chat_id_of(call.params), int_param(call.params, "message_id"))
        if self._messages.pop(key, None) is None:  # type: ignore[arg-type]
            raise bad_request("message to delete not found")
        if key in self._sent_by_key:
            self._sent_by_key[key].deleted = True  # type: ignore[index]
        return True

    # --- the rest

    def _api_answer_callback_query(self, call: Call) -> bool:
        query_id = str(call.params.get("callback_query_id") or "")
        if query_id not in self._callback_queries:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self.answered_callbacks.append(
            AnsweredCallback(
                callback_query_id=query_id,
                text=call.params.get("text"),
                show_alert=bool(call.params.get("show_alert")),
                url=call.params.get("url"),
                cache_time=call.params.get("cache_time"),
            )
        )
        return True

    def _api_set_my_commands(self, call: Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("commands must be a list")
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[commands_key(call.params)] = commands
        return True

    def _api_get_my_commands(self, call: Call) -> list[dict]:
        return self.commands.get(commands_key(call.params), [])

    def _api_delete_my_commands(self, call: Call) -> bool:
        self.commands.pop(commands_key(call.params), None)
        return True

    def _api_set_chat_menu_button(self, call: Call) -> bool:
        chat_id = int_param(call.params, "chat_id")
        self.menu_buttons[chat_id] = call.params.get("menu_button") or {"type": "default"}
        return True

    def _api_get_chat_menu_button(self, call: Call) -> dict:
        chat_id = int_param(call.params, "chat_id")
        default = self.menu_buttons.get(None) or {"type": "commands"}
        return self.menu_buttons.get(chat_id) or default

    def _api_get_file(self, call: Call) -> dict:
        file = self.files.get(str(call.params.get("file_id") or ""))
        if file is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "file_size": file.file_size,
            "file_path": file.file_path,
        }

    # --- files

    def _media_file(
        self, call: Call, kind: str, value: Any, upload: Upload | None = None
    ) -> StoredFile:
        """The file a media parameter names: an upload, attach://part, file_id or URL."""
        if isinstance(value, str) and value.startswith("attach://"):
            upload = call.uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"file {value} not found in the request")
        if upload is not None:
            return self.store_file(kind, upload.content, upload.filename, upload.content_type)
        if value is None or value == "":
            raise bad_request(f"there is no {kind} in the request")
        value = str(value)
        if value in self.files:
            return self.files[value]
        if value.startswith(("http://", "https://")):
            return self.store_file(kind, b"", value.rsplit("/", 1)[-1])
        raise bad_request("wrong file identifier/HTTP URL specified")


def _rendered_text(params: dict) -> str:
    text = _rendered(params, "text")
    if not text or not text.strip():
        raise bad_request("message text is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return text


def _rendered_caption(params: dict) -> str | None:
    caption = _rendered(params, "caption")
    if caption and len(caption) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return caption or None


def _rendered(params: dict, field: str) -> str | None:
    """``params[field]`` as Telegram stores it after applying ``parse_mode``."""
    raw = params.get(field)
    if raw is None:
        return None
    try:
        return plain_text(str(raw), params.get("parse_mode"))
    except EntityError as error:
        raise bad_request(f"can't parse entities: {error}") from None


def _without_edit_date(message: dict) -> dict:
    return {k: v for k, v in message.items() if k != "edit_date"}



def commands_key(params: dict) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")
