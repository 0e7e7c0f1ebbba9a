"""The Telegram channel: each feature module exposes `register(application)`."""

from __future__ import annotations

from telegram.ext import Application


def register_all(application: Application) -> None:
    from bot.telegram import farmer, guards, intake, join, leader, start

    guards.register_before(application)
    for feature in (start, join, leader, farmer, intake):
        feature.register(application)
    guards.register_fallbacks(application)
