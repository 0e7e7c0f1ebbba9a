"""Settings, read once at start from the environment (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from storage.db import BUSY_TIMEOUT_MS, DEFAULT_URL

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_HEALTH_PORT = 8321


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_URL
    busy_timeout_ms: int = BUSY_TIMEOUT_MS  # SQLite: how long a writer waits for the lock
    sqlite_connections: int = 1             # SQLite: connections the bot holds (see storage.db)
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
    # Taking updates in (see bot/telegram/inbound.py) and sending (bot/telegram/pacing.py).
    concurrency: int = 32             # updates handled at once (different chats)
    max_pending: int = 5000           # updates held in memory before fetching waits
    poison_attempts: int = 3          # a non-transient failure this many times sets the update aside
    farmer_burst: int = 30            # flood control: messages at once ...
    farmer_per_minute: int = 30       # ... and a minute after that
    staff_burst: int = 60             # staff, team leaders and experts
    staff_per_minute: int = 120
    flood_cooldown: int = 20          # seconds someone over the limit waits
    send_pacing: str = "always"       # always | off (a local server without limits)
    send_per_second: float = 30.0     # Telegram: about 30 messages a second overall (kept as 30 in any 1.03 s)
    chat_interval: float = 1.0        # Telegram: about one message a second in one chat
    health_host: str = "127.0.0.1"
    health_port: int | None = None    # /healthz and /metrics; None or 0: no health server
    keep_updates_days: float = 3      # retention (bot.services.retention): handled updates,
    keep_drafts_days: float = 7       # unsubmitted drafts with their photos and voice notes,
    keep_outbox_days: float = 30      # and delivered messages
    # The web chat (bot/web): `jiceng web`.
    media_dir: str = "./media"        # photos and voice notes people send from the web (and WeChat)
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    console_url: str = "http://127.0.0.1:8080/console"  # as staff reach it (behind the reverse proxy)
    web_secret: str = ""              # the session cookies' key; empty: one made and kept in the database
    web_secure_cookie: bool = False   # set behind HTTPS
    web_trust_proxy: bool = False     # behind a reverse proxy: read the client's address from its headers
    sms: str = "console"              # console (prints the code) | aliyun
    sms_demo_code: str | None = None  # console only: every code is this (the demo prints it)
    aliyun_access_key_id: str = ""
    aliyun_access_key_secret: str = ""
    aliyun_sms_sign: str = ""
    aliyun_sms_template: str = ""
    # The WeChat Official Account (bot/wechat), served by `jiceng web` at /wechat when configured.
    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_token: str = ""
    wechat_aes_key: str = ""          # EncodingAESKey: 安全模式 (recommended); empty: 明文模式
    wechat_api_url: str = "https://api.weixin.qq.com"
    wechat_template_id: str = ""      # a template with a `thing1` field: "something waits for you"

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
            busy_timeout_ms=int(env.get("JICENG_BUSY_TIMEOUT_MS") or BUSY_TIMEOUT_MS),
            sqlite_connections=int(env.get("JICENG_SQLITE_CONNECTIONS") or 1),
            bot_token=env.get("TELEGRAM_BOT_TOKEN", ""),
            api_url=env.get("TELEGRAM_API_URL") or DEFAULT_API_URL,
            file_api_url=env.get("TELEGRAM_FILE_API_URL") or None,
            bot_username=env.get("JICENG_BOT_USERNAME") or None,
            calendar_path=env.get("JICENG_CALENDAR") or None,
            accept_working_days=int(env.get("JICENG_ACCEPT_WORKING_DAYS") or 1),
            answer_working_days=int(env.get("JICENG_ANSWER_WORKING_DAYS") or 3),
            urgent_hours=float(env.get("JICENG_URGENT_HOURS") or 4),
            quiet_hours=env.get("JICENG_QUIET_HOURS") or "22:00-07:00",
            concurrency=int(env.get("JICENG_CONCURRENCY") or 32),
            max_pending=int(env.get("JICENG_MAX_PENDING") or 5000),
            poison_attempts=int(env.get("JICENG_POISON_ATTEMPTS") or 3),
            farmer_burst=int(env.get("JICENG_FLOOD_BURST") or 30),
            farmer_per_minute=int(env.get("JICENG_FLOOD_PER_MINUTE") or 30),
            staff_burst=int(env.get("JICENG_FLOOD_STAFF_BURST") or 60),
            staff_per_minute=int(env.get("JICENG_FLOOD_STAFF_PER_MINUTE") or 120),
            flood_cooldown=int(env.get("JICENG_FLOOD_COOLDOWN") or 20),
            send_pacing=env.get("JICENG_SEND_PACING") or "always",
            send_per_second=float(env.get("JICENG_SEND_PER_SECOND") or 30),
            chat_interval=float(env.get("JICENG_CHAT_INTERVAL") or 1),
            health_host=env.get("JICENG_HEALTH_HOST") or "127.0.0.1",
            health_port=int(env.get("JICENG_HEALTH_PORT") or DEFAULT_HEALTH_PORT),
            keep_updates_days=float(env.get("JICENG_KEEP_UPDATES_DAYS") or 3),
            keep_drafts_days=float(env.get("JICENG_KEEP_DRAFTS_DAYS") or 7),
            keep_outbox_days=float(env.get("JICENG_KEEP_OUTBOX_DAYS") or 30),
            media_dir=env.get("JICENG_MEDIA_DIR") or "./media",
            web_host=env.get("JICENG_WEB_HOST") or "127.0.0.1",
            web_port=int(env.get("JICENG_WEB_PORT") or 8080),
            web_secret=env.get("JICENG_WEB_SECRET") or "",
            console_url=env.get("JICENG_CONSOLE_URL") or "http://127.0.0.1:8080/console",
            web_secure_cookie=(env.get("JICENG_WEB_SECURE_COOKIE") or "") in ("1", "true", "yes"),
            web_trust_proxy=(env.get("JICENG_WEB_TRUST_PROXY") or "") in ("1", "true", "yes"),
            sms=env.get("JICENG_SMS") or "console",
            sms_demo_code=env.get("JICENG_SMS_DEMO_CODE") or None,
            aliyun_access_key_id=env.get("JICENG_ALIYUN_ACCESS_KEY_ID") or "",
            aliyun_access_key_secret=env.get("JICENG_ALIYUN_ACCESS_KEY_SECRET") or "",
            aliyun_sms_sign=env.get("JICENG_ALIYUN_SMS_SIGN") or "",
            aliyun_sms_template=env.get("JICENG_ALIYUN_SMS_TEMPLATE") or "",
            wechat_appid=env.get("JICENG_WECHAT_APPID") or "",
            wechat_secret=env.get("JICENG_WECHAT_SECRET") or "",
            wechat_token=env.get("JICENG_WECHAT_TOKEN") or "",
            wechat_aes_key=env.get("JICENG_WECHAT_AES_KEY") or "",
            wechat_api_url=env.get("JICENG_WECHAT_API_URL") or "https://api.weixin.qq.com",
            wechat_template_id=env.get("JICENG_WECHAT_TEMPLATE_ID") or "",
        )

    def pace(self):
        """One `Pace` for everything this bot token sends (the outbox sender and direct edits)."""
        from bot.services.pace import Pace

        if self.send_pacing == "off":
            return Pace(rate=10_000, per_chat_interval=0)
        return Pace(self.send_per_second, self.chat_interval)

    def retention(self):
        from datetime import timedelta

        from bot.services.retention import Retention

        return Retention(updates=timedelta(days=self.keep_updates_days), drafts=timedelta(days=self.keep_drafts_days),
                         outbox=timedelta(days=self.keep_outbox_days))

    def deadline_policy(self):
        from datetime import time

        from bot.services.calendar import QuietHours
        from bot.services.deadlines import DeadlinePolicy

        start, end = (time.fromisoformat(part.strip()) for part in self.quiet_hours.split("-"))
        return DeadlinePolicy(accept_working_days=self.accept_working_days,
                              answer_working_days=self.answer_working_days,
                              urgent_hours=self.urgent_hours, quiet=QuietHours(start, end))

    def flood_guard(self, is_staff):
        from bot.services.flood import FloodGuard, Limit

        return FloodGuard(
            farmer=Limit(self.farmer_burst, self.farmer_per_minute, self.flood_cooldown),
            staff=Limit(self.staff_burst, self.staff_per_minute, self.flood_cooldown),
            is_staff=is_staff,
        )
