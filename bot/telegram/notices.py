"""/notice: staff compose a training notice step by step (the draft lives in the chat state,
so it survives a restart), preview it with the recipient count, and 发送 starts the shared
sender in the running bot, with one progress message edited as it goes. /cancel stops
whatever the bot is waiting for."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, filters

from bot import messages
from bot.buttons import NoticeStep
from bot.services import broadcast, states
from bot.services.notices import CAPACITY, DEADLINE, FIELDS, PREVIEW, REGIONS, BadAnswer, NoticeDraft
from bot.services.outbox import SENT
from bot.services.states import Waiting
from bot.telegram.common import edit, guarded, key, me, rows, send, tell
from bot.telegram.context import JicengContext
from bot.telegram.presses import on
from bot.telegram.regions import is_city
from intents import regions, taxonomy

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2.0  # seconds between edits of a notice's progress message
PROGRESS_PURPOSE = "notice_progress"  # the outbox row of the progress message: remember where it landed

# Each composer button (bot.buttons.NoticeStep) belongs to one step.
STEP_OF = {"f": FIELDS, "fa": FIELDS, "fd": FIELDS, "r": REGIONS, "ra": REGIONS, "rd": REGIONS,
           "cap": CAPACITY, "dl": DEADLINE, "send": PREVIEW}


def _step(action, arg: str = "") -> NoticeStep:
    return NoticeStep(action, arg)


CANCEL_ROW = [key(messages.BTN_CANCEL, _step("x"))]


def _chosen(names: list[str]) -> str:
    return "、".join(names) if names else messages.NOTICE_NONE_CHOSEN


def _toggle_button(name: str, chosen: bool, step: NoticeStep) -> InlineKeyboardButton:
    return key(messages.BTN_CHOSEN.format(name=name) if chosen else name, step)


def fields_label(codes: list[str]) -> str:
    return "、".join(taxonomy.field_name(c) for c in codes) or messages.ALL_FIELDS_LABEL


def regions_label(codes: list[str]) -> str:
    return "、".join(regions.full_name(c) for c in codes) or regions.PROVINCE_NAME


async def prompt(context: JicengContext, draft: NoticeDraft) -> tuple[str, InlineKeyboardMarkup]:
    """What the bot asks at the draft's current step."""
    cancel = InlineKeyboardMarkup([CANCEL_ROW])
    if draft.step == FIELDS:
        buttons = [_toggle_button(taxonomy.field_name(c), c in draft.fields, _step("f", c))
                   for c in taxonomy.field_codes()]
        keyboard = rows(buttons, 2) + [[key(messages.BTN_ALL_FIELDS, _step("fa"))],
                                       [key(messages.BTN_NOTICE_DONE, _step("fd"))], CANCEL_ROW]
        text = messages.NOTICE_ASK_FIELDS.format(chosen=_chosen([taxonomy.field_name(c) for c in draft.fields]))
        return text, InlineKeyboardMarkup(keyboard)
    if draft.step == REGIONS:
        buttons = [_toggle_button(c.name, c.code in draft.regions, _step("r", c.code)) for c in regions.cities()]
        keyboard = rows(buttons, 3) + [[key(messages.BTN_WHOLE_PROVINCE, _step("ra"))],
                                       [key(messages.BTN_NOTICE_DONE, _step("rd"))], CANCEL_ROW]
        text = messages.NOTICE_ASK_REGIONS.format(chosen=_chosen([regions.full_name(c) for c in draft.regions]))
        return text, InlineKeyboardMarkup(keyboard)
    if draft.step == CAPACITY:
        return messages.NOTICE_ASK_CAPACITY, InlineKeyboardMarkup(
            [[key(messages.BTN_NO_LIMIT, _step("cap"))], CANCEL_ROW])
    if draft.step == DEADLINE:
        return messages.NOTICE_ASK_DEADLINE, InlineKeyboardMarkup(
            [[key(messages.BTN_NO_DEADLINE, _step("dl"))], CANCEL_ROW])
    if draft.step == PREVIEW:
        count = await context.services.subscriptions.count_recipients(draft)
        text = messages.NOTICE_PREVIEW.format(notice=broadcast.render_notice(draft.to_notice()),
                                              fields=fields_label(draft.fields), regions=regions_label(draft.regions),
                                              count=count)
        if not count:
            text += "\n" + messages.NOTICE_PREVIEW_NOBODY
        return text, InlineKeyboardMarkup([[key(messages.BTN_NOTICE_SEND, _step("send")),
                                            key(messages.BTN_CANCEL, _step("x"))]])
    asks = {"title": messages.NOTICE_ASK_TITLE, "content": messages.NOTICE_ASK_CONTENT,
            "time": messages.NOTICE_ASK_TIME, "duration": messages.NOTICE_ASK_DURATION,
            "place": messages.NOTICE_ASK_PLACE}
    return asks[draft.step], cancel


async def _save(context: JicengContext, person_id: int, draft: NoticeDraft) -> None:
    await context.services.states.set(person_id, states.NOTICE_DRAFT, draft.to_dict())


@guarded
async def notice_command(update: Update, context: JicengContext) -> None:
    person = await me(update, context)
    await context.services.notices.ensure_staff(person)
    draft = NoticeDraft()
    await _save(context, person, draft)
    text, markup = await prompt(context, draft)
    await send(context, update.effective_chat.id, text, markup)


@guarded
async def cancel_command(update: Update, context: JicengContext) -> None:
    person = await me(update, context)
    waiting = await context.services.states.get(person)
    if waiting is None:
        await send(context, update.effective_chat.id, messages.CANCEL_NOTHING)
        return
    await context.services.states.clear(person)
    composing = waiting.state == states.NOTICE_DRAFT
    await send(context, update.effective_chat.id,
               messages.NOTICE_CANCELLED_COMPOSE if composing else messages.CANCEL_DONE)


