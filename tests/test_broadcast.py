"""The notice broadcast: pacing against a rate-limited stand-in, 429s, blocked users,
retries, resuming after a crash, the sender lease, recipients and notice files."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.errors import ImportFileError
from bot.services import broadcast
from bot.services.notice_files import read_notice_file
from bot.services.outbox import Outgoing
from bot.services.people import ensure_person
from bot.services.sender import Blocked, LeaseHeld, PermanentError, Sender, TransientError
from bot.standin import BotApiStandIn
from bot.telegram.broadcast_channel import TelegramChannel, sending_bot
from bot.telegram.common import account_of
from storage.models import ChannelAccount, OutboxMessage, Person, Subscription, TrainingNotice

os.environ.setdefault("PTB_TIMEDELTA", "1")
FIRST_CHAT = 10_000_000


class FakeClock:
    """Time moves only when someone sleeps."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.start = datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t - 1000.0)

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        wake = self.t + max(0.0, seconds)
        await asyncio.sleep(0)
        self.t = max(self.t, wake)  # sleepers side by side do not add up


class FakeChannel:
    """Delivers instantly; `fail[chat]` says which exception the n-th attempt raises."""

    name = "telegram"

    def __init__(self, fail=None) -> None:
        self.fail = fail or {}
        self.attempts: Counter[int] = Counter()
        self.delivered: list[int] = []
        self.hold = None  # an Event: sends wait for it once set to a fresh one

    async def send(self, address, message):
        chat_id = int(address)
        self.attempts[chat_id] += 1
        if self.hold is not None:
            await self.hold.wait()
        error = self.fail.get(chat_id, lambda n: None)(self.attempts[chat_id])
        if error:
            raise error
        self.delivered.append(chat_id)
        return len(self.delivered)


async def add_subscriber(session, chat_id: int, field: str = "*", region: str = "430000", active=True) -> Person:
    person = await ensure_person(session, account_of(chat_id), f"农户{chat_id}")
    session.add(Subscription(person_id=person.id, field=field, region_code=region, active=active))
    await session.flush()
    return person


async def queued_notice(sessions, count: int, **notice_fields) -> int:
    async with sessions() as session, session.begin():
        for i in range(count):
            await add_subscriber(session, FIRST_CHAT + i)
        notice = TrainingNotice(title=notice_fields.pop("title", "水稻栽培培训"), **notice_fields)
        session.add(notice)
        await broadcast.enqueue(session, notice, await broadcast.recipients_for(session, notice))
        return notice.id


async def statuses(sessions) -> Counter:
    async with sessions() as session:
        return Counter((await session.scalars(select(OutboxMessage.status))).all())


# --- against the rate-limited stand-in ------------------------------------------------------


async def test_pacing_stays_under_telegrams_limits(sessions):
    notice_id = await queued_notice(sessions, 60, starts_at=datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc),
                                    place="浏阳市农业农村局")
    reports = []
    async with BotApiStandIn(rate_limit_global=30, rate_limit_per_chat=1) as api:
        async with sending_bot(api.token, f"{api.url}/bot") as bot:
            started = time.monotonic()
            report = await Sender(sessions, TelegramChannel(bot)).run(notice_id, on_progress=reports.append)
            elapsed = time.monotonic() - started
        assert api.too_many_requests == 0
        assert Counter(m.chat_id for m in api.sent) == {FIRST_CHAT + i: 1 for i in range(60)}
        first = api.sent[0]
        assert "水稻栽培培训" in first.text and "2026年12月05日 09:00" in first.text and "浏阳市农业农村局" in first.text
        assert first.reply_markup["inline_keyboard"][0][0] == {"text": "报名", "callback_data": f"sg:{notice_id}"}
    assert elapsed > 1.9  # 60 messages at 30 a second: the pacing really waited
    assert report.done and report.sent == 60 and report.remaining == 0
    assert reports[-1] == report and "发送完毕" in report.text()
    async with sessions() as session:
        assert (await session.get(TrainingNotice, notice_id)).status == "sent"


async def test_a_429_pauses_sending_and_nothing_is_lost(sessions):
    notice_id = await queued_notice(sessions, 15)
    async with BotApiStandIn(rate_limit_global=8) as api:  # stricter than the sender's 30 a second
        async with sending_bot(api.token, f"{api.url}/bot") as bot:
            sender = Sender(sessions, TelegramChannel(bot))
            report = await sender.run(notice_id)
        assert api.too_many_requests > 0 and sender.counters.rate_limited == api.too_many_requests
        assert Counter(m.chat_id for m in api.sent) == {FIRST_CHAT + i: 1 for i in range(15)}
    assert report.sent == 15 and report.failed == 0
    async with sessions() as session:  # a 429 is not an attempt
        assert set((await session.scalars(select(OutboxMessage.attempts))).all()) == {0}


