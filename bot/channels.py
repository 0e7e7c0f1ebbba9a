"""The chat channels people reach jiceng on, as the core sees them.

The core (`bot/services`, `storage`, `intents`) never names a channel: a person's accounts are
stored as (channel, external id) and every outbox row names its channel, by the names here.
A channel's own package (`bot/telegram`) turns its updates into service calls and delivers the
outbox rows addressed to it. Adding a channel adds an entry here (see docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    name: str        # stored in channel_accounts.channel and outbox.channel
    label: str       # what people call it ("Telegram")
    max_text: int    # the longest text one message carries; longer texts become several


TELEGRAM = Channel("telegram", "Telegram", 4096)
WEB = Channel("web", "网页", 4096)            # the H5 web chat (bot/web); accounts are phone numbers
WECHAT = Channel("wechat", "微信", 600)       # the Official Account (bot/wechat): 客服消息 text ≤ 2,048 bytes
MEMORY = Channel("memory", "测试通道", 4096)  # the in-memory channel of the tests

CHANNELS = {c.name: c for c in (TELEGRAM, WEB, WECHAT, MEMORY)}

# The channel whose account ids staff's spreadsheets carry (the directory's and the attendance
# sheet's id column): staff copy them from the chat app, so it is the first channel's.
SHEET_ACCOUNTS = TELEGRAM
ID_COLUMN = f"{SHEET_ACCOUNTS.label}ID"
