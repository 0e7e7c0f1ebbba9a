"""Typed helpers over SQLAlchemy for what its annotations leave out."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result, Table
from sqlalchemy.orm import DeclarativeBase


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched. `AsyncSession.execute` is annotated as
    returning a plain `Result`, but for these statements it is a `CursorResult`, which counts."""
    return cast(CursorResult[Any], result).rowcount


def table_of(model: type[DeclarativeBase]) -> Table:
    """A mapped class's table; the ORM annotates `__table__` as any `FromClause`."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
