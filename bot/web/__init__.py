"""The H5 web chat channel (see `bot.web.server`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services import settings_store
from bot.web.server import WebChat, new_secret, session_secret
from bot.web.signin import AliyunSms, ConsoleSms, SignIn, SmsSender

if TYPE_CHECKING:
    from bot.app import Services
    from bot.config import Settings

WEB_SECRET = "web_secret"


async def build_web(services: Services, settings: Settings, sms: SmsSender | None = None) -> WebChat:
    """The web chat of a deployment: its cookie key from JICENG_WEB_SECRET, or one made once and
    kept in the database (so every process and every restart reads the same cookies)."""
    secret_text = settings.web_secret or await settings_store.recall(services.sessions, WEB_SECRET)
    if not secret_text:
        secret_text = new_secret()
        await settings_store.remember(services.sessions, WEB_SECRET, secret_text)
    secret = session_secret(secret_text)
    fixed = None
    if sms is None:
        if settings.sms == "aliyun":
            sms = AliyunSms(settings.aliyun_access_key_id, settings.aliyun_access_key_secret,
                            settings.aliyun_sms_sign, settings.aliyun_sms_template)
        else:
            sms = ConsoleSms()
            fixed = settings.sms_demo_code
    elif isinstance(sms, ConsoleSms):
        fixed = sms.fixed_code
    signin = SignIn(services.sessions, sms, secret, services.clock, fixed_code=fixed)
    return WebChat(services, settings, signin, secret)


__all__ = ["WebChat", "build_web", "ConsoleSms", "AliyunSms"]
