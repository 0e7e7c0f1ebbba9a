"""The leader after 接单: service mode, experts ranked by match, 转派 and 退回 (with a reason
the bot waits for), as buttons on the demand card."""

from __future__ import annotations

from datetime import date, timedelta

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot import messages
from bot.clock import CHINA_TIME
from bot.errors import JicengError
from bot.services import states
from bot.services.dispatch import ASSIGNMENT_PURPOSE, MODES, Rerouted, brief
from bot.services.intake import NEW_DEMAND_PURPOSE
from bot.telegram.common import (
    edit,
    forward_media,
    guarded,
    int_or_none,
    me,
    notify,
    pressed,
    request_key,
    rows,
    send,
    tell,
)
from bot.telegram.context import JicengContext
from intents import taxonomy


def leader_keyboard(demand_id: int) -> InlineKeyboardMarkup:
    d = demand_id
    return InlineKeyboardMarkup([
        [Button(messages.BTN_MODE, callback_data=f"ld:mode:{d}:-"), Button(messages.BTN_ASSIGN, callback_data=f"ld:ex:{d}:-")],
        [Button(messages.BTN_TRANSFER, callback_data=f"ld:tr:{d}:-"), Button(messages.BTN_RETURN, callback_data=f"ld:rt:{d}:-")],
    ])


def expert_keyboard(demand_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Button(messages.BTN_REPLY_FARMER, callback_data=f"ex:ans:{demand_id}:-"),
                                  Button(messages.BTN_CLOSE, callback_data=f"ex:close:{demand_id}:-")]])


@guarded
async def leader_button(update: Update, context: JicengContext) -> None:
    query, user = update.callback_query, update.effective_user
    person = await me(update, context)
    if (button := await pressed(update, 4, id_at=2)) is None:
        return
    parts, demand_id = button
    action, arg = parts[1], parts[3]
    dispatch = context.services.dispatch
    no = await _tracking_no(context, demand_id)
    if action == "mode":
        await dispatch.check_leader(demand_id, person)
        buttons = [Button(name, callback_data=f"ld:m:{demand_id}:{code}") for code, name in MODES.items()]
        await query.answer()
        await send(context, user.id, messages.ASK_MODE.format(no=no), InlineKeyboardMarkup([buttons]))
    elif action == "m" and arg in MODES:
        if arg == "short_visit":
            today = context.services.clock().astimezone(CHINA_TIME).date()
            days = [today + timedelta(days=i) for i in range(8)]
            buttons = [Button(messages.BTN_TODAY if d == today else f"{d.month}月{d.day}日",
                              callback_data=f"ld:v:{demand_id}:{d:%Y%m%d}") for d in days]
            await query.answer()
            await edit(query.message, messages.ASK_VISIT_DATE, InlineKeyboardMarkup(rows(buttons, 4)))
            return
        await dispatch.set_mode(demand_id, person, arg)
        await query.answer()
        await edit(query.message, messages.MODE_SET.format(no=no, mode=MODES[arg], date=""))
    elif action == "v" and len(arg) == 8 and arg.isdigit():
        visit = date(int(arg[:4]), int(arg[4:6]), int(arg[6:]))
        await dispatch.set_mode(demand_id, person, "short_visit", visit)
        await query.answer()
        await edit(query.message, messages.MODE_SET.format(no=no, mode=MODES["short_visit"], date=f"，{visit.month}月{visit.day}日上门"))
    elif action == "ex":
        candidates = await dispatch.candidates(demand_id, person)
        lines = "\n".join(messages.EXPERT_LINE.format(n=n, name=c.expert.name, title=c.expert.title or "专家", reason=c.reason)
                          for n, c in enumerate(candidates, 1))
        buttons = [Button(f"{n}. {c.expert.name}", callback_data=f"ld:a:{demand_id}:{c.expert.id}")
                   for n, c in enumerate(candidates, 1)]
        await query.answer()
        await send(context, user.id, messages.ASK_EXPERTS.format(no=no, lines=lines), InlineKeyboardMarkup(rows(buttons, 2)))
    elif action == "a" and (expert_id := int_or_none(arg)) is not None:
        assigned = await dispatch.assign(demand_id, person, [expert_id], request_key(update))
        await query.answer(messages.ASSIGNED_LEADER.format(names="、".join(e.name for e in assigned.experts), no=no)[:190])
        await _brief_experts(context, assigned)
    elif action == "tr":
        teams = await dispatch.other_teams(demand_id, person)
        buttons = [Button(t.name, callback_data=f"ld:tt:{demand_id}:{t.id}") for t in teams]
        buttons.append(Button(messages.BTN_BY_FIELD, callback_data=f"ld:tf:{demand_id}:-"))
        await query.answer()
        await send(context, user.id, messages.ASK_TRANSFER_TEAM.format(no=no), InlineKeyboardMarkup(rows(buttons, 1)))
    elif action == "tf":
        buttons = [Button(f.name, callback_data=f"ld:tfs:{demand_id}:{f.code}") for f in taxonomy.FIELDS]
        await query.answer()
        await edit(query.message, messages.ASK_TRANSFER_FIELD.format(no=no), InlineKeyboardMarkup(rows(buttons, 2)))
    elif action in ("tt", "tfs"):
        target = {"team_id": int_or_none(arg)} if action == "tt" else {"field": arg}
        await dispatch.check_leader(demand_id, person)
        await context.services.states.set(person, states.TRANSFER_REASON, {"demand_id": demand_id, **target})
        await query.answer()
        await edit(query.message, messages.ASK_REASON)
    elif action == "rt":
        await dispatch.check_leader(demand_id, person)
        await context.services.states.set(person, states.RETURN_REASON, {"demand_id": demand_id})
        await query.answer()
        await send(context, user.id, messages.ASK_RETURN_REASON)
    else:
        await tell(update, context, messages.STALE_BUTTON)


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


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(leader_button, pattern=r"^ld:"))
