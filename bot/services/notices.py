"""Training notices (培训通知) before they are sent: who subscribes to which field and region,
who a notice reaches, and the notice staff compose step by step in chat (a `NoticeDraft`
kept in the chat state until 发送 turns it into a `TrainingNotice` with its outbox rows).

Channel-neutral: plain values in and out; a bad answer raises `BadAnswer` with the Chinese
sentence that asks again. Delivery itself is `bot.services.broadcast`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import messages
from bot.clock import CHINA_TIME
from bot.errors import Conflict, JicengError, NotAllowed, NotFound
from bot.services import broadcast, states
from bot.services.outbox import OPEN_STATUSES, WAITING_STATUSES
from bot.services.people import STAFF, Account, addresses_of
from intents import regions, taxonomy
from storage.models import (
    ChatState,
    Demand,
    Expert,
    NoticeSignup,
    OutboxMessage,
    Person,
    ServiceTeam,
    Subscription,
    TrainingNotice,
)

if TYPE_CHECKING:
    from bot.services.sender import Row

ALL_FIELDS = "*"
NOTICE_CANCELLED = "cancelled"  # as bot.services.signups reads it: sign-up closes

# The steps of composing, in order; the text steps take the staff member's next message.
TITLE, CONTENT, TIME, DURATION, PLACE, FIELDS, REGIONS, CAPACITY, DEADLINE, PREVIEW = (
    "title", "content", "time", "duration", "place", "fields", "regions", "capacity", "deadline", "preview")
STEPS = (TITLE, CONTENT, TIME, DURATION, PLACE, FIELDS, REGIONS, CAPACITY, DEADLINE, PREVIEW)
TEXT_STEPS = (TITLE, CONTENT, TIME, DURATION, PLACE, CAPACITY, DEADLINE)

MAX_TITLE, MAX_CONTENT, MAX_PLACE = 100, 2000, 200
MAX_HOURS, MAX_CAPACITY = 240, 100_000
NO_LIMIT_WORDS = ("不限", "不限名额", "无", "没有", "无限", "无限制", "0")
NO_DEADLINE_WORDS = ("不设", "不设截止", "无", "没有", "不限", "不用")


class BadAnswer(JicengError):
    """An answer to a composing step that cannot be used; the step is asked again."""


# --- Subscriptions -----------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionView:
    id: int
    field: str
    region_code: str

    @property
    def label(self) -> str:
        return messages.subscription_label(self.field, self.region_code)


def valid_subscription(field_code: str, region_code: str) -> bool:
    return (field_code == ALL_FIELDS or taxonomy.is_field(field_code)) and regions.get(region_code) is not None


async def recipients(session: AsyncSession, notice: TrainingNotice) -> list[tuple[int, Account]]:
    """(person id, account) of everyone with an active subscription matching the notice, once
    each: fields match when the notice names none, the subscription says "*", or they share
    one; regions when the notice names none or either region covers the other (430000 is
    the whole province). The sender's own rule (`broadcast.subscription_matches`). A notice with
    an audience goes to that audience instead: a team's leader and experts, or the people signed
    up (not cancelled) for an earlier training."""
    audience = notice.audience or {}
    if not audience:
        return await broadcast.recipients_for(session, notice)
    people: list[int] = []
    if "team_id" in audience:
        team = await session.get(ServiceTeam, audience["team_id"])
        if team is not None and team.leader_id is not None:
            people.append(team.leader_id)
        people += [p for p in (await session.scalars(select(Expert.person_id).where(
            Expert.team_id == audience["team_id"], Expert.person_id.is_not(None)))).all() if p is not None]
    if "training_id" in audience:
        people += list((await session.scalars(select(NoticeSignup.person_id).where(
            NoticeSignup.notice_id == audience["training_id"], NoticeSignup.status != "cancelled")
            .order_by(NoticeSignup.id))).all())
    chosen = list(dict.fromkeys(people))
    accounts = await addresses_of(session, chosen)
    return [(person_id, accounts[person_id]) for person_id in chosen if person_id in accounts]


class SubscriptionService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def subscribe(self, person_id: int, field_code: str, region_code: str) -> SubscriptionView:
        """Subscribe (again): the same field and region twice is one subscription, switched back on."""
        if not valid_subscription(field_code, region_code):
            raise NotFound(messages.STALE_BUTTON)
        async with self._sessions.begin() as session:
            row = await session.scalar(select(Subscription).where(
                Subscription.person_id == person_id, Subscription.field == field_code,
                Subscription.region_code == region_code))
            if row is None:
                row = Subscription(person_id=person_id, field=field_code, region_code=region_code, active=True)
                session.add(row)
                await session.flush()
            row.active = True
            return SubscriptionView(row.id, row.field, row.region_code)

    async def unsubscribe(self, person_id: int, subscription_id: int | None = None) -> list[SubscriptionView]:
        """Switch off one subscription of the person's, or all (None); returns what was switched off."""
        async with self._sessions.begin() as session:
            query = select(Subscription).where(Subscription.person_id == person_id, Subscription.active.is_(True))
            if subscription_id is not None:
                query = query.where(Subscription.id == subscription_id)
            rows = (await session.scalars(query)).all()
            for row in rows:
                row.active = False
            return [SubscriptionView(r.id, r.field, r.region_code) for r in rows]

    async def list(self, person_id: int) -> list[SubscriptionView]:
        async with self._sessions() as session:
            rows = await session.scalars(select(Subscription).where(
                Subscription.person_id == person_id, Subscription.active.is_(True)).order_by(Subscription.id))
            return [SubscriptionView(r.id, r.field, r.region_code) for r in rows]

    async def should_offer(self, person_id: int) -> bool:
        """After a first demand, offer a subscription — unless they ever had one (a person who
        unsubscribed said no already) or this is not their first demand."""
        async with self._sessions() as session:
            had = await session.scalar(select(func.count()).select_from(Subscription)
                                       .where(Subscription.person_id == person_id))
            demands = await session.scalar(select(func.count()).select_from(Demand)
                                           .where(Demand.submitter_id == person_id))
            return not had and demands == 1

    async def count_recipients(self, draft: NoticeDraft) -> int:
        async with self._sessions() as session:
            return len(await recipients(session, draft.to_notice()))


