"""/start (with invite deep links), /help, and the home-region picker (/region)."""

from __future__ import annotations

from bot import messages
from bot.buttons import DecideTakeover, ProfileRegion
from bot.chat.commands import command
from bot.chat.presses import on
from bot.chat.privacy import offer_notice
from bot.chat.regions import city_keyboard, county_keyboard, is_city
from bot.chat.turn import Choice, Turn
from bot.errors import Conflict, NotFound
from bot.services import invites
from bot.services.people import EXPERT, LEADER, STAFF
from intents import regions


def _pick_city(code: str) -> ProfileRegion:
    return ProfileRegion("city", code)


@command("start")
async def start(turn: Turn) -> None:
    services = turn.services
    person_id = turn.person_id
    if turn.args:
        try:
            joined = await invites.redeem(services.sessions, turn.args[0], person_id)
        except (NotFound, Conflict):
            await turn.say(messages.INVITE_BAD)
        else:
            await turn.say(joined.message)
            if joined.takeover is not None:
                await _ask_staff(turn, joined.takeover)
    person = await services.people.get(person_id)
    lines = [messages.WELCOME.format(name=turn.display_name or "朋友")]
    roles = person.role_names
    if LEADER in roles:
        teams = await services.leader.team_names(person.id)
        if teams:
            lines.append(messages.WELCOME_LEADER.format(teams="、".join(teams)))
    if EXPERT in roles:
        lines.append(messages.WELCOME_EXPERT)
    if STAFF in roles:
        lines.append(messages.WELCOME_STAFF)
    if person.region_code is None:
        await turn.say("\n\n".join(lines))
        await offer_notice(turn)
        await turn.say(messages.ASK_REGION, city_keyboard(_pick_city))
    else:
        lines.append(f"您的地区：{regions.full_name(person.region_code)}（/region 可修改）")
        await turn.say("\n\n".join(lines))
        await offer_notice(turn)


async def _ask_staff(turn: Turn, takeover: invites.Takeover) -> None:
    """Nothing changes until staff confirm; the person who would be replaced hears of it now."""
    t = takeover
    await turn.notify(t.current_id, invites.WARN_CURRENT.format(target=t.target, role=t.role))
    card = invites.ASK_STAFF.format(newcomer=t.newcomer_name, target=t.target, role=t.role, current=t.current_name)
    choices = [[Choice(messages.BTN_CONFIRM_TAKEOVER, DecideTakeover(t.code, True)),
                Choice(messages.BTN_REFUSE_TAKEOVER, DecideTakeover(t.code, False))]]
    for staff in t.staff:
        await turn.notify(staff, card, choices)


@on(DecideTakeover)
async def takeover_decided(turn: Turn, button: DecideTakeover) -> None:
    decision = await invites.decide(turn.services.sessions, button.code, button.confirm, turn.person_id)
    await turn.answer()
    verdict = messages.TAKEOVER_CONFIRMED if decision.confirmed else messages.TAKEOVER_REFUSED
    await turn.edit(turn.pressed_text + "\n\n" + verdict)
    if decision.first:
        await turn.notify(decision.takeover.newcomer_id, decision.to_newcomer)
        await turn.notify(decision.takeover.current_id, decision.to_current)


@command("help")
async def help_command(turn: Turn) -> None:
    await turn.say(messages.HELP)


@command("region")
async def region_command(turn: Turn) -> None:
    await turn.say(messages.ASK_REGION, city_keyboard(_pick_city))


@on(ProfileRegion)
async def region_pressed(turn: Turn, button: ProfileRegion) -> None:
    action, code = button.action, button.code
    if action == "back":
        await turn.answer()
        await turn.edit(messages.ASK_REGION, city_keyboard(_pick_city))
    elif action == "city" and is_city(code):
        await turn.answer()
        city = regions.get(code)
        await turn.edit(messages.ASK_COUNTY.format(city=city.name),
                        county_keyboard(code, lambda county: ProfileRegion("set", county), ProfileRegion("back")))
    elif action == "set" and regions.get(code) is not None:
        await turn.services.people.set_region(turn.person_id, code)
        await turn.answer()
        await turn.edit(messages.REGION_SAVED.format(region=regions.full_name(code)))
    else:
        await turn.tell(messages.STALE_BUTTON)
