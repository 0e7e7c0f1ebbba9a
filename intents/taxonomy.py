"""The field taxonomy (领域): stable codes for storage and imports, Chinese names for people."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Field:
    code: str
    name: str
    aliases: tuple[str, ...] = ()


def _load() -> tuple[Field, ...]:
    raw = json.loads(resources.files("intents").joinpath("data/fields.json").read_text("utf-8"))
    return tuple(Field(f["code"], f["name"], tuple(f.get("aliases", ()))) for f in raw)


FIELDS: tuple[Field, ...] = _load()
OTHER = "other"
_BY_CODE = {f.code: f for f in FIELDS}
_BY_WORD: dict[str, str] = {}  # a name, code or alias → the field code
for _f in FIELDS:
    for _word in (_f.code, _f.name, *_f.aliases):
        _BY_WORD.setdefault(_word.lower(), _f.code)


def field_codes() -> tuple[str, ...]:
    return tuple(f.code for f in FIELDS)


def is_field(code: str) -> bool:
    return code in _BY_CODE


def field_name(code: str) -> str:
    """Chinese name of a field code; unknown codes read as 其他."""
    return _BY_CODE.get(code, _BY_CODE[OTHER]).name


def resolve_field(text: str) -> str | None:
    """A field code from a code, a Chinese name or a common alias; None if unknown."""
    return _BY_WORD.get(text.strip().lower())
