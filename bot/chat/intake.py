"""A farmer's question in chat: understood, confirmed with buttons, submitted and routed;
photos and voice notes attach to it."""

from __future__ import annotations

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
from bot.chat.enterprise import show_matches
from bot.chat.leader import accept_keyboard, demand_card
from bot.chat.presses import on
from bot.chat.regions import city_keyboard, county_keyboard, is_city
from bot.chat.subscriptions import offer_after_first_demand
from bot.chat.turn import Choice, Choices, Turn, rows
from bot.services.intake import MAX_QUESTION_CHARS, NEW_DEMAND_PURPOSE, DraftView, Submission
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


def _similar_buttons(view: DraftView) -> list[list[Choice]]:
    buttons = []
    for n, hit in enumerate(view.similar, 1):
        source, _, number = hit.entry.key.partition(":")
        button = SimilarAnswer(view.draft.id, source, number)
        if decode(button.encode()) == button:  # a key no button can carry is left out
            buttons.append(Choice(messages.BTN_SIMILAR.format(n=n), button))
    return rows(buttons, 3)


def confirm_keyboard(view: DraftView) -> Choices:
    d = view.draft.id
    return [
        [Choice(messages.BTN_SUBMIT, SubmitDraft(d))],
        [Choice(messages.BTN_OTHER_FIELD, AskDraftField(d)), Choice(messages.BTN_REGION, AskDraftRegion(d))],
        *_similar_buttons(view),
        [Choice(messages.BTN_CANCEL, CancelDraft(d))],
    ]


def field_keyboard(view: DraftView) -> Choices:
    """The likeliest fields first, then the rest of the taxonomy."""
    d = view.draft.id
    likely = [code for code, _ in view.draft.top_fields if code != taxonomy.OTHER]
    ordered = likely + [code for code in taxonomy.field_codes() if code not in likely]
    buttons = [Choice(taxonomy.field_name(c), SetDraftField(d, c)) for c in ordered]
    return rows(buttons, 2) + [[Choice(messages.BTN_CANCEL, CancelDraft(d))]]


async def show_draft(turn: Turn, view: DraftView, *, replace: bool) -> None:
    if view.needs_field:
        text = messages.ASK_FIELD.format(text=messages.short(view.draft.text, 300))
        markup = field_keyboard(view)
    else:
        # Someone who has not agreed to the privacy notice reads it here: 提交 is their 同意.
        agreed = await turn.services.people.agreed_privacy(turn.person_id)
        notice = "" if agreed else f"\n\n{messages.PRIVACY_SHORT}{messages.SUBMIT_MEANS_AGREE}"
        text, markup = confirm_text(view) + notice, confirm_keyboard(view)
    if replace and turn.pressed:
        await turn.edit(text, markup)
    else:
        await turn.say(text, markup)


async def question(turn: Turn) -> None:
    person = turn.person_id
    text = turn.content.text
    if not text:
        await turn.say(messages.EMPTY_TEXT)
        return
    if len(text) > MAX_QUESTION_CHARS:
        await turn.say(messages.TOO_LONG.format(limit=MAX_QUESTION_CHARS))
        return
    if turn.content.kind == "text" and not any(ch.isalnum() for ch in text):  # emoji or punctuation only
        await turn.say(messages.STICKER)
        return
    view = await turn.services.intake.new_question(person, text, turn.key)
    if turn.content.kind != "text":
        await _attach(turn, quiet=True)
    await show_draft(turn, view, replace=False)


async def media(turn: Turn) -> None:
    if turn.content.text:
        await question(turn)
    else:
        await _attach(turn, quiet=False)


async def _attach(turn: Turn, *, quiet: bool) -> None:
    person = turn.person_id
    kind, file_id = turn.content.kind, turn.content.file_ref or ""
    what = messages.PHOTO if kind == "photo" else messages.VOICE
    attached = await turn.services.intake.attach_media(person, kind, file_id, turn.key)
    if quiet:
        return
    if attached.kind == "draft":
        await turn.say(messages.MEDIA_TO_DRAFT.format(what=what))
    elif attached.kind == "demand":
        no = attached.demand.tracking_no
        await turn.say(messages.MEDIA_TO_DEMAND.format(what=what, no=no))
        for recipient in attached.recipients:
            await turn.forward(recipient, kind, file_id, messages.NEW_DEMAND_MEDIA.format(no=no, what=what))
    else:
        await turn.say(messages.MEDIA_HELD.format(what=what))


@on(SubmitDraft)
async def submit_pressed(turn: Turn, button: SubmitDraft) -> None:
    submission = await turn.services.intake.submit(button.draft_id, turn.person_id, turn.key)
    await turn.services.people.agree_privacy(turn.person_id, turn.services.clock())  # as the notice said
    await turn.answer(messages.SUBMITTED_SHORT)
    await turn.edit(_submitted_text(submission))
    await _dispatch(turn, submission)


