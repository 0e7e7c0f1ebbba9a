"""What a delivered or undeliverable outbox row sets off, by its purpose (see
`bot.services.sender.Effects`): the same on every channel."""

from __future__ import annotations

from functools import partial

from bot.services.dispatch import ASSIGNMENT_PURPOSE, expert_unreachable
from bot.services.expert import RELAY_PURPOSE, relay_sent
from bot.services.intake import NEW_DEMAND_PURPOSE, leader_unreachable
from bot.services.notices import PROGRESS_PURPOSE, progress_message_sent
from bot.services.outbox import Outbox
from bot.services.sender import Effects


def effects(outbox: Outbox) -> Effects:
    return Effects(
        on_sent={RELAY_PURPOSE: relay_sent, PROGRESS_PURPOSE: progress_message_sent},
        on_failed={NEW_DEMAND_PURPOSE: partial(leader_unreachable, outbox),
                   ASSIGNMENT_PURPOSE: partial(expert_unreachable, outbox)},
    )
