"""Signing in to the web chat with a phone number and a code sent by SMS.

A code is 6 digits, kept only as a keyed hash, valid 5 minutes and for 5 tries; the fifth wrong
try locks the phone for 15 minutes. A phone gets a new code at most once a minute and 10 times a
day; one address (IP) asks for at most 10 codes in 10 minutes. A phone already known — an
imported expert's 手机 — signs in as that person, so one person can use Telegram and the web."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import WEB
from bot.clock import CHINA_TIME
from bot.errors import Conflict
from bot.services.directory import bind_expert, normalize_phone
from bot.services.people import Account, ensure_person, find_person
from storage.models import ChannelAccount, Expert, SmsCode

log = logging.getLogger(__name__)

CODE_MINUTES = 5
MAX_TRIES = 5
LOCK_MINUTES = 15
RESEND_SECONDS = 60
PER_DAY = 10
PER_ADDRESS = 10            # codes one IP may ask for ...
ADDRESS_WINDOW = 600.0      # ... in this many seconds

BAD_PHONE = "请输入 11 位大陆手机号。"
TOO_SOON = "验证码已发送，请 {seconds} 秒后再重新获取。"
TOO_MANY_TODAY = "这个手机号今天获取验证码的次数太多了，请明天再试。"
TOO_MANY_HERE = "获取验证码太频繁了，请 10 分钟后再试。"
LOCKED = "验证码错误次数太多，这个手机号已锁定，请 {minutes} 分钟后再试。"
WRONG = "验证码不对，还可以再试 {left} 次。"
EXPIRED = "验证码已过期或还没有获取，请重新获取。"
SENT = "验证码已发送到 {phone}，5 分钟内有效。"
SMS_FAILED = "短信发送失败，请稍后再试。"


class SmsSender(Protocol):
    async def send_code(self, phone: str, code: str) -> None: ...


class ConsoleSms:
    """Prints the code (the demo and tests); `last` keeps what was sent, by phone."""

    def __init__(self, fixed_code: str | None = None, echo: Callable[[str], None] | None = print) -> None:
        self.fixed_code = fixed_code
        self.last: dict[str, str] = {}
        self._echo = echo

    async def send_code(self, phone: str, code: str) -> None:
        self.last[phone] = code
        if self._echo is not None:
            self._echo(f"[短信] 发给 {phone} 的验证码：{code}")


class AliyunSms:
    """Aliyun SMS (阿里云短信服务) through its official SDK (`pip install jiceng[aliyun]`): the
    template must have one variable, ${code}."""

    def __init__(self, access_key_id: str, access_key_secret: str, sign_name: str, template_code: str) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.models import Config

        config = Config(access_key_id=access_key_id, access_key_secret=access_key_secret,
                        endpoint="dysmsapi.aliyuncs.com")
        self._client = Client(config)
        self._sign_name, self._template = sign_name, template_code

    async def send_code(self, phone: str, code: str) -> None:
        import json

        from alibabacloud_dysmsapi20170525.models import SendSmsRequest

        request = SendSmsRequest(phone_numbers=phone, sign_name=self._sign_name, template_code=self._template,
                                 template_param=json.dumps({"code": code}))
        response = await self._client.send_sms_async(request)
        if response.body.code != "OK":
            raise RuntimeError(f"Aliyun SMS refused: {response.body.code}")


@dataclass(frozen=True)
class SignedIn:
    person_id: int
    phone: str


class SignIn:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], sms: SmsSender, secret: bytes,
                 clock: Callable[[], datetime], fixed_code: str | None = None) -> None:
        self._sessions = sessions
        self._sms = sms
        self._secret = secret
        self._clock = clock
        self._fixed_code = fixed_code  # the demo's code, printed at start; never with a real SMS sender
        self._asked: dict[str, deque[float]] = defaultdict(deque)

    async def send_code(self, phone_text: str, address: str) -> str:
        """Send a new code; gives what to tell the person, raises Conflict with the reason."""
        phone = normalize_phone(phone_text or "")
        if phone is None:
            raise Conflict(BAD_PHONE)
        self._count_address(address)
        now = self._clock()
        code = self._fixed_code or f"{secrets.randbelow(10**6):06d}"
        async with self._sessions.begin() as session:
            row = await session.get(SmsCode, phone) or SmsCode(phone=phone, tries=0, sent_day="", sent_count=0)
            session.add(row)
            if row.locked_until is not None and row.locked_until > now:
                raise Conflict(LOCKED.format(minutes=_minutes(row.locked_until - now)))
            if row.sent_at is not None and (waited := (now - row.sent_at).total_seconds()) < RESEND_SECONDS:
                raise Conflict(TOO_SOON.format(seconds=int(RESEND_SECONDS - waited) + 1))
            today = now.astimezone(CHINA_TIME).date().isoformat()
            count = row.sent_count if row.sent_day == today else 0
            if count >= PER_DAY:
                raise Conflict(TOO_MANY_TODAY)
            row.code_hash, row.expires_at, row.tries = self._hash(phone, code), now + timedelta(minutes=CODE_MINUTES), 0
            row.sent_at, row.sent_day, row.sent_count = now, today, count + 1
        try:
            await self._sms.send_code(phone, code)
        except Exception:
            log.exception("sending a sign-in code failed")
            raise Conflict(SMS_FAILED) from None
        return SENT.format(phone=mask(phone))

    async def verify(self, phone_text: str, code: str) -> SignedIn:
        phone = normalize_phone(phone_text or "")
        if phone is None:
            raise Conflict(BAD_PHONE)
        now = self._clock()
        refusal = None
        async with self._sessions.begin() as session:
            row = await session.get(SmsCode, phone)
            if row is not None and row.locked_until is not None and row.locked_until > now:
                raise Conflict(LOCKED.format(minutes=_minutes(row.locked_until - now)))
            if row is None or not row.code_hash or row.expires_at is None or row.expires_at <= now:
                raise Conflict(EXPIRED)
            if hmac.compare_digest(row.code_hash, self._hash(phone, (code or "").strip())):
                row.code_hash, row.tries, row.locked_until = "", 0, None  # a code works once
                person_id = await person_for_phone(session, phone)
            else:  # counted (committed) before the refusal leaves
                row.tries += 1
                refusal = WRONG.format(left=MAX_TRIES - row.tries)
                if row.tries >= MAX_TRIES:
                    row.locked_until, row.code_hash = now + timedelta(minutes=LOCK_MINUTES), ""
                    refusal = LOCKED.format(minutes=LOCK_MINUTES)
        if refusal is not None:
            raise Conflict(refusal)
        return SignedIn(person_id, phone)

    def _hash(self, phone: str, code: str) -> str:
        return hmac.new(self._secret, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()

    def _count_address(self, address: str) -> None:
        now, asked = time.monotonic(), self._asked[address]
        while asked and asked[0] < now - ADDRESS_WINDOW:
            asked.popleft()
        if len(asked) >= PER_ADDRESS:
            raise Conflict(TOO_MANY_HERE)
        asked.append(now)


async def person_for_phone(session: AsyncSession, phone: str) -> int:
    """The person behind a web account: known already; or the imported expert with this 手机 — the
    code proved the number is theirs — who may use Telegram too, or joins now; or a new person."""
    account = Account(WEB.name, phone)
    person = await find_person(session, account)
    if person is not None:
        return person.id
    expert = await session.scalar(select(Expert).where(Expert.phone == phone))
    if expert is not None and expert.person_id is not None:
        session.add(ChannelAccount(channel=WEB.name, external_id=phone, person_id=expert.person_id))
        return expert.person_id
    person = await ensure_person(session, account, expert.name if expert else f"网页用户{phone[-4:]}")
    if expert is not None:
        await bind_expert(session, expert, person)
    return person.id


def mask(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


def _minutes(left: timedelta) -> int:
    return max(1, int(left.total_seconds() // 60) + (1 if left.total_seconds() % 60 else 0))
