"""/start (with invite deep links), /help, and the home-region picker (/region)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot import messages
from bot.buttons import ProfileRegion
from bot.errors import Conflict, NotFound
from bot.services import directory
from bot.services.people import EXPERT, LEADER, STAFF
from bot.telegram.common import display_name, edit, guarded, me, send, tell
from bot.telegram.context import JicengContext
from bot.telegram.presses import on
from bot.telegram.regions import city_keyboard, county_keyboard, is_city
from intents import regions


def _pick_city(code: str) -> ProfileRegion:
    return ProfileRegion("city", code)


@guarded
async def start(update: Update, context: JicengContext) -> None:
    user, chat = update.effective_user, update.effective_chat
    services = context.services
    person_id = await me(update, context)
    if context.args:
        try:
            joined = await directory.redeem_invite(services.sessions, context.args[0], person_id)
        except (NotFound, Conflict):
            await send(context, chat.id, messages.INVITE_BAD)
        else:
            await send(context, chat.id, joined.message)
    person = await services.people.get(person_id)
    lines = [messages.WELCOME.format(name=display_name(user) or "朋友")]
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
        await send(context, chat.id, "\n\n".join(lines))
        await send(context, chat.id, messages.ASK_REGION, city_keyboard(_pick_city))
    else:
        lines.append(f"您的地区：{regions.full_name(person.region_code)}（/region 可修改）")
        await send(context, chat.id, "\n\n".join(lines))


@guarded
async def help_command(update: Update, context: JicengContext) -> None:
    await send(context, update.effective_chat.id, messages.HELP)


@guarded
async def region_command(update: Update, context: JicengContext) -> None:
    await send(context, update.effective_chat.id, messages.ASK_REGION, city_keyboard(_pick_city))


@on(ProfileRegion)
async def region_pressed(update: Update, context: JicengContext, button: ProfileRegion) -> None:
    query, action, code = update.callback_query, button.action, button.code
    if action == "back":
        await query.answer()
        await edit(query.message, messages.ASK_REGION, city_keyboard(_pick_city))
    elif action == "city" and is_city(code):
        await query.answer()
        city = regions.get(code)
        await edit(query.message, messages.ASK_COUNTY.format(city=city.name),
                   county_keyboard(code, lambda county: ProfileRegion("set", county), ProfileRegion("back")))
    elif action == "set" and regions.get(code) is not None:
        await context.services.people.set_region(await me(update, context), code)
        await query.answer()
        await edit(query.message, messages.REGION_SAVED.format(region=regions.full_name(code)))
    else:
        await tell(update, context, messages.STALE_BUTTON)


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", start, filters=private))
    application.add_handler(CommandHandler("help", help_command, filters=private))
    application.add_handler(CommandHandler("region", region_command, filters=private))
