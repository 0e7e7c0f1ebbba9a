"""Typed helpers over SQLAlchemy for what its annotations leave out."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched. `AsyncSession.execute` is annotated as
    returning a plain `Result`, but for these statements it is a `CursorResult`, which counts."""
    return cast(CursorResult[Any], result).rowcount
