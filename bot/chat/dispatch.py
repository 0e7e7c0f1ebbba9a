"""The leader after 接单: service mode, experts ranked by match, 转派 and 退回 (with a reason
the bot waits for), as buttons on the demand card."""

from __future__ import annotations

from datetime import date, timedelta

from bot import messages
from bot.buttons import (
    AnswerFarmer,
    AskCloseMode,
    AskExperts,
    AskMode,
    AskTransferField,
    AskTransferTeam,
    AssignExpert,
    ReturnToStaff,
    SetMode,
    SetVisitDate,
    TransferToField,
    TransferToTeam,
)
from bot.chat.presses import on
from bot.chat.steps import step
from bot.chat.turn import Choice, Choices, Turn, rows
from bot.clock import CHINA_TIME
from bot.errors import JicengError
from bot.services import states
from bot.services.dispatch import ASSIGNMENT_PURPOSE, MODES, Rerouted, brief
from bot.services.intake import NEW_DEMAND_PURPOSE
from intents import taxonomy

MAX_REASON = 500  # characters of a 转派/退回 reason kept


def leader_keyboard(demand_id: int) -> Choices:
    d = demand_id
    return [
        [Choice(messages.BTN_MODE, AskMode(d)), Choice(messages.BTN_ASSIGN, AskExperts(d))],
        [Choice(messages.BTN_TRANSFER, AskTransferTeam(d)), Choice(messages.BTN_RETURN, ReturnToStaff(d))],
    ]


def expert_keyboard(demand_id: int) -> Choices:
    return [[Choice(messages.BTN_REPLY_FARMER, AnswerFarmer(demand_id)),
                                  Choice(messages.BTN_CLOSE, AskCloseMode(demand_id))]]


@on(AskMode)
async def mode_asked(turn: Turn, button: AskMode) -> None:
    d = button.demand_id
    await turn.services.dispatch.check_leader(d, turn.person_id)
    buttons = [Choice(name, SetMode(d, code)) for code, name in MODES.items()]
    await turn.answer()
    await turn.say(messages.ASK_MODE.format(no=await _tracking_no(turn, d)), [buttons])


@on(SetMode)
async def mode_chosen(turn: Turn, button: SetMode) -> None:
    d = button.demand_id
    if button.mode == "short_visit":  # a visit needs its day first
        today = turn.services.clock().astimezone(CHINA_TIME).date()
        days = [today + timedelta(days=i) for i in range(8)]
        buttons = [Choice(messages.BTN_TODAY if day == today else f"{day.month}月{day.day}日",
                       SetVisitDate(d, int(f"{day:%Y%m%d}"))) for day in days]
        await turn.answer()
        await turn.edit(messages.ASK_VISIT_DATE, rows(buttons, 4))
        return
    await turn.services.dispatch.set_mode(d, turn.person_id, button.mode)
    await turn.answer()
    await turn.edit(messages.MODE_SET.format(no=await _tracking_no(turn, d), mode=MODES[button.mode],
                                                       date=""))


@on(SetVisitDate)
async def visit_date_chosen(turn: Turn, button: SetVisitDate) -> None:
    day = str(button.day)
    try:
        visit = date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        await turn.tell(messages.STALE_BUTTON)
        return
    await turn.services.dispatch.set_mode(button.demand_id, turn.person_id, "short_visit", visit)
    await turn.answer()
    await turn.edit(messages.MODE_SET.format(
        no=await _tracking_no(turn, button.demand_id), mode=MODES["short_visit"],
        date=f"，{visit.month}月{visit.day}日上门"))


@on(AskExperts)
async def experts_asked(turn: Turn, button: AskExperts) -> None:
    d = button.demand_id
    candidates = await turn.services.dispatch.candidates(d, turn.person_id)
    lines = "\n".join(messages.EXPERT_LINE.format(n=n, name=c.expert.name, title=c.expert.title or "专家",
                                                  reason=c.reason) for n, c in enumerate(candidates, 1))
    buttons = [Choice(f"{n}. {c.expert.name}", AssignExpert(d, c.expert.id)) for n, c in enumerate(candidates, 1)]
    await turn.answer()
    await turn.say(messages.ASK_EXPERTS.format(no=await _tracking_no(turn, d), lines=lines), rows(buttons, 2))


@on(AssignExpert)
async def expert_chosen(turn: Turn, button: AssignExpert) -> None:
    d = button.demand_id
    assigned = await turn.services.dispatch.assign(d, turn.person_id, [button.expert_id],
                                                      turn.key)
    names = "、".join(e.name for e in assigned.experts)
    await turn.answer(
        messages.ASSIGNED_LEADER.format(names=names, no=assigned.demand.tracking_no)[:190])
    await _brief_experts(turn, assigned)


@on(AskTransferTeam)
async def transfer_asked(turn: Turn, button: AskTransferTeam) -> None:
    d = button.demand_id
    teams = await turn.services.dispatch.other_teams(d, turn.person_id)
    buttons = [Choice(t.name, TransferToTeam(d, t.id)) for t in teams]
    buttons.append(Choice(messages.BTN_BY_FIELD, AskTransferField(d)))
    await turn.answer()
    await turn.say(messages.ASK_TRANSFER_TEAM.format(no=await _tracking_no(turn, d)),
               rows(buttons, 1))


