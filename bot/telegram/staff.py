"""Staff in chat: /triage (route a demand to a team with buttons) and /overdue."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, filters

from bot import messages
from bot.buttons import Triage
from bot.services.dispatch import brief
from bot.services.intake import NEW_DEMAND_PURPOSE
from bot.telegram.common import edit, guarded, key, me, notify, request_key, rows, send
from bot.telegram.context import JicengContext
from bot.telegram.presses import on

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
    buttons = [key(messages.BTN_ROUTE.format(no=d.tracking_no), Triage(d.id)) for d in shown]
    await send(context, update.effective_chat.id, "\n\n".join(lines), InlineKeyboardMarkup(rows(buttons, 1)))


@on(Triage)
async def triage_pressed(update: Update, context: JicengContext, button: Triage) -> None:
    """分派: first the teams to choose from (team 0), then the chosen team."""
    query, chat, demand_id = update.callback_query, update.effective_chat.id, button.demand_id
    person = await me(update, context)
    triage = context.services.triage
    if button.team_id == 0:
        teams = await triage.teams_for(demand_id, person)
        about = await brief(context.services.sessions, demand_id)
        buttons = [key(t.name, Triage(demand_id, t.id)) for t in teams]
        await query.answer()
        await send(context, chat, messages.ASK_ROUTE_TEAM.format(
            no=about.demand.tracking_no, field=messages.field_label(about.demand.field)),
            InlineKeyboardMarkup(rows(buttons, 1)))
        return
    routed = await triage.route(demand_id, button.team_id, person, request_key(update))
    from bot.telegram.leader import accept_keyboard, demand_card

    about = await brief(context.services.sessions, demand_id)
    await query.answer()
    await edit(query.message, messages.ROUTED_STAFF.format(no=routed.demand.tracking_no, team=routed.team.name))
    if routed.leader_id is not None:
        await notify(context, routed.leader_id, demand_card(routed.demand, about.farmer_name),
                     accept_keyboard(demand_id), purpose=f"{NEW_DEMAND_PURPOSE}:{demand_id}")
    else:  # nobody leads that team yet: the staff member who routed it must know
        await send(context, chat, messages.NO_LEADER_NOTICE.format(
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
