"""/forget: a farmer deletes their personal data (see bot.services.forget), after a yes."""

from __future__ import annotations

from bot import messages
from bot.buttons import ForgetMe
from bot.chat.commands import command
from bot.chat.presses import on
from bot.chat.turn import Choice, Turn
from bot.services.forget import forget


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
