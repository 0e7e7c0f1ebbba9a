"""Run the Bot API stand-in on its own: ``python -m bot.standin --port 8081``.

Point a bot at the printed URL and play the user through the /standin/ routes
(see ``bot.standin.control``).
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from bot.standin.server import DEFAULT_TOKEN, BotApiStandIn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--bot-username", default="jiceng_test_bot")
    parser.add_argument("--rate-limit-global", type=float, default=None,
                        help="answer 429 above this many messages a second overall (Telegram: 30)")
    parser.add_argument("--rate-limit-per-chat", type=float, default=None,
                        help="answer 429 above this many messages a second to one chat (Telegram: 1)")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, args.token, args.bot_username,
                      args.rate_limit_global, args.rate_limit_per_chat))


async def serve(host: str, port: int, token: str, bot_username: str,
                rate_limit_global: float | None = None, rate_limit_per_chat: float | None = None) -> None:
    api = BotApiStandIn(token=token, bot_username=bot_username, rate_limit_global=rate_limit_global,
                        rate_limit_per_chat=rate_limit_per_chat)
    await api.start(host, port)
    print(f"Bot API stand-in at {api.url}", flush=True)
    print(f"  base_url={api.url}/bot  base_file_url={api.url}/file/bot", flush=True)
    stopped = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stopped.set)
    try:
        await stopped.wait()
    finally:
        await api.stop()


if __name__ == "__main__":
    main()
