"""/services: the technical service list (技术服务清单) by field; "就这个问" on an item makes
the farmer's next message a question for the team that offers it."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, filters

from bot import messages
from bot.buttons import AskAboutService, CancelServiceQuestion, ServicesHome, ServicesInField
from bot.services import service_list, states
from bot.services.intake import MAX_QUESTION_CHARS
from bot.services.states import Waiting
from bot.telegram import intake
from bot.telegram.common import (
    PAGE_SIZE,
    edit,
    guarded,
    key,
    me,
    pager,
    request_key,
    rows,
    send,
    tell,
)
from bot.telegram.context import JicengContext
from bot.telegram.presses import on
from intents import taxonomy

_MAX_ID = 2**63


async def _fields(context: JicengContext) -> tuple[str, InlineKeyboardMarkup | None]:
    fields = await service_list.fields_with_items(context.services.sessions)
    if not fields:
        return messages.SERVICES_EMPTY, None
    buttons = [key(messages.BTN_SERVICE_FIELD.format(field=messages.field_label(code), count=count),
                   ServicesInField(code)) for code, count in fields]
    return messages.SERVICES_FIELDS, InlineKeyboardMarkup(rows(buttons, 2))


async def _field_page(context: JicengContext, field: str, offset: int) -> tuple[str, InlineKeyboardMarkup]:
    listed = await service_list.items(context.services.sessions, field)
    back = [key(messages.BTN_BACK, ServicesHome())]
    page = listed[offset:offset + PAGE_SIZE]
    if not page:
        return messages.SERVICES_FIELD_EMPTY.format(field=messages.field_label(field)), InlineKeyboardMarkup([back])
    lines = []
    for n, item in enumerate(page, offset + 1):
        line = messages.SERVICE_LINE.format(n=n, title=item.title, team=item.team_name)
        if item.description:
            line += messages.SERVICE_DESCRIPTION.format(description=messages.short(item.description, 80))
        lines.append(line)
    text = messages.SERVICES_IN_FIELD.format(
        field=messages.field_label(field), total=len(listed), first=offset + 1, last=offset + len(page),
        lines="\n".join(lines))
    keyboard = [[key(messages.BTN_ASK_SERVICE.format(title=messages.short(item.title, 24)), AskAboutService(item.id))]
                for item in page]
    paging = pager(lambda at: ServicesInField(field, at), offset, len(listed))
    keyboard += list(paging.inline_keyboard) if paging else []
    return text, InlineKeyboardMarkup(keyboard + [back])


async def _item(context: JicengContext, item_id: int) -> service_list.ListedService | None:
    if not 0 < item_id < _MAX_ID:  # a forged button's number may not even fit the column
        return None
    return await service_list.item(context.services.sessions, item_id)


@guarded
async def services_command(update: Update, context: JicengContext) -> None:
    text, markup = await _fields(context)
    await send(context, update.effective_chat.id, text, markup)


@on(ServicesHome)
async def home_pressed(update: Update, context: JicengContext, button: ServicesHome) -> None:
    text, markup = await _fields(context)
    await update.callback_query.answer()
    await edit(update.callback_query.message, text, markup)


@on(ServicesInField)
async def field_pressed(update: Update, context: JicengContext, button: ServicesInField) -> None:
    if not taxonomy.is_field(button.field):
        await tell(update, context, messages.STALE_BUTTON)
        return
    text, markup = await _field_page(context, button.field, button.offset)
    await update.callback_query.answer()
    await edit(update.callback_query.message, text, markup)


@on(AskAboutService)
async def ask_pressed(update: Update, context: JicengContext, button: AskAboutService) -> None:
    """就这个问: the farmer's next message is a question for the team that offers the item."""
    item = await _item(context, button.item_id)
    if item is None:
        await tell(update, context, messages.STALE_BUTTON)
        return
    await context.services.states.set(await me(update, context), states.SERVICE_ITEM, {"item_id": item.id})
    await update.callback_query.answer()
    await send(context, update.effective_chat.id,
               messages.ASK_SERVICE_SITUATION.format(team=item.team_name, title=item.title),
               InlineKeyboardMarkup([[key(messages.BTN_CANCEL, CancelServiceQuestion())]]))


@on(CancelServiceQuestion)
async def cancel_pressed(update: Update, context: JicengContext, button: CancelServiceQuestion) -> None:
    person = await me(update, context)
    waiting = await context.services.states.get(person)
    if waiting is None or waiting.state != states.SERVICE_ITEM:
        await tell(update, context, messages.STALE_BUTTON)
        return
    await context.services.states.clear(person)
    await update.callback_query.answer()
    await edit(update.callback_query.message, messages.SERVICE_ASK_CANCELLED)


async def situation_given(update: Update, context: JicengContext, waiting: Waiting) -> None:
    """The farmer's message after 就这个问: a question whose field and team are the item's."""
    message = update.effective_message
    person = await me(update, context)
    text = (message.text or "").strip()
    if not text:
        await send(context, message.chat_id, messages.EMPTY_TEXT)
        return
    if len(text) > MAX_QUESTION_CHARS:  # still waiting: the shorter retry goes to the same team
        await send(context, message.chat_id, messages.TOO_LONG.format(limit=MAX_QUESTION_CHARS))
        return
    item_id = waiting.data.get("item_id")
    item = await _item(context, item_id) if isinstance(item_id, int) else None
    if item is None:  # the item went away meanwhile: an ordinary question
        await context.services.states.clear(person)
        await intake.question(update, context)
        return
    view = await context.services.intake.new_question(
        person, text, request_key(update),
        preset_field=item.field, preset_team_id=item.team_id,
        service_item={"item_id": item.id, "title": item.title, "team": item.team_name},
    )
    # Cleared only once the draft exists, so a replay after a crash takes this path again.
    await context.services.states.clear(person)
    await intake.show_draft(update, context, view, replace=False)


def register(application: Application) -> None:
    # The message after 就这个问 reaches `situation_given` through bot.telegram.conversation.
    application.add_handler(CommandHandler("services", services_command, filters=filters.ChatType.PRIVATE))