async def test_a_user_who_blocked_the_bot_is_unsubscribed(sessions):
    notice_id = await queued_notice(sessions, 4)
    async with sessions() as session, session.begin():
        await add_subscriber(session, FIRST_CHAT + 2, field="crop")  # a second subscription, switched off too
    async with BotApiStandIn() as api:
        api.blocked_chats.add(FIRST_CHAT + 2)
        async with sending_bot(api.token, f"{api.url}/bot") as bot:
            report = await Sender(sessions, TelegramChannel(bot)).run(notice_id)
        assert sorted(m.chat_id for m in api.sent) == [FIRST_CHAT, FIRST_CHAT + 1, FIRST_CHAT + 3]
    assert (report.sent, report.failed, report.blocked) == (3, 1, 1)
    async with sessions() as session:
        rows = (await session.execute(
            select(ChannelAccount.external_id, Subscription.active)
            .join(Subscription, Subscription.person_id == ChannelAccount.person_id))).all()
        assert {(int(chat), active) for chat, active in rows} == {
            (FIRST_CHAT, True), (FIRST_CHAT + 1, True), (FIRST_CHAT + 2, False), (FIRST_CHAT + 3, True)}
    assert await statuses(sessions) == {"sent": 3, "blocked": 1}


async def test_telegram_errors_map_to_broadcast_errors():
    async with BotApiStandIn() as api:
        async with sending_bot(api.token, f"{api.url}/bot") as bot:
            channel = TelegramChannel(bot)
            api.refusals["sendMessage"] = "Bad Request: chat not found"
            with pytest.raises(Blocked):
                await channel.send("1", Outgoing("你好"))
            api.refusals["sendMessage"] = "Bad Request: message is too long"
            with pytest.raises(PermanentError):
                await channel.send("1", Outgoing("你好"))


# --- with a fake channel and clock ----------------------------------------------------------


async def test_transient_errors_are_retried_with_backoff_then_failed(sessions):
    notice_id = await queued_notice(sessions, 3)
    clock = FakeClock()
    flaky, broken = FIRST_CHAT + 1, FIRST_CHAT + 2
    channel = FakeChannel({
        flaky: lambda n: TransientError("timed out") if n <= 2 else None,
        broken: lambda n: TransientError("bad gateway"),
    })
    sender = Sender(sessions, channel, clock, max_attempts=3, backoff=2.0, lease_ttl=3600)
    started = clock.t
    report = await sender.run(notice_id)
    assert channel.attempts == {FIRST_CHAT: 1, flaky: 3, broken: 3}
    assert sorted(channel.delivered) == [FIRST_CHAT, flaky]
    assert clock.t - started >= 2.0 + 4.0  # waited out the backoff before the third attempt
    assert (report.sent, report.failed, report.remaining) == (2, 1, 0)
    async with sessions() as session:
        row = (await session.scalars(select(OutboxMessage).where(OutboxMessage.address == str(broken)))).one()
        assert (row.status, row.attempts) == ("failed", 3) and "bad gateway" in row.last_error


async def test_a_restart_sends_the_rest_and_resends_only_what_was_in_flight(sessions):
    notice_id = await queued_notice(sessions, 40)
    async with sessions() as session, session.begin():  # as a killed sender leaves it
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        for row in rows[:15]:
            row.status, row.message_id = "sent", 1
        for row in rows[15:19]:
            row.status = "sending"
    channel = FakeChannel()
    sender = Sender(sessions, channel, FakeClock(), lease_ttl=3600)
    report = await sender.run(notice_id)
    assert Counter(channel.delivered) == {FIRST_CHAT + i: 1 for i in range(15, 40)}
    assert sender.counters.resumed == 4
    assert report.sent == 40 and report.remaining == 0


@pytest.mark.slow
def test_kill_9_mid_broadcast_loses_nobody_and_duplicates_at_most_the_in_flight():
    from bot import notice_bench

    result = notice_bench.run(90, kill_at=40, quiet=True)  # the real sender process, SIGKILLed
    assert result.killed_after >= 40 and result.in_flight_at_kill <= 8
    assert result.losses == 0 and result.duplicates <= result.in_flight_at_kill
    assert result.too_many_requests == 0


async def test_only_one_sender_holds_the_lease(sessions):
    notice_id = await queued_notice(sessions, 30)
    clock = FakeClock()
    channel = FakeChannel()
    channel.hold = asyncio.Event()
    a = Sender(sessions, channel, clock, holder="a", lease_ttl=3600)
    b = Sender(sessions, FakeChannel(), clock, holder="b")
    running = asyncio.create_task(a.run(notice_id))
    while not channel.attempts:
        await asyncio.sleep(0)
    with pytest.raises(LeaseHeld) as held:
        await b.run(notice_id)
    assert held.value.holder == "a"
    channel.hold.set()
    await running
    assert await b.acquire_lease() is None  # released when a finished
    assert await a.acquire_lease() == "b"


async def test_an_expired_lease_can_be_taken_over(sessions):
    clock = FakeClock()
    a = Sender(sessions, FakeChannel(), clock, holder="a")
    b = Sender(sessions, FakeChannel(), clock, holder="b")
    assert await a.acquire_lease() is None
    assert await b.acquire_lease() == "a"
    clock.t += 16
    assert await b.acquire_lease() is None