@on(CancelDraft)
async def cancel_pressed(turn: Turn, button: CancelDraft) -> None:
    await turn.services.intake.cancel_draft(button.draft_id, turn.person_id)
    await turn.answer()
    await turn.edit(messages.DRAFT_CANCELLED)


@on(AskDraftField)
async def ask_field_pressed(turn: Turn, button: AskDraftField) -> None:
    view = await turn.services.intake.get_draft(button.draft_id, turn.person_id)
    await turn.answer()
    await turn.edit(messages.ASK_FIELD.format(text=messages.short(view.draft.text, 300)),
               field_keyboard(view))


@on(SetDraftField)
async def field_chosen(turn: Turn, button: SetDraftField) -> None:
    if not taxonomy.is_field(button.field):
        await turn.tell(messages.STALE_BUTTON)
        return
    view = await turn.services.intake.choose_field(button.draft_id, turn.person_id, button.field)
    await turn.answer()
    await show_draft(turn, view, replace=True)


@on(AskDraftRegion)
async def ask_region_pressed(turn: Turn, button: AskDraftRegion) -> None:
    d = button.draft_id
    await turn.services.intake.get_draft(d, turn.person_id)
    await turn.answer()
    await turn.edit(messages.ASK_DRAFT_CITY, city_keyboard(lambda code: DraftCity(d, code)))


@on(DraftCity)
async def city_chosen(turn: Turn, button: DraftCity) -> None:
    d, city = button.draft_id, button.city
    if not is_city(city):
        await turn.tell(messages.STALE_BUTTON)
        return
    await turn.services.intake.get_draft(d, turn.person_id)
    await turn.answer()
    await turn.edit(messages.ASK_COUNTY.format(city=regions.get(city).name),
               county_keyboard(city, lambda code: SetDraftRegion(d, code), AskDraftRegion(d)))


@on(SetDraftRegion)
async def region_chosen(turn: Turn, button: SetDraftRegion) -> None:
    if regions.get(button.region) is None:
        await turn.tell(messages.STALE_BUTTON)
        return
    view = await turn.services.intake.choose_region(button.draft_id, turn.person_id, button.region)
    await turn.answer()
    await show_draft(turn, view, replace=True)


def _submitted_text(submission: Submission) -> str:
    demand = submission.demand
    if submission.team is not None:
        return messages.SUBMITTED_TO_TEAM.format(no=demand.tracking_no, team=submission.team.name)
    return messages.SUBMITTED_TO_TRIAGE.format(no=demand.tracking_no, field=messages.field_label(demand.field))


async def _dispatch(turn: Turn, submission: Submission) -> None:
    """Put the new demand in front of whoever handles it: the team leader, else staff; after a
    farmer's first demand, offer a subscription to training notices."""
    demand = submission.demand
    card = demand_card(demand, submission.submitter.display_name)
    recipients: list[int] = []
    if submission.team is not None and submission.leader_id is not None:
        await turn.notify(submission.leader_id, card, accept_keyboard(demand.id),
                     purpose=f"{NEW_DEMAND_PURPOSE}:{demand.id}")
        recipients.append(submission.leader_id)
    elif submission.team is not None:
        for staff_id in submission.staff_ids:
            await turn.notify(staff_id, messages.NO_LEADER_NOTICE.format(
                no=demand.tracking_no, team=submission.team.name, text=demand.text))
    else:
        triage = messages.TRIAGE_NOTICE.format(
            no=demand.tracking_no, field=messages.field_label(demand.field),
            region=messages.region_label(demand.region_code),
            name=submission.submitter.display_name or "农户", text=demand.text,
        )
        for staff_id in submission.staff_ids:
            await turn.notify(staff_id, triage)
            recipients.append(staff_id)
    for item in submission.media:
        what = messages.PHOTO if item.kind == "photo" else messages.VOICE
        for chat_id in recipients:
            await turn.forward(chat_id, item.kind, item.file_id,
                                 messages.NEW_DEMAND_MEDIA.format(no=demand.tracking_no, what=what))
    if demand.enterprise_id is not None:  # an enterprise sees what the matching hub found at once
        await show_matches(turn, demand.id)
    await offer_after_first_demand(turn, submission)


@on(SimilarAnswer)
async def similar_answer(turn: Turn, button: SimilarAnswer) -> None:
    """📖 看第N条答案: the whole answer of a similar solved question, as a new message."""
    view = await turn.services.intake.get_draft(button.draft_id, turn.person_id)  # theirs, or refused
    shown = {hit.entry.key for hit in view.similar}
    entry = turn.services.knowledge.get(button.key) if button.key in shown else None
    if entry is None:
        await turn.tell(messages.STALE_BUTTON)
        return
    await turn.answer()
    await turn.say(messages.SIMILAR_FULL.format(question=entry.question, answer=entry.answer))
