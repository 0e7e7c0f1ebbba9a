"""/notice: staff compose a training notice step by step (the draft lives in the chat state,
so it survives a restart), preview it with the recipient count, and 发送 queues it for the
shared sender, with one progress message the channel keeps up to date (`Turn.follow_notice`).
/cancel stops whatever the bot is waiting for."""

from __future__ import annotations

from bot import messages
from bot.buttons import NoticeStep
from bot.chat.commands import command
from bot.chat.presses import on
from bot.chat.regions import is_city
from bot.chat.steps import step
from bot.chat.turn import Choice, Turn, rows
from bot.services import broadcast, states
from bot.services.notices import CAPACITY, DEADLINE, FIELDS, PREVIEW, PROGRESS_PURPOSE, REGIONS, BadAnswer, NoticeDraft
from bot.services.states import Waiting
from intents import regions, taxonomy

# Each composer button (bot.buttons.NoticeStep) belongs to one step.
STEP_OF = {"f": FIELDS, "fa": FIELDS, "fd": FIELDS, "r": REGIONS, "ra": REGIONS, "rd": REGIONS,
           "cap": CAPACITY, "dl": DEADLINE, "send": PREVIEW}


def _step(action, arg: str = "") -> NoticeStep:
    return NoticeStep(action, arg)


CANCEL_ROW = [Choice(messages.BTN_CANCEL, _step("x"))]


def _chosen(names: list[str]) -> str:
    return "、".join(names) if names else messages.NOTICE_NONE_CHOSEN


def _toggle_button(name: str, chosen: bool, step: NoticeStep) -> Choice:
    return Choice(messages.BTN_CHOSEN.format(name=name) if chosen else name, step)


def fields_label(codes: list[str]) -> str:
    return "、".join(taxonomy.field_name(c) for c in codes) or messages.ALL_FIELDS_LABEL


def regions_label(codes: list[str]) -> str:
    return "、".join(regions.full_name(c) for c in codes) or regions.PROVINCE_NAME


async def prompt(turn: Turn, draft: NoticeDraft) -> tuple[str, list[list[Choice]]]:
    """What the bot asks at the draft's current step."""
    cancel = [CANCEL_ROW]
    if draft.step == FIELDS:
        buttons = [_toggle_button(taxonomy.field_name(c), c in draft.fields, _step("f", c))
                   for c in taxonomy.field_codes()]
        keyboard = rows(buttons, 2) + [[Choice(messages.BTN_ALL_FIELDS, _step("fa"))],
                                       [Choice(messages.BTN_NOTICE_DONE, _step("fd"))], CANCEL_ROW]
        text = messages.NOTICE_ASK_FIELDS.format(chosen=_chosen([taxonomy.field_name(c) for c in draft.fields]))
        return text, keyboard
    if draft.step == REGIONS:
        buttons = [_toggle_button(c.name, c.code in draft.regions, _step("r", c.code)) for c in regions.cities()]
        keyboard = rows(buttons, 3) + [[Choice(messages.BTN_WHOLE_PROVINCE, _step("ra"))],
                                       [Choice(messages.BTN_NOTICE_DONE, _step("rd"))], CANCEL_ROW]
        text = messages.NOTICE_ASK_REGIONS.format(chosen=_chosen([regions.full_name(c) for c in draft.regions]))
        return text, keyboard
    if draft.step == CAPACITY:
        return messages.NOTICE_ASK_CAPACITY, [[Choice(messages.BTN_NO_LIMIT, _step("cap"))], CANCEL_ROW]
    if draft.step == DEADLINE:
        return messages.NOTICE_ASK_DEADLINE, [[Choice(messages.BTN_NO_DEADLINE, _step("dl"))], CANCEL_ROW]
    if draft.step == PREVIEW:
        count = await turn.services.subscriptions.count_recipients(draft)
        text = messages.NOTICE_PREVIEW.format(notice=broadcast.render_notice(draft.to_notice()),
                                              fields=fields_label(draft.fields), regions=regions_label(draft.regions),
                                              count=count)
        if not count:
            text += "\n" + messages.NOTICE_PREVIEW_NOBODY
        return text, [[Choice(messages.BTN_NOTICE_SEND, _step("send")), Choice(messages.BTN_CANCEL, _step("x"))]]
    asks = {"title": messages.NOTICE_ASK_TITLE, "content": messages.NOTICE_ASK_CONTENT,
            "time": messages.NOTICE_ASK_TIME, "duration": messages.NOTICE_ASK_DURATION,
            "place": messages.NOTICE_ASK_PLACE}
    return asks[draft.step], cancel


