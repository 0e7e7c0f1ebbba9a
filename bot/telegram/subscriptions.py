"""/subscribe and /unsubscribe: training notices by field and region with buttons; and the
offer to subscribe after a farmer's first demand."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, filters

from bot import messages
from bot.buttons import SubscriptionStep
from bot.services.intake import Submission
from bot.services.notices import ALL_FIELDS, valid_subscription
from bot.telegram.common import edit, guarded, key, me, notify, rows, send, tell
from bot.telegram.context import JicengContext
from bot.telegram.presses import on
from bot.telegram.regions import city_keyboard, county_keyboard, is_city
from intents import regions, taxonomy


def _step(action, a: str = "", b: str = "") -> SubscriptionStep:
    return SubscriptionStep(action, a, b)


def field_keyboard() -> InlineKeyboardMarkup:
    buttons = [key(taxonomy.field_name(code), _step("f", code)) for code in taxonomy.field_codes()]
    everything = key(messages.BTN_ALL_FIELDS, _step("f", ALL_FIELDS))
    return InlineKeyboardMarkup(rows(buttons, 2) + [[everything]])


def _valid_field(code: str) -> bool:
    return code == ALL_FIELDS or taxonomy.is_field(code)


@guarded
async def subscribe_command(update: Update, context: JicengContext) -> None:
    await send(context, update.effective_chat.id, messages.SUBSCRIBE_FIELD, field_keyboard())


async def _unsubscribe_view(context: JicengContext, person_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    listed = await context.services.subscriptions.list(person_id)
    if not listed:
        return messages.UNSUBSCRIBE_NONE, None
    lines = "\n".join(f"• {s.label}" for s in listed)
    buttons = [[key(messages.BTN_UNSUBSCRIBE_ONE.format(label=s.label), _step("u", str(s.id)))]
               for s in listed]
    buttons.append([key(messages.BTN_UNSUBSCRIBE_ALL, _step("u", "all"))])
    return messages.UNSUBSCRIBE_PICK.format(lines=lines), InlineKeyboardMarkup(buttons)


@guarded
async def unsubscribe_command(update: Update, context: JicengContext) -> None:
    text, markup = await _unsubscribe_view(context, await me(update, context))
    await send(context, update.effective_chat.id, text, markup)


@on(SubscriptionStep)
async def subscription_pressed(update: Update, context: JicengContext, button: SubscriptionStep) -> None:
    query = update.callback_query
    person = await me(update, context)
    action, a, b = button.action, button.a, button.b
    subscriptions = context.services.subscriptions
    if action == "f" and _valid_field(a):
        await query.answer()
        whole = [[key(messages.BTN_WHOLE_PROVINCE, _step("s", a, regions.PROVINCE_CODE))],
                 [key(messages.BTN_BACK, _step("home"))]]
        await edit(query.message, messages.SUBSCRIBE_CITY.format(field=messages.subscription_field_label(a)),
                   city_keyboard(lambda code: _step("c", a, code), whole))
    elif action == "home":
        await query.answer()
        await edit(query.message, messages.SUBSCRIBE_FIELD, field_keyboard())
    elif action == "c" and _valid_field(a) and is_city(b):
        await query.answer()
        await edit(query.message, messages.SUBSCRIBE_COUNTY.format(city=regions.get(b).name),
                   county_keyboard(b, lambda code: _step("s", a, code), _step("f", a)))
    elif action in ("s", "o") and valid_subscription(a, b):
        view = await subscriptions.subscribe(person, a, b)
        await query.answer()
        await edit(query.message, messages.SUBSCRIBED.format(label=view.label))
    elif action == "n":
        await query.answer()
        await edit(query.message, messages.SUBSCRIBE_DECLINED)
    elif action == "u" and (a == "all" or a.isdigit()):
        gone = await subscriptions.unsubscribe(person, None if a == "all" else int(a))
        await query.answer()
        if a == "all":
            await edit(query.message, messages.UNSUBSCRIBED_ALL)
            return
        text, markup = await _unsubscribe_view(context, person)
        done = messages.UNSUBSCRIBED_ONE.format(label=gone[0].label) if gone else messages.STALE_BUTTON
        await edit(query.message, done + ("\n\n" + text if markup else ""), markup)
    else:
        await tell(update, context, messages.STALE_BUTTON)


async def offer_after_first_demand(context: JicengContext, submission: Submission) -> None:
    """订阅 / 不用了 for the field and region of a farmer's first demand, if they have no subscription."""
    farmer = submission.submitter
    if not await context.services.subscriptions.should_offer(farmer.id):
        return
    demand = submission.demand
    field_code = demand.field if taxonomy.is_field(demand.field) else ALL_FIELDS
    region = demand.region_code or farmer.region_code or regions.PROVINCE_CODE
    if regions.get(region) is None:
        region = regions.PROVINCE_CODE
    text = messages.SUBSCRIBE_OFFER.format(field=messages.subscription_field_label(field_code),
                                           region=regions.full_name(region))
    markup = InlineKeyboardMarkup([[key(messages.BTN_SUBSCRIBE, _step("o", field_code, region)),
                                    key(messages.BTN_NO_THANKS, _step("n"))]])
    await notify(context, farmer.id, text, markup)


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("subscribe", subscribe_command, filters=private))
    application.add_handler(CommandHandler("unsubscribe", unsubscribe_command, filters=private))
