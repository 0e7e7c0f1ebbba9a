"""Staff in chat: /triage (route a demand to a team with buttons) and /overdue."""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import messages
from bot.services.dispatch import brief
from bot.services.intake import NEW_DEMAND_PURPOSE
from bot.telegram.common import callback_parts, edit, guarded, int_or_none, me, notify, request_key, rows, send, tell
from bot.telegram.context import JicengContext

MAX_LISTED = 20


@guarded
async def triage_command(update: Update, context: JicengContext) -> None:
    demands = await context.services.triage.queue(await me(update, context))
    if not demands:
        await send(context, update.effective_chat.id, messages.TRIAGE_EMPTY)
        return
    shown = demands[:MAX_LISTED]
    lines = [messages.TRIAGE_HEADER.format(total=len(demands))]
    lines += [messages.TRIAGE_ITEM.format(no=d.tracking_no, field=messages.field_label(d.field),
                                          region=messages.region_label(d.region_code), text=messages.short(d.text))
              for d in shown]
    buttons = [Button(messages.BTN_ROUTE.format(no=d.tracking_no), callback_data=f"tg:{d.id}:-") for d in shown]
    await send(context, update.effective_chat.id, "\n\n".join(lines), InlineKeyboardMarkup(rows(buttons, 1)))


@guarded
async def triage_button(update: Update, context: JicengContext) -> None:
    query, user = update.callback_query, update.effective_user
    person = await me(update, context)
    parts = callback_parts(update, 3)
    demand_id = int_or_none(parts[1]) if parts else None
    if demand_id is None:
        await tell(update, context, messages.STALE_BUTTON)
        return
    triage = context.services.triage
    if parts[2] == "-":
        teams = await triage.teams_for(demand_id, person)
        about = await brief(context.services.sessions, demand_id)
        buttons = [Button(t.name, callback_data=f"tg:{demand_id}:{t.id}") for t in teams]
        await query.answer()
        await send(context, user.id, messages.ASK_ROUTE_TEAM.format(
            no=about.demand.tracking_no, field=messages.field_label(about.demand.field)),
            InlineKeyboardMarkup(rows(buttons, 1)))
        return
    team_id = int_or_none(parts[2])
    if team_id is None:
        await tell(update, context, messages.STALE_BUTTON)
        return
    routed = await triage.route(demand_id, team_id, person, request_key(update))
    from bot.telegram.leader import accept_keyboard, demand_card

    about = await brief(context.services.sessions, demand_id)
    await query.answer()
    await edit(query.message, messages.ROUTED_STAFF.format(no=routed.demand.tracking_no, team=routed.team.name))
    if routed.leader_id is not None:
        await notify(context, routed.leader_id, demand_card(routed.demand, about.farmer_name),
                     accept_keyboard(demand_id), purpose=f"{NEW_DEMAND_PURPOSE}:{demand_id}")
    else:  # nobody leads that team yet: the staff member who routed it must know
        await send(context, user.id, messages.NO_LEADER_NOTICE.format(
            no=routed.demand.tracking_no, team=routed.team.name, text=messages.short(routed.demand.text, 200)))
    await notify(context, routed.submitter_id,
                 messages.REROUTED_FARMER.format(no=routed.demand.tracking_no, where=f"「{routed.team.name}」"))


@guarded
async def overdue_command(update: Update, context: JicengContext) -> None:
    await context.services.triage.queue(await me(update, context))  # raises NotAllowed for non-staff
    overdue = await context.services.deadlines.overdue() if context.services.deadlines else []
    if not overdue:
        await send(context, update.effective_chat.id, messages.OVERDUE_EMPTY)
        return
    lines = [messages.OVERDUE_HEADER.format(total=len(overdue))]
    lines += [messages.OVERDUE_ITEM.format(no=o.tracking_no, team=o.team_name, stage=o.stage,
                                           late=messages.duration(o.overdue_by)) for o in overdue[:50]]
    await send(context, update.effective_chat.id, "\n".join(lines))


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("triage", triage_command, filters=private))
    application.add_handler(CommandHandler("overdue", overdue_command, filters=private))
    application.add_handler(CallbackQueryHandler(triage_button, pattern=r"^tg:"))
