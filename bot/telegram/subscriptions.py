"""/subscribe and /unsubscribe: training notices by field and region with buttons; and the
offer to subscribe after a farmer's first demand."""

from __future__ import annotations

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import messages
from bot.services.intake import Submission
from bot.services.notices import ALL_FIELDS, valid_subscription
from bot.telegram.common import callback_parts, edit, guarded, int_or_none, me, notify, rows, send, tell
from bot.telegram.context import JicengContext
from bot.telegram.regions import city_keyboard, county_keyboard, is_city
from intents import regions, taxonomy

# Callback data "sb:<action>:<a>:<b>": f field chosen, c city chosen, s subscribe,
# o the offer accepted, n the offer declined, u unsubscribe one (or "all").


def _data(action: str, a: str = "-", b: str = "-") -> str:
    return f"sb:{action}:{a}:{b}"


def field_keyboard() -> InlineKeyboardMarkup:
    buttons = [Button(taxonomy.field_name(code), callback_data=_data("f", code)) for code in taxonomy.field_codes()]
    everything = Button(messages.BTN_ALL_FIELDS, callback_data=_data("f", ALL_FIELDS))
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
    buttons = [[Button(messages.BTN_UNSUBSCRIBE_ONE.format(label=s.label), callback_data=_data("u", str(s.id)))]
               for s in listed]
    buttons.append([Button(messages.BTN_UNSUBSCRIBE_ALL, callback_data=_data("u", "all"))])
    return messages.UNSUBSCRIBE_PICK.format(lines=lines), InlineKeyboardMarkup(buttons)


@guarded
async def unsubscribe_command(update: Update, context: JicengContext) -> None:
    text, markup = await _unsubscribe_view(context, await me(update, context))
    await send(context, update.effective_chat.id, text, markup)


@guarded
async def subscription_button(update: Update, context: JicengContext) -> None:
    query = update.callback_query
    person = await me(update, context)
    parts = callback_parts(update, 4)
    if parts is None:
        await tell(update, context, messages.STALE_BUTTON)
        return
    action, a, b = parts[1], parts[2], parts[3]
    subscriptions = context.services.subscriptions
    if action == "f" and _valid_field(a):
        await query.answer()
        whole = [[Button(messages.BTN_WHOLE_PROVINCE, callback_data=_data("s", a, regions.PROVINCE_CODE))],
                 [Button(messages.BTN_BACK, callback_data=_data("home"))]]
        await edit(query.message, messages.SUBSCRIBE_CITY.format(field=messages.subscription_field_label(a)),
                   city_keyboard(_data("c", a, "{code}"), whole))
    elif action == "home":
        await query.answer()
        await edit(query.message, messages.SUBSCRIBE_FIELD, field_keyboard())
    elif action == "c" and _valid_field(a) and is_city(b):
        await query.answer()
        await edit(query.message, messages.SUBSCRIBE_COUNTY.format(city=regions.get(b).name),
                   county_keyboard(b, _data("s", a, "{code}"), _data("f", a)))
    elif action in ("s", "o") and valid_subscription(a, b):
        view = await subscriptions.subscribe(person, a, b)
        await query.answer()
        await edit(query.message, messages.SUBSCRIBED.format(label=view.label))
    elif action == "n":
        await query.answer()
        await edit(query.message, messages.SUBSCRIBE_DECLINED)
    elif action == "u" and (a == "all" or int_or_none(a) is not None):
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
    markup = InlineKeyboardMarkup([[Button(messages.BTN_SUBSCRIBE, callback_data=_data("o", field_code, region)),
                                    Button(messages.BTN_NO_THANKS, callback_data=_data("n"))]])
    await notify(context, farmer.id, text, markup)


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("subscribe", subscribe_command, filters=private))
    application.add_handler(CommandHandler("unsubscribe", unsubscribe_command, filters=private))
    application.add_handler(CallbackQueryHandler(subscription_button, pattern=r"^sb:"))
