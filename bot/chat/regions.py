"""Region pickers: 市州 first, then its 县市区, as rows of choices."""

from __future__ import annotations

from collections.abc import Callable

from bot import messages
from bot.buttons import Button
from bot.chat.turn import Choice, rows
from intents import regions


def city_keyboard(choose: Callable[[str], Button],
                  extra: list[list[Choice]] | None = None) -> list[list[Choice]]:
    """`choose(code)` is the button that picks the city with that code."""
    buttons = [Choice(c.name, choose(c.code)) for c in regions.cities()]
    return rows(buttons, 3) + (extra or [])


def county_keyboard(city_code: str, choose: Callable[[str], Button], back: Button) -> list[list[Choice]]:
    city = regions.get(city_code)
    buttons = [Choice(c.name, choose(c.code)) for c in regions.counties(city_code)]
    whole = Choice(messages.BTN_WHOLE_CITY.format(city=city.name), choose(city_code))
    return rows(buttons, 3) + [[whole], [Choice(messages.BTN_BACK, back)]]


def is_city(code: str) -> bool:
    region = regions.get(code)
    return region is not None and region.level == "city"
