"""Routing: which service team's queue a demand lands in."""

from __future__ import annotations

from collections.abc import Iterable

from intents import regions
from storage.models import ServiceTeam

_SPECIFICITY = {"county": 3, "city": 2, "province": 1}


def choose_team(teams: Iterable[ServiceTeam], field: str, region_code: str | None) -> ServiceTeam | None:
    """The team whose fields include the demand's field, preferring the team that serves
    the farmer's region most specifically (a county team over a city team over a
    province-wide one). None when no team serves the field: staff triage it."""
    best: tuple[int, int] | None = None
    chosen = None
    for team in teams:
        if field not in (team.fields or []):
            continue
        score = (_coverage(team.regions or [], region_code), -team.id)
        if best is None or score > best:
            best, chosen = score, team
    return chosen


def _coverage(team_regions: list[str], region_code: str | None) -> int:
    if region_code is None:
        return 0
    scores = [
        _SPECIFICITY.get(r.level, 0)
        for code in team_regions
        if (r := regions.get(code)) is not None and regions.covers(code, region_code)
    ]
    return max(scores, default=0)
