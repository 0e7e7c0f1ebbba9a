"""The Telegram channel: each feature module declares its button handlers (`presses.on`) and,
if it has commands or message handlers, exposes `register(application)`."""

from __future__ import annotations

from telegram.ext import Application


def register_all(application: Application) -> None:
    from bot.telegram import (
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
    # Imported for their button handlers only: dispatch, expert, feedback, intake.
    assert dispatch and expert and feedback and intake
    for feature in (start, join, leader, staff, hours, signups, subscriptions, notices, farmer, services_list,
                    conversation, presses):
        feature.register(application)
    guards.register_fallbacks(application)