async def _rows(sessions, status):
    async with sessions() as session:
        return (await session.scalars(select(OutboxMessage).where(OutboxMessage.status == status))).all()


# --- recipients and the outbox --------------------------------------------------------------


async def test_recipients_match_field_and_region_both_ways_once_each(sessions):
    async with sessions() as session, session.begin():
        await add_subscriber(session, 1, "crop", "430181")          # 浏阳市, inside 长沙市
        await add_subscriber(session, 1, "*", "430100")             # the same person again
        await add_subscriber(session, 2, "*", "430000")             # the whole province covers 长沙市
        await add_subscriber(session, 3, "livestock", "430100")     # another field
        await add_subscriber(session, 4, "crop", "430600")          # 岳阳市
        await add_subscriber(session, 5, "crop", "430100", active=False)
        notice = TrainingNotice(title="培训", fields=["crop"], regions=["430100"])
        session.add(notice)
        chats = sorted(int(account.external_id) for _, account in await broadcast.recipients_for(session, notice))
        assert chats == [1, 2]
        assert await broadcast.enqueue(session, notice, await broadcast.recipients_for(session, notice)) == 2
        assert await broadcast.enqueue(session, notice, await broadcast.recipients_for(session, notice)) == 0
        assert notice.status == "sending"
        everyone = TrainingNotice(title="全省培训")
        session.add(everyone)
        assert sorted(int(a.external_id) for _, a in await broadcast.recipients_for(session, everyone)) == [1, 2, 3, 4]


# --- notice files ---------------------------------------------------------------------------


def test_the_documented_example_files_read():
    toml = read_notice_file("docs/examples/notice.toml")
    assert toml.title == "水稻病虫害绿色防控现场培训"
    assert toml.starts_at == datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc)
    assert (toml.fields, toml.regions, toml.capacity) == (["plant_protection", "crop"], ["430181"], 60)
    sheet = read_notice_file("docs/examples/notice.csv")
    assert sheet.duration_hours == 2 and sheet.capacity is None and sheet.fields == ["livestock"]
    assert sheet.signup_deadline == datetime(2026, 12, 8, 15, 59, tzinfo=timezone.utc)  # the end of that day


def test_a_wrong_notice_sheet_names_every_bad_row(tmp_path):
    path = tmp_path / "通知.csv"
    path.write_text("项目,内容\n标题,培训\n开始时间,12月5日上午\n领域,种菜\n名额,很多\n颜色,红\n", encoding="utf-8")
    with pytest.raises(ImportFileError) as error:
        read_notice_file(path)
    message = str(error.value)
    for expected in ("第 3 行：开始时间「12月5日上午」看不懂", "第 4 行：领域无法识别：「种菜」",
                     "第 5 行：名额「很多」应是正整数", "第 6 行：不认识的项目「颜色」"):
        assert expected in message


def test_a_deadline_after_the_start_is_refused(tmp_path):
    path = tmp_path / "n.toml"
    path.write_text('title = "培训"\nstarts_at = "2026-12-05 09:00"\nsignup_deadline = "2026-12-06"\n', "utf-8")
    with pytest.raises(ImportFileError, match="报名截止"):
        read_notice_file(path)


async def test_two_senders_in_one_process_exclude_each_other(sessions):
    a, b = Sender(sessions, FakeChannel()), Sender(sessions, FakeChannel())
    assert a.holder != b.holder
    assert await a.acquire_lease() is None
    assert await b.acquire_lease() == a.holder


async def test_two_processes_send_side_by_side_within_telegrams_limits_together(sessions):
    """Shared senders (several bot processes): each sends its shards at its share of the rate;
    together they keep 30 a second and one a second per chat, and every recipient gets one."""
    await queued_notice(sessions, 120)
    async with sessions.begin() as session:  # a conversation too: several rows to one chat
        for n in range(3):
            session.add(OutboxMessage(channel="telegram", address=str(FIRST_CHAT), priority=0,
                                      body={"text": f"回复{n}"}, status="pending", attempts=0, last_error=""))
    async with BotApiStandIn(rate_limit_global=30, rate_limit_per_chat=1) as api:
        async with sending_bot(api.token, f"{api.url}/bot") as bot:
            senders = [Sender(sessions, TelegramChannel(bot), holder=f"process-{n}", shared=True, lease_ttl=3)
                       for n in range(2)]
            started = time.monotonic()
            await asyncio.gather(*(sender.run(wait_for_lease=True) for sender in senders))
            elapsed = time.monotonic() - started
        assert api.too_many_requests == 0
        received = Counter(m.chat_id for m in api.sent)
        assert received == {**{FIRST_CHAT + i: 1 for i in range(120)}, FIRST_CHAT: 4}
        replies = [m.text for m in api.sent if m.chat_id == FIRST_CHAT and m.text.startswith("回复")]
        assert replies == ["回复0", "回复1", "回复2"]  # one chat, one sender, in order
    assert all(s.counters.sent > 20 for s in senders)  # both really sent
    assert elapsed > 3.5  # 123 messages at 30 a second together
