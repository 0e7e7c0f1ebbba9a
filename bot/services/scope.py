"""The area a staff member oversees — the province, a 市州 or a county — and how each query and
report keeps to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, true

from intents import regions
from storage.models import Demand


@dataclass(frozen=True)
class Scope:
    """The area a staff member oversees: the province's, a city's or a county's code."""

    region: str

    @classmethod
    def province(cls) -> Scope:
        return cls(regions.PROVINCE_CODE)

    @property
    def everything(self) -> bool:
        return self.region == regions.PROVINCE_CODE

    @property
    def name(self) -> str:
        return regions.full_name(self.region)

    def covers(self, region_code: str | None) -> bool:
        return regions.covers(self.region, region_code)

    def places(self) -> list[str]:
        """The region codes inside this scope (a city and its counties, or one county)."""
        if regions.city_of(self.region) == self.region:
            return [self.region, *(c.code for c in regions.counties(self.region))]
        return [self.region]

    def clause(self, column: Any = Demand.region_code) -> ColumnElement[bool]:
        """A WHERE clause keeping rows whose region `column` lies in this scope."""
        if self.everything:
            return true()
        return column.in_(self.places())  # type: ignore[no-any-return]

    def contains(self, region: str) -> bool:
        """Whether a narrower area (a filter, a notice's target) lies within this scope."""
        return self.everything or region == self.region or regions.city_of(region) == self.region

    def reaches(self, targets: Iterable[str] | None) -> bool:
        """Whether something aimed at `targets` (a training's regions; empty = the whole province)
        happens in this scope: province staff see all of it, a city or county only what targets
        places inside its area."""
        if self.everything:
            return True
        return any(self.contains(code) for code in targets or ())
