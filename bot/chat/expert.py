"""The expert in chat: 💬 回复农户 (the next message is relayed), ✅ 办结 with a service record;
relayed copies both ways, with photos and voice notes."""

from __future__ import annotations

import re

from bot import messages
from bot.buttons import AnswerFarmer, AskCloseMode, CloseWithMode, LogMyHours, ReviewHours
from bot.chat.feedback import solved_keyboard
from bot.chat.presses import on
from bot.chat.steps import ANY, step
from bot.chat.turn import Choice, Turn
from bot.errors import JicengError
from bot.services import states
from bot.services.dispatch import MODES, brief
from bot.services.expert import RELAY_PURPOSE, TO_FARMER, Relay

_RECORD = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:小时|个小时|h|H)?\s*[，,。:：\s]*(.*)$", re.S)


@on(AnswerFarmer, AskCloseMode, CloseWithMode)
async def expert_pressed(turn: Turn, button: AnswerFarmer | AskCloseMode | CloseWithMode) -> None:
    """💬 回复农户 (the next message goes to the farmer), ✅ 办结 (the service mode, then the record)."""
    person, d = turn.person_id, button.demand_id
    about = await brief(turn.services.sessions, d)
    if about is None:
        await turn.tell(messages.STALE_BUTTON)
        return
    no = about.demand.tracking_no
    await _check_assigned(turn, d, person)
    await turn.answer()
    if isinstance(button, AnswerFarmer):
        await turn.services.states.set(person, states.ANSWER, {"demand_id": d})
        await turn.say(messages.ASK_ANSWER.format(no=no))
    elif isinstance(button, AskCloseMode):
        buttons = [Choice(name, CloseWithMode(d, code)) for code, name in MODES.items()]
        await turn.say(messages.ASK_CLOSE_MODE.format(no=no), [buttons])
    else:
        await turn.services.states.set(person, states.SERVICE_RECORD, {"demand_id": d, "mode": button.mode})
        await turn.say(messages.ASK_RECORD)


async def _check_assigned(turn: Turn, demand_id: int, person_id: int) -> None:
    from bot.services.expert import NotAssigned

    if demand_id not in {d.id for d in await turn.services.experts.my_demands(person_id)}:
        raise NotAssigned()


@step(states.ANSWER, kinds=ANY)
async def answer_given(turn: Turn, waiting: states.Waiting) -> None:
    """The expert's message after 💬 回复农户: relayed to the farmer."""
    person = turn.person_id
    kind, text, file_id = turn.content.kind, turn.content.text, turn.content.file_ref
    try:
        relay = await turn.services.experts.to_farmer(waiting.data["demand_id"], person, kind, text, file_id,
                                                      turn.key)
    except JicengError:  # refused for good (the demand closed meanwhile): stop waiting for an answer
        await turn.services.states.clear(person)
        raise
    # Cleared only after the relay is written: an update handled again (a locked database)
    # still finds the step waiting and goes the same way.
    await turn.services.states.clear(person)
    await deliver(turn, relay, kind, text, file_id)
    await turn.say(messages.RELAYED)


@step(states.SERVICE_RECORD)
async def record_given(turn: Turn, waiting: states.Waiting) -> None:
    """The expert's service record: "时长 摘要" closes the demand."""
    text = turn.content.text
    person = turn.person_id
    match = _RECORD.match(text)
    if match is None:
        await turn.say(messages.BAD_RECORD)
        return
    hours, summary = float(match.group(1)), match.group(2).strip() or "（未写摘要）"
    data = waiting.data
    about = await brief(turn.services.sessions, data["demand_id"])
    visit = about.demand.visit_date if about and data["mode"] == "short_visit" else None
    closing = await turn.services.experts.close(data["demand_id"], person, data["mode"], hours, summary,
                                                visit, turn.key)
    await turn.services.states.clear(person)
    no = closing.demand.tracking_no
    await turn.say(messages.CLOSED_EXPERT.format(no=no, mode=MODES[data["mode"]], hours=f"{hours:g}"))
    if closing.review:
        await turn.say(messages.HOURS_UNDER_REVIEW.format(reason=closing.review))
        text = messages.REVIEW_HOURS.format(name=closing.expert_name, no=no, mode=MODES[data["mode"]],
                                            hours=f"{hours:g}", reason=closing.review, summary=summary)
        choices = [[Choice(messages.BTN_APPROVE_HOURS, ReviewHours(closing.record.id, True)),
                    Choice(messages.BTN_REJECT_HOURS, ReviewHours(closing.record.id, False))]]
        for staff in closing.reviewers:
            await turn.notify(staff, text, choices)
    await turn.notify(closing.farmer_id, messages.CLOSED_FARMER.format(name=closing.expert_name, no=no),
                      solved_keyboard(closing.demand.id))
    for colleague in closing.co_experts:  # everyone who served gets their own record
        await turn.notify(colleague, OWN_HOURS_OFFER.format(no=no, name=closing.expert_name),
                          [[Choice(OWN_HOURS_BUTTON, LogMyHours(closing.demand.id))]])


