"""删除个人信息 (/forget, `jiceng forget`): a farmer's or an enterprise's personal data goes, their
demands stay as anonymous statistics (field, region, dates, status, ratings, service hours).

Gone: their name, region and chat accounts (a later message starts as a new person), drafts,
photos and voice notes, the words of their questions and of what they wrote to experts, the
words experts wrote back to them, subscriptions, waiting steps, messages not yet sent to them,
and knowledge entries made from their questions. The channel's raw update log forgets them when
it is pruned (3 days). Experts, leaders and staff are in directories staff keep: they are refused
here and staff correct the directory."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import WEB, WECHAT
from bot.errors import NotAllowed
from bot.services.knowledge import WITHDRAWN
from bot.services.outbox import WAITING_STATUSES
from bot.services.people import EXPERT, LEADER, STAFF, person_by_id
from bot.services.sql import rowcount
from storage.models import (
    ChannelAccount,
    ChatState,
    Demand,
    DemandMedia,
    DemandMessage,
    Draft,
    Expert,
    FieldCorrection,
    KnowledgeEntry,
    OutboxMessage,
    PersonRole,
    ServiceTeam,
    SmsCode,
    Subscription,
    WebMessage,
    WeChatHeld,
    WeChatPush,
    WeChatWindow,
    utcnow,
)

FORGOTTEN = "（提问人已要求删除个人信息）"
NOT_FOR_DIRECTORY = "专家、团长和工作人员的资料由工作人员维护，请联系工作人员修改或删除。"


@dataclass(frozen=True)
class Forgotten:
    demands: int     # kept, without their words
    messages: int    # relayed messages emptied
    media: int       # photos and voice notes deleted


async def forget(sessions: async_sessionmaker[AsyncSession], person_id: int) -> Forgotten:
    async with sessions.begin() as session:
        person = await person_by_id(session, person_id)
        directory = person.role_names & {EXPERT, LEADER, STAFF} or await _in_directory(session, person_id)
        if directory:
            raise NotAllowed(NOT_FOR_DIRECTORY)
        demands = select(Demand.id).where(Demand.submitter_id == person_id).scalar_subquery()
        drafts = select(Draft.id).where(Draft.person_id == person_id).scalar_subquery()
        media = rowcount(await session.execute(delete(DemandMedia).where(
            (DemandMedia.person_id == person_id) | DemandMedia.demand_id.in_(demands))))
        messages = rowcount(await session.execute(update(DemandMessage).where(DemandMessage.demand_id.in_(demands))
                                                  .values(text="", file_id=None)))
        await session.execute(update(FieldCorrection).where(FieldCorrection.draft_id.in_(drafts)).values(draft_id=None))
        await session.execute(update(FieldCorrection).where(FieldCorrection.demand_id.in_(demands))
                              .values(text=FORGOTTEN))
        await session.execute(update(KnowledgeEntry).where(KnowledgeEntry.demand_id.in_(demands)).values(
            status=WITHDRAWN, question="", answer="", updated_at=utcnow()))  # running bots drop it too
        await session.execute(delete(Draft).where(Draft.person_id == person_id))
        count = rowcount(await session.execute(update(Demand).where(Demand.submitter_id == person_id).values(
            text=FORGOTTEN, keywords=[], entities={})))
        await session.execute(delete(Subscription).where(Subscription.person_id == person_id))
        await session.execute(delete(ChatState).where(ChatState.person_id == person_id))
        await session.execute(delete(OutboxMessage).where(
            OutboxMessage.person_id == person_id, OutboxMessage.status.in_(WAITING_STATUSES)))
        await _forget_channel_records(session, person_id)
        await session.execute(delete(ChannelAccount).where(ChannelAccount.person_id == person_id))
        await session.execute(delete(PersonRole).where(PersonRole.person_id == person_id))
        person.display_name, person.region_code, person.privacy_agreed_at = "", None, None
        return Forgotten(count, messages, media)


# What channels keep by account (a web chat's transcript and sign-in code, WeChat's pushes, window
# and held messages): deleted with the accounts.
_BY_ACCOUNT = (
    (WEB.name, WebMessage, WebMessage.address), (WEB.name, SmsCode, SmsCode.phone),
    (WECHAT.name, WeChatPush, WeChatPush.openid), (WECHAT.name, WeChatHeld, WeChatHeld.openid),
    (WECHAT.name, WeChatWindow, WeChatWindow.openid),
)


async def _forget_channel_records(session: AsyncSession, person_id: int) -> None:
    accounts = (await session.execute(select(ChannelAccount.channel, ChannelAccount.external_id)
                                      .where(ChannelAccount.person_id == person_id))).all()
    for channel, model, column in _BY_ACCOUNT:
        ids = [external_id for name, external_id in accounts if name == channel]
        if ids:
            await session.execute(delete(model).where(column.in_(ids)))


async def _in_directory(session: AsyncSession, person_id: int) -> bool:
    expert = await session.scalar(select(Expert.id).where(Expert.person_id == person_id))
    team = await session.scalar(select(ServiceTeam.id).where(ServiceTeam.leader_id == person_id))
    return expert is not None or team is not None
