"""The leader after 接单: service mode, experts ranked by match, 转派 and 退回 (with a reason
the bot waits for), as buttons on the demand card."""

from __future__ import annotations

from datetime import date, timedelta

from telegram import InlineKeyboardMarkup, Update

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
from bot.clock import CHINA_TIME
from bot.errors import JicengError
from bot.services import states
from bot.services.dispatch import ASSIGNMENT_PURPOSE, MODES, Rerouted, brief
from bot.services.intake import NEW_DEMAND_PURPOSE
from bot.telegram.common import edit, forward_media, key, me, notify, request_key, rows, send, tell
from bot.telegram.context import JicengContext
from bot.telegram.presses import on
from intents import taxonomy


def leader_keyboard(demand_id: int) -> InlineKeyboardMarkup:
    d = demand_id
    return InlineKeyboardMarkup([
        [key(messages.BTN_MODE, AskMode(d)), key(messages.BTN_ASSIGN, AskExperts(d))],
        [key(messages.BTN_TRANSFER, AskTransferTeam(d)), key(messages.BTN_RETURN, ReturnToStaff(d))],
    ])


def expert_keyboard(demand_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[key(messages.BTN_REPLY_FARMER, AnswerFarmer(demand_id)),
                                  key(messages.BTN_CLOSE, AskCloseMode(demand_id))]])


@on(AskMode)
async def mode_asked(update: Update, context: JicengContext, button: AskMode) -> None:
    d = button.demand_id
    await context.services.dispatch.check_leader(d, await me(update, context))
    buttons = [key(name, SetMode(d, code)) for code, name in MODES.items()]
    await update.callback_query.answer()
    await send(context, update.effective_chat.id, messages.ASK_MODE.format(no=await _tracking_no(context, d)),
               InlineKeyboardMarkup([buttons]))


@on(SetMode)
async def mode_chosen(update: Update, context: JicengContext, button: SetMode) -> None:
    query, d = update.callback_query, button.demand_id
    if button.mode == "short_visit":  # a visit needs its day first
        today = context.services.clock().astimezone(CHINA_TIME).date()
        days = [today + timedelta(days=i) for i in range(8)]
        buttons = [key(messages.BTN_TODAY if day == today else f"{day.month}月{day.day}日",
                       SetVisitDate(d, int(f"{day:%Y%m%d}"))) for day in days]
        await query.answer()
        await edit(query.message, messages.ASK_VISIT_DATE, InlineKeyboardMarkup(rows(buttons, 4)))
        return
    await context.services.dispatch.set_mode(d, await me(update, context), button.mode)
    await query.answer()
    await edit(query.message, messages.MODE_SET.format(no=await _tracking_no(context, d), mode=MODES[button.mode],
                                                       date=""))


@on(SetVisitDate)
async def visit_date_chosen(update: Update, context: JicengContext, button: SetVisitDate) -> None:
    day = str(button.day)
    try:
        visit = date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        await tell(update, context, messages.STALE_BUTTON)
        return
    await context.services.dispatch.set_mode(button.demand_id, await me(update, context), "short_visit", visit)
    await update.callback_query.answer()
    await edit(update.callback_query.message, messages.MODE_SET.format(
        no=await _tracking_no(context, button.demand_id), mode=MODES["short_visit"],
        date=f"，{visit.month}月{visit.day}日上门"))


@on(AskExperts)
async def experts_asked(update: Update, context: JicengContext, button: AskExperts) -> None:
    d = button.demand_id
    candidates = await context.services.dispatch.candidates(d, await me(update, context))
    lines = "\n".join(messages.EXPERT_LINE.format(n=n, name=c.expert.name, title=c.expert.title or "专家",
                                                  reason=c.reason) for n, c in enumerate(candidates, 1))
    buttons = [key(f"{n}. {c.expert.name}", AssignExpert(d, c.expert.id)) for n, c in enumerate(candidates, 1)]
    await update.callback_query.answer()
    await send(context, update.effective_chat.id,
               messages.ASK_EXPERTS.format(no=await _tracking_no(context, d), lines=lines),
               InlineKeyboardMarkup(rows(buttons, 2)))


@on(AssignExpert)
async def expert_chosen(update: Update, context: JicengContext, button: AssignExpert) -> None:
    d = button.demand_id
    assigned = await context.services.dispatch.assign(d, await me(update, context), [button.expert_id],
                                                      request_key(update))
    names = "、".join(e.name for e in assigned.experts)
    await update.callback_query.answer(
        messages.ASSIGNED_LEADER.format(names=names, no=assigned.demand.tracking_no)[:190])
    await _brief_experts(context, assigned)


@on(AskTransferTeam)
async def transfer_asked(update: Update, context: JicengContext, button: AskTransferTeam) -> None:
    d = button.demand_id
    teams = await context.services.dispatch.other_teams(d, await me(update, context))
    buttons = [key(t.name, TransferToTeam(d, t.id)) for t in teams]
    buttons.append(key(messages.BTN_BY_FIELD, AskTransferField(d)))
    await update.callback_query.answer()
    await send(context, update.effective_chat.id, messages.ASK_TRANSFER_TEAM.format(no=await _tracking_no(context, d)),
               InlineKeyboardMarkup(rows(buttons, 1)))


