"""`jiceng run` as a real process, so tests can stop it with SIGTERM or kill it with SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile

from bot.standin import BotApiStandIn


class BotProcess:
    def __init__(self, api: BotApiStandIn, db_url: str, *args: str, **env: str) -> None:
        self.api = api
        self.db_url = db_url
        self.args = args  # e.g. --webhook URL --secret-token S --listen 127.0.0.1:PORT
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        # Its log goes to a file: a pipe nobody reads while it runs fills up (64 KiB) and
        # blocks the bot on its next log line.
        self.log_path = os.path.join(tempfile.mkdtemp(prefix="jiceng-bot-"), "stderr.log")

    async def start(self) -> None:
        environment = {
            **os.environ, "JICENG_DATABASE_URL": self.db_url, "TELEGRAM_BOT_TOKEN": self.api.token,
            "TELEGRAM_API_URL": f"{self.api.url}/bot",
            # Tests play one user faster than people type; flood control has tests of its own.
            "JICENG_FLOOD_BURST": "1000", "JICENG_FLOOD_PER_MINUTE": "6000", "JICENG_HEALTH_PORT": "0",
            **self.env,
        }
        with open(self.log_path, "ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", *self.args, env=environment,
                stdout=asyncio.subprocess.DEVNULL, stderr=log,
            )
        ready = "setWebhook" if "--webhook" in self.args else "getUpdates"
        polls = len(self.api.calls_of(ready))
        for _ in range(600):  # up to 60 s for imports, jieba and the first poll (or the webhook set)
            if len(self.api.calls_of(ready)) > polls:
                return
            if self.process.returncode is not None:
                raise AssertionError(self.logged())
            await asyncio.sleep(0.1)
        raise AssertionError("jiceng run never polled")

    def logged(self) -> str:
        with open(self.log_path, "rb") as log:
            return log.read().decode(errors="replace")

    async def kill(self) -> None:
        self.process.kill()
        await self.process.wait()

    async def terminate(self, timeout: float = 20) -> str:
        self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), timeout)
        assert self.process.returncode == 0, self.logged()
        return self.logged()
