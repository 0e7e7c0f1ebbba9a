"""The app factory that `jiceng run`, `jiceng demo` and the tests all call."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes
from telegram.request import HTTPXRequest

from bot.channels import TELEGRAM
from bot.config import Settings
from bot.health import Health, HealthServer
from bot.services import retention, terms
from bot.services.bases import Bases
from bot.services.calendar import WorkCalendar
from bot.services.chat_locks import shared_locks
from bot.services.deadlines import DeadlineService
from bot.services.dispatch import DispatchService
from bot.services.expert import ExpertService
from bot.services.feedback import FeedbackService
from bot.services.intake import IntakeService
from bot.services.knowledge import KnowledgeBase
from bot.services.leader import LeaderService
from bot.services.live import REFRESH_SECONDS, LiveUnderstanding, starter_index
from bot.services.notices import NoticeService, SubscriptionService
from bot.services.outbox import Outbox
from bot.services.people import PeopleService
from bot.services.sharing import SharingReview
from bot.services.signups import SignupService
from bot.services.situation import Situations
from bot.services.states import ChatStates
from bot.services.supervision import Supervision
from bot.services.triage import TriageService
from bot.services.update_log import UpdateLog
from bot.telegram import register_all
from bot.telegram.context import JicengContext
from bot.telegram.durable import DurableBot, prune
from bot.telegram.inbound import READMIT_AFTER, ChatLanes
from bot.telegram.outbound import OutboxRunner
from bot.telegram.pacing import SendPacer
from bot.telegram.webhook import WebhookReceiver, WebhookSettings
from intents.understand import Understander
from storage.db import create_engine, session_factory
from storage.models import utcnow

log = logging.getLogger(__name__)
DEADLINE_SECONDS = 60  # how often due reminders, escalations and follow-ups are looked for
READMIT_SECONDS = 15   # how often unhandled updates nobody holds (a staff replay) are looked for
PRIVILEGED_SECONDS = 60  # how often the list of staff, leaders and experts (flood limits) is read
RETENTION_SECONDS = 6 * 3600  # drafts and old outbox rows are pruned this often (bot.services.retention)


@dataclass
class Services:
    """Everything a handler may use, built once at start-up and injected via the context."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime]
    update_log: UpdateLog
    understander: Understander
    knowledge: KnowledgeBase
    live: LiveUnderstanding
    people: PeopleService
    intake: IntakeService
    leader: LeaderService
    dispatch: DispatchService
    experts: ExpertService
    feedback: FeedbackService
    sharing: SharingReview
    triage: TriageService
    states: ChatStates
    deadlines: DeadlineService
    subscriptions: SubscriptionService
    notices: NoticeService
    signups: SignupService
    situations: Situations
    outbox: Outbox
    supervision: Supervision  # staff acting on demands from the console
    bases: Bases              # 专家服务基地
    console_url: str = ""  # where the staff console is served (its sign-in links start here)

    @classmethod
    def build(cls, settings: Settings, understander: Understander, clock: Callable[[], datetime] = utcnow) -> Services:
        engine = create_engine(settings.database_url, settings.busy_timeout_ms, settings.sqlite_connections)
        sessions = session_factory(engine)
        knowledge = KnowledgeBase(starter_index(understander))
        policy = settings.deadline_policy()
        deadlines = DeadlineService(sessions, WorkCalendar.load(settings.calendar_path), policy, clock)
        hooks = deadlines  # deadlines are set and reminders scheduled as demands move
        outbox = Outbox(sessions, clock)
        return cls(
            engine=engine,
            sessions=sessions,
            clock=clock,
            update_log=UpdateLog(sessions),
            understander=understander,
            knowledge=knowledge,
            live=LiveUnderstanding(sessions, understander, knowledge),
            people=PeopleService(sessions),
            intake=IntakeService(sessions, understander, knowledge, clock, hooks),
            leader=LeaderService(sessions, clock, hooks),
            dispatch=DispatchService(sessions, clock, hooks),
            experts=ExpertService(sessions, clock, hooks),
            feedback=FeedbackService(sessions, clock, hooks),
            sharing=SharingReview(sessions),
            triage=TriageService(sessions, clock, hooks),
            states=ChatStates(sessions),
            situations=Situations(sessions, clock),
            outbox=outbox,
            deadlines=deadlines,
            subscriptions=SubscriptionService(sessions),
            notices=NoticeService(sessions, clock),
            signups=SignupService(sessions, clock, policy.quiet),
            supervision=Supervision(sessions, outbox, clock, hooks),
            bases=Bases(sessions, clock),
            console_url=settings.console_url,
        )


