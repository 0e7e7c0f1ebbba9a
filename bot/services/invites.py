"""One-time invites for team leaders and experts: made by staff, valid 7 days, single use,
revocable; and joining by an invite or by a proven phone number.

An invite that would take over — replace a team's current leader, or move an expert to another
account — does nothing until staff confirm it (`decide`); the person who would be replaced hears
of the attempt at once and of the decision after."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict, NotAllowed, NotFound
from bot.services.directory import (
    ACCOUNT_BOUND_ELSEWHERE,
    NO_SUCH_TEAM,
    bind_expert,
    find_expert,
    labelled,
    normalize_phone,
    set_leader,
)
from bot.services.people import EXPERT, LEADER, STAFF, person_by_id, staff_ids
from bot.services.sql import rowcount
from storage.models import Expert, Invite, Person, ServiceTeam, utcnow

log = logging.getLogger(__name__)

KINDS = (LEADER, EXPERT)
DAYS = 7  # an invite works this long
PENDING, CONFIRMED, REFUSED = "pending", "confirmed", "refused"
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")

UNKNOWN = "这个邀请链接无效，请向工作人员重新获取。"
EXPIRED = "这个邀请链接已经过期或被收回了，请向工作人员重新获取。"
NO_SUCH_INVITE = "没有这个邀请码（可以只写开头几位）：{code}"
USED = "这个邀请链接已经被使用过了，每个链接只能用一次；请向工作人员重新获取。"
TARGET_GONE = "邀请对应的服务团或专家已不存在，请向工作人员重新获取邀请。"
PHONE_BOUND_ELSEWHERE = "这个手机号对应的专家已绑定了另一个账号；如需更换，请联系工作人员。"
LEADER_JOINED = "您已作为「{team}」团长加入。"
LEADER_ALREADY = "您已经是「{team}」团长了。"
EXPERT_JOINED = "{name}您好，您已作为专家加入{team}。"
EXPERT_ALREADY = "{name}您好，您已经作为专家加入{team}了。"
# Taking over: what the newcomer, staff and the person who would be replaced are told.
WAITING = "「{target}」已经有{role}（{current}）。换成您需要工作人员确认，确认后会通知您。"
REFUSED_NEWCOMER = "工作人员没有确认您成为「{target}」的{role}。如有疑问请联系工作人员。"
ASK_STAFF = ("{newcomer} 用邀请链接申请成为「{target}」的{role}，将替换现在的 {current}。"
             "请确认是本人、且确实要更换后再点“确认更换”。")
WARN_CURRENT = ("有人用邀请链接申请接替您成为「{target}」的{role}，需要工作人员确认。"
                "如果不是您知道的安排，请尽快联系工作人员。")
REPLACED = "工作人员已确认由 {newcomer} 接替您成为「{target}」的{role}；您不再担任。如有疑问请联系工作人员。"
KEPT = "工作人员没有同意这次更换，您仍是「{target}」的{role}。"
NOT_STAFF = "只有工作人员可以确认更换团长或专家账号。"
ROLE_NAMES = {LEADER: "团长", EXPERT: "专家账号"}


@dataclass(frozen=True)
class Takeover:
    """An opened invite that would replace a team's leader or move an expert's account."""

    code: str
    kind: str
    target: str          # the team's name, or the expert's
    newcomer_id: int
    newcomer_name: str
    current_id: int      # who would be replaced
    current_name: str
    staff: tuple[int, ...]

    @property
    def role(self) -> str:
        return ROLE_NAMES[self.kind]


@dataclass(frozen=True)
class JoinResult:
    kind: str  # "leader" | "expert"
    name: str  # the team's name for a leader, the expert's name for an expert
    message: str  # what to tell the person who joined
    person_id: int
    team_name: str | None = None
    already_joined: bool = False
    takeover: Takeover | None = None  # nothing changed yet: staff decide


@dataclass(frozen=True)
class Decision:
    takeover: Takeover
    confirmed: bool
    first: bool  # False: decided before (a second press); nobody needs telling again

    @property
    def to_newcomer(self) -> str:
        t = self.takeover
        if self.confirmed:
            return (LEADER_JOINED.format(team=t.target) if t.kind == LEADER
                    else EXPERT_JOINED.format(name=t.target, team=""))
        return REFUSED_NEWCOMER.format(target=t.target, role=t.role)

    @property
    def to_current(self) -> str:
        t = self.takeover
        template = REPLACED if self.confirmed else KEPT
        return template.format(newcomer=t.newcomer_name, target=t.target, role=t.role)


def valid_code(code: str) -> bool:
    return bool(_CODE.fullmatch(code))


async def create(sessions: async_sessionmaker[AsyncSession], kind: str, target_name: str, *,
                 days: float = DAYS, now: datetime | None = None) -> str:
    """A one-time join code for a team's leader (target: the team's name) or an expert
    (target: 姓名, 姓名@工作单位 or #编号), valid for `days`."""
    if kind not in KINDS:
        raise ValueError(f"invite kind must be one of {KINDS}, not {kind!r}")
    issued = now or utcnow()
    invite = Invite(code=_new_code(), kind=kind, created_at=issued,
                    expires_at=issued + timedelta(days=days))
    async with sessions.begin() as session:
        if kind == LEADER:
            team = await session.scalar(select(ServiceTeam).where(ServiceTeam.name == target_name.strip()))
            if team is None:
                raise NotFound(NO_SUCH_TEAM.format(name=target_name.strip()))
            invite.team_id = team.id
        else:
            invite.expert_id = (await find_expert(session, target_name)).id
        session.add(invite)
    return invite.code


def _new_code() -> str:
    """16 random bytes as 22 characters of [A-Za-z0-9_-], never starting with "-" (which a
    command line would read as an option: `jiceng invite revoke -x…`)."""
    while True:
        code = secrets.token_urlsafe(16)
        if code[0] != "-":
            return code


async def redeem(sessions: async_sessionmaker[AsyncSession], code: str, person_id: int, *,
                 now: datetime | None = None) -> JoinResult:
    """Bind the person who opened an invite. Each code works once: of any number
    of concurrent redeemers exactly one wins (the claim is a conditional UPDATE); the same
    person opening their own used link again is told where they stand."""
    if not valid_code(code):
        raise NotFound(UNKNOWN)
    async with sessions.begin() as session:
        person = await person_by_id(session, person_id)
        moment = now or utcnow()
        claim = await session.execute(
            update(Invite)
            .where(Invite.code == code, Invite.used_at.is_(None), Invite.revoked_at.is_(None),
                   (Invite.expires_at.is_(None)) | (Invite.expires_at > moment))
            .values(used_at=moment, used_by_id=person.id)
            .execution_options(synchronize_session=False)
        )
        invite = await session.get(Invite, code)
        if invite is None:
            raise NotFound(UNKNOWN)
        if rowcount(claim) != 1:
            if invite.used_at is None:  # expired or revoked, never used
                raise NotFound(EXPIRED)
            if invite.used_by_id != person.id:
                raise Conflict(USED)
            return await _join(session, invite, person, already=True)
        return await _join(session, invite, person, already=False)


async def _join(session: AsyncSession, invite: Invite, person: Person, *, already: bool) -> JoinResult:
    team, expert = await _target_of(session, invite)
    target, current = (team.name, team.leader_id) if team else (expert.name, expert.person_id) if expert else ("", None)
    if expert is not None and invite.confirmation != CONFIRMED:
        other = await session.scalar(select(Expert).where(Expert.person_id == person.id, Expert.id != expert.id))
        if other is not None:
            raise Conflict(ACCOUNT_BOUND_ELSEWHERE.format(expert=other.name, other=expert.name))
    if invite.confirmation in (PENDING, REFUSED):  # opened again while (or after) staff decide
        takeover = await _takeover(session, invite)
        message = (WAITING.format(target=target, role=takeover.role, current=takeover.current_name)
                   if invite.confirmation == PENDING else Decision(takeover, False, False).to_newcomer)
        return JoinResult(invite.kind, target, message, person.id, already_joined=True)
    if not already and current is not None and current != person.id:
        invite.confirmation = PENDING  # a takeover: nothing changes until staff confirm
        takeover = await _takeover(session, invite)
        message = WAITING.format(target=target, role=takeover.role, current=takeover.current_name)
        return JoinResult(invite.kind, target, message, person.id, takeover=takeover)
    if team is not None:
        if not already:
            await set_leader(session, team, person)
        template = LEADER_ALREADY if already else LEADER_JOINED
        return JoinResult(LEADER, team.name, template.format(team=team.name), person.id, team.name, already)
    assert expert is not None
    if not already:
        await bind_expert(session, expert, person)
    return await _expert_joined(session, expert, person, already=already)


async def _target_of(session: AsyncSession, invite: Invite) -> tuple[ServiceTeam | None, Expert | None]:
    """The team (a leader's invite) or the expert (an expert's) the invite is for."""
    if invite.kind == LEADER:
        team = await session.get(ServiceTeam, invite.team_id) if invite.team_id else None
        if team is None:
            raise NotFound(TARGET_GONE)
        return team, None
    expert = await session.get(Expert, invite.expert_id) if invite.expert_id else None
    if expert is None:
        raise NotFound(TARGET_GONE)
    return None, expert


async def _takeover(session: AsyncSession, invite: Invite) -> Takeover:
    """Who would replace whom; the current holder is read now (they may have changed since)."""
    if invite.kind == LEADER:
        team = await session.get(ServiceTeam, invite.team_id)
        target, current_id = (team.name, team.leader_id) if team else ("?", None)
    else:
        expert = await session.get(Expert, invite.expert_id)
        target, current_id = (expert.name, expert.person_id) if expert else ("?", None)
    newcomer = await session.get(Person, invite.used_by_id)
    current = await session.get(Person, current_id) if current_id is not None else None
    return Takeover(invite.code, invite.kind, target, invite.used_by_id or 0,
                    (newcomer.display_name if newcomer else "") or "新用户", current_id or 0,
                    (current.display_name if current else "") or "现任", tuple(await staff_ids(session)))


async def decide(sessions: async_sessionmaker[AsyncSession], code_prefix: str, confirm: bool,
                 staff_id: int | None = None) -> Decision:
    """Staff confirm (确认更换) or refuse a takeover; in chat `staff_id` is checked, on the command
    line the operator is staff. The first decision stands."""
    async with sessions.begin() as session:
        if staff_id is not None and STAFF not in (await person_by_id(session, staff_id)).role_names:
            raise NotAllowed(NOT_STAFF)
        invite = await _by_prefix(session, code_prefix)
        if invite.confirmation not in (PENDING, CONFIRMED, REFUSED):
            raise NotFound(NO_SUCH_INVITE.format(code=code_prefix))
        takeover = await _takeover(session, invite)
        if invite.confirmation != PENDING:
            return Decision(takeover, invite.confirmation == CONFIRMED, first=False)
        newcomer = await person_by_id(session, takeover.newcomer_id)
        if confirm:
            team, expert = await _target_of(session, invite)
            if team is not None:
                await set_leader(session, team, newcomer)
            elif expert is not None:
                await bind_expert(session, expert, newcomer)
        invite.confirmation = CONFIRMED if confirm else REFUSED
        return Decision(takeover, confirm, first=True)


async def _expert_joined(session: AsyncSession, expert: Expert, person: Person, *, already: bool) -> JoinResult:
    team = await session.get(ServiceTeam, expert.team_id) if expert.team_id else None
    template = EXPERT_ALREADY if already else EXPERT_JOINED
    message = template.format(name=expert.name, team=f"「{team.name}」" if team else "")
    return JoinResult(EXPERT, expert.name, message, person.id, team.name if team else None, already)


async def bind_by_phone(sessions: async_sessionmaker[AsyncSession], person_id: int, phone: str) -> JoinResult | None:
    """Join as the imported expert whose 手机 is this number; None if no expert has it.

    The channel must pass only a number the person proved is theirs (a contact they shared of
    themselves, a code sent to it), since the number is the proof of identity. An expert already
    bound to another account is not moved (staff do that, by an invite they confirm).
    """
    number = normalize_phone(phone)
    if number is None:
        return None
    async with sessions.begin() as session:
        experts = list(await session.scalars(select(Expert).where(Expert.phone == number)))
        if len(experts) != 1:
            if experts:  # imports refuse shared numbers; older data might still have them
                log.warning("phone shared by experts %s", [e.id for e in experts])
            return None
        expert = experts[0]
        person = await person_by_id(session, person_id)
        if expert.person_id == person.id:
            return await _expert_joined(session, expert, person, already=True)
        if expert.person_id is not None:
            raise Conflict(PHONE_BOUND_ELSEWHERE)
        await bind_expert(session, expert, person)
        return await _expert_joined(session, expert, person, already=False)


@dataclass(frozen=True)
class InviteInfo:
    code: str
    kind: str
    target: str
    created_at: datetime
    expires_at: datetime | None
    state: str  # "open" | "used" | "expired" | "revoked" | "pending" | "refused"


async def list_all(sessions: async_sessionmaker[AsyncSession], now: datetime | None = None) -> list[InviteInfo]:
    """`jiceng invite list`: every invite, the newest first, with what became of it."""
    moment = now or utcnow()
    async with sessions() as session:
        invites = (await session.scalars(select(Invite).order_by(Invite.created_at.desc()))).all()
        found = []
        for invite in invites:
            if invite.team_id is not None:
                team = await session.get(ServiceTeam, invite.team_id)
                target = team.name if team else "?"
            else:
                expert = await session.get(Expert, invite.expert_id) if invite.expert_id else None
                target = labelled(expert.name, expert.employer) if expert else "?"
            state = (invite.confirmation if invite.confirmation in (PENDING, REFUSED)
                     else "used" if invite.used_at else "revoked" if invite.revoked_at
                     else "expired" if invite.expires_at is not None and invite.expires_at <= moment else "open")
            found.append(InviteInfo(invite.code, invite.kind, target, invite.created_at, invite.expires_at, state))
        return found


async def revoke(sessions: async_sessionmaker[AsyncSession], code_prefix: str,
                 now: datetime | None = None) -> InviteInfo:
    """`jiceng invite revoke CODE`: an unused invite stops working (a prefix of the code will do
    when it names one invite)."""
    async with sessions.begin() as session:
        invite = await _by_prefix(session, code_prefix)
        if invite.used_at is None and invite.revoked_at is None:
            invite.revoked_at = now or utcnow()
    return next(i for i in await list_all(sessions, now) if i.code == invite.code)


async def _by_prefix(session: AsyncSession, code_prefix: str) -> Invite:
    prefix = code_prefix.strip()
    matches = (await session.scalars(select(Invite).where(Invite.code.startswith(prefix, autoescape=True))
                                     .limit(2))).all() if len(prefix) >= 4 else []
    if len(matches) != 1:
        raise NotFound(NO_SUCH_INVITE.format(code=prefix))
    return matches[0]
