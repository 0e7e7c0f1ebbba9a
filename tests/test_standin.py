"""The Bot API stand-in, driven by the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import aiohttp
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    MenuButtonCommands,
    Update,
)
from telegram.error import BadRequest, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.standin import BotApiStandIn

TOKEN = "123456789:TEST-TOKEN"
USER = 4242


@pytest.fixture
async def api():
    async with BotApiStandIn(token=TOKEN, bot_username="jiceng_test_bot") as api:
        yield api


def bot_for(api: BotApiStandIn, **kwargs) -> Bot:
    return Bot(TOKEN, base_url=f"{api.url}/bot", base_file_url=f"{api.url}/file/bot", **kwargs)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("好的", callback_data="ok")]])
    await update.message.reply_text(f"你说：{update.message.text}", reply_markup=keyboard)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text("欢迎使用")


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer("收到")
    await query.edit_message_text(f"已确认（{query.data}）")


@pytest.fixture
async def app(api):
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{api.url}/bot")
        .base_file_url(f"{api.url}/file/bot")
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(CallbackQueryHandler(confirm))
    await application.initialize()
    await application.start()
    await application.updater.start_polling(poll_interval=0, timeout=1)
    yield application
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


async def call_raw(api: BotApiStandIn, method: str, token: str = TOKEN, **params) -> tuple:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{api.url}/bot{token}/{method}", json=params) as response:
            return response.status, await response.json()


# --------------------------------------------------------------------- with a running bot


async def test_echo_with_keyboard_then_press(api: BotApiStandIn, app: Application):
    api.send_text(USER, "水稻叶子发黄")
    reply = await api.wait_for_message(USER, "水稻叶子发黄")
    assert reply.text == "你说：水稻叶子发黄"
    assert reply.buttons == ["好的"]
    assert reply.message["from"]["username"] == "jiceng_test_bot"

    marker = api.mark()
    update = api.press(USER, reply, "好")
    edited = await api.wait_for_edit(reply, "已确认", after=marker)
    assert edited is api.current(reply) and edited.text == "已确认（ok）"
    assert edited.buttons == []  # editing the text without a markup drops the keyboard
    await api.wait_idle()
    assert [(a.callback_query_id, a.text) for a in api.answered_callbacks] == [
        (update["callback_query"]["id"], "收到")
    ]
    assert api.pending_updates == 0


async def test_commands_reach_command_handlers(api: BotApiStandIn, app: Application):
    marker = api.mark()
    api.send_text(USER, "/start@jiceng_test_bot")
    assert (await api.wait_for_message(USER, after=marker)).text == "欢迎使用"


async def test_wait_for_message_says_what_was_sent(api: BotApiStandIn, app: Application):
    api.send_text(USER, "你好")
    reply = await api.wait_for_message(USER, "你好")
    with pytest.raises(AssertionError, match="你说：你好"):
        await api.wait_for_message(USER, "不会出现", timeout=0.2)
    with pytest.raises(AssertionError, match=r"buttons are \['好的'\]"):
        api.press(USER, reply, "取消")


async def test_bot_methods_through_real_bot(api: BotApiStandIn):
    async with bot_for(api) as bot:
        assert bot.username == "jiceng_test_bot"
        await bot.set_my_commands([("start", "开始"), ("help", "帮助")])
        assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
        assert api.my_commands() == [
            {"command": "start", "description": "开始"},
            {"command": "help", "description": "帮助"},
        ]

        with pytest.raises(BadRequest, match="too long"):
            await bot.send_message(USER, "长" * 4097)
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await bot.send_message(USER, "<b>未闭合", parse_mode="HTML")
        sent = await bot.send_message(USER, "<b>粗体</b> &amp; 正文", parse_mode="HTML")
        assert sent.text == "粗体 & 正文"

        await bot.edit_message_text("改过了", chat_id=USER, message_id=sent.message_id)
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("改过了", chat_id=USER, message_id=sent.message_id)
        assert await bot.delete_message(USER, sent.message_id)
        [record] = api.messages_to(USER)
        assert (record.text, record.deleted, len(record.edits)) == ("改过了", True, 1)
        assert [c.method for c in api.calls if c.error] == ["sendMessage"] * 2 + [
            "editMessageText"
        ]


async def test_photo_upload_get_file_and_download(api: BotApiStandIn):
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    async with bot_for(api) as bot:
        message = await bot.send_photo(USER, photo=picture, caption="病叶")
        assert message.caption == "病叶"
        file = await bot.get_file(message.photo[-1].file_id)
        assert bytes(await file.download_as_bytearray()) == picture
    assert api.sent[-1].text == "病叶"


async def test_other_media_copies_and_chat_methods(api: BotApiStandIn):
    farmer = api.send_text(USER, "我的问题")["message"]
    async with bot_for(api) as bot:
        voice = await bot.send_voice(USER, voice=b"OggS...", duration=2)
        document = await bot.send_document(USER, document=b"a,b\n1,2\n", filename="表.csv")
        album = await bot.send_media_group(
            USER, [InputMediaPhoto(b"one", caption="一"), InputMediaPhoto(b"two")]
        )
        again = await bot.send_photo(USER, photo=album[1].photo[-1].file_id)
        copied = await bot.copy_message(-1001, USER, farmer["message_id"])
        forwarded = await bot.forward_message(-1001, USER, farmer["message_id"])
        replied = await bot.send_message(
            USER, "回复你", reply_to_message_id=farmer["message_id"]
        )
        assert await bot.send_chat_action(USER, "typing")
        assert await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
        chat = await bot.get_chat(USER)

    assert document.document.file_name == "表.csv"
    assert voice.voice.mime_type == "audio/ogg"
    assert [m.caption for m in album] == ["一", None]
    assert album[0].media_group_id == album[1].media_group_id
    assert again.photo[-1].file_id == album[1].photo[-1].file_id
    assert api.files[document.document.file_id].content == b"a,b\n1,2\n"
    assert api.messages_to(-1001)[0].message_id == copied.message_id
    assert forwarded.text == "我的问题" and forwarded.forward_origin.sender_user.id == USER
    assert replied.reply_to_message.text == "我的问题"
    assert (chat.type, chat.first_name) == ("private", "农户")
    assert api.menu_buttons == {None: {"type": "commands"}}


async def test_user_side_updates_parse_as_real_updates(api: BotApiStandIn):
    api.user(USER, first_name="张三", username="zhangsan")
    first = api.send_text(USER, "第一句")
    api.send_photo(USER, caption="看看这个", content=b"jpeg bytes")
    api.send_voice(USER, duration=7)
    api.send_sticker(USER)
    api.send_contact(USER, "+8613800000000")
    api.send_edited_text(USER, first["message"]["message_id"], "改过的第一句")
    api.send_group_text(-1001, USER, "/help@jiceng_test_bot 请问")

    async with bot_for(api) as bot:
        updates = await bot.get_updates()
        first_msg, photo, voice, sticker, contact, edited, group = updates
        assert first_msg.message.from_user.username == "zhangsan"
        assert first_msg.message.from_user.language_code == "zh-hans"
        assert first_msg.message.chat.type == "private"
        assert photo.message.caption == "看看这个"
        photo_file = await bot.get_file(photo.message.photo[-1].file_id)
        assert bytes(await photo_file.download_as_bytearray()) == b"jpeg bytes"
        assert voice.message.voice.to_dict()["duration"] == 7
        assert sticker.message.sticker.emoji == "👍"
        assert contact.message.contact.user_id == USER
        assert edited.edited_message.text == "改过的第一句"
        assert group.message.chat.type == "group"
        assert group.message.parse_entities() == {
            group.message.entities[0]: "/help@jiceng_test_bot"
        }
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert api.pending_updates == 0


async def test_flood_limit_answers_retry_after(monkeypatch: pytest.MonkeyPatch):
    # PTB 22 warns on building RetryAfter unless opted in to timedelta durations.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    limited = BotApiStandIn(token=TOKEN, rate_limit_per_chat=1)
    async with limited:
        async with bot_for(limited) as bot:
            await bot.send_message(USER, "第一条")
            await bot.send_message(USER + 1, "别的聊天不受影响")
            with pytest.raises(RetryAfter) as raised:
                await bot.send_message(USER, "第二条")
            assert raised.value.retry_after == dt.timedelta(seconds=1)
    assert limited.too_many_requests == 1
    assert [m.text for m in limited.sent] == ["第一条", "别的聊天不受影响"]


# --------------------------------------------------------------------- raw HTTP


async def test_get_updates_offset_confirms_for_good(api: BotApiStandIn):
    ids = [api.send_text(USER, f"消息{n}")["update_id"] for n in range(3)]

    status, body = await call_raw(api, "getUpdates")
    assert status == 200 and [u["update_id"] for u in body["result"]] == ids

    _, body = await call_raw(api, "getUpdates", offset=ids[1])
    assert [u["update_id"] for u in body["result"]] == ids[1:]
    _, body = await call_raw(api, "getUpdates", limit=1)
    assert [u["update_id"] for u in body["result"]] == ids[1:2]  # ids[0] is gone for good
    assert api.pending_updates == 2

    _, body = await call_raw(api, "getUpdates", offset=ids[-1] + 1)
    assert body["result"] == [] and api.pending_updates == 0

    replay = api.inject({"update_id": ids[0], "message": {"text": "again"}})
    assert replay["update_id"] == ids[-1] + 1  # a used id is renewed so the bot sees it
    _, body = await call_raw(api, "getUpdates", offset=ids[-1] + 1)
    assert body["result"] == [replay]


async def test_long_poll_returns_as_soon_as_an_update_arrives(api: BotApiStandIn):
    async def user_writes_later():
        await asyncio.sleep(0.1)
        api.send_text(USER, "来了")

    began = time.monotonic()
    writer = asyncio.create_task(user_writes_later())
    _, body = await call_raw(api, "getUpdates", timeout=3)
    await writer
    assert [u["message"]["text"] for u in body["result"]] == ["来了"]
    assert time.monotonic() - began < 1

    began = time.monotonic()
    next_offset = body["result"][0]["update_id"] + 1
    _, body = await call_raw(api, "getUpdates", offset=next_offset, timeout=0.3)
    assert body["result"] == [] and time.monotonic() - began >= 0.3


async def test_wrong_token_unknown_method_and_bad_text(api: BotApiStandIn):
    assert await call_raw(api, "getMe", token="1:WRONG") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert await call_raw(api, "sendTelepathy") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    status, body = await call_raw(api, "SENDMESSAGE", chat_id=USER, text="x" * 4097)
    assert (status, body["description"]) == (400, "Bad Request: message is too long")
    status, body = await call_raw(api, "sendMessage", chat_id=USER, text="")
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    status, body = await call_raw(api, "sendMessage", chat_id=USER, text="x" * 4096)
    assert status == 200 and body["result"]["chat"] == {
        "id": USER,
        "type": "private",
        "first_name": "用户",
    }


async def test_bad_parameters_get_json_errors(api: BotApiStandIn):
    status, body = await call_raw(api, "setMyCommands", commands=["not a dict"])
    assert status == 400 and "can't parse BotCommand" in body["description"]
    status, body = await call_raw(api, "setMyCommands", commands=[{"command": "Start"}])
    assert (status, body["description"]) == (400, "Bad Request: BOT_COMMAND_INVALID")
    status, body = await call_raw(api, "sendPhoto", chat_id=USER, photo="no-such-file")
    assert body["description"] == "Bad Request: wrong file identifier/HTTP URL specified"
    assert "sendPhoto failed: Bad Request: wrong file" in api.describe_sent()
