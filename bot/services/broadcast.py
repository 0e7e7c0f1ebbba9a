"""Training notices (培训通知) as bulk rows of the outbox: who gets a notice, what it says,
and how far its sending has come. The sender (`bot.services.sender`) delivers the rows, behind
every more urgent message."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.buttons import SignUp
from bot.clock import CHINA_TIME
from bot.errors import NotFound
from bot.messages import NOTICE_NOT_FOUND
from bot.services.notifier import Action
from bot.services.outbox import BLOCKED, BULK, FAILED, OPEN_STATUSES, PENDING, SENT, Outgoing, buttons
from bot.services.people import Account, addresses_of
from bot.services.sql import table_of
from intents import regions
from storage.models import OutboxMessage, Subscription, TrainingNotice

log = logging.getLogger(__name__)


# Notice statuses this module sets.
NOTICE_SENDING, NOTICE_SENT = "sending", "sent"


# --- What the broadcast says ---------------------------------------------------------------

NOTICE_HEADER = "📢 培训通知：{title}"
NOTICE_TIME = "时间：{when}（北京时间）"
NOTICE_DURATION = "时长：约 {hours} 小时"
NOTICE_PLACE = "地点：{place}"
NOTICE_CAPACITY = "名额：{capacity} 人"
NOTICE_NO_LIMIT = "名额：不限"
NOTICE_DEADLINE = "报名截止：{when}"
NOTICE_SIGNUP_HINT = "想参加请点下方“报名”。"
SIGNUP_BUTTON = "报名"

PROGRESS = ("培训通知「{title}」正在发送\n已发送 {sent}，失败 {failed}，剩余 {remaining}\n"
            "速度 {rate:.1f} 条/秒，预计还需 {eta}")
FINAL_REPORT = ("培训通知「{title}」发送完毕\n共 {total} 人：已送达 {sent}，未送达 {failed}"
                "（其中 {blocked} 人已屏蔽机器人或账号已不存在，已停止向其推送）\n用时 {elapsed}")
ALL_NOTICES = "全部待发通知"


# --- Rendering --------------------------------------------------------------------------


def china(moment: datetime) -> str:
    return moment.astimezone(CHINA_TIME).strftime("%Y年%m月%d日 %H:%M")


def _hours(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def render_notice(notice: TrainingNotice) -> str:
    """The plain Chinese text a recipient gets."""
    lines = [NOTICE_HEADER.format(title=notice.title)]
    if notice.starts_at:
        lines.append(NOTICE_TIME.format(when=china(notice.starts_at)))
    if notice.duration_hours:
        lines.append(NOTICE_DURATION.format(hours=_hours(notice.duration_hours)))
    if notice.place:
        lines.append(NOTICE_PLACE.format(place=notice.place))
    lines.append(NOTICE_CAPACITY.format(capacity=notice.capacity) if notice.capacity else NOTICE_NO_LIMIT)
    if notice.signup_deadline:
        lines.append(NOTICE_DEADLINE.format(when=china(notice.signup_deadline)))
    if notice.content:
        lines += ["", notice.content.strip()]
    lines += ["", NOTICE_SIGNUP_HINT]
    return "\n".join(lines)


def notice_buttons(notice: TrainingNotice) -> list[list[Action]]:
    return [[Action(SIGNUP_BUTTON, SignUp(notice.id).encode())]]


def duration_text(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} 秒"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} 分 {seconds} 秒"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} 小时 {minutes} 分"


# --- Recipients and the outbox ------------------------------------------------------------


def subscription_matches(notice_fields: Sequence[str], notice_regions: Sequence[str],
                         field_code: str, region_code: str) -> bool:
    """A subscription gets a notice when its field is one of the notice's (or either side
    says "every field") and its region covers, or is covered by, one of the notice's."""
    field_ok = not notice_fields or field_code == "*" or field_code in notice_fields
    region_ok = not notice_regions or any(
        regions.covers(region_code, r) or regions.covers(r, region_code) for r in notice_regions
    )
    return field_ok and region_ok


async def recipients_for(session: AsyncSession, notice: TrainingNotice) -> list[tuple[int, Account]]:
    """(person id, account) of everyone with an active matching subscription, once each,
    reached on the account they used last."""
    rows = await session.execute(
        select(Subscription.person_id, Subscription.field, Subscription.region_code)
        .where(Subscription.active.is_(True))
        .order_by(Subscription.person_id)
    )
    chosen: list[int] = []
    for person_id, field_code, region_code in rows:
        if (not chosen or chosen[-1] != person_id) and subscription_matches(
                notice.fields, notice.regions, field_code, region_code):
            chosen.append(person_id)
    accounts = await addresses_of(session, chosen)
    return [(person_id, accounts[person_id]) for person_id in chosen if person_id in accounts]


