"""Settings, read once at start from the environment (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from storage.db import DEFAULT_URL

DEFAULT_API_URL = "https://api.telegram.org/bot"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_URL
    bot_token: str = ""
    api_url: str = DEFAULT_API_URL
    file_api_url: str | None = None
    bot_username: str | None = None
    poll_timeout: int = 10
    calendar_path: str | None = None  # working days: holidays and 调休 (default: the bundled calendar)
    accept_working_days: int = 1      # 接单 within this many working days
    answer_working_days: int = 3      # first answer within this many working days of 接单
    urgent_hours: float = 4           # both, for urgent demands (大面积死亡, 暴发 …)
    quiet_hours: str = "22:00-07:00"  # China time; non-urgent reminders wait until it ends

    @property
    def effective_file_api_url(self) -> str:
        """File downloads live beside the methods: .../bot -> .../file/bot, unless set."""
        if self.file_api_url:
            return self.file_api_url
        base = self.api_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("bot")] + "file/bot"
        return base + "/file/bot"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("JICENG_DATABASE_URL") or DEFAULT_URL,
            bot_token=env.get("TELEGRAM_BOT_TOKEN", ""),
            api_url=env.get("TELEGRAM_API_URL") or DEFAULT_API_URL,
            file_api_url=env.get("TELEGRAM_FILE_API_URL") or None,
            bot_username=env.get("JICENG_BOT_USERNAME") or None,
            calendar_path=env.get("JICENG_CALENDAR") or None,
            accept_working_days=int(env.get("JICENG_ACCEPT_WORKING_DAYS") or 1),
            answer_working_days=int(env.get("JICENG_ANSWER_WORKING_DAYS") or 3),
            urgent_hours=float(env.get("JICENG_URGENT_HOURS") or 4),
            quiet_hours=env.get("JICENG_QUIET_HOURS") or "22:00-07:00",
        )

    def deadline_policy(self):
        from datetime import time

        from bot.services.calendar import QuietHours
        from bot.services.deadlines import DeadlinePolicy

        start, end = (time.fromisoformat(part.strip()) for part in self.quiet_hours.split("-"))
        return DeadlinePolicy(accept_working_days=self.accept_working_days,
                              answer_working_days=self.answer_working_days,
                              urgent_hours=self.urgent_hours, quiet=QuietHours(start, end))