async def _save(turn: Turn, person_id: int, draft: NoticeDraft) -> None:
    await turn.services.states.set(person_id, states.NOTICE_DRAFT, draft.to_dict())


@command("notice")
async def notice_command(turn: Turn) -> None:
    person = turn.person_id
    await turn.services.notices.ensure_staff(person)
    draft = NoticeDraft()
    await _save(turn, person, draft)
    text, markup = await prompt(turn, draft)
    await turn.say(text, markup)


@command("cancel")
async def cancel_command(turn: Turn) -> None:
    person = turn.person_id
    waiting = await turn.services.states.get(person)
    if waiting is None:
        await turn.say(messages.CANCEL_NOTHING)
        return
    await turn.services.states.clear(person)
    composing = waiting.state == states.NOTICE_DRAFT
    await turn.say(messages.NOTICE_CANCELLED_COMPOSE if composing else messages.CANCEL_DONE)


@step(states.NOTICE_DRAFT)
async def text_given(turn: Turn, waiting: Waiting) -> None:
    """The staff member's message answers the current step; a bad one is asked again."""
    person = turn.person_id
    draft = NoticeDraft.from_dict(waiting.data)
    try:
        draft.answer(turn.content.text, turn.services.clock())
    except BadAnswer as bad:
        markup = [CANCEL_ROW] if draft.step not in (FIELDS, REGIONS, PREVIEW) else []
        await turn.say(bad.user_message, markup)
        return
    await _save(turn, person, draft)
    text, markup = await prompt(turn, draft)
    await turn.say(text, markup)


@on(NoticeStep)
async def notice_pressed(turn: Turn, button: NoticeStep) -> None:
    person = turn.person_id
    waiting = await turn.services.states.get(person)
    if waiting is None or waiting.state != states.NOTICE_DRAFT:
        await turn.tell(messages.STALE_BUTTON)
        return
    action, arg = button.action, button.arg
    draft = NoticeDraft.from_dict(waiting.data)
    if action == "x":
        await turn.services.states.clear(person)
        await turn.answer()
        await turn.edit(messages.NOTICE_CANCELLED_COMPOSE)
        return
    if STEP_OF.get(action) != draft.step:
        await turn.tell(messages.STALE_BUTTON)
        return
    if action == "send":
        await _send(turn)
        return
    if action in ("f", "r"):
        valid = taxonomy.is_field(arg) if action == "f" else is_city(arg)
        if not valid:
            await turn.tell(messages.STALE_BUTTON)
            return
        draft.toggle(draft.step, arg)
        await _save(turn, person, draft)
        await turn.answer()
        text, markup = await prompt(turn, draft)
        await turn.edit(text, markup)
        return
    if action == "fa":
        draft.fields = []
    elif action == "ra":
        draft.regions = []
    elif action == "cap":
        draft.capacity = None
    elif action == "dl":
        draft.set_deadline(None, turn.services.clock())
    done = {FIELDS: messages.NOTICE_ASK_FIELDS.format(chosen=fields_label(draft.fields)),
            REGIONS: messages.NOTICE_ASK_REGIONS.format(chosen=regions_label(draft.regions)),
            CAPACITY: messages.NOTICE_STEP_ANSWERED.format(ask=messages.NOTICE_ASK_CAPACITY,
                                                           answer=messages.BTN_NO_LIMIT),
            DEADLINE: messages.NOTICE_STEP_ANSWERED.format(ask=messages.NOTICE_ASK_DEADLINE,
                                                           answer=messages.BTN_NO_DEADLINE)}[draft.step]
    draft.advance()
    await _save(turn, person, draft)
    await turn.answer()
    await turn.edit(done)  # the answered step keeps its text, loses its buttons
    text, markup = await prompt(turn, draft)
    await turn.say(text, markup)


async def _send(turn: Turn) -> None:
    created = await turn.services.notices.create(turn.person_id)
    await turn.answer()
    await turn.edit(turn.pressed_text or "")  # the preview stays, its buttons go
    if not created.queued:
        await turn.say(messages.NOTICE_NO_RECIPIENTS.format(title=created.title))
        return
    turn.services.outbox.wake()  # the notice's rows wait behind every more urgent message
    await turn.say(messages.NOTICE_QUEUED.format(title=created.title, count=created.queued),
                   purpose=f"{PROGRESS_PURPOSE}:{created.notice_id}")
    turn.follow_notice(created.notice_id)
