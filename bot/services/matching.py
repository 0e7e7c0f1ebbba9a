"""Ranking a team's experts for a demand: field fit, overlap of what they are good at (擅长)
with the demand's key words and entities, region, and how many open demands they carry."""

from __future__ import annotations

from dataclasses import dataclass

from intents import regions
from storage.models import Demand, Expert

FIELD_FIT, SPECIALTY_HIT, REGION_FIT, LOAD_PENALTY = 3.0, 2.0, 1.0, 0.5


@dataclass(frozen=True)
class Candidate:
    expert: Expert
    score: float
    reason: str  # a few words: why this expert is where they are in the list


def rank(experts: list[Expert], demand: Demand, open_load: dict[int, int]) -> list[Candidate]:
    terms = _demand_terms(demand)
    ranked = []
    for expert in experts:
        score, reasons = 0.0, []
        if demand.field in (expert.fields or []):
            score += FIELD_FIT
            reasons.append("领域对口")
        hits = [t for t in terms if t and t in (expert.specialties or "")]
        if hits:
            score += SPECIALTY_HIT * min(len(hits), 3)
            reasons.append("擅长" + "、".join(hits[:2]))
        if demand.region_code and any(regions.covers(code, demand.region_code) for code in (expert.regions or [])):
            score += REGION_FIT
            reasons.append("服务本地")
        load = open_load.get(expert.id, 0)
        score -= LOAD_PENALTY * load
        reasons.append(f"在办{load}件")
        ranked.append(Candidate(expert, score, "，".join(reasons)))
    return sorted(ranked, key=lambda c: (-c.score, c.expert.id))


def _demand_terms(demand: Demand) -> list[str]:
    entities = demand.entities or {}
    terms = list(demand.keywords or [])
    for key in ("subjects", "pests_diseases", "symptoms", "pesticides"):
        terms += entities.get(key, [])
    seen, unique = set(), []
    for term in terms:
        if len(term) >= 2 and term not in seen:
            seen.add(term)
            unique.append(term)
    return unique
