"""/subscribe and /unsubscribe: training notices by field and region with buttons; and the
offer to subscribe after a farmer's first demand."""

from __future__ import annotations

from bot import messages
from bot.buttons import SubscriptionStep
from bot.chat.commands import command
from bot.chat.presses import on
from bot.chat.regions import city_keyboard, county_keyboard, is_city
from bot.chat.turn import Choice, Choices, Turn, rows
from bot.services.intake import Submission
from bot.services.notices import ALL_FIELDS, valid_subscription
from intents import regions, taxonomy


def _step(action, a: str = "", b: str = "") -> SubscriptionStep:
    return SubscriptionStep(action, a, b)


def field_keyboard() -> Choices:
    buttons = [Choice(taxonomy.field_name(code), _step("f", code)) for code in taxonomy.field_codes()]
    everything = Choice(messages.BTN_ALL_FIELDS, _step("f", ALL_FIELDS))
    return rows(buttons, 2) + [[everything]]


def _valid_field(code: str) -> bool:
    return code == ALL_FIELDS or taxonomy.is_field(code)


@command("subscribe")
async def subscribe_command(turn: Turn) -> None:
    await turn.say(messages.SUBSCRIBE_FIELD, field_keyboard())


async def _unsubscribe_view(turn: Turn, person_id: int) -> tuple[str, Choices]:
    listed = await turn.services.subscriptions.list(person_id)
    if not listed:
        return messages.UNSUBSCRIBE_NONE, []
    lines = "\n".join(f"• {s.label}" for s in listed)
    buttons = [[Choice(messages.BTN_UNSUBSCRIBE_ONE.format(label=s.label), _step("u", str(s.id)))]
               for s in listed]
    buttons.append([Choice(messages.BTN_UNSUBSCRIBE_ALL, _step("u", "all"))])
    return messages.UNSUBSCRIBE_PICK.format(lines=lines), buttons


@command("unsubscribe")
async def unsubscribe_command(turn: Turn) -> None:
    text, markup = await _unsubscribe_view(turn, turn.person_id)
    await turn.say(text, markup)


@on(SubscriptionStep)
async def subscription_pressed(turn: Turn, button: SubscriptionStep) -> None:
    person = turn.person_id
    action, a, b = button.action, button.a, button.b
    subscriptions = turn.services.subscriptions
    if action == "f" and _valid_field(a):
        await turn.answer()
        whole = [[Choice(messages.BTN_WHOLE_PROVINCE, _step("s", a, regions.PROVINCE_CODE))],
                 [Choice(messages.BTN_BACK, _step("home"))]]
        await turn.edit(messages.SUBSCRIBE_CITY.format(field=messages.subscription_field_label(a)),
                   city_keyboard(lambda code: _step("c", a, code), whole))
    elif action == "home":
        await turn.answer()
        await turn.edit(messages.SUBSCRIBE_FIELD, field_keyboard())
    elif action == "c" and _valid_field(a) and is_city(b):
        await turn.answer()
        await turn.edit(messages.SUBSCRIBE_COUNTY.format(city=regions.get(b).name),
                   county_keyboard(b, lambda code: _step("s", a, code), _step("f", a)))
    elif action in ("s", "o") and valid_subscription(a, b):
        view = await subscriptions.subscribe(person, a, b)
        await turn.answer()
        await turn.edit(messages.SUBSCRIBED.format(label=view.label))
    elif action == "n":
        await turn.answer()
        await turn.edit(messages.SUBSCRIBE_DECLINED)
    elif action == "u" and (a == "all" or a.isdigit()):
        gone = await subscriptions.unsubscribe(person, None if a == "all" else int(a))
        await turn.answer()
        if a == "all":
            await turn.edit(messages.UNSUBSCRIBED_ALL)
            return
        text, markup = await _unsubscribe_view(turn, person)
        done = messages.UNSUBSCRIBED_ONE.format(label=gone[0].label) if gone else messages.STALE_BUTTON
        await turn.edit(done + ("\n\n" + text if markup else ""), markup)
    else:
        await turn.tell(messages.STALE_BUTTON)


async def offer_after_first_demand(turn: Turn, submission: Submission) -> None:
    """订阅 / 不用了 for the field and region of a farmer's first demand, if they have no subscription."""
    farmer = submission.submitter
    if not await turn.services.subscriptions.should_offer(farmer.id):
        return
    demand = submission.demand
    field_code = demand.field if taxonomy.is_field(demand.field) else ALL_FIELDS
    region = demand.region_code or farmer.region_code or regions.PROVINCE_CODE
    if regions.get(region) is None:
        region = regions.PROVINCE_CODE
    text = messages.SUBSCRIBE_OFFER.format(field=messages.subscription_field_label(field_code),
                                           region=regions.full_name(region))
    markup = [[Choice(messages.BTN_SUBSCRIBE, _step("o", field_code, region)),
                                    Choice(messages.BTN_NO_THANKS, _step("n"))]]
    await turn.notify(farmer.id, text, markup)
