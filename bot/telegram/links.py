"""Telegram deep links: an invite opens the bot with its code as the /start parameter."""

from __future__ import annotations

from bot.services.invites import valid_code as valid_invite_code


def invite_link(bot_username: str, code: str) -> str:
    if not valid_invite_code(code):
        raise ValueError(f"not a deep-link payload: {code!r}")
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}"
