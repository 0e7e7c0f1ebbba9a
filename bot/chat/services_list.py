"""/services: the technical service list (技术服务清单) by field; "就这个问" on an item makes
the farmer's next message a question for the team that offers it."""

from __future__ import annotations

from bot import messages
from bot.buttons import AskAboutService, CancelServiceQuestion, ServicesHome, ServicesInField
from bot.chat import intake
from bot.chat.commands import command
from bot.chat.paging import PAGE_SIZE, pager
from bot.chat.presses import on
from bot.chat.steps import step
from bot.chat.turn import Choice, Choices, Turn, rows
from bot.services import service_list, states
from bot.services.intake import MAX_QUESTION_CHARS
from bot.services.states import Waiting
from intents import taxonomy

_MAX_ID = 2**63


async def _fields(turn: Turn) -> tuple[str, Choices]:
    fields = await service_list.fields_with_items(turn.services.sessions)
    if not fields:
        return messages.SERVICES_EMPTY, []
    buttons = [Choice(messages.BTN_SERVICE_FIELD.format(field=messages.field_label(code), count=count),
                   ServicesInField(code)) for code, count in fields]
    return messages.SERVICES_FIELDS, rows(buttons, 2)


async def _field_page(turn: Turn, field: str, offset: int) -> tuple[str, list[list[Choice]]]:
    listed = await service_list.items(turn.services.sessions, field)
    back = [Choice(messages.BTN_BACK, ServicesHome())]
    page = listed[offset:offset + PAGE_SIZE]
    if not page:
        return messages.SERVICES_FIELD_EMPTY.format(field=messages.field_label(field)), [back]
    lines = []
    for n, item in enumerate(page, offset + 1):
        line = messages.SERVICE_LINE.format(n=n, title=item.title, team=item.team_name)
        if item.description:
            line += messages.SERVICE_DESCRIPTION.format(description=messages.short(item.description, 80))
        lines.append(line)
    text = messages.SERVICES_IN_FIELD.format(
        field=messages.field_label(field), total=len(listed), first=offset + 1, last=offset + len(page),
        lines="\n".join(lines))
    keyboard = [[Choice(messages.BTN_ASK_SERVICE.format(title=messages.short(item.title, 24)), AskAboutService(item.id))]
                for item in page]
    keyboard += pager(lambda at: ServicesInField(field, at), offset, len(listed))
    return text, keyboard + [back]


async def _item(turn: Turn, item_id: int) -> service_list.ListedService | None:
    if not 0 < item_id < _MAX_ID:  # a forged button's number may not even fit the column
        return None
    return await service_list.item(turn.services.sessions, item_id)


@command("services")
async def services_command(turn: Turn) -> None:
    text, markup = await _fields(turn)
    await turn.say(text, markup)


@on(ServicesHome)
async def home_pressed(turn: Turn, button: ServicesHome) -> None:
    text, markup = await _fields(turn)
    await turn.answer()
    await turn.edit(text, markup)


@on(ServicesInField)
async def field_pressed(turn: Turn, button: ServicesInField) -> None:
    if not taxonomy.is_field(button.field):
        await turn.tell(messages.STALE_BUTTON)
        return
    text, markup = await _field_page(turn, button.field, button.offset)
    await turn.answer()
    await turn.edit(text, markup)


@on(AskAboutService)
async def ask_pressed(turn: Turn, button: AskAboutService) -> None:
    """就这个问: the farmer's next message is a question for the team that offers the item."""
    item = await _item(turn, button.item_id)
    if item is None:
        await turn.tell(messages.STALE_BUTTON)
        return
    await turn.services.states.set(turn.person_id, states.SERVICE_ITEM, {"item_id": item.id})
    await turn.answer()
    await turn.say(messages.ASK_SERVICE_SITUATION.format(team=item.team_name, title=item.title),
                   [[Choice(messages.BTN_CANCEL, CancelServiceQuestion())]])


@on(CancelServiceQuestion)
async def cancel_pressed(turn: Turn, button: CancelServiceQuestion) -> None:
    person = turn.person_id
    waiting = await turn.services.states.get(person)
    if waiting is None or waiting.state != states.SERVICE_ITEM:
        await turn.tell(messages.STALE_BUTTON)
        return
    await turn.services.states.clear(person)
    await turn.answer()
    await turn.edit(messages.SERVICE_ASK_CANCELLED)


@step(states.SERVICE_ITEM)
async def situation_given(turn: Turn, waiting: Waiting) -> None:
    """The farmer's message after 就这个问: a question whose field and team are the item's."""
    person = turn.person_id
    text = turn.content.text
    if not text:
        await turn.say(messages.EMPTY_TEXT)
        return
    if len(text) > MAX_QUESTION_CHARS:  # still waiting: the shorter retry goes to the same team
        await turn.say(messages.TOO_LONG.format(limit=MAX_QUESTION_CHARS))
        return
    item_id = waiting.data.get("item_id")
    item = await _item(turn, item_id) if isinstance(item_id, int) else None
    if item is None:  # the item went away meanwhile: an ordinary question
        await turn.services.states.clear(person)
        await intake.question(turn)
        return
    view = await turn.services.intake.new_question(
        person, text, turn.key,
        preset_field=item.field, preset_team_id=item.team_id,
        service_item={"item_id": item.id, "title": item.title, "team": item.team_name},
    )
    # Cleared only once the draft exists, so a replay after a crash takes this path again.
    await turn.services.states.clear(person)
    await intake.show_draft(turn, view, replace=False)
