"""The leader (or staff) reviews an answer a farmer agreed to share: 发布 / 不发布, or 修改问题 /
修改答案 first — the next message is the new wording, and the card comes back to decide on."""

from __future__ import annotations

from bot import messages
from bot.buttons import ReviewShared
from bot.chat.presses import on
from bot.chat.steps import step
from bot.chat.turn import Choice, Choices, Turn
from bot.services import states
from bot.services.knowledge import PUBLISHED, REVIEW
from bot.services.sharing import Offered, SharedEntry


def review_card(entry: SharedEntry) -> tuple[str, Choices]:
    text = messages.REVIEW_SHARED.format(no=entry.tracking_no, question=entry.question, answer=entry.answer)
    if entry.status != REVIEW:
        return text + "\n\n" + _verdict(entry), []
    e = entry.id
    return text, [[Choice(messages.BTN_PUBLISH, ReviewShared(e, "publish")),
                   Choice(messages.BTN_DONT_PUBLISH, ReviewShared(e, "drop"))],
                  [Choice(messages.BTN_CORRECT_QUESTION, ReviewShared(e, "question")),
                   Choice(messages.BTN_CORRECT_ANSWER, ReviewShared(e, "answer"))]]


def _verdict(entry: SharedEntry) -> str:
    return messages.SHARED_PUBLISHED if entry.status == PUBLISHED else messages.SHARED_WITHDRAWN


async def offer_for_review(turn: Turn, offered: Offered) -> None:
    text, choices = review_card(offered.entry)
    for reviewer in offered.reviewers:
        await turn.notify(reviewer, text, choices)


@on(ReviewShared)
async def review_pressed(turn: Turn, button: ReviewShared) -> None:
    sharing = turn.services.sharing
    if button.action in ("publish", "drop"):
        entry = await sharing.decide(button.entry_id, turn.person_id, button.action == "publish")
        await turn.services.live.refresh()  # searchable (or gone) now, not at the next minute
        await turn.answer()
        await turn.edit(*review_card(entry))
        return
    await sharing.entry(button.entry_id, turn.person_id)  # may this person review it at all
    await turn.services.states.set(turn.person_id, states.CORRECT_SHARED,
                                   {"entry_id": button.entry_id, "part": button.action})
    await turn.answer()
    await turn.say(messages.ASK_CORRECTION.format(part=messages.SHARED_PARTS[button.action]))


@step(states.CORRECT_SHARED, needs_text=True)
async def correction_given(turn: Turn, waiting: states.Waiting) -> None:
    data = waiting.data
    await turn.services.states.clear(turn.person_id)
    entry = await turn.services.sharing.correct(data["entry_id"], turn.person_id, data["part"], turn.content.text)
    await turn.say(*review_card(entry))