@on(AskTransferField)
async def transfer_field_asked(update: Update, context: JicengContext, button: AskTransferField) -> None:
    d = button.demand_id
    buttons = [key(f.name, TransferToField(d, f.code)) for f in taxonomy.FIELDS]
    await update.callback_query.answer()
    await edit(update.callback_query.message, messages.ASK_TRANSFER_FIELD.format(no=await _tracking_no(context, d)),
               InlineKeyboardMarkup(rows(buttons, 2)))


@on(TransferToTeam, TransferToField)
async def transfer_target_chosen(update: Update, context: JicengContext,
                                 button: TransferToTeam | TransferToField) -> None:
    """The target is kept with the waiting step; the leader's next text is the reason."""
    person = await me(update, context)
    target = {"team_id": button.team_id} if isinstance(button, TransferToTeam) else {"field": button.field}
    await context.services.dispatch.check_leader(button.demand_id, person)
    await context.services.states.set(person, states.TRANSFER_REASON, {"demand_id": button.demand_id, **target})
    await update.callback_query.answer()
    await edit(update.callback_query.message, messages.ASK_REASON)


@on(ReturnToStaff)
async def return_asked(update: Update, context: JicengContext, button: ReturnToStaff) -> None:
    person = await me(update, context)
    await context.services.dispatch.check_leader(button.demand_id, person)
    await context.services.states.set(person, states.RETURN_REASON, {"demand_id": button.demand_id})
    await update.callback_query.answer()
    await send(context, update.effective_chat.id, messages.ASK_RETURN_REASON)


async def reason_given(update: Update, context: JicengContext, waiting: states.Waiting, reason: str) -> None:
    """The leader's next text after 转派/退回 is the reason."""
    user = update.effective_user
    person = await me(update, context)
    data = waiting.data
    dispatch = context.services.dispatch
    try:
        if waiting.state == states.TRANSFER_REASON:
            rerouted = await dispatch.transfer(data["demand_id"], person, reason, to_team_id=data.get("team_id"),
                                               to_field=data.get("field"), request_key=request_key(update))
        else:
            rerouted = await dispatch.return_to_staff(data["demand_id"], person, reason,
                                                      request_key=request_key(update))
    except JicengError:  # refused for good: stop waiting for a reason
        await context.services.states.clear(person)
        raise
    # Cleared only after the change is written: an update handled again (a locked database)
    # still finds the step waiting and goes the same way.
    await context.services.states.clear(person)
    await announce_reroute(context, rerouted, user.id)


async def announce_reroute(context: JicengContext, rerouted: Rerouted, leader_chat: int) -> None:
    from bot.telegram.leader import accept_keyboard, demand_card

    demand = rerouted.demand
    no = demand.tracking_no
    about = await brief(context.services.sessions, demand.id)
    if rerouted.team is not None:
        await send(context, leader_chat, messages.TRANSFERRED_LEADER.format(no=no, team=rerouted.team.name))
        card = messages.TRANSFER_IN.format(from_team="原服务团", reason=rerouted.reason) + demand_card(demand, about.farmer_name)
        if rerouted.leader_id is not None:
            await notify(context, rerouted.leader_id, card, accept_keyboard(demand.id),
                         purpose=f"{NEW_DEMAND_PURPOSE}:{demand.id}")
        else:  # nobody leads that team yet: staff must know
            for staff in rerouted.staff_ids:
                await notify(context, staff, messages.NO_LEADER_NOTICE.format(
                    no=no, team=rerouted.team.name, text=messages.short(demand.text, 200)))
        where = f"「{rerouted.team.name}」"
    else:
        await send(context, leader_chat, messages.TRANSFERRED_TO_STAFF.format(no=no))
        for staff in rerouted.staff_ids:
            await notify(context, staff, messages.RETURNED_STAFF.format(
                no=no, team="服务团", reason=rerouted.reason, text=messages.short(demand.text, 200)))
        where = "工作人员"
    await notify(context, about.farmer_id, messages.REROUTED_FARMER.format(no=no, where=where))


async def _brief_experts(context: JicengContext, assigned) -> None:
    demand = assigned.demand
    about = await brief(context.services.sessions, demand.id)
    card = messages.EXPERT_CARD.format(
        no=demand.tracking_no, team=about.team_name, field=messages.field_label(demand.field),
        region=messages.region_label(demand.region_code), mode=MODES.get(demand.service_mode or "", messages.NO_MODE),
        name=about.farmer_name, text=demand.text)
    for chat in assigned.expert_person_ids:
        await notify(context, chat, card, expert_keyboard(demand.id), purpose=f"{ASSIGNMENT_PURPOSE}:{demand.id}")
        for item in assigned.media:
            what = messages.PHOTO if item.kind == "photo" else messages.VOICE
            await forward_media(context, chat, item.kind, item.file_id,
                                messages.NEW_DEMAND_MEDIA.format(no=demand.tracking_no, what=what))
    names = "、".join(e.name for e in assigned.experts)
    if names:
        await notify(context, assigned.submitter_id,
                     messages.ASSIGNED_FARMER.format(no=demand.tracking_no, names=names))


async def _tracking_no(context: JicengContext, demand_id: int) -> str:
    about = await brief(context.services.sessions, demand_id)
    return about.demand.tracking_no if about else "?"
