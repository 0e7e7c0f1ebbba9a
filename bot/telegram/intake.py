"""A farmer's question in chat: understood, confirmed with buttons, submitted and routed;
photos and voice notes attach to it."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import messages
from bot.buttons import (
    AskDraftField,
    AskDraftRegion,
    CancelDraft,
    DraftCity,
    SetDraftField,
    SetDraftRegion,
    SimilarAnswer,
    SubmitDraft,
    decode,
)
from bot.services.intake import MAX_QUESTION_CHARS, NEW_DEMAND_PURPOSE, DraftView, Submission
from bot.telegram.common import (
    edit,
    forward_media,
    guarded,
    key,
    me,
    notify,
    request_key,
    rows,
    send,
    tell,
)
from bot.telegram.context import JicengContext
from bot.telegram.leader import accept_keyboard, demand_card
from bot.telegram.presses import on
from bot.telegram.regions import city_keyboard, county_keyboard, is_city
from bot.telegram.subscriptions import offer_after_first_demand
from intents import regions, taxonomy


def confirm_text(view: DraftView) -> str:
    draft = view.draft
    return messages.CONFIRM.format(
        field=messages.field_label(draft.field),
        certainty=messages.CERTAIN if draft.confidence >= 0.7 else messages.UNCERTAIN,
        entities=_entity_lines(draft.entities or {}),
        keywords="、".join(draft.keywords) or messages.NO_KEYWORDS,
        region=regions.full_name(draft.region_code) if draft.region_code else messages.NO_REGION,
        notes=_notes(draft),
        text=messages.short(draft.text, 300),
    ) + _similar_text(view)


def _entity_lines(entities: dict) -> str:
    lines = []
    for name, label in messages.ENTITY_LABELS:
        values = entities.get(name) or []
        if name == "quantities":
            values = [q["text"] for q in values]
        if values:
            lines.append(f"{label}：{'、'.join(values[:5])}")
    return "".join(line + "\n" for line in lines)


def _notes(draft) -> str:
    notes = [messages.CORRECTED.format(typed=typed, read=read)
             for typed, read in (draft.entities or {}).get("corrections", [])]
    if item := (draft.entities or {}).get("service_item"):
        notes.append(messages.SERVICE_ITEM_NOTE.format(team=item.get("team", ""), title=item.get("title", "")))
    if draft.urgent:
        terms = "、".join((draft.entities or {}).get("urgency_terms", [])[:3])
        notes.append(messages.URGENT_NOTE.format(terms=terms))
    return "".join(note + "\n" for note in notes)


def _similar_text(view: DraftView) -> str:
    if not view.similar:
        return ""
    lines = [messages.SIMILAR_HEADER]
    for n, hit in enumerate(view.similar, 1):
        lines.append(messages.SIMILAR_ITEM.format(
            n=n, question=messages.short(hit.entry.question, 60), answer=messages.short(hit.entry.answer, 70)))
    return "\n".join(lines)


def _similar_buttons(view: DraftView) -> list[list[InlineKeyboardButton]]:
    buttons = []
    for n, hit in enumerate(view.similar, 1):
        source, _, number = hit.entry.key.partition(":")
        button = SimilarAnswer(source, number)
        if decode(data := button.encode()) == button:  # a key no button can carry is left out
            buttons.append(InlineKeyboardButton(messages.BTN_SIMILAR.format(n=n), callback_data=data))
    return rows(buttons, 3)


def confirm_keyboard(view: DraftView) -> InlineKeyboardMarkup:
    d = view.draft.id
    return InlineKeyboardMarkup([
        [key(messages.BTN_SUBMIT, SubmitDraft(d))],
        [key(messages.BTN_OTHER_FIELD, AskDraftField(d)), key(messages.BTN_REGION, AskDraftRegion(d))],
        *_similar_buttons(view),
        [key(messages.BTN_CANCEL, CancelDraft(d))],
    ])


def field_keyboard(view: DraftView) -> InlineKeyboardMarkup:
    """The likeliest fields first, then the rest of the taxonomy."""
    d = view.draft.id
    likely = [code for code, _ in view.draft.top_fields if code != taxonomy.OTHER]
    ordered = likely + [code for code in taxonomy.field_codes() if code not in likely]
    buttons = [key(taxonomy.field_name(c), SetDraftField(d, c)) for c in ordered]
    return InlineKeyboardMarkup(rows(buttons, 2) + [[key(messages.BTN_CANCEL, CancelDraft(d))]])


async def show_draft(update: Update, context: JicengContext, view: DraftView, *, replace: bool) -> None:
    if view.needs_field:
        text = messages.ASK_FIELD.format(text=messages.short(view.draft.text, 300))
        markup = field_keyboard(view)
    else:
        text, markup = confirm_text(view), confirm_keyboard(view)
    if replace and update.callback_query is not None:
        await edit(update.callback_query.message, text, markup)
    else:
        await send(context, update.effective_chat.id, text, markup)


@guarded
async def question(update: Update, context: JicengContext) -> None:
    message = update.effective_message
    person = await me(update, context)
    text = (message.text or message.caption or "").strip()
    if not text:
        await send(context, message.chat_id, messages.EMPTY_TEXT)
        return
    if len(text) > MAX_QUESTION_CHARS:
        await send(context, message.chat_id, messages.TOO_LONG.format(limit=MAX_QUESTION_CHARS))
        return
    view = await context.services.intake.new_question(person, text, request_key(update))
    if message.photo or message.voice:
        await _attach(update, context, quiet=True)
    await show_draft(update, context, view, replace=False)


@guarded
async def media(update: Update, context: JicengContext) -> None:
    message = update.effective_message
    if message.caption and message.caption.strip():
        await question(update, context)
    else:
        await _attach(update, context, quiet=False)


async def _attach(update: Update, context: JicengContext, *, quiet: bool) -> None:
    message = update.effective_message
    person = await me(update, context)
    kind, file_id = ("photo", message.photo[-1].file_id) if message.photo else ("voice", message.voice.file_id)
    what = messages.PHOTO if kind == "photo" else messages.VOICE
    attached = await context.services.intake.attach_media(person, kind, file_id, request_key(update))
    if quiet:
        return
    if attached.kind == "draft":
        await send(context, message.chat_id, messages.MEDIA_TO_DRAFT.format(what=what))
    elif attached.kind == "demand":
        no = attached.demand.tracking_no
        await send(context, message.chat_id, messages.MEDIA_TO_DEMAND.format(what=what, no=no))
        for chat_id in attached.recipients:
            await forward_media(context, chat_id, kind, file_id, messages.NEW_DEMAND_MEDIA.format(no=no, what=what))
    else:
        await send(context, message.chat_id, messages.MEDIA_HELD.format(what=what))


@on(SubmitDraft)
async def submit_pressed(update: Update, context: JicengContext, button: SubmitDraft) -> None:
    submission = await context.services.intake.submit(button.draft_id, await me(update, context), request_key(update))
    await update.callback_query.answer(messages.SUBMITTED_SHORT)
    await edit(update.callback_query.message, _submitted_text(submission))
    await _dispatch(context, submission)


@on(CancelDraft)
async def cancel_pressed(update: Update, context: JicengContext, button: CancelDraft) -> None:
    await context.services.intake.cancel_draft(button.draft_id, await me(update, context))
    await update.callback_query.answer()
    await edit(update.callback_query.message, messages.DRAFT_CANCELLED)


@on(AskDraftField)
async def ask_field_pressed(update: Update, context: JicengContext, button: AskDraftField) -> None:
    view = await context.services.intake.get_draft(button.draft_id, await me(update, context))
    await update.callback_query.answer()
    await edit(update.callback_query.message, messages.ASK_FIELD.format(text=messages.short(view.draft.text, 300)),
               field_keyboard(view))


@on(SetDraftField)
async def field_chosen(update: Update, context: JicengContext, button: SetDraftField) -> None:
    if not taxonomy.is_field(button.field):
        await tell(update, context, messages.STALE_BUTTON)
        return
    view = await context.services.intake.choose_field(button.draft_id, await me(update, context), button.field)
    await update.callback_query.answer()
    await show_draft(update, context, view, replace=True)


@on(AskDraftRegion)
async def ask_region_pressed(update: Update, context: JicengContext, button: AskDraftRegion) -> None:
    d = button.draft_id
    await context.services.intake.get_draft(d, await me(update, context))
    await update.callback_query.answer()
    await edit(update.callback_query.message, messages.ASK_DRAFT_CITY, city_keyboard(lambda code: DraftCity(d, code)))


@on(DraftCity)
async def city_chosen(update: Update, context: JicengContext, button: DraftCity) -> None:
    d, city = button.draft_id, button.city
    if not is_city(city):
        await tell(update, context, messages.STALE_BUTTON)
        return
    await context.services.intake.get_draft(d, await me(update, context))
    await update.callback_query.answer()
    await edit(update.callback_query.message, messages.ASK_COUNTY.format(city=regions.get(city).name),
               county_keyboard(city, lambda code: SetDraftRegion(d, code), AskDraftRegion(d)))


@on(SetDraftRegion)
async def region_chosen(update: Update, context: JicengContext, button: SetDraftRegion) -> None:
    if regions.get(button.region) is None:
        await tell(update, context, messages.STALE_BUTTON)
        return
    view = await context.services.intake.choose_region(button.draft_id, await me(update, context), button.region)
    await update.callback_query.answer()
    await show_draft(update, context, view, replace=True)


def _submitted_text(submission: Submission) -> str:
    demand = submission.demand
    if submission.team is not None:
        return messages.SUBMITTED_TO_TEAM.format(no=demand.tracking_no, team=submission.team.name)
    return messages.SUBMITTED_TO_TRIAGE.format(no=demand.tracking_no, field=messages.field_label(demand.field))


async def _dispatch(context: JicengContext, submission: Submission) -> None:
    """Put the new demand in front of whoever handles it: the team leader, else staff; after a
    farmer's first demand, offer a subscription to training notices."""
    demand = submission.demand
    card = demand_card(demand, submission.submitter.display_name)
    recipients: list[int] = []
    if submission.team is not None and submission.leader_id is not None:
        await notify(context, submission.leader_id, card, accept_keyboard(demand.id),
                     purpose=f"{NEW_DEMAND_PURPOSE}:{demand.id}")
        recipients.append(submission.leader_id)
    elif submission.team is not None:
        for staff_id in submission.staff_ids:
            await notify(context, staff_id, messages.NO_LEADER_NOTICE.format(
                no=demand.tracking_no, team=submission.team.name, text=demand.text))
    else:
        triage = messages.TRIAGE_NOTICE.format(
            no=demand.tracking_no, field=messages.field_label(demand.field),
            region=messages.region_label(demand.region_code),
            name=submission.submitter.display_name or "农户", text=demand.text,
        )
        for staff_id in submission.staff_ids:
            await notify(context, staff_id, triage)
            recipients.append(staff_id)
    for item in submission.media:
        what = messages.PHOTO if item.kind == "photo" else messages.VOICE
        for chat_id in recipients:
            await forward_media(context, chat_id, item.kind, item.file_id,
                                 messages.NEW_DEMAND_MEDIA.format(no=demand.tracking_no, what=what))
    await offer_after_first_demand(context, submission)


@on(SimilarAnswer)
async def similar_answer(update: Update, context: JicengContext, button: SimilarAnswer) -> None:
    """📖 看第N条答案: the whole answer of a similar solved question, as a new message."""
    entry = context.services.knowledge.get(button.key)
    if entry is None:
        await tell(update, context, messages.STALE_BUTTON)
        return
    await update.callback_query.answer()
    await send(context, update.effective_chat.id, messages.SIMILAR_FULL.format(question=entry.question, answer=entry.answer))
