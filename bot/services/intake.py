"""Intake: a farmer's question becomes a draft (what the bot understood), then, on 提交,
a demand with a tracking number routed to a service team's queue or to staff triage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import messages
from bot.clock import CHINA_TIME
from bot.errors import Conflict, NotFound
from bot.services import lifecycle
from bot.services.hooks import LoopHooks
from bot.services.knowledge import KnowledgeBase
from bot.services.learning import record_draft_correction
from bot.services.outbox import ACTION, Outbox, Outgoing
from bot.services.people import ENTERPRISE, FARMER, grant_role, person_by_id, staff_ids
from bot.services.routing import choose_team
from bot.services.sql import rowcount
from intents import regions, taxonomy
from intents.similar import SimilarHit
from intents.understand import LOW_CONFIDENCE, Understander, is_close_call
from storage.models import DailyCounter, Demand, DemandEvent, DemandMedia, Draft, OutboxMessage, Person, ServiceTeam

if TYPE_CHECKING:
    from bot.services.sender import Row

MAX_QUESTION_CHARS = 4000
MEDIA_ATTACH_WINDOW = timedelta(minutes=30)
DRAFT_OPEN_WINDOW = timedelta(hours=24)

DRAFT_OPEN, DRAFT_SUBMITTED, DRAFT_CANCELLED = "open", "submitted", "cancelled"


class AlreadySubmitted(Conflict):
    def __init__(self, tracking_no: str | None) -> None:
        super().__init__(f"这个问题已经提交过了，编号 {tracking_no}。" if tracking_no else "这个问题已经提交或取消了。")


@dataclass(frozen=True)
class DraftView:
    draft: Draft
    needs_field: bool  # confidence too low: ask the farmer to choose the field
    region_known: bool
    similar: tuple[SimilarHit, ...] = ()  # answered questions that may already help


@dataclass(frozen=True)
class Submission:
    demand: Demand
    team: ServiceTeam | None
    leader_id: int | None
    staff_ids: list[int]
    media: list[DemandMedia]
    submitter: Person


@dataclass(frozen=True)
class Attachment:
    kind: str                    # "draft", "demand" or "held"
    draft: Draft | None = None
    demand: Demand | None = None
    recipients: tuple[int, ...] = ()  # who handles the demand now and should see the file


class IntakeService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        understander: Understander,
        knowledge: KnowledgeBase,
        clock: Callable[[], datetime],
        hooks: LoopHooks | None = None,
    ) -> None:
        self._sessions = sessions
        self._understander = understander
        self._knowledge = knowledge
        self._clock = clock
        self._hooks = hooks or LoopHooks()

    async def new_question(
        self,
        person_id: int,
        text: str,
        request_key: str | None = None,
        *,
        preset_field: str | None = None,
        preset_team_id: int | None = None,
        service_item: dict[str, Any] | None = None,
    ) -> DraftView:
        """A draft of the farmer's question. A question asked about a listed service (技术服务清单)
        comes with its field and team preset: the field is taken as given, and the team is kept
        in entities["service_item"] (with `service_item`'s item_id, title, team) for submit()."""
        text = text.strip()
        understanding = self._understander.understand(text)
        place = regions.find_in_text(text)
        now = self._clock()
        async with self._sessions.begin() as session:
            if request_key and (seen := await _by_key(session, Draft, request_key)):
                return self._view(seen)
            person = await person_by_id(session, person_id)
            if not person.role_names & {FARMER, ENTERPRISE}:
                grant_role(person, FARMER)
            entities = {**understanding.entities.as_dict(), "corrections": [list(c) for c in understanding.corrections]}
            if preset_team_id is not None:
                entities["service_item"] = {**(service_item or {}), "team_id": preset_team_id}
            preset = preset_field if preset_field and taxonomy.is_field(preset_field) else None
            draft = Draft(
                person_id=person.id,
                text=text,
                field=preset or understanding.field,
                confidence=1.0 if preset else understanding.confidence,
                top_fields=[[code, round(p, 4)] for code, p in understanding.top3],
                keywords=list(understanding.keywords),
                entities=entities,
                urgent=understanding.entities.urgent,
                region_code=place.code if place else person.region_code,
                status=DRAFT_OPEN,
                request_key=request_key,
                created_at=now,
            )
            session.add(draft)
            await session.flush()
            # Photos or voice notes sent just before the question belong to it.
            await session.execute(
                update(DemandMedia)
                .where(
                    DemandMedia.person_id == person.id,
                    DemandMedia.draft_id.is_(None),
                    DemandMedia.demand_id.is_(None),
                    DemandMedia.created_at >= now - MEDIA_ATTACH_WINDOW,
                )
                .values(draft_id=draft.id)
            )
        return self._view(draft)

    async def choose_field(self, draft_id: int, person_id: int, field: str) -> DraftView:
        if not taxonomy.is_field(field):
            raise NotFound("没有这个领域，请重新选择。")
        async with self._sessions.begin() as session:
            draft = await self._open_draft(session, draft_id, person_id)
            predicted = draft.top_fields[0][0] if draft.top_fields else draft.field
            await record_draft_correction(session, draft, predicted, field, draft.person_id)
            draft.field = field
            draft.confidence = 1.0
        return self._view(draft)

    async def choose_region(self, draft_id: int, person_id: int, region_code: str) -> DraftView:
        if regions.get(region_code) is None:
            raise NotFound("没有这个地区，请重新选择。")
        async with self._sessions.begin() as session:
            draft = await self._open_draft(session, draft_id, person_id)
            draft.region_code = region_code
            person = await person_by_id(session, draft.person_id)
            if person.region_code is None:
                person.region_code = region_code
        return self._view(draft)

    async def get_draft(self, draft_id: int, person_id: int) -> DraftView:
        async with self._sessions() as session:
            draft = await self._open_draft(session, draft_id, person_id)
        return self._view(draft)

    async def cancel_draft(self, draft_id: int, person_id: int) -> None:
        async with self._sessions.begin() as session:
            draft = await self._owned_draft(session, draft_id, person_id)
            if draft.status != DRAFT_CANCELLED:
                await self._close_draft(session, draft, DRAFT_CANCELLED)

    async def submit(self, draft_id: int, person_id: int, request_key: str | None = None) -> Submission:
        """提交. The same request replayed (after a crash) gets the same submission back,
        so its notifications can be sent again; any other second tap is refused."""
        now = self._clock()
        async with self._sessions.begin() as session:
            draft = await self._owned_draft(session, draft_id, person_id)
            if request_key and (seen := await _by_key(session, Demand, request_key)):
                return await _submission(session, seen)
            await self._close_draft(session, draft, DRAFT_SUBMITTED)
            submitter = await person_by_id(session, draft.person_id)
            if submitter.region_code is None and draft.region_code is not None:
                submitter.region_code = draft.region_code  # the place named in the question
            team = await _preset_team(session, draft)
            if team is None:
                teams = (await session.scalars(select(ServiceTeam).order_by(ServiceTeam.id))).all()
                team = choose_team(teams, draft.field, draft.region_code)
            status = lifecycle.WAITING if team else lifecycle.TRIAGE
            demand = Demand(
                tracking_no=await _next_tracking_no(session, now),
                text=draft.text,
                submitter_id=submitter.id,
                region_code=draft.region_code,
                field=draft.field,
                confidence=draft.confidence,
                keywords=draft.keywords,
                entities=draft.entities,
                urgent=draft.urgent,
                status=status,
                team_id=team.id if team else None,
                request_key=request_key,
                created_at=now,
                updated_at=now,
            )
            await _as_enterprise(session, submitter.id, demand)
            session.add(demand)
            await session.flush()
            draft.demand_id = demand.id
            session.add(
                DemandEvent(
                    demand_id=demand.id, from_status=lifecycle.SUBMITTED, to_status=status,
                    actor_id=submitter.id, note="提交", created_at=now, request_key=request_key,
                )
            )
            await session.execute(
                update(DemandMedia).where(DemandMedia.draft_id == draft.id).values(demand_id=demand.id)
            )
            if team is not None:
                await self._hooks.routed(session, demand)
            return await _submission(session, demand)

    async def attach_media(
        self, person_id: int, kind: str, file_id: str, request_key: str | None = None
    ) -> Attachment:
        """A photo or voice note without caption joins the question being composed, else
        the sender's latest demand from the last 30 minutes, else waits for the next question."""
        now = self._clock()
        async with self._sessions.begin() as session:
            if request_key and (seen := await _by_key(session, DemandMedia, request_key)):
                return await _attachment(session, seen)
            person = await person_by_id(session, person_id)
            media = DemandMedia(person_id=person.id, kind=kind, file_id=file_id, created_at=now, request_key=request_key)
            draft = await session.scalar(
                select(Draft)
                .where(Draft.person_id == person.id, Draft.status == DRAFT_OPEN,
                       Draft.created_at >= now - DRAFT_OPEN_WINDOW)
                .order_by(Draft.id.desc()).limit(1)
            )
            if draft is not None:
                media.draft_id = draft.id
                session.add(media)
                return Attachment("draft", draft=draft)
            demand = await session.scalar(
                select(Demand)
                .where(Demand.submitter_id == person.id, Demand.created_at >= now - MEDIA_ATTACH_WINDOW,
                       Demand.status != lifecycle.CANCELLED)
                .order_by(Demand.id.desc()).limit(1)
            )
            if demand is None:
                session.add(media)
                return Attachment("held")
            media.demand_id = demand.id
            session.add(media)
            return Attachment("demand", demand=demand, recipients=tuple(await _handlers_of(session, demand)))

    async def my_demands(self, person_id: int, offset: int, limit: int) -> tuple[list[Demand], int]:
        async with self._sessions() as session:
            where = Demand.submitter_id == person_id
            total = await session.scalar(select(func.count()).select_from(Demand).where(where))
            rows = await session.scalars(
                select(Demand).where(where).order_by(Demand.id.desc()).offset(offset).limit(limit)
            )
            return list(rows), total or 0

    def _view(self, draft: Draft) -> DraftView:
        similar = self._knowledge.search(draft.text, k=3, field=draft.field)
        return DraftView(draft, _unsure(draft), draft.region_code is not None, tuple(similar))

    async def _owned_draft(self, session: AsyncSession, draft_id: int, person_id: int) -> Draft:
        draft = await session.get(Draft, draft_id)
        if draft is None or draft.person_id != person_id:
            raise NotFound("这个问题已经失效了，请重新发送您的问题。")
        return draft

    async def _open_draft(self, session: AsyncSession, draft_id: int, person_id: int) -> Draft:
        draft = await self._owned_draft(session, draft_id, person_id)
        if draft.status != DRAFT_OPEN:
            raise AlreadySubmitted(await _tracking_no(session, draft))
        return draft

    async def _close_draft(self, session: AsyncSession, draft: Draft, status: str) -> None:
        # Conditional on the draft still being open, so a second tap changes nothing.
        result = await session.execute(
            update(Draft).where(Draft.id == draft.id, Draft.status == DRAFT_OPEN).values(status=status)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            await session.refresh(draft)
            raise AlreadySubmitted(await _tracking_no(session, draft))
        draft.status = status


def _unsure(draft: Draft) -> bool:
    """Ask the farmer for the field when the classifier is unsure, torn between two fields or
    found nothing to go on;
    a field the farmer picked (confidence 1.0) is never asked again."""
    if draft.confidence >= 1.0:
        return False
    top = [(str(code), float(p)) for code, p in (draft.top_fields or [])]
    return draft.confidence < LOW_CONFIDENCE or draft.field == taxonomy.OTHER or is_close_call(top)


async def _as_enterprise(session: AsyncSession, person_id: int, demand: Demand) -> None:
    """An enterprise's contact asks as the enterprise (whose registered region stands in for a
    region the question does not name)."""
    from bot.services.enterprises import of_contact

    enterprise = await of_contact(session, person_id)
    if enterprise is not None:
        demand.enterprise_id = enterprise.id
        demand.region_code = demand.region_code or enterprise.region_code


async def _preset_team(session: AsyncSession, draft: Draft) -> ServiceTeam | None:
    """The team whose listed service the question was asked about, if it still exists."""
    team_id = ((draft.entities or {}).get("service_item") or {}).get("team_id")
    return await session.get(ServiceTeam, team_id) if isinstance(team_id, int) else None


async def _tracking_no(session: AsyncSession, draft: Draft) -> str | None:
    if draft.demand_id is None:
        return None
    return await session.scalar(select(Demand.tracking_no).where(Demand.id == draft.demand_id))


async def _next_tracking_no(session: AsyncSession, now: datetime) -> str:
    """XQ + the China-time date + a per-day sequence, e.g. XQ20261128-0007."""
    day = now.astimezone(CHINA_TIME).strftime("%Y%m%d")
    bump = update(DailyCounter).where(DailyCounter.day == day).values(last=DailyCounter.last + 1)
    if rowcount(await session.execute(bump)) == 0:
        try:
            async with session.begin_nested():
                session.add(DailyCounter(day=day, last=1))
        except IntegrityError:  # another transaction created today's counter first
            await session.execute(bump)
    last = await session.scalar(select(DailyCounter.last).where(DailyCounter.day == day))
    return f"XQ{day}-{last:04d}"


_Keyed = TypeVar("_Keyed", Draft, Demand, DemandMedia)


async def _by_key(session: AsyncSession, model: type[_Keyed], request_key: str) -> _Keyed | None:
    return await session.scalar(select(model).where(model.request_key == request_key))


async def _submission(session: AsyncSession, demand: Demand) -> Submission:
    team = await session.get(ServiceTeam, demand.team_id) if demand.team_id else None
    media = await session.scalars(
        select(DemandMedia).where(DemandMedia.demand_id == demand.id).order_by(DemandMedia.id)
    )
    return Submission(
        demand, team, team.leader_id if team else None, await staff_ids(session),
        list(media), await person_by_id(session, demand.submitter_id),
    )


async def _attachment(session: AsyncSession, media: DemandMedia) -> Attachment:
    if media.demand_id is not None:
        demand = await session.get(Demand, media.demand_id)
        assert demand is not None  # media.demand_id is a foreign key
        return Attachment("demand", demand=demand, recipients=tuple(await _handlers_of(session, demand)))
    if media.draft_id is not None:
        return Attachment("draft", draft=await session.get(Draft, media.draft_id))
    return Attachment("held")


async def _handlers_of(session: AsyncSession, demand: Demand) -> list[int]:
    """Who works on a demand now: the accepting leader, else the team's leader, else staff."""
    if demand.accepted_by_id is not None:
        return [demand.accepted_by_id]
    if demand.team_id is not None:
        team = await session.get(ServiceTeam, demand.team_id)
        if team is not None and team.leader_id is not None:
            return [team.leader_id]
    return await staff_ids(session)


NEW_DEMAND_PURPOSE = "new_demand"  # the outbox row telling a leader of a new demand <id>


async def leader_unreachable(outbox: Outbox, session: AsyncSession, row: Row, message_id: int | None) -> None:
    """Failure effect of a new-demand notification (see bot.services.sender.Effects): the
    leader blocked the bot or cannot be reached, so the demand goes in front of staff."""
    demand = await session.get(Demand, int(row.argument)) if row.argument.isdigit() else None
    if demand is None:
        return
    status = await session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == row.id))
    assert status is not None  # the effect runs in the transaction recording this row's outcome
    text = messages.LEADER_UNREACHABLE.format(
        no=demand.tracking_no, reason=messages.UNREACHABLE_REASONS.get(status, status), text=demand.text)
    for staff_id in await staff_ids(session):
        await outbox.put(session, staff_id, Outgoing(text), ACTION, purpose=f"leader_unreachable:{demand.id}",
                         request_key=f"leader_unreachable:{row.id}:{staff_id}")
