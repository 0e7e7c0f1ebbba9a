"""Keeps a running bot's understanding current: a retrained model or newly imported
answered questions are picked up from the database without a restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.knowledge import KnowledgeBase, starter_entries, stored_entries
from bot.services.learning import newest_model
from intents.similar import KnowledgeEntry, KnowledgeIndex
from intents.understand import Understander

log = logging.getLogger(__name__)
REFRESH_SECONDS = 60


def starter_index(understander: Understander) -> KnowledgeIndex:
    return KnowledgeIndex(understander.segmenter, starter_entries(), normalizer=understander.normalizer)


class LiveUnderstanding:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], understander: Understander,
                 knowledge: KnowledgeBase) -> None:
        self._sessions = sessions
        self._understander = understander
        self._knowledge = knowledge
        self.model_id = 0
        self._knowledge_seen: datetime | None = None
        self._loaded = False

    def build_index(self, entries: Iterable[KnowledgeEntry]) -> KnowledgeIndex:
        return KnowledgeIndex(self._understander.segmenter, [*starter_entries(), *entries],
                              normalizer=self._understander.normalizer)

    async def refresh(self) -> None:
        newest = await newest_model(self._sessions, self.model_id)
        if newest is not None:
            self.model_id, model = newest
            self._understander.swap_model(model)
            log.info("now classifying with retrained model %d", self.model_id)
        changes = await stored_entries(self._sessions, self._knowledge_seen)
        self._knowledge_seen, entries = changes.newest, changes.published
        if not self._loaded:
            # The first load may be large: index it in a thread and swap it in whole, so
            # the bot answers farmers meanwhile (with the starter set).
            index = await asyncio.to_thread(self.build_index, entries)
            self._knowledge.replace(index)
            self._loaded = True
        else:
            for entry in entries:
                self._knowledge.add(entry)
        for key in changes.unpublished:
            self._knowledge.remove(key)
        if entries:
            log.info("knowledge base: %d entries added or updated, %d in all", len(entries), len(self._knowledge))