async def enqueue(session: AsyncSession, notice: TrainingNotice,
                  recipients: Iterable[tuple[int | None, Account]]) -> int:
    """Add a pending outbox row per new recipient (an account already queued for this notice is
    skipped, so enqueueing twice is harmless) and mark the notice "sending". Returns how many
    rows were added. The caller commits."""
    await session.flush()  # the notice needs its id
    existing = {Account(channel, address) for channel, address in (await session.execute(
        select(OutboxMessage.channel, OutboxMessage.address).where(OutboxMessage.notice_id == notice.id))).all()}
    rows = []
    for person_id, account in recipients:
        if account in existing:
            continue
        existing.add(account)
        rows.append({"notice_id": notice.id, "person_id": person_id, "channel": account.channel,
                     "address": account.external_id,
                     "priority": BULK, "purpose": "notice", "status": PENDING, "attempts": 0, "last_error": "",
                     "created_at": datetime.now(timezone.utc)})
    if rows:
        await session.execute(table_of(OutboxMessage).insert(), rows)
    notice.status = NOTICE_SENDING
    return len(rows)


# --- Progress ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressReport:
    title: str
    total: int
    sent: int
    failed: int      # blocked included
    blocked: int
    remaining: int
    rate: float      # messages a second lately
    eta_seconds: float
    elapsed: float
    done: bool
    rate_limited: int = 0  # 429s this run received

    def text(self) -> str:
        if self.done:
            return FINAL_REPORT.format(title=self.title, total=self.total, sent=self.sent, failed=self.failed,
                                       blocked=self.blocked, elapsed=duration_text(self.elapsed))
        return PROGRESS.format(title=self.title, sent=self.sent, failed=self.failed, remaining=self.remaining,
                               rate=self.rate, eta=duration_text(self.eta_seconds))


ProgressSamples = Sequence[tuple[float, int]]  # (monotonic time, rows sent by then), oldest first


async def notice_counts(session: AsyncSession, notice_id: int | None,
                        notice_ids: Iterable[int] = ()) -> tuple[dict[str, int], str]:
    """Rows by status for one notice (or for `notice_ids`), and the title to show."""
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if notice_id is not None:
        query = query.where(OutboxMessage.notice_id == notice_id)
    else:
        query = query.where(OutboxMessage.notice_id.in_(sorted(notice_ids)))
    counts = dict((await session.execute(query)).all())
    title = ALL_NOTICES
    if notice_id is not None:
        notice = await session.get(TrainingNotice, notice_id)
        title = notice.title if notice else title
    return counts, title


def report(title: str, counts: dict[str, int], samples: ProgressSamples, elapsed: float, done: bool,
           rate: float = 29.0, rate_limited: int = 0) -> ProgressReport:
    sent, blocked = counts.get(SENT, 0), counts.get(BLOCKED, 0)
    failed = counts.get(FAILED, 0) + blocked
    remaining = sum(counts.get(s, 0) for s in OPEN_STATUSES)
    (first_t, first_sent), (now, _) = samples[0], samples[-1]
    recent = max(0.0, (sent - first_sent) / (now - first_t)) if now - first_t > 0.5 else 0.0
    eta = remaining / (recent if recent > 0.5 else rate)
    return ProgressReport(title=title, total=sum(counts.values()), sent=sent, failed=failed, blocked=blocked,
                          remaining=remaining, rate=recent, eta_seconds=eta, elapsed=elapsed,
                          done=done and remaining == 0, rate_limited=rate_limited)


async def finish_notices(session: AsyncSession, now: datetime) -> None:
    """Notices none of whose rows is still open are sent."""
    open_rows = select(OutboxMessage.id).where(
        OutboxMessage.notice_id == TrainingNotice.id, OutboxMessage.status.in_(OPEN_STATUSES))
    await session.execute(
        update(TrainingNotice)
        .where(TrainingNotice.status == NOTICE_SENDING, ~open_rows.exists())
        .values(status=NOTICE_SENT, sent_at=now)
    )


async def notice_message(session: AsyncSession, notice_id: int) -> Outgoing:
    notice = await session.get(TrainingNotice, notice_id)
    if notice is None:
        raise NotFound(NOTICE_NOT_FOUND)
    return Outgoing(render_notice(notice), buttons(notice_buttons(notice)))