def build_application(
    settings: Settings,
    *,
    understander: Understander | None = None,
    clock: Callable[[], datetime] = utcnow,
    webhook: WebhookSettings | None = None,
) -> Application:
    """A python-telegram-bot Application wired to our services. The understander (jieba and
    the classifier) is built here, before polling starts, never on the first message.

    With `webhook`, updates come by HTTP instead of polling; on PostgreSQL several such
    processes may share the database (chats are then held by one process at a time)."""
    understander = understander or Understander()
    services = Services.build(settings, understander, clock)
    privileged: set[str] = set()  # Telegram user ids, as their accounts carry them
    chat_locks = shared_locks(settings.database_url, settings.concurrency) if webhook is not None else None
    lanes = ChatLanes(
        services.update_log, clock, flood=settings.flood_guard(lambda user_id: str(user_id) in privileged),
        concurrency=settings.concurrency, max_pending=settings.max_pending,
        poison_attempts=settings.poison_attempts, chat_locks=chat_locks,
    )
    receiver: list[WebhookReceiver] = []
    pace = settings.pace()
    keep = settings.retention()
    pacer = SendPacer(pace, mode=settings.send_pacing)
    outbound = OutboxRunner(services, settings, pace, shared=chat_locks is not None)
    health_server: list[HealthServer] = []

    async def refresh_privileged() -> None:
        privileged.clear()
        privileged.update(await services.people.privileged(TELEGRAM.name))

    async def post_init(application: Application) -> None:
        from bot.telegram.startup import announce

        await announce(application, services)
        await prune(services.update_log, clock(), keep.updates)
        await refresh_privileged()
        await lanes.readmit()  # what a crash or a stop left unhandled, in order
        gc.freeze()  # everything built so far lives as long as the bot: keep it out of collections
        if webhook is not None:
            receiver.append(WebhookReceiver(application, lanes, webhook))
            await receiver[0].start()
        if settings.health_port:
            server = HealthServer(Health(application, lanes, pacer, settings.poll_timeout, outbound=outbound,
                                         webhook=receiver if webhook is not None else None),
                                  settings.health_host, settings.health_port)
            await server.start()
            health_server.append(server)
        outbound.start(application)  # this process's sender of the bot token's outbox
        await services.deadlines.run_due(services.outbox)  # catch up on what fell due while the bot was down
        if application.job_queue is not None:
            # The knowledge base is loaded once the bot runs, off the event loop (see LiveUnderstanding).
            application.job_queue.run_once(lambda _context: services.live.refresh(), when=0, name="load-knowledge-base")
            application.job_queue.run_repeating(
                lambda _context: prune(services.update_log, clock(), keep.updates), interval=3600, first=3600, name="prune-update-log"
            )
            application.job_queue.run_repeating(
                lambda _context: retention.prune(services.sessions, clock(), keep), interval=RETENTION_SECONDS, first=60,
                name="retention",
            )
            application.job_queue.run_repeating(
                lambda _context: services.live.refresh(), interval=REFRESH_SECONDS, first=REFRESH_SECONDS,
                name="refresh-understanding",
            )
            application.job_queue.run_repeating(
                lambda _context: terms.remind(services.sessions, services.outbox, clock()), interval=3600, first=120,
                name="expert-terms",
            )
            application.job_queue.run_repeating(
                lambda _context: services.deadlines.run_due(services.outbox), interval=DEADLINE_SECONDS, first=DEADLINE_SECONDS,
                name="deadlines",
            )
            application.job_queue.run_repeating(
                lambda _context: lanes.readmit(received_before=clock() - READMIT_AFTER),
                interval=READMIT_SECONDS, first=READMIT_SECONDS, name="readmit-unhandled",
            )
            application.job_queue.run_repeating(
                lambda _context: refresh_privileged(), interval=PRIVILEGED_SECONDS, first=PRIVILEGED_SECONDS,
                name="refresh-privileged",
            )

    async def post_stop(application: Application) -> None:
        for server in receiver:
            await server.stop()  # take no more; Telegram keeps what it could not deliver
        await lanes.drain()  # SIGTERM: finish what was fetched, write its marks
        await outbound.stop()  # what is left waits in the outbox for the next start
        for server in health_server:
            await server.stop()

    async def post_shutdown(application: Application) -> None:
        if chat_locks is not None:
            await chat_locks.close()
        await services.engine.dispose()

    bot = DurableBot(
        token=settings.bot_token,
        base_url=settings.api_url,
        base_file_url=settings.effective_file_api_url,
        request=HTTPXRequest(connection_pool_size=max(8, settings.concurrency)),
        get_updates_request=HTTPXRequest(read_timeout=settings.poll_timeout + 10),
        rate_limiter=pacer,
        update_log=services.update_log,
        lanes=lanes,
        clock=clock,
    )
    builder = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(lanes)
        .context_types(ContextTypes(context=JicengContext))
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    application = builder.build()
    lanes.attach(application)
    application.bot_data["services"] = services
    register_all(application)
    return application


async def start(application: Application) -> None:
    """What run_polling does before it polls, for callers that own the event loop (the tests,
    the demo, `jiceng run --webhook`): initialise, run post_init (in webhook mode it starts the
    webhook's server and tells Telegram its URL), start handling."""
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.start()


async def start_polling(application: Application, poll_timeout: int = 10) -> None:
    await start(application)
    await application.updater.start_polling(poll_interval=0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES)


async def stop(application: Application) -> None:
    """Stop polling if it runs, then the application (post_stop, post_shutdown)."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
        if application.post_stop:
            await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown:
        await application.post_shutdown(application)


stop_polling = stop  # the name the tests and the demo know
