"""The baseline for `bench.inbound`: the plainest python-telegram-bot echo bot.

`python -m bench.echo_bot` with TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL (the Bot API
base URL, token appended, e.g. http://127.0.0.1:8081/bot) in the environment. It
replies to every text with the same text, with PTB's defaults (one update at a time,
no rate limiter), so it shows what the library alone does with a burst.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(update.message.text)


def main() -> None:
    app = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_URL"])
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling()


if __name__ == "__main__":
    main()
