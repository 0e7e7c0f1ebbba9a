"""The farmer closes the loop in chat: 已解决 / 未解决, stars, the 回访 answer, and 撤回."""

from __future__ import annotations

from bot import messages
from bot.buttons import FollowUpNotSolved, FollowUpSolved, NotSolved, Rate, ShareAnswer, Solved, Withdraw
from bot.chat.presses import on
from bot.chat.sharing import offer_for_review
from bot.chat.turn import Choice, Choices, Turn
from bot.services.feedback import Reopened


def solved_keyboard(demand_id: int) -> Choices:
    return [[Choice(messages.BTN_SOLVED, Solved(demand_id)), Choice(messages.BTN_UNSOLVED, NotSolved(demand_id))]]


def stars_keyboard(demand_id: int) -> Choices:
    return [[Choice(messages.BTN_STARS.format(n=n), Rate(demand_id, n)) for n in range(1, 6)]]


@on(Solved, NotSolved, FollowUpSolved, FollowUpNotSolved)
async def solved_pressed(turn: Turn,
                         button: Solved | NotSolved | FollowUpSolved | FollowUpNotSolved) -> None:
    """已解决 / 未解决 after the service is closed, or at the 回访 a week later."""
    solved = isinstance(button, (Solved, FollowUpSolved))
    follow_up = isinstance(button, (FollowUpSolved, FollowUpNotSolved))
    reopened = await turn.services.feedback.solved(button.demand_id, turn.person_id, solved,
                                                   follow_up=follow_up, request_key=turn.key)
    await turn.answer()
    if solved and follow_up:
        await turn.edit(turn.pressed_text + "\n\n" + messages.FOLLOW_UP_OK)
    elif solved:
        await turn.edit(messages.ASK_STARS, stars_keyboard(button.demand_id))
        await turn.say(messages.ASK_SHARE, [[Choice(messages.BTN_SHARE, ShareAnswer(button.demand_id, True)),
                                             Choice(messages.BTN_NO_SHARE, ShareAnswer(button.demand_id, False))]])
        if await turn.services.feedback.asked_as_enterprise(button.demand_id):
            from bot.chat.enterprise import offer_jobs_report

            await offer_jobs_report(turn, button.demand_id)
    else:
        await _announce_reopen(turn, reopened)


@on(Rate)
async def rate_pressed(turn: Turn, button: Rate) -> None:
    await turn.services.feedback.rate(button.demand_id, turn.person_id, button.stars)
    await turn.answer()
    await turn.edit(messages.THANKS_RATING.format(stars=button.stars))


async def _announce_reopen(turn: Turn, reopened: Reopened | None) -> None:
    if reopened is None:
        return
    demand = reopened.demand
    await turn.edit(messages.REOPENED_FARMER.format(no=demand.tracking_no), stars_keyboard(demand.id))
    for person in reopened.notify:
        await turn.notify(person, messages.REOPENED_TEAM.format(no=demand.tracking_no,
                                                               text=messages.short(demand.text, 200)))


@on(Withdraw)
async def withdraw_pressed(turn: Turn, button: Withdraw) -> None:
    demand = await turn.services.feedback.cancel(button.demand_id, turn.person_id, turn.key)
    await turn.tell(messages.WITHDRAWN.format(no=demand.tracking_no))


@on(ShareAnswer)
async def share_pressed(turn: Turn, button: ShareAnswer) -> None:
    offered = await turn.services.feedback.share(button.demand_id, turn.person_id, button.agree)
    await turn.answer()
    await turn.edit(messages.SHARED if button.agree else messages.NOT_SHARED)
    if offered is not None:
        await offer_for_review(turn, offered)
