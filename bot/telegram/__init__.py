"""The Telegram channel: each feature module exposes `register(application)`."""

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
        services_list,
        signups,
        staff,
        start,
        subscriptions,
    )

    guards.register_before(application)
    for feature in (start, join, leader, dispatch, expert, feedback, staff, hours, signups, subscriptions, notices,
                    farmer, services_list, intake, conversation):
        feature.register(application)
    guards.register_fallbacks(application)
