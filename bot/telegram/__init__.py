"""The Telegram channel: each feature module declares its button handlers (`presses.on`) and,
if it has commands or message handlers, exposes `register(application)`."""

from __future__ import annotations

from telegram.ext import Application


def register_all(application: Application) -> None:
    from bot.telegram import (  # noqa: F401 - dispatch, expert, feedback, intake: button handlers only
        conversation,
        dispatch,
        expert,
        farmer,
        feedback,
        guards,
        hours,
        intake,
        join,
        leader,
        notices,
        presses,
        services_list,
        signups,
        staff,
        start,
        subscriptions,
    )

    guards.register_before(application)
    for feature in (start, join, leader, staff, hours, signups, subscriptions, notices, farmer, services_list,
                    conversation, presses):
        feature.register(application)
    guards.register_fallbacks(application)
