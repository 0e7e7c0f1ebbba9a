"""Where a private text, photo or voice note goes: to what the bot is waiting for (a reason,
an answer, a service record), to the experts of an open conversation, or — by default — to
intake as a new question. An expert with open work who writes without pressing a button is
asked which role the message is in."""

from __future__ import annotations

from bot import messages
from bot.buttons import MessageIsQuestion, MessageIsReply
from bot.chat import expert, intake, steps
from bot.chat.presses import on
from bot.chat.turn import Choice, Turn

ROLE_CHOICE = "role_choice"


async def on_message(turn: Turn) -> None:
    person = turn.person_id
    services = turn.services
    situation = await services.situations.of(person)
    waiting = situation.waiting
    kind, text, file_id = turn.content.kind, turn.content.text, turn.content.file_ref
    if (step_handler := steps.taking(waiting, kind, text)) is not None:
        await step_handler(turn, waiting)
        return
    reply_to = turn.content.reply_to
    if reply_to is not None or (situation.answered and not situation.composing):
        relay = await services.experts.to_expert(person, kind, text, file_id, reply_to_message_id=reply_to,
                                                 request_key=turn.key)
        if relay is not None:
            await expert.deliver(turn, relay, kind, text, file_id)
            await turn.say(messages.RELAYED_TO_EXPERT)
            return
    serving = await services.experts.my_demands(person) if situation.serving else []
    if serving and kind == "text":
        await services.states.set(person, ROLE_CHOICE, {"text": text})
        buttons = [[Choice(messages.BTN_AS_QUESTION, MessageIsQuestion())]]
        buttons += [[Choice(messages.BTN_AS_REPLY.format(no=d.tracking_no), MessageIsReply(d.id))] for d in serving[:3]]
        await turn.say(messages.WHICH_ROLE, buttons)
        return
    if kind == "text":
        await intake.question(turn)
    else:
        await intake.media(turn)


@on(MessageIsQuestion, MessageIsReply)
async def role_chosen(turn: Turn, button: MessageIsQuestion | MessageIsReply) -> None:
    person = turn.person_id
    waiting = await turn.services.states.get(person)
    if waiting is None or waiting.state != ROLE_CHOICE:
        await turn.tell(messages.STALE_BUTTON)
        return
    text = waiting.data.get("text", "")
    await turn.services.states.clear(person)
    await turn.answer()
    if isinstance(button, MessageIsQuestion):
        view = await turn.services.intake.new_question(person, text, turn.key)
        await turn.edit(intake.confirm_text(view) if not view.needs_field else text)
        await intake.show_draft(turn, view, replace=True)
    else:
        relay = await turn.services.experts.to_farmer(button.demand_id, person, "text", text, None, turn.key)
        await expert.deliver(turn, relay, "text", text, None)
        await turn.edit(messages.RELAYED)
