"""The expert in chat: 💬 回复农户 (the next message is relayed), ✅ 办结 with a service record;
relayed copies both ways, with photos and voice notes."""

from __future__ import annotations

import re

from telegram import InlineKeyboardMarkup, Message, Update

from bot import messages
from bot.buttons import AnswerFarmer, AskCloseMode, CloseWithMode
from bot.errors import JicengError
from bot.services import states
from bot.services.dispatch import MODES, brief
from bot.services.expert import RELAY_PURPOSE, TO_FARMER, Relay
from bot.telegram.common import forward_media, key, me, notify, request_key, send, tell
from bot.telegram.context import JicengContext
from bot.telegram.feedback import solved_keyboard
from bot.telegram.presses import on

_RECORD = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:小时|个小时|h|H)?\s*[，,。:：\s]*(.*)$", re.S)


@on(AnswerFarmer, AskCloseMode, CloseWithMode)
async def expert_pressed(update: Update, context: JicengContext,
                         button: AnswerFarmer | AskCloseMode | CloseWithMode) -> None:
    """💬 回复农户 (the next message goes to the farmer), ✅ 办结 (the service mode, then the record)."""
    person, chat, d = await me(update, context), update.effective_chat.id, button.demand_id
    about = await brief(context.services.sessions, d)
    if about is None:
        await tell(update, context, messages.STALE_BUTTON)
        return
    no = about.demand.tracking_no
    await _check_assigned(context, d, person)
    await update.callback_query.answer()
    if isinstance(button, AnswerFarmer):
        await context.services.states.set(person, states.ANSWER, {"demand_id": d})
        await send(context, chat, messages.ASK_ANSWER.format(no=no))
    elif isinstance(button, AskCloseMode):
        buttons = [key(name, CloseWithMode(d, code)) for code, name in MODES.items()]
        await send(context, chat, messages.ASK_CLOSE_MODE.format(no=no), InlineKeyboardMarkup([buttons]))
    else:
        await context.services.states.set(person, states.SERVICE_RECORD, {"demand_id": d, "mode": button.mode})
        await send(context, chat, messages.ASK_RECORD)


async def _check_assigned(context: JicengContext, demand_id: int, person_id: int) -> None:
    from bot.services.expert import NotAssigned

    if demand_id not in {d.id for d in await context.services.experts.my_demands(person_id)}:
        raise NotAssigned()


async def answer_given(update: Update, context: JicengContext, waiting: states.Waiting) -> None:
    """The expert's message after 💬 回复农户: relayed to the farmer."""
    message, user = update.effective_message, update.effective_user
    person = await me(update, context)
    kind, text, file_id = content_of(message)
    try:
        relay = await context.services.experts.to_farmer(waiting.data["demand_id"], person, kind, text, file_id,
                                                         request_key(update))
    except JicengError:  # refused for good (the demand closed meanwhile): stop waiting for an answer
        await context.services.states.clear(person)
        raise
    # Cleared only after the relay is written: an update handled again (a locked database)
    # still finds the step waiting and goes the same way.
    await context.services.states.clear(person)
    await deliver(context, relay, kind, text, file_id)
    await send(context, user.id, messages.RELAYED)


async def record_given(update: Update, context: JicengContext, waiting: states.Waiting, text: str) -> None:
    """The expert's service record: "时长 摘要" closes the demand."""
    user = update.effective_user
    person = await me(update, context)
    match = _RECORD.match(text)
    if match is None:
        await send(context, user.id, messages.BAD_RECORD)
        return
    hours, summary = float(match.group(1)), match.group(2).strip() or "（未写摘要）"
    data = waiting.data
    about = await brief(context.services.sessions, data["demand_id"])
    visit = about.demand.visit_date if about and data["mode"] == "short_visit" else None
    closing = await context.services.experts.close(data["demand_id"], person, data["mode"], hours, summary,
                                                   visit, request_key(update))
    await context.services.states.clear(person)
    no = closing.demand.tracking_no
    await send(context, user.id, messages.CLOSED_EXPERT.format(no=no, mode=MODES[data["mode"]], hours=f"{hours:g}"))
    await notify(context, closing.farmer_id, messages.CLOSED_FARMER.format(name=closing.expert_name, no=no),
                 solved_keyboard(closing.demand.id))


def content_of(message: Message) -> tuple[str, str, str | None]:
    if message.photo:
        return "photo", message.caption or "", message.photo[-1].file_id
    if message.voice:
        return "voice", message.caption or "", message.voice.file_id
    return "text", (message.text or "").strip(), None


async def deliver(context: JicengContext, relay: Relay, kind: str, text: str, file_id: str | None) -> None:
    """Put the relayed copy in the outbox for each recipient; where it lands is remembered when it
    is sent (purpose "relay"), so a reply to it finds its way back."""
    no = relay.demand.tracking_no
    what = messages.PHOTO if kind == "photo" else messages.VOICE
    purpose = f"{RELAY_PURPOSE}:{relay.message_id}"
    for person in relay.recipients:
        if kind == "text":
            template = messages.ANSWER_TO_FARMER if _is_to_farmer(relay) else messages.FARMER_TO_EXPERT
            await notify(context, person, template.format(name=relay.sender_name, no=no, text=text), purpose=purpose)
        else:
            template = messages.ANSWER_MEDIA_CAPTION if _is_to_farmer(relay) else messages.FARMER_MEDIA_CAPTION
            caption = template.format(name=relay.sender_name, what=what, no=no) + (f"：{text}" if text else "")
            await forward_media(context, person, kind, file_id, caption, purpose=purpose)


def _is_to_farmer(relay: Relay) -> bool:
    return relay.direction == TO_FARMER
