"""The conversation, channel-neutral: each feature's commands, button handlers and message
steps, written against `bot.chat.turn.Turn`. A channel (a chat app's adapter, the in-memory channel of
the tests) turns what a person did into a turn and calls `commands`, `presses` or `on_message`."""

from bot.chat import (
    conversation,
    dispatch,
    expert,
    farmer,
    feedback,
    hours,
    intake,
    leader,
    notices,
    services_list,
    signups,
    staff,
    start,
    subscriptions,
)

# Importing a feature declares its commands and button handlers.
FEATURES = (start, leader, dispatch, expert, feedback, staff, hours, signups, subscriptions, notices, farmer,
            services_list, intake, conversation)
