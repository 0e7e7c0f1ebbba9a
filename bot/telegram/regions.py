"""Region pickers: 市州 first, then its 县市区, as inline keyboards."""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import messages
from bot.buttons import Button
from bot.telegram.common import key, rows
from intents import regions


def city_keyboard(choose: Callable[[str], Button],
                  extra: list[list[InlineKeyboardButton]] | None = None) -> InlineKeyboardMarkup:
    """`choose(code)` is the button that picks the city with that code."""
    buttons = [key(c.name, choose(c.code)) for c in regions.cities()]
    return InlineKeyboardMarkup(rows(buttons, 3) + (extra or []))


def county_keyboard(city_code: str, choose: Callable[[str], Button], back: Button) -> InlineKeyboardMarkup:
    city = regions.get(city_code)
    buttons = [key(c.name, choose(c.code)) for c in regions.counties(city_code)]
    whole = key(messages.BTN_WHOLE_CITY.format(city=city.name), choose(city_code))
    return InlineKeyboardMarkup(rows(buttons, 3) + [[whole], [key(messages.BTN_BACK, back)]])


def is_city(code: str) -> bool:
    region = regions.get(code)
    return region is not None and region.level == "city"
