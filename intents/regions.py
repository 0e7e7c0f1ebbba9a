"""Hunan's administrative divisions (GB/T 2260): 全省, 14 市州 and 122 县市区, with name lookup."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

PROVINCE_CODE = "430000"
PROVINCE_NAME = "全省"
_PROVINCE_WORDS = ("全省", "湖南省", "湖南")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    short: str
    level: str  # "province" | "city" | "county"
    parent: str | None  # city code for counties, PROVINCE_CODE for cities, None for the province


# Shorts that are ordinary words, product names or places elsewhere: exact lookups accept
# them, free text needs the full name (芙蓉区, 洞口县...).
_VAGUE_SHORTS = frozenset(
    "芙蓉 天心 开福 雨花 荷塘 石峰 天元 石鼓 大祥 北塔 洞口 云溪 君山 武陵 桃源 石门 津市 "
    "永定 资阳 北湖 嘉禾 新田 鹤城 中方 会同 通道 凤凰 龙山".split()
)
# Words that contain a place name but are not one ("知道县里" is not 道县, "天津市场" not 津市市).
_NOT_PLACES = ("知道", "天津")


def _load() -> tuple[tuple[Region, ...], dict[str, tuple[str, ...]]]:
    raw = json.loads(resources.files("intents").joinpath("data/regions.json").read_text("utf-8"))
    regions = [Region(PROVINCE_CODE, PROVINCE_NAME, PROVINCE_NAME, "province", None)]
    aliases: dict[str, tuple[str, ...]] = {PROVINCE_CODE: _PROVINCE_WORDS[1:]}
    for c in raw:
        regions.append(Region(c["code"], c["name"], c["short"], "city", PROVINCE_CODE))
        aliases[c["code"]] = tuple(c["aliases"])
        for k in c["counties"]:
            regions.append(Region(k["code"], k["name"], k["short"], "county", c["code"]))
            aliases[k["code"]] = tuple(k["aliases"])
    return tuple(regions), aliases


_REGIONS, _ALIASES = _load()
_BY_CODE = {r.code: r for r in _REGIONS}
_CITIES = tuple(r for r in _REGIONS if r.level == "city")
_COUNTIES: dict[str, tuple[Region, ...]] = {
    c.code: tuple(r for r in _REGIONS if r.parent == c.code) for c in _CITIES
}


def _words(free_text: bool) -> dict[str, str | None]:
    """Word -> region code; None marks a word shared by two regions (ambiguous)."""
    words: dict[str, str | None] = {}
    for r in _REGIONS:
        for w in {r.name, r.short, *_ALIASES[r.code]}:
            if free_text and (w == PROVINCE_NAME or (w == r.short != r.name and w in _VAGUE_SHORTS)):
                continue
            words[w] = r.code if words.get(w, r.code) == r.code else None
    return words


_EXACT = _words(free_text=False)
# Longest first; at equal length the province and non-places mask first ("湖南县城" is not 南县).
_SCAN = sorted(
    [*((w, None) for w in _NOT_PLACES), *_words(free_text=True).items()],
    key=lambda wc: (-len(wc[0]), wc[1] not in (None, PROVINCE_CODE)),
)
_RANK = {"county": 0, "city": 1, "province": 2}


def cities() -> tuple[Region, ...]:
    return _CITIES


def counties(city_code: str) -> tuple[Region, ...]:
    return _COUNTIES.get(city_code, ())


def get(code: str) -> Region | None:
    return _BY_CODE.get(code)


def city_of(code: str) -> str | None:
    """A county's city code, a city's own code; None for the province or unknown codes."""
    r = _BY_CODE.get(code)
    if r is None or r.level == "province":
        return None
    return r.code if r.level == "city" else r.parent


def resolve_region(text: str) -> Region | None:
    """A region from an exact name, short name, alias, 全省 or 湖南(省); None if unknown or ambiguous."""
    code = _EXACT.get(text.strip())
    return _BY_CODE[code] if code else None


def covers(area_code: str, place_code: str | None) -> bool:
    """Whether an area (province, city or county) contains a place."""
    if area_code == PROVINCE_CODE:
        return True
    if place_code is None or area_code not in _BY_CODE:
        return False
    return place_code == area_code or city_of(place_code) == area_code


def full_name(code: str) -> str:
    """"长沙市浏阳市", "长沙市" or "全省"; an unknown code reads as itself."""
    r = _BY_CODE.get(code)
    if r is None:
        return code
    parent = _BY_CODE.get(r.parent) if r.parent else None
    return parent.name + r.name if r.level == "county" and parent is not None else r.name


def find_in_text(text: str) -> Region | None:
    """The most specific Hunan place named in free text: longest words mask shorter ones, county beats city."""
    found: list[tuple[int, int, int, str]] = []
    for word, code in _SCAN:
        at = text.find(word)
        if at < 0:
            continue
        text = text.replace(word, "\0" * len(word))
        if code:
            found.append((_RANK[_BY_CODE[code].level], -len(word), at, code))
    return _BY_CODE[min(found)[3]] if found else None
