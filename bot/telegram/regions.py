"""Region pickers: 市州 first, then its 县市区, as inline keyboards."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import messages
from bot.telegram.common import rows
from intents import regions


def city_keyboard(data: str, extra: list[list[InlineKeyboardButton]] | None = None) -> InlineKeyboardMarkup:
    """`data` is a format string with one `{code}` slot for the chosen city."""
    buttons = [InlineKeyboardButton(c.name, callback_data=data.format(code=c.code)) for c in regions.cities()]
    return InlineKeyboardMarkup(rows(buttons, 3) + (extra or []))


def county_keyboard(city_code: str, data: str, back: str) -> InlineKeyboardMarkup:
    city = regions.get(city_code)
    buttons = [InlineKeyboardButton(c.name, callback_data=data.format(code=c.code)) for c in regions.counties(city_code)]
    whole = InlineKeyboardButton(messages.BTN_WHOLE_CITY.format(city=city.name), callback_data=data.format(code=city_code))
    return InlineKeyboardMarkup(rows(buttons, 3) + [[whole], [InlineKeyboardButton(messages.BTN_BACK, callback_data=back)]])


def is_city(code: str) -> bool:
    region = regions.get(code)
    return region is not None and region.level == "city"