async def text_given(update: Update, context: JicengContext, waiting: Waiting) -> None:
    """The staff member's message answers the current step; a bad one is asked again."""
    message = update.effective_message
    person = await me(update, context)
    draft = NoticeDraft.from_dict(waiting.data)
    try:
        draft.answer(message.text or "", context.services.clock())
    except BadAnswer as bad:
        markup = InlineKeyboardMarkup([CANCEL_ROW]) if draft.step not in (FIELDS, REGIONS, PREVIEW) else None
        await send(context, message.chat_id, bad.user_message, markup)
        return
    await _save(context, person, draft)
    text, markup = await prompt(context, draft)
    await send(context, message.chat_id, text, markup)


@on(NoticeStep)
async def notice_pressed(update: Update, context: JicengContext, button: NoticeStep) -> None:
    query = update.callback_query
    person = await me(update, context)
    waiting = await context.services.states.get(person)
    if waiting is None or waiting.state != states.NOTICE_DRAFT:
        await tell(update, context, messages.STALE_BUTTON)
        return
    action, arg = button.action, button.arg
    draft = NoticeDraft.from_dict(waiting.data)
    if action == "x":
        await context.services.states.clear(person)
        await query.answer()
        await edit(query.message, messages.NOTICE_CANCELLED_COMPOSE)
        return
    if STEP_OF.get(action) != draft.step:
        await tell(update, context, messages.STALE_BUTTON)
        return
    if action == "send":
        await _send(update, context)
        return
    if action in ("f", "r"):
        valid = taxonomy.is_field(arg) if action == "f" else is_city(arg)
        if not valid:
            await tell(update, context, messages.STALE_BUTTON)
            return
        draft.toggle(draft.step, arg)
        await _save(context, person, draft)
        await query.answer()
        text, markup = await prompt(context, draft)
        await edit(query.message, text, markup)
        return
    if action == "fa":
        draft.fields = []
    elif action == "ra":
        draft.regions = []
    elif action == "cap":
        draft.capacity = None
    elif action == "dl":
        draft.set_deadline(None, context.services.clock())
    done = {FIELDS: messages.NOTICE_ASK_FIELDS.format(chosen=fields_label(draft.fields)),
            REGIONS: messages.NOTICE_ASK_REGIONS.format(chosen=regions_label(draft.regions)),
            CAPACITY: messages.NOTICE_STEP_ANSWERED.format(ask=messages.NOTICE_ASK_CAPACITY,
                                                           answer=messages.BTN_NO_LIMIT),
            DEADLINE: messages.NOTICE_STEP_ANSWERED.format(ask=messages.NOTICE_ASK_DEADLINE,
                                                           answer=messages.BTN_NO_DEADLINE)}[draft.step]
    draft.advance()
    await _save(context, person, draft)
    await query.answer()
    await edit(query.message, done)  # the answered step keeps its text, loses its buttons
    text, markup = await prompt(context, draft)
    await send(context, update.effective_chat.id, text, markup)


async def _send(update: Update, context: JicengContext) -> None:
    query, chat_id = update.callback_query, update.effective_chat.id
    created = await context.services.notices.create(await me(update, context))
    await query.answer()
    await edit(query.message, query.message.text or "")  # the preview stays, its buttons go
    if not created.queued:
        await send(context, chat_id, messages.NOTICE_NO_RECIPIENTS.format(title=created.title))
        return
    context.services.outbox.wake()  # the notice's rows wait behind every more urgent message
    await send(context, chat_id, messages.NOTICE_QUEUED.format(title=created.title, count=created.queued),
               purpose=f"{PROGRESS_PURPOSE}:{created.notice_id}")
    follow(context.application, [created.notice_id])


def follow(application: Application, notice_ids: list[int]) -> None:
    """Keep each notice's progress message (once it is sent) up to date until the notice is done."""
    for notice_id in notice_ids:
        application.create_task(_follow(application, notice_id), name=f"follow-notice-{notice_id}")


async def _follow(application: Application, notice_id: int) -> None:
    services = application.bot_data["services"]
    last = ""
    samples: list[tuple[float, int]] = []
    started = time.monotonic()
    while application.running:
        try:
            progress = await services.notices.progress(notice_id)
            samples = [*samples[-7:], (time.monotonic(), progress.counts.get(SENT, 0))]
            report = broadcast.report(progress.title, progress.counts, samples, time.monotonic() - started, True)
            where = (progress.chat_id, progress.message_id)
            if all(where) and report.text() != last:
                try:
                    await application.bot.edit_message_text(report.text(), chat_id=where[0], message_id=where[1])
                    last = report.text()
                except TelegramError as error:
                    log.debug("progress of notice %s not shown: %s", notice_id, error)
            if report.done and (last == report.text() or not all(where)):
                return
        except Exception:  # progress display must never end in an unhandled task
            log.exception("following notice %s", notice_id)
        await asyncio.sleep(PROGRESS_EVERY)


async def resume(context: JicengContext) -> None:
    """At start-up: notices a stop cut short carry on (the sender serves their rows), and their
    progress messages are kept up to date again."""
    unfinished = await context.services.notices.unfinished()
    if unfinished:
        log.info("following %d unfinished training notice(s)", len(unfinished))
        follow(context.application, [notice_id for notice_id, _, _ in unfinished])


def register(application: Application) -> None:
    # The text answers reach `text_given` through bot.telegram.conversation.
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("notice", notice_command, filters=private))
    application.add_handler(CommandHandler("cancel", cancel_command, filters=private))
    if application.job_queue is not None:
        application.job_queue.run_once(resume, when=1, name="resume-notices")