# --- Composing ---------------------------------------------------------------------------


@dataclass
class NoticeDraft:
    """A notice being composed; `to_dict`/`from_dict` keep it in the chat state as JSON."""

    step: str = TITLE
    title: str = ""
    content: str = ""
    starts_at: datetime | None = None
    duration_hours: float = 0.0
    place: str = ""
    fields: list[str] = field(default_factory=list)     # empty = every field
    regions: list[str] = field(default_factory=list)    # empty = the whole province
    capacity: int | None = None                          # None = no limit
    signup_deadline: datetime | None = None
    audience: dict[str, int] | None = None               # see TrainingNotice.audience
    base_id: int | None = None                           # the 专家服务基地 hosting it (approved only)
    lecturers: list[int] = field(default_factory=list)    # expert ids who teach it

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("starts_at", "signup_deadline"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NoticeDraft:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("starts_at", "signup_deadline"):
            if known.get(key):
                known[key] = datetime.fromisoformat(known[key])
        draft = cls(**known)
        if draft.step not in STEPS:
            draft.step = TITLE
        return draft

    def advance(self) -> None:
        self.step = STEPS[STEPS.index(self.step) + 1]

    def to_notice(self, created_by_id: int | None = None) -> TrainingNotice:
        return TrainingNotice(
            title=self.title, content=self.content, starts_at=self.starts_at, duration_hours=self.duration_hours,
            place=self.place, fields=list(self.fields), regions=list(self.regions), capacity=self.capacity,
            audience=dict(self.audience) if self.audience else None, base_id=self.base_id,
            lecturers=list(self.lecturers) or None,
            signup_deadline=self.signup_deadline, status="draft", created_by_id=created_by_id,
        )

    # -- the answers to the text steps

    def answer(self, text: str, now: datetime) -> None:
        """Take the answer to the current text step and move on; BadAnswer leaves it as it was."""
        text = text.strip()
        if self.step not in TEXT_STEPS:
            raise BadAnswer(messages.NOTICE_USE_BUTTONS)
        if not text:
            raise BadAnswer(messages.NOTICE_EMPTY)
        if self.step == TITLE:
            self.title = _limited(text, MAX_TITLE)
        elif self.step == CONTENT:
            self.content = _limited(text, MAX_CONTENT)
        elif self.step == TIME:
            self.starts_at = parse_china_time(text, now, need_clock=True)
        elif self.step == DURATION:
            self.duration_hours = parse_hours(text)
        elif self.step == PLACE:
            self.place = _limited(text, MAX_PLACE)
        elif self.step == CAPACITY:
            self.capacity = parse_capacity(text)
        elif self.step == DEADLINE:
            self.set_deadline(text, now)
        self.advance()

    def set_deadline(self, text: str | None, now: datetime) -> None:
        if text is None or _plain(text).strip() in NO_DEADLINE_WORDS:
            self.signup_deadline = None
            return
        deadline = parse_china_time(text, now, need_clock=False)
        if self.starts_at is not None and deadline > self.starts_at:
            raise BadAnswer(messages.NOTICE_DEADLINE_AFTER_START.format(start=broadcast.china(self.starts_at)))
        self.signup_deadline = deadline

    def toggle(self, step: str, code: str) -> None:
        chosen = self.fields if step == FIELDS else self.regions
        if code in chosen:
            chosen.remove(code)
        else:
            chosen.append(code)


def _plain(text: str) -> str:
    """Full-width digits and colons as typed on a phone become ASCII."""
    return unicodedata.normalize("NFKC", text)


def _limited(text: str, limit: int) -> str:
    if len(text) > limit:
        raise BadAnswer(messages.NOTICE_TOO_LONG.format(limit=limit))
    return text


_DATE = re.compile(r"^(?:(?P<y>\d{4})\s*[-/.年]\s*)?(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?\s*(?P<rest>.*)$")
_CLOCK = re.compile(r"^(?P<ap>上午|早上|中午|下午|晚上)?\s*(?P<h>\d{1,2})\s*(?:(?:[:点时]\s*(?P<min>\d{1,2}|半)?\s*分?))?$")


def parse_china_time(text: str, now: datetime, *, need_clock: bool) -> datetime:
    """"2026-12-05 09:00", "12月5日 9:00", "12-05 09:00", "12月5日下午2点半" in China time, as an
    aware datetime. Without a year: this year, or next year if that date has passed. A date
    with no clock time is the end of that day (allowed for a sign-up deadline only)."""
    text = _plain(text).strip()
    match = _DATE.match(text)
    if not match:
        raise BadAnswer(messages.NOTICE_BAD_TIME)
    rest = match["rest"].strip()
    if rest:
        clock = _CLOCK.match(rest)
        if not clock:
            raise BadAnswer(messages.NOTICE_BAD_TIME)
        hour = int(clock["h"])
        minute = 30 if clock["min"] == "半" else int(clock["min"] or 0)
        if clock["ap"] in ("下午", "晚上") and hour < 12:
            hour += 12
    elif need_clock:
        raise BadAnswer(messages.NOTICE_NEED_CLOCK)
    else:
        hour, minute = 23, 59
    local_now = now.astimezone(CHINA_TIME)
    year = int(match["y"]) if match["y"] else local_now.year
    try:
        moment = datetime(year, int(match["m"]), int(match["d"]), hour, minute, tzinfo=CHINA_TIME)
        if not match["y"] and moment < local_now - timedelta(days=1):
            moment = moment.replace(year=year + 1)
    except ValueError:
        raise BadAnswer(messages.NOTICE_BAD_TIME) from None
    if moment <= now:
        example = (local_now + timedelta(days=7)).strftime("%Y-%m-%d 09:00")
        raise BadAnswer(messages.NOTICE_TIME_PAST.format(example=example))
    return moment.astimezone(timezone.utc)


def parse_hours(text: str) -> float:
    text = _plain(text).strip().removesuffix("小时").removesuffix("个").strip()
    try:
        hours = float(text)
    except ValueError:
        raise BadAnswer(messages.NOTICE_BAD_DURATION) from None
    if not 0 < hours <= MAX_HOURS:
        raise BadAnswer(messages.NOTICE_BAD_DURATION)
    return hours


def parse_capacity(text: str) -> int | None:
    text = _plain(text).strip()
    if text in NO_LIMIT_WORDS:
        return None
    text = text.removesuffix("人").removesuffix("个").strip()
    if not text.isdigit() or not 0 < int(text) <= MAX_CAPACITY:
        raise BadAnswer(messages.NOTICE_BAD_CAPACITY)
    return int(text)


@dataclass(frozen=True)
class Created:
    notice_id: int
    title: str
    queued: int  # outbox rows: the people it goes to


@dataclass(frozen=True)
class NoticeProgress:
    counts: dict[str, int]  # outbox rows by status
    title: str
    chat_id: int | None  # where the progress message is shown, once it was sent
    message_id: int | None


class NoticeService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._clock = clock

    async def ensure_staff(self, person_id: int) -> None:
        async with self._sessions() as session:
            person = await session.get(Person, person_id)
            if person is None or STAFF not in person.role_names:
                raise NotAllowed(messages.NOTICE_STAFF_ONLY)

    async def create(self, person_id: int) -> Created:
        """发送: the person's finished draft becomes a notice with an outbox row per recipient, and
        the draft is gone — in one transaction, so a second press finds nothing to send."""
        async with self._sessions.begin() as session:
            person = await session.get(Person, person_id)
            if person is None or STAFF not in person.role_names:
                raise NotAllowed(messages.NOTICE_STAFF_ONLY)
            state = await session.get(ChatState, person.id)
            if state is None or state.state != states.NOTICE_DRAFT:
                raise Conflict(messages.NOTICE_ALREADY_SENT)
            draft = NoticeDraft.from_dict(state.data or {})
            if draft.step != PREVIEW or not draft.title:
                raise Conflict(messages.STALE_BUTTON)
            created = await self._send(session, draft, person.id)
            await session.execute(delete(ChatState).where(ChatState.person_id == person.id))
            return created

    async def send_draft(self, person_id: int, draft: NoticeDraft) -> Created:
        """A notice composed elsewhere (the staff console) sent as the chat's 发送 sends it."""
        async with self._sessions.begin() as session:
            person = await session.get(Person, person_id)
            if person is None or STAFF not in person.role_names:
                raise NotAllowed(messages.NOTICE_STAFF_ONLY)
            return await self._send(session, draft, person.id)

    async def _send(self, session: AsyncSession, draft: NoticeDraft, person_id: int) -> Created:
        from bot.services.bases import check_can_host

        await check_can_host(session, draft.base_id)  # a revoked base gets no new trainings
        notice = draft.to_notice(person_id)
        session.add(notice)
        await session.flush()
        queued = await broadcast.enqueue(session, notice, await recipients(session, notice))
        if not queued:
            notice.status, notice.sent_at = broadcast.NOTICE_SENT, self._clock()
        return Created(notice.id, notice.title, queued)

    async def progress(self, notice_id: int) -> NoticeProgress:
        """How far a notice's sending has come, and where its progress message is shown."""
        async with self._sessions() as session:
            counts, title = await broadcast.notice_counts(session, notice_id)
            notice = await session.get(TrainingNotice, notice_id)
        where = (notice.progress_chat_id, notice.progress_message_id) if notice else (None, None)
        return NoticeProgress(counts, title, *where)

    async def recent(self, limit: int = 50) -> list[TrainingNotice]:
        async with self._sessions() as session:
            return list((await session.scalars(select(TrainingNotice).where(TrainingNotice.status != "draft")
                                               .order_by(TrainingNotice.id.desc()).limit(limit))).all())

    async def sent_by(self, person_id: int, limit: int = 10) -> list[TrainingNotice]:
        async with self._sessions() as session:
            return list((await session.scalars(select(TrainingNotice).where(TrainingNotice.created_by_id == person_id)
                                               .order_by(TrainingNotice.id.desc()).limit(limit))).all())

    async def get(self, notice_id: int) -> TrainingNotice:
        async with self._sessions() as session:
            notice = await session.get(TrainingNotice, notice_id)
        if notice is None:
            raise NotFound(messages.NOTICE_NOT_FOUND)
        return notice

    async def set_progress_message(self, notice_id: int, chat_id: int, message_id: int) -> None:
        """Where the staff's live progress shows, so a restarted bot edits the same message."""
        async with self._sessions.begin() as session:
            await session.execute(update(TrainingNotice).where(TrainingNotice.id == notice_id)
                                  .values(progress_chat_id=chat_id, progress_message_id=message_id))

    async def cancel(self, person_id: int, notice_id: int) -> TrainingNotice:
        """Withdraw a notice: sign-up closes and whatever is still waiting in the outbox stays unsent."""
        async with self._sessions.begin() as session:
            person = await session.get(Person, person_id)
            if person is None or STAFF not in person.role_names:
                raise NotAllowed(messages.NOTICE_STAFF_ONLY)
            notice = await session.get(TrainingNotice, notice_id)
            if notice is None:
                raise NotFound(messages.NOTICE_NOT_FOUND)
            notice.status = NOTICE_CANCELLED
            await session.execute(update(OutboxMessage).where(
                OutboxMessage.notice_id == notice_id, OutboxMessage.status.in_(WAITING_STATUSES))
                .values(status=NOTICE_CANCELLED))
            return notice

    async def unfinished(self) -> list[tuple[int, int | None, int | None]]:
        """Notices with recipients still waiting (a restart cut their sending short):
        (notice id, progress chat, progress message)."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(TrainingNotice.id, TrainingNotice.progress_chat_id, TrainingNotice.progress_message_id)
                .where(TrainingNotice.id.in_(select(OutboxMessage.notice_id)
                                             .where(OutboxMessage.status.in_(OPEN_STATUSES))))
                .order_by(TrainingNotice.id))
            return [(notice_id, chat_id, message_id) for notice_id, chat_id, message_id in rows]


PROGRESS_PURPOSE = "notice_progress"  # the outbox row of a notice's progress message: remember where it landed


async def progress_message_sent(session: AsyncSession, row: Row, message_id: int | None) -> None:
    """After-send effect of a notice's progress message (purpose "notice_progress:<notice id>"):
    remember where it landed, so the bot, restarted or not, edits that message."""
    if message_id is not None and row.argument.isdigit():
        await session.execute(update(TrainingNotice).where(TrainingNotice.id == int(row.argument))
                              .values(progress_chat_id=int(row.address), progress_message_id=message_id))
