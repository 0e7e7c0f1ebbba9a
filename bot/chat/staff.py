"""Staff in chat: /triage (route a demand to a team with buttons) and /overdue."""

from __future__ import annotations

from bot import messages
from bot.buttons import Triage
from bot.chat.commands import command
from bot.chat.presses import on
from bot.chat.turn import Choice, Turn, rows
from bot.services.dispatch import brief
from bot.services.intake import NEW_DEMAND_PURPOSE

MAX_LISTED = 20


@command("triage")
async def triage_command(turn: Turn) -> None:
    demands = await turn.services.triage.queue(turn.person_id)
    if not demands:
        await turn.say(messages.TRIAGE_EMPTY)
        return
    shown = demands[:MAX_LISTED]
    lines = [messages.TRIAGE_HEADER.format(total=len(demands))]
    lines += [messages.TRIAGE_ITEM.format(no=d.tracking_no, field=messages.field_label(d.field),
                                          region=messages.region_label(d.region_code), text=messages.short(d.text))
              for d in shown]
    buttons = [Choice(messages.BTN_ROUTE.format(no=d.tracking_no), Triage(d.id)) for d in shown]
    await turn.say("\n\n".join(lines), rows(buttons, 1))


@on(Triage)
async def triage_pressed(turn: Turn, button: Triage) -> None:
    """分派: first the teams to choose from (team 0), then the chosen team."""
    demand_id = button.demand_id
    person = turn.person_id
    triage = turn.services.triage
    if button.team_id == 0:
        teams = await triage.teams_for(demand_id, person)
        about = await brief(turn.services.sessions, demand_id)
        buttons = [Choice(t.name, Triage(demand_id, t.id)) for t in teams]
        await turn.answer()
        await turn.say(messages.ASK_ROUTE_TEAM.format(
            no=about.demand.tracking_no, field=messages.field_label(about.demand.field)),
            rows(buttons, 1))
        return
    routed = await triage.route(demand_id, button.team_id, person, turn.key)
    from bot.chat.leader import accept_keyboard, demand_card

    about = await brief(turn.services.sessions, demand_id)
    await turn.answer()
    await turn.edit(messages.ROUTED_STAFF.format(no=routed.demand.tracking_no, team=routed.team.name))
    if routed.leader_id is not None:
        await turn.notify(routed.leader_id, demand_card(routed.demand, about.farmer_name),
                          accept_keyboard(demand_id), purpose=f"{NEW_DEMAND_PURPOSE}:{demand_id}")
    else:  # nobody leads that team yet: the staff member who routed it must know
        await turn.say(messages.NO_LEADER_NOTICE.format(
            no=routed.demand.tracking_no, team=routed.team.name, text=messages.short(routed.demand.text, 200)))
    await turn.notify(routed.submitter_id,
                      messages.REROUTED_FARMER.format(no=routed.demand.tracking_no, where=f"「{routed.team.name}」"))


@command("overdue")
async def overdue_command(turn: Turn) -> None:
    await turn.services.triage.queue(turn.person_id)  # raises NotAllowed for non-staff
    overdue = await turn.services.deadlines.overdue() if turn.services.deadlines else []
    if not overdue:
        await turn.say(messages.OVERDUE_EMPTY)
        return
    lines = [messages.OVERDUE_HEADER.format(total=len(overdue))]
    lines += [messages.OVERDUE_ITEM.format(no=o.tracking_no, team=o.team_name, stage=o.stage,
                                           late=messages.duration(o.overdue_by)) for o in overdue[:50]]
    await turn.say("\n".join(lines))


@command("console")
async def console_command(turn: Turn) -> None:
    """Staff: a one-time link into the web console (10 minutes, once)."""
    from bot.services.console_access import LINK_MINUTES, issue_link

    token = await issue_link(turn.services.sessions, turn.person_id, turn.services.clock())
    url = f"{turn.services.console_url.rstrip('/')}/login?token={token}"
    await turn.say(messages.CONSOLE_LINK.format(url=url, minutes=LINK_MINUTES))
