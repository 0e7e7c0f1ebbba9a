"""Tables of the platform: people and roles, the directory (teams, experts, invites),
demands with their append-only timeline and media, farmers' drafts, and bookkeeping."""

from __future__ import annotations

import zlib
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no time zone of its own)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON, dict[str, Any]: JSON, list[Any]: JSON}


class Person(Base):
    """Anyone the platform knows: farmers, enterprises, experts, leaders, staff. A person is
    reached through one or more channel accounts."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    region_code: Mapped[str | None] = mapped_column(String(12))
    privacy_agreed_at: Mapped[datetime | None] = mapped_column()  # the privacy notice, agreed in chat
    # Staff only: the area they oversee (a county's, a city's or the province's code); None: all.
    staff_region: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    roles: Mapped[list[PersonRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="person"
    )

    @property
    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}


class ChannelAccount(Base):
    """One way to reach a person: their account on a chat channel (the channel's own id for it)."""

    __tablename__ = "channel_accounts"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_channel_account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class PersonRole(Base):
    """One role a person holds (farmer, enterprise, expert, leader, staff); several may apply."""

    __tablename__ = "person_roles"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    person: Mapped[Person] = relationship(back_populates="roles")


class ServiceTeam(Base):
    """专家服务团: fields and regions it serves, led by a 团长, for a term (normally three years)."""

    __tablename__ = "service_teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    fields: Mapped[list[Any]] = mapped_column(default=list)
    regions: Mapped[list[Any]] = mapped_column(default=list)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Expert(Base):
    """An expert from the directory; bound to a person once they join in chat."""

    __tablename__ = "experts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(100), default="")
    employer: Mapped[str] = mapped_column(String(200), default="")
    fields: Mapped[list[Any]] = mapped_column(default=list)
    specialties: Mapped[str] = mapped_column(Text, default="")
    regions: Mapped[list[Any]] = mapped_column(default=list)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("service_teams.id"))
    phone: Mapped[str | None] = mapped_column(String(20))
    employer_consent: Mapped[bool | None] = mapped_column()   # 本人单位同意 recorded (None: not stated)
    team_role: Mapped[str | None] = mapped_column(String(12))  # "core" (核心专家) or "member" (成员)
    certificate_no: Mapped[str | None] = mapped_column(String(30), unique=True)  # 聘书编号, once issued
    term_start: Mapped[date | None] = mapped_column(Date)      # 聘期 (a team's term is three years)
    term_end: Mapped[date | None] = mapped_column(Date)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Invite(Base):
    """A one-time join code for a leader or an expert, opened from a link that carries it."""

    __tablename__ = "invites"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("service_teams.id"))
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    used_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()  # None: an invite made before invites expired
    revoked_at: Mapped[datetime | None] = mapped_column()
    # "pending" while staff decide on an invite that would replace a leader or move an expert's
    # account; then "confirmed" or "refused". None: nobody was replaced.
    confirmation: Mapped[str | None] = mapped_column(String(12))