@on(AskTransferField)
async def transfer_field_asked(turn: Turn, button: AskTransferField) -> None:
    d = button.demand_id
    buttons = [Choice(f.name, TransferToField(d, f.code)) for f in taxonomy.FIELDS]
    await turn.answer()
    await turn.edit(messages.ASK_TRANSFER_FIELD.format(no=await _tracking_no(turn, d)),
               rows(buttons, 2))


@on(TransferToTeam, TransferToField)
async def transfer_target_chosen(turn: Turn,
                                 button: TransferToTeam | TransferToField) -> None:
    """The target is kept with the waiting step; the leader's next text is the reason."""
    person = turn.person_id
    target = {"team_id": button.team_id} if isinstance(button, TransferToTeam) else {"field": button.field}
    await turn.services.dispatch.check_leader(button.demand_id, person)
    await turn.services.states.set(person, states.TRANSFER_REASON, {"demand_id": button.demand_id, **target})
    await turn.answer()
    await turn.edit(messages.ASK_REASON)


@on(ReturnToStaff)
async def return_asked(turn: Turn, button: ReturnToStaff) -> None:
    person = turn.person_id
    await turn.services.dispatch.check_leader(button.demand_id, person)
    await turn.services.states.set(person, states.RETURN_REASON, {"demand_id": button.demand_id})
    await turn.answer()
    await turn.say(messages.ASK_RETURN_REASON)


@step(states.TRANSFER_REASON, needs_text=True)
@step(states.RETURN_REASON, needs_text=True)
async def reason_given(turn: Turn, waiting: states.Waiting) -> None:
    """The leader's next text after 转派/退回 is the reason."""
    reason = turn.content.text[:MAX_REASON]
    person = turn.person_id
    data = waiting.data
    dispatch = turn.services.dispatch
    try:
        if waiting.state == states.TRANSFER_REASON:
            rerouted = await dispatch.transfer(data["demand_id"], person, reason, to_team_id=data.get("team_id"),
                                               to_field=data.get("field"), request_key=turn.key)
        else:
            rerouted = await dispatch.return_to_staff(data["demand_id"], person, reason,
                                                      request_key=turn.key)
    except JicengError:  # refused for good: stop waiting for a reason
        await turn.services.states.clear(person)
        raise
    # Cleared only after the change is written: an update handled again (a locked database)
    # still finds the step waiting and goes the same way.
    await turn.services.states.clear(person)
    await announce_reroute(turn, rerouted)


async def announce_reroute(turn: Turn, rerouted: Rerouted) -> None:
    """The leader who rerouted it is told here; the new team's leader (or staff) and the farmer by notice."""
    from bot.chat.leader import accept_keyboard, demand_card

    demand = rerouted.demand
    no = demand.tracking_no
    about = await brief(turn.services.sessions, demand.id)
    if rerouted.team is not None:
        await turn.say(messages.TRANSFERRED_LEADER.format(no=no, team=rerouted.team.name))
        card = messages.TRANSFER_IN.format(from_team="原服务团", reason=rerouted.reason) + demand_card(demand, about.farmer_name)
        if rerouted.leader_id is not None:
            await turn.notify(rerouted.leader_id, card, accept_keyboard(demand.id),
                              purpose=f"{NEW_DEMAND_PURPOSE}:{demand.id}")
        else:  # nobody leads that team yet: staff must know
            for staff in rerouted.staff_ids:
                await turn.notify(staff, messages.NO_LEADER_NOTICE.format(
                    no=no, team=rerouted.team.name, text=messages.short(demand.text, 200)))
        where = f"「{rerouted.team.name}」"
    else:
        await turn.say(messages.TRANSFERRED_TO_STAFF.format(no=no))
        for staff in rerouted.staff_ids:
            await turn.notify(staff, messages.RETURNED_STAFF.format(
                no=no, team="服务团", reason=rerouted.reason, text=messages.short(demand.text, 200)))
        where = "工作人员"
    await turn.notify(about.farmer_id, messages.REROUTED_FARMER.format(no=no, where=where))


async def _brief_experts(turn: Turn, assigned) -> None:
    demand = assigned.demand
    about = await brief(turn.services.sessions, demand.id)
    card = messages.EXPERT_CARD.format(
        no=demand.tracking_no, team=about.team_name, field=messages.field_label(demand.field),
        region=messages.region_label(demand.region_code), mode=MODES.get(demand.service_mode or "", messages.NO_MODE),
        name=about.farmer_name, text=demand.text)
    for chat in assigned.expert_person_ids:
        await turn.notify(chat, card, expert_keyboard(demand.id), purpose=f"{ASSIGNMENT_PURPOSE}:{demand.id}")
        for item in assigned.media:
            what = messages.PHOTO if item.kind == "photo" else messages.VOICE
            await turn.forward(chat, item.kind, item.file_id,
                                messages.NEW_DEMAND_MEDIA.format(no=demand.tracking_no, what=what))
    names = "、".join(e.name for e in assigned.experts)
    if names:
        await turn.notify(assigned.submitter_id,
                     messages.ASSIGNED_FARMER.format(no=demand.tracking_no, names=names))


async def _tracking_no(turn: Turn, demand_id: int) -> str:
    about = await brief(turn.services.sessions, demand_id)
    return about.demand.tracking_no if about else "?"
