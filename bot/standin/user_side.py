"""The user side: what people do in Telegram, injected as updates for the bot.

Tests call these plain methods; each builds a realistic update dict (users'
messages get ids in the same sequence as the bot's in that chat), queues it
for getUpdates and returns it.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.standin import objects
from bot.standin.records import SentMessage

FAKE_PHOTO = b"\xff\xd8\xff\xe0stand-in photo\xff\xd9"
FAKE_VOICE = b"OggSstand-in voice"


class UserSide:
    """Injecting updates; mixed into ``BotApiStandIn``, which holds the state.

    Also used from there: ``_changes``, ``_next_message_id()`` and ``store_file()``.
    """

    _updates: list[dict]
    _next_update_id: int
    injected_at: dict[int, float]
    _users: dict[int, dict]
    _messages: dict[tuple[int, int], dict]
    _callback_queries: set[str]
    _next_callback_id: int

    def user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict:
        """The user's ``from`` object (default name 农户), updated with what is given."""
        user = self._users.setdefault(user_id, objects.user_dict(user_id, "农户"))
        if first_name:
            user["first_name"] = first_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return user

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        reply_to: SentMessage | dict | int | None = None,
        chat_id: int | None = None,
    ) -> dict:
        """The user writes ``text`` (a /command gets its bot_command entity)."""
        content: dict[str, Any] = {"text": text}
        entities = objects.command_entities(text)
        if entities:
            content["entities"] = entities
        message = self._user_message(user_id, chat_id, first_name, content)
        if reply_to is not None:
            message["reply_to_message"] = self._replied(message["chat"]["id"], reply_to)
        return self.inject({"message": message})

    def send_group_text(self, chat_id: int, user_id: int, text: str) -> dict:
        """The user writes ``text`` in the group ``chat_id`` (negative)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        return self.send_text(user_id, text, chat_id=chat_id)

    def send_photo(
        self, user_id: int, *, caption: str | None = None, content: bytes = FAKE_PHOTO
    ) -> dict:
        """The user sends a photo (downloadable by the bot through getFile)."""
        file = self.store_file("photo", content)
        fields: dict[str, Any] = {"photo": objects.media_object("photo", file, {})}
        if caption:
            fields["caption"] = caption
        return self.inject({"message": self._user_message(user_id, None, None, fields)})

    def send_voice(self, user_id: int, duration: int = 3, *, content: bytes = FAKE_VOICE) -> dict:
        """The user sends a voice note of ``duration`` seconds."""
        file = self.store_file("voice", content, mime_type="audio/ogg")
        voice = objects.media_object("voice", file, {"duration": duration})
        return self.inject({"message": self._user_message(user_id, None, None, {"voice": voice})})

    def send_sticker(self, user_id: int) -> dict:
        """The user sends a sticker."""
        sticker = objects.media_object("sticker", self.store_file("sticker", b"RIFFwebp"), {})
        fields = {"sticker": sticker}
        return self.inject({"message": self._user_message(user_id, None, None, fields)})

    def send_location(self, user_id: int, latitude: float = 28.15, longitude: float = 113.63) -> dict:
        """The user shares a location (by default, 浏阳)."""
        fields = {"location": {"latitude": latitude, "longitude": longitude}}
        return self.inject({"message": self._user_message(user_id, None, None, fields)})

    def send_contact(self, user_id: int, phone_number: str, *, own: bool = True) -> dict:
        """The user shares a contact: their own (contact.user_id set) or someone else's."""
        contact: dict[str, Any] = {"phone_number": phone_number}
        if own:
            contact.update(first_name=self.user(user_id)["first_name"], user_id=user_id)
        else:
            contact["first_name"] = "联系人"
        fields = {"contact": contact}
        return self.inject({"message": self._user_message(user_id, None, None, fields)})

    def send_edited_text(self, user_id: int, message_id: int, text: str) -> dict:
        """The user edits their earlier message ``message_id`` in the private chat."""
        original = self._messages.get((user_id, message_id))
        if original is None or original.get("from", {}).get("id") != user_id:
            raise AssertionError(f"user {user_id} has no message {message_id} to edit")
        envelope = {k: original[k] for k in ("message_id", "from", "chat", "date")}
        edited = {**envelope, "edit_date": objects.now(), "text": text}
        if objects.command_entities(text):
            edited["entities"] = objects.command_entities(text)
        self._messages[(user_id, message_id)] = edited
        return self.inject({"edited_message": edited})

    def press(self, user_id: int, message: SentMessage, button_text: str) -> dict:
        """The user taps the inline button whose text contains ``button_text``."""
        if message.deleted:
            raise AssertionError(f"message was deleted: {message.describe()}")
        buttons = [b for row in _inline_rows(message) for b in row]
        matches = [b for b in buttons if button_text in b.get("text", "")]
        if not matches:
            texts = [b.get("text") for b in buttons]
            raise AssertionError(f"no button containing {button_text!r}; buttons are {texts}")
        button = matches[0]
        if "callback_data" not in button:
            raise AssertionError(f"button {button['text']!r} has no callback_data: {button}")
        return self.press_data(user_id, message, button["callback_data"])

    def press_data(self, user_id: int, message: SentMessage, data: str) -> dict:
        """A callback query with any ``data`` (forged or stale) on ``message``."""
        query_id = str(self._next_callback_id)
        self._next_callback_id += 1
        self._callback_queries.add(query_id)
        query = {
            "id": query_id,
            "from": dict(self.user(user_id)),
            "message": copy.deepcopy(message.message),
            "chat_instance": f"standin-{message.chat_id}",
            "data": data,
        }
        return self.inject({"callback_query": query})

    def inject(self, update: dict) -> dict:
        """Queue a raw update for getUpdates.

        It gets the next update_id if it has none, or if its id was already used:
        replaying an update the bot has seen delivers it again, as Telegram does
        with an update the bot never confirmed.
        """
        if update.get("update_id", 0) < self._next_update_id:
            update = {**update, "update_id": self._next_update_id}
        self._next_update_id = update["update_id"] + 1
        self.injected_at[update["update_id"]] = time.monotonic()
        self._updates.append(update)
        self._changes.notify()
        return update

    def _user_message(
        self, user_id: int, chat_id: int | None, first_name: str | None, content: dict
    ) -> dict:
        chat_id = user_id if chat_id is None else chat_id
        sender = dict(self.user(user_id, first_name=first_name))
        message_id = self._next_message_id(chat_id)
        message = {
            "message_id": message_id,
            "from": sender,
            "chat": objects.chat_dict(chat_id, sender if chat_id == user_id else None),
            "date": objects.now(),
            **content,
        }
        self._messages[(chat_id, message_id)] = message
        return message

    def _replied(self, chat_id: int, reply_to: SentMessage | dict | int) -> dict:
        if isinstance(reply_to, SentMessage):
            return dict(reply_to.message)
        if isinstance(reply_to, dict):
            return reply_to
        found = self._messages.get((chat_id, reply_to))
        if found is None:
            raise AssertionError(f"no message {reply_to} in chat {chat_id} to reply to")
        return dict(found)


def _inline_rows(message: SentMessage) -> list[list[dict]]:
    return (message.message.get("reply_markup") or {}).get("inline_keyboard", [])
