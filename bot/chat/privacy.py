"""Privacy in chat: the notice at first contact with its 同意 (/start, and above a first question's
提交), /privacy for the whole notice, and /forget — a farmer deletes their personal data (see
bot.services.forget), after a yes."""

from __future__ import annotations

from bot import messages
from bot.buttons import AgreePrivacy, ForgetMe
from bot.chat.commands import command
from bot.chat.presses import on
from bot.chat.turn import Choice, Turn
from bot.services.forget import forget


async def offer_notice(turn: Turn) -> None:
    """The short notice with its 同意, for someone who has not agreed yet."""
    if not await turn.services.people.agreed_privacy(turn.person_id):
        await turn.say(messages.PRIVACY_SHORT, [[Choice(messages.BTN_AGREE, AgreePrivacy())]])


@command("privacy")
async def privacy_command(turn: Turn) -> None:
    agreed = await turn.services.people.agreed_privacy(turn.person_id)
    await turn.say(messages.PRIVACY_FULL, [] if agreed else [[Choice(messages.BTN_AGREE, AgreePrivacy())]])


@on(AgreePrivacy)
async def agree_pressed(turn: Turn, button: AgreePrivacy) -> None:
    await turn.services.people.agree_privacy(turn.person_id, turn.services.clock())
    await turn.answer()
    await turn.edit(turn.pressed_text + "\n\n" + messages.PRIVACY_AGREED)


@command("forget")
async def forget_command(turn: Turn) -> None:
    await turn.say(messages.FORGET_ASK, [[Choice(messages.BTN_FORGET_YES, ForgetMe(True)),
                                          Choice(messages.BTN_FORGET_NO, ForgetMe(False))]])


@on(ForgetMe)
async def forget_pressed(turn: Turn, button: ForgetMe) -> None:
    await turn.answer()
    if not button.confirm:
        await turn.edit(messages.FORGET_KEPT)
        return
    forgotten = await forget(turn.services.sessions, turn.person_id)
    turn.services.people.forget(turn.person_id)
    await turn.edit(messages.FORGET_DONE.format(demands=forgotten.demands))