class Draft(Base):
    """A question being composed: what the bot understood, awaiting the farmer's 提交."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    text: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(40))
    confidence: Mapped[float] = mapped_column(Float)
    top_fields: Mapped[list[Any]] = mapped_column(default=list)
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    entities: Mapped[dict[str, Any]] = mapped_column(default=dict)
    urgent: Mapped[bool] = mapped_column(default=False)
    region_code: Mapped[str | None] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(20), default="open")
    # The incoming message that created it: a replayed message finds it instead of a twin.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Demand(Base):
    """基层需求: a submitted question with its tracking number, routing and status."""

    __tablename__ = "demands"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(20), unique=True)
    text: Mapped[str] = mapped_column(Text)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    region_code: Mapped[str | None] = mapped_column(String(12))
    field: Mapped[str] = mapped_column(String(40))
    confidence: Mapped[float] = mapped_column(Float)
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    entities: Mapped[dict[str, Any]] = mapped_column(default=dict)
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("service_teams.id"), index=True)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column()
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # The service: how the team serves it, and the loop back to the farmer.
    service_mode: Mapped[str | None] = mapped_column(String(20))
    visit_date: Mapped[date | None] = mapped_column(Date)
    reroutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 转派 + 退回 so far
    accept_due_at: Mapped[datetime | None] = mapped_column()
    answer_due_at: Mapped[datetime | None] = mapped_column()
    first_answer_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    rating: Mapped[int | None] = mapped_column(Integer)
    solved: Mapped[bool | None] = mapped_column()
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))  # asked as an enterprise
    jobs_kept: Mapped[int | None] = mapped_column(Integer)   # 稳岗: jobs the service helped keep (the enterprise says)
    jobs_added: Mapped[int | None] = mapped_column(Integer)  # 扩岗: jobs it helped add


class DemandAssignment(Base):
    """An expert of the team assigned to a demand by its leader, with the ranking's reason."""

    __tablename__ = "demand_assignments"
    __table_args__ = (UniqueConstraint("demand_id", "expert_id", name="uq_assignment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DemandMessage(Base):
    """A message relayed between an expert and the farmer (text, photo or voice), and where
    its copy landed, so a reply to the copy finds its way back."""

    __tablename__ = "demand_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    direction: Mapped[str] = mapped_column(String(20))  # "to_farmer" | "to_expert"
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    file_id: Mapped[str | None] = mapped_column(String(300))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    relayed_message_id: Mapped[int | None] = mapped_column(BigInteger)
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ServiceRecord(Base):
    """服务记录: how an expert served a demand, for the service-hours ledger (继续教育学时)."""

    __tablename__ = "service_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"), index=True)
    mode: Mapped[str] = mapped_column(String(20))
    hours: Mapped[float] = mapped_column(Float)
    visit_date: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None: counted. "pending": staff decide first (long, or a leader serving a demand they assigned
    # to themselves); then "approved" (counted) or "rejected".
    review: Mapped[str | None] = mapped_column(String(20))


class ScheduledJob(Base):
    """A reminder, escalation (督办) or follow-up (回访) due at a time; the database is its
    record, so it survives restarts whatever drives it."""

    __tablename__ = "scheduled_jobs"
    __table_args__ = (UniqueConstraint("kind", "demand_id", "due_at", name="uq_scheduled_job"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()


class ServiceItem(Base):
    """技术服务清单: a service a team offers, which farmers browse with /services."""

    __tablename__ = "service_items"
    __table_args__ = (UniqueConstraint("team_id", "title", name="uq_service_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("service_teams.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChatState(Base):
    """What the bot is waiting for from a person (a reason, an answer, a service record), so
    a half-finished step carries on after a restart."""

    __tablename__ = "chat_states"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DemandEvent(Base):
    """Append-only timeline: every status change of a demand, with actor and time."""

    __tablename__ = "demand_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    request_key: Mapped[str | None] = mapped_column(String(64), index=True)


class DemandMedia(Base):
    """A photo or voice note attached to a draft or a demand (the channel's file reference)."""

    __tablename__ = "demand_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"), index=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"), index=True)
    # Sent before any question: held for the sender's next question.
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    file_id: Mapped[str] = mapped_column(String(300))
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DailyCounter(Base):
    """Per-day sequence behind tracking numbers (XQ20261128-0007)."""

    __tablename__ = "daily_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class LoggedUpdate(Base):
    """The durable update log: every incoming update is stored here before it is
    acknowledged to the chat server, and marked handled when its handler finishes."""

    __tablename__ = "update_log"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(index=True)
    # A poison update (its handlers kept failing for a reason that is not transient) is set
    # aside here with its error until staff replay it (`jiceng updates replay ID`).
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    failed_at: Mapped[datetime | None] = mapped_column(index=True)
    error: Mapped[str | None] = mapped_column(Text)
    # The chat (or sender) the update belongs to: with several processes, a chat's updates are
    # handled in update order whichever process received them.
    chat_key: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_update_log_chat", "chat_key", "update_id"),)


class FieldCorrection(Base):
    """A field someone corrected (a farmer picking another field, later a leader's 转派):
    the classifier folds these in when retrained."""

    __tablename__ = "field_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    from_field: Mapped[str] = mapped_column(String(40))
    to_field: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"))
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FieldModelVersion(Base):
    """A retrained field model (weights as bytes) with the accuracy it was accepted on."""

    __tablename__ = "field_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    examples: Mapped[int] = mapped_column(Integer)
    corrections: Mapped[int] = mapped_column(Integer)
    accuracy_before: Mapped[float] = mapped_column(Float)
    accuracy_after: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnowledgeEntry(Base):
    """An answered question for the similar-question search: imported by staff, or a solved
    demand its farmer agreed to share, redacted and reviewed."""

    __tablename__ = "knowledge_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    question_key: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    answer: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))
    # "published" (searchable), "review" (a farmer agreed to share; the leader or staff check the
    # redacted text first) or "withdrawn" (turned down, or its farmer asked to be forgotten).
    status: Mapped[str] = mapped_column(String(12), default="published", server_default="published")
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Subscription(Base):
    """A farmer's or enterprise's wish to receive training notices for a field and region."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("person_id", "field", "region_code", name="uq_subscription"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    field: Mapped[str] = mapped_column(String(40))          # a field code, or "*" for every field
    region_code: Mapped[str] = mapped_column(String(12))    # a region code; 430000 = the whole province
    active: Mapped[bool] = mapped_column(default=True)      # false after /unsubscribe or when the bot is blocked
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingNotice(Base):
    """培训通知: a lecture, circuit teaching or hands-on training that staff announce."""

    __tablename__ = "training_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime | None] = mapped_column()
    duration_hours: Mapped[float] = mapped_column(Float, default=0)
    place: Mapped[str] = mapped_column(String(200), default="")
    fields: Mapped[list[Any]] = mapped_column(default=list)      # target field codes; empty = every field
    regions: Mapped[list[Any]] = mapped_column(default=list)     # target region codes; empty = the whole province
    # Who else than subscribers: {"team_id": N} a service team's leader and experts, {"training_id": N}
    # the people who signed up for an earlier training. None: the subscribers of its fields and regions.
    audience: Mapped[dict[str, Any] | None] = mapped_column()
    base_id: Mapped[int | None] = mapped_column(ForeignKey("service_bases.id"))  # the 专家服务基地 hosting it
    lecturers: Mapped[list[Any] | None] = mapped_column()  # expert ids who teach it (their lecture hours)
    capacity: Mapped[int | None] = mapped_column(Integer)   # None = no limit
    signup_deadline: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class OutboxMessage(Base):
    """One message to one person on one channel: the durable outbox every send goes through.

    Written in the transaction (or the durable update) that causes it; a sender delivers rows by
    priority (0 a reply to the person's own action, 1 someone who must act, 2 reminders, 3 bulk
    notices). A notice's rows carry `notice_id` and are rendered from the notice; every other row
    carries its rendered `body` (text, buttons, media). `request_key` makes writing it again
    (a replayed update) harmless; `purpose` names what a delivery or a failure should set off."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("notice_id", "channel", "address", name="uq_outbox_recipient"),
        UniqueConstraint("request_key", name="uq_outbox_request_key"),
        Index("ix_outbox_queue", "status", "priority", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    priority: Mapped[int] = mapped_column(SmallInteger, default=3, server_default="3")
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("training_notices.id"), index=True)
    body: Mapped[dict[str, Any] | None] = mapped_column()
    purpose: Mapped[str] = mapped_column(String(80), default="", server_default="")
    request_key: Mapped[str | None] = mapped_column(String(160))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    # With several sending processes each sends the rows of its share of the shards, so that a
    # chat is always sent to by one process; `sender` names who is sending a row right now.
    shard: Mapped[int] = mapped_column(SmallInteger, default=lambda context: shard_of(
        context.get_current_parameters()["address"]), server_default="0")
    sender: Mapped[str | None] = mapped_column(String(100))


OUTBOX_SHARDS = 64


def shard_of(address: str) -> int:
    """The outbox shard of an address: the same on every process and machine."""
    return zlib.crc32(address.encode()) % OUTBOX_SHARDS


class SenderLease(Base):
    """Who may send right now: one sender at a time across processes (`outbox:<channel>`), or
    with several sending processes one row per member (`outbox:<channel>#<holder>`)."""

    __tablename__ = "sender_leases"

    name: Mapped[str] = mapped_column(String(160), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column()


class NoticeSignup(Base):
    """报名: a seat (or a place on the waiting list) at a training, and attendance afterwards."""

    __tablename__ = "notice_signups"
    __table_args__ = (UniqueConstraint("notice_id", "person_id", name="uq_signup"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("training_notices.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # "confirmed" | "waiting" | "cancelled"
    attended: Mapped[bool | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Setting(Base):
    """Small key/value facts the bot learns at run time (e.g. its own username)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class WebMessage(Base):
    """The web chat's transcript of one account (a phone number): what the bot said there and what
    the person wrote, kept so a page opened later shows everything. `rev` grows with every new
    message or edit of that account; a page asks for what changed after the rev it has seen."""

    __tablename__ = "web_messages"
    __table_args__ = (Index("ix_web_messages_address_rev", "address", "rev"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(40))
    sender: Mapped[str] = mapped_column(String(8))  # "bot" | "me"
    text: Mapped[str] = mapped_column(Text, default="")
    choices: Mapped[list[Any]] = mapped_column(default=list)  # rows of [label, button data]
    media: Mapped[str | None] = mapped_column(String(10))
    file_ref: Mapped[str | None] = mapped_column(String(300))
    rev: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsCode(Base):
    """The sign-in code last sent to a phone: only its hash is kept; it works for 5 minutes and
    5 tries, after which the phone is locked for 15 minutes."""

    __tablename__ = "sms_codes"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), default="")
    expires_at: Mapped[datetime | None] = mapped_column()
    tries: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    sent_day: Mapped[str] = mapped_column(String(10), default="")  # China date of the count below
    sent_count: Mapped[int] = mapped_column(default=0)


class WeChatPush(Base):
    """A push from WeChat, stored before it is acknowledged with "success": a re-delivery (the
    same MsgId) is recognised, and one not yet handled when the process stopped is handled after."""

    __tablename__ = "wechat_pushes"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # MsgId, or sender:time:event
    openid: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(index=True)


class WeChatWindow(Base):
    """How many 客服消息 a WeChat user may still get: WeChat allows a few (5 after a message, 3
    after a menu click or subscribe) within 48 hours of the user's last action."""

    __tablename__ = "wechat_windows"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column()
    closes_at: Mapped[datetime] = mapped_column()
    allowance: Mapped[int] = mapped_column(default=5)
    used: Mapped[int] = mapped_column(default=0)


class WeChatHeld(Base):
    """A message beyond the quota or outside the window: kept until the user writes again."""

    __tablename__ = "wechat_held"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    body: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsoleLink(Base):
    """A one-time sign-in link to the staff console, sent by the bot on /console: only its hash is
    kept; it works once, for 10 minutes."""

    __tablename__ = "console_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class AuditEntry(Base):
    """What staff did in the console: who, what, on which record, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(80), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Enterprise(Base):
    """A rural enterprise or cooperative, registered by its contact with its 统一社会信用代码."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    region_code: Mapped[str | None] = mapped_column(String(12))
    contact_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Achievement(Base):
    """技术成果转化库: a technology achievement offered for transfer, licence, contracting or
    equity (the policy's four routes), with its owner, field and stage."""

    __tablename__ = "achievements"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(200))          # an expert's name or an institution
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id"))
    field: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(40), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    routes: Mapped[list[Any]] = mapped_column(default=list)  # 技术转让 / 许可 / 技术承包 / 技术入股
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ServiceBase(Base):
    """专家服务基地: declared by a host organisation against the four conditions of the policy's
    annex (each answered with evidence), approved by staff, then reviewed (复核) from time to time."""

    __tablename__ = "service_bases"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(200))             # 依托单位
    region_code: Mapped[str | None] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(20), index=True)  # declared | approved | rectifying | revoked | rejected
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)  # condition → {"answer", "evidence": [refs]}
    rectify_by: Mapped[date | None] = mapped_column(Date)        # 限期整改: the deadline
    plans: Mapped[dict[str, Any] | None] = mapped_column()         # 年度培训方案 by year: {"2026": text}
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BaseEvent(Base):
    """Every step of a base's life: who, when, what and why (declared, approved, 复核 outcomes)."""

    __tablename__ = "base_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    base_id: Mapped[int] = mapped_column(ForeignKey("service_bases.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))   # declare | approve | reject | praise | qualify | rectify | revoke
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AchievementAgreement(Base):
    """A transfer agreement staff record for an achievement: the route and the agreed split."""

    __tablename__ = "achievement_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), index=True)
    party: Mapped[str] = mapped_column(String(200))              # who takes the achievement on
    route: Mapped[str] = mapped_column(String(20))               # 技术转让 / 许可 / 技术承包 / 技术入股 / 自行实施
    researchers_share: Mapped[float | None] = mapped_column(Float)  # % of net income to the researchers
    profit_share: Mapped[float | None] = mapped_column(Float)       # % of operating profit a year (self-implemented)
    profit_years: Mapped[int | None] = mapped_column(Integer)
    staff_share: Mapped[float | None] = mapped_column(Float)        # % to transfer staff (universities)
    signed_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExpertAssessment(Base):
    """年度考核: staff's yearly assessment of an expert, with notes."""

    __tablename__ = "expert_assessments"
    __table_args__ = (UniqueConstraint("expert_id", "year", name="uq_assessment_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(10))   # 优秀 / 合格 / 基本合格 / 不合格
    notes: Mapped[str] = mapped_column(Text, default="")
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = [
    "Base", "Person", "ChannelAccount", "PersonRole", "ServiceTeam", "Expert", "Invite", "Draft", "Demand",
    "DemandEvent", "DemandMedia", "DailyCounter", "LoggedUpdate", "FieldCorrection", "FieldModelVersion",
    "KnowledgeEntry", "Setting", "DemandAssignment", "DemandMessage", "ServiceRecord", "ScheduledJob",
    "ServiceItem", "ChatState", "Subscription", "TrainingNotice", "OutboxMessage", "SenderLease", "NoticeSignup",
    "WebMessage", "SmsCode", "WeChatPush", "WeChatWindow", "WeChatHeld", "ConsoleLink", "AuditEntry", "Enterprise",
    "Achievement", "AchievementAgreement", "ServiceBase", "BaseEvent", "ExpertAssessment", "utcnow",
]
