"""The knowledge base of answered questions behind "similar solved questions": the
project's starter set, entries staff import, and (later) demands experts answered."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import RowError
from bot.services.directory import ImportReport, _raise_if
from bot.services.tabular import read_table
from intents import taxonomy
from intents.similar import KnowledgeEntry as IndexEntry
from intents.similar import KnowledgeIndex, SimilarHit
from storage.models import KnowledgeEntry

HEADERS = ("问题", "答案", "领域")
MAX_QUESTION = 500
MAX_ANSWER = 3000
IMPORTED = "import"
PUBLISHED, REVIEW, WITHDRAWN = "published", "review", "withdrawn"

BLANK = "{column}不能为空"
UNKNOWN_FIELD = "领域无法识别：{value}。可填代码（如 crop）或中文名称（如 种植栽培）"
TOO_LONG = "{column}太长（{length} 字，最多 {limit} 字）"
DUPLICATE = "问题与第 {row} 行重复"


class KnowledgeBase:
    """The searchable answered questions of a running bot. It starts with the starter set;
    the whole base (which may hold 100,000 entries) is built off the event loop and swapped
    in whole, then kept current entry by entry."""

    def __init__(self, index: KnowledgeIndex) -> None:
        self.index = index

    def search(self, text: str, k: int = 3, field: str | None = None) -> list[SimilarHit]:
        return self.index.search(text, k=k, field=field)

    def get(self, key: str) -> IndexEntry | None:
        return self.index.get(key)

    def add(self, entry: IndexEntry) -> None:
        self.index.add(entry)

    def remove(self, key: str) -> None:
        self.index.remove(key)

    def replace(self, index: KnowledgeIndex) -> None:
        self.index = index  # one reference swap: searches see the old or the new index, whole

    def __len__(self) -> int:
        return len(self.index)


def question_key(question: str) -> str:
    """Entries are the same question when their text is, ignoring spaces and punctuation width."""
    compact = "".join(question.split())
    return hashlib.sha1(compact.encode("utf-8")).hexdigest()


def starter_entries() -> list[IndexEntry]:
    """The project's own answered questions shipped with the package (intents/data/knowledge.tsv)."""
    source = resources.files("intents").joinpath("data/knowledge.tsv")
    if not source.is_file():
        return []
    rows = csv.DictReader(io.StringIO(source.read_text("utf-8")), delimiter="\t")
    return [IndexEntry(f"starter:{r['id']}", r["问题"], r["答案"], r["领域"]) for r in rows]


@dataclass(frozen=True)
class StoredChanges:
    published: list[IndexEntry]   # to search (new, or changed)
    unpublished: list[str]        # keys to stop showing (under review, withdrawn)
    newest: datetime | None       # the newest change seen, for the next call


async def stored_entries(
    sessions: async_sessionmaker[AsyncSession], changed_after: datetime | None = None
) -> StoredChanges:
    """Entries added or updated in the database since `changed_after` (all when None). The newest
    moment is read again next time: a change written in the same instant is not missed."""
    query = select(KnowledgeEntry).order_by(KnowledgeEntry.updated_at, KnowledgeEntry.id)
    if changed_after is not None:
        query = query.where(KnowledgeEntry.updated_at >= changed_after)
    async with sessions() as session:
        rows = (await session.scalars(query)).all()
    published = [IndexEntry(entry_key(r), r.question, r.answer, r.field) for r in rows if r.status == PUBLISHED]
    unpublished = [entry_key(r) for r in rows if r.status != PUBLISHED]
    return StoredChanges(published, unpublished, max((r.updated_at for r in rows), default=changed_after))


def entry_key(entry: KnowledgeEntry) -> str:
    return f"db:{entry.id}"


async def import_knowledge(sessions: async_sessionmaker[AsyncSession], path: str | Path) -> ImportReport:
    """`jiceng import knowledge FILE`: 问题, 答案, 领域; all or nothing; the same question again
    updates its answer and field."""
    _, rows = read_table(path, HEADERS)
    errors: list[RowError] = []
    parsed: dict[str, tuple[int, str, str, str]] = {}
    for row_no, row in rows:
        problems = []
        question, answer, field_text = (row.get(h, "").strip() for h in HEADERS)
        for column, value, limit in (("问题", question, MAX_QUESTION), ("答案", answer, MAX_ANSWER)):
            if not value:
                problems.append(BLANK.format(column=column))
            elif len(value) > limit:
                problems.append(TOO_LONG.format(column=column, length=len(value), limit=limit))
        field = taxonomy.resolve_field(field_text) if field_text else None
        if field is None:
            problems.append(UNKNOWN_FIELD.format(value=field_text or "（空）"))
        key = question_key(question)
        if question and key in parsed:
            problems.append(DUPLICATE.format(row=parsed[key][0]))
        if problems:
            errors.append(RowError(row_no, "；".join(problems)))
        else:
            assert field is not None  # an unknown field is one of the problems
            parsed[key] = (row_no, question, answer, field)
    _raise_if(errors)
    created = updated = 0
    async with sessions.begin() as session:
        existing = {e.question_key: e for e in (await session.scalars(
            select(KnowledgeEntry).where(KnowledgeEntry.question_key.in_(list(parsed)))
        )).all()}
        for key, (_, question, answer, field) in parsed.items():
            entry = existing.get(key)
            if entry is None:
                session.add(KnowledgeEntry(question=question, question_key=key, answer=answer, field=field, source=IMPORTED))
                created += 1
            else:
                entry.answer, entry.field, entry.question = answer, field, question
                updated += 1
    return ImportReport("knowledge", created, updated)