OWN_HOURS_OFFER = ("需求 {no} 已由{name}办结。您也参与了这次服务，可以登记您自己的服务时长，"
                   "计入您的服务记录和继续教育学时。")
OWN_HOURS_BUTTON = "登记我的服务时长"
OWN_HOURS_ASK = "请回复您在需求 {no} 上的服务时长（小时）和简短摘要，例如：1.5 电话指导用药"
OWN_HOURS_SAVED = "已记录您在需求 {no} 上的 {hours} 小时服务。"


@on(LogMyHours)
async def own_hours_pressed(turn: Turn, button: LogMyHours) -> None:
    about = await brief(turn.services.sessions, button.demand_id)
    if about is None:
        await turn.tell(messages.STALE_BUTTON)
        return
    await turn.services.states.set(turn.person_id, states.OWN_HOURS, {"demand_id": button.demand_id})
    await turn.answer()
    await turn.say(OWN_HOURS_ASK.format(no=about.demand.tracking_no))


@step(states.OWN_HOURS)
async def own_hours_given(turn: Turn, waiting: states.Waiting) -> None:
    match = _RECORD.match(turn.content.text)
    if match is None:
        await turn.say(messages.BAD_RECORD)
        return
    hours, summary = float(match.group(1)), match.group(2).strip() or "（未写摘要）"
    demand_id = waiting.data["demand_id"]
    await turn.services.states.clear(turn.person_id)
    record, review = await turn.services.experts.log_own_hours(demand_id, turn.person_id, hours, summary, turn.key)
    about = await brief(turn.services.sessions, demand_id)
    no = about.demand.tracking_no if about else ""
    await turn.say(OWN_HOURS_SAVED.format(no=no, hours=f"{hours:g}"))
    if review:
        await turn.say(messages.HOURS_UNDER_REVIEW.format(reason=review))


async def deliver(turn: Turn, relay: Relay, kind: str, text: str, file_id: str | None) -> None:
    """Put the relayed copy in the outbox for each recipient; where it lands is remembered when it
    is sent (purpose "relay"), so a reply to it finds its way back."""
    no = relay.demand.tracking_no
    what = messages.PHOTO if kind == "photo" else messages.VOICE
    purpose = f"{RELAY_PURPOSE}:{relay.message_id}"
    for person in relay.recipients:
        if kind == "text":
            template = messages.ANSWER_TO_FARMER if _is_to_farmer(relay) else messages.FARMER_TO_EXPERT
            await turn.notify(person, template.format(name=relay.sender_name, no=no, text=text), purpose=purpose)
        else:
            template = messages.ANSWER_MEDIA_CAPTION if _is_to_farmer(relay) else messages.FARMER_MEDIA_CAPTION
            caption = template.format(name=relay.sender_name, what=what, no=no) + (f"：{text}" if text else "")
            await turn.forward(person, kind, file_id, caption, purpose=purpose)


def _is_to_farmer(relay: Relay) -> bool:
    return relay.direction == TO_FARMER


@on(ReviewHours)
async def hours_reviewed(turn: Turn, button: ReviewHours) -> None:
    record, name = await turn.services.experts.review(button.record_id, turn.person_id, button.approve)
    await turn.answer()
    verdict = messages.HOURS_APPROVED if record.review == "approved" else messages.HOURS_REJECTED
    await turn.edit(turn.pressed_text + "\n" + verdict.format(name=name, hours=f"{record.hours:g}"))
