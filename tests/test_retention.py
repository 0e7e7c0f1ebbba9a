"""Personal data is kept only as long as it serves: unsubmitted drafts a week, delivered
messages a month; a submitted question lives on as its demand."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.services.intake import IntakeService
from bot.services.outbox import REPLY, SENT, Outbox, Outgoing
from bot.services.retention import Pruned, prune
from bot.telegram.common import account_of
from storage.models import Demand, DemandMedia, Draft, FieldCorrection, OutboxMessage
from tests.factories import person_id


async def count(sessions, model) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_old_drafts_and_delivered_messages_are_pruned(sessions, understander, knowledge, clock):
    intake = IntakeService(sessions, understander, knowledge, clock)
    farmer = await person_id(sessions, 1001, "张大哥")
    abandoned = (await intake.new_question(farmer, "水稻叶子发黄怎么办")).draft
    await intake.attach_media(farmer, "photo", "PHOTO-1")
    await intake.choose_field(abandoned.id, farmer, "crop")  # a correction, kept as training data
    submitted = (await intake.new_question(farmer, "柑橘红蜘蛛怎么防治")).draft
    await intake.attach_media(farmer, "photo", "PHOTO-2")
    await intake.submit(submitted.id, farmer)
    outbox = Outbox(sessions, clock)
    await outbox.send(account_of(1001), Outgoing("已提交"), REPLY)
    async with sessions.begin() as session:
        await session.execute(OutboxMessage.__table__.update().values(status=SENT))

    assert await prune(sessions, clock() + timedelta(days=6)) == Pruned(0, 0, 0)   # not yet
    pruned = await prune(sessions, clock() + timedelta(days=31))
    assert (pruned.drafts, pruned.media, pruned.outbox) == (2, 1, 1)
    assert await count(sessions, Draft) == 0 and await count(sessions, OutboxMessage) == 0
    assert await count(sessions, Demand) == 1                     # the submitted question stays
    async with sessions() as session:
        media = (await session.scalars(select(DemandMedia))).all()
        assert [(m.file_id, m.draft_id) for m in media] == [("PHOTO-2", None)]  # with its demand
        assert (await session.scalar(select(FieldCorrection))).draft_id is None


async def test_a_handled_update_keeps_only_its_id_and_chinese_is_stored_unescaped(sessions, clock, db_url):
    from sqlalchemy import text

    from bot.services.update_log import UpdateLog

    log = UpdateLog(sessions)
    words = "稻" * 4096
    await log.record([(1, {"message": {"text": words}}), (2, {"message": {"text": words}})], clock())
    bytes_of = "octet_length(CAST(payload AS TEXT))" if db_url.startswith("postgresql") \
        else "length(CAST(payload AS BLOB))"
    async with sessions() as session:
        size = await session.scalar(text(f"SELECT {bytes_of} FROM update_log WHERE update_id = 1"))
    assert size < 4096 * 3 + 100  # UTF-8, not \\u7a3b escapes (6 bytes a character)
    await log.mark_handled(1, clock())
    async with sessions() as session:
        from storage.models import LoggedUpdate

        assert (await session.get(LoggedUpdate, 1)).payload == {}
        assert (await session.get(LoggedUpdate, 2)).payload["message"]["text"] == words  # not yet handled


def test_retention_is_configured_per_deployment():
    from bot.config import Settings

    keep = Settings.from_env({"JICENG_KEEP_UPDATES_DAYS": "1", "JICENG_KEEP_DRAFTS_DAYS": "2",
                              "JICENG_KEEP_OUTBOX_DAYS": "10"}).retention()
    assert (keep.updates, keep.drafts, keep.outbox) == (timedelta(days=1), timedelta(days=2), timedelta(days=10))
    assert Settings.from_env({}).retention().drafts == timedelta(days=7)
