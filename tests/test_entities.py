"""Entity extraction: what, which pest, which symptoms, how much, where, how urgent."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intents.entities import EMPTY, EntityExtractor, Quantity, chinese_number
from intents.normalize import Normalizer
from intents.regions import resolve_region
from intents.segment import load_lexicon


@pytest.fixture(scope="module")
def ex() -> EntityExtractor:
    return EntityExtractor()


@pytest.fixture(scope="module")
def norm() -> Normalizer:
    return Normalizer()


def code(name: str) -> str:
    return resolve_region(name).code


def test_crop_disease_symptom_place_amount(ex):
    e = ex.extract("浏阳市的水稻得了稻瘟病，叶子发黄，种了三亩")
    assert e.subjects == ("水稻",)
    assert e.pests_diseases == ("稻瘟病",)
    assert "叶子发黄" in e.symptoms
    assert e.quantities == (Quantity(3.0, "亩", "三亩"),)
    assert e.places == (code("浏阳市"),)
    assert not e.urgent


@pytest.mark.parametrize(
    ("text", "subjects", "pests"),
    [
        ("柑橘红蜘蛛用什么药", ("柑橘",), ("红蜘蛛",)),
        ("生猪非洲猪瘟怎么防", ("生猪",), ("非洲猪瘟",)),
        ("玉米地里有草地贪夜蛾", ("玉米",), ("草地贪夜蛾",)),
        ("小龙虾不吃食", ("小龙虾",), ()),
        ("黄精叶斑病用什么药", ("黄精",), ("叶斑病",)),
        ("猪不吃食还咳嗽", ("猪",), ()),
    ],
)
def test_subjects_and_pests(ex, text, subjects, pests):
    e = ex.extract(text)
    assert e.subjects == subjects
    assert e.pests_diseases == pests


@pytest.mark.parametrize(
    ("text", "symptom"),
    [
        ("辣椒烂根了", "烂根"),
        ("鸡拉稀", "拉稀"),
        ("猪不吃食", "不吃食"),
        ("牛咳嗽", "咳嗽"),
        ("鱼早上浮头", "浮头"),
        ("水稻卷叶", "卷叶"),
        ("柑橘落果严重", "落果"),
        ("秧田死苗", "死苗"),
        ("叶片发黄", "叶片发黄"),
    ],
)
def test_symptoms(ex, text, symptom):
    assert symptom in ex.extract(text).symptoms


def test_pesticides(ex):
    assert ex.extract("吡虫啉和阿维菌素能混用吗").pesticides == ("吡虫啉", "阿维菌素")


@pytest.mark.parametrize(
    ("text", "value", "unit", "approx"),
    [
        ("种了三亩", 3, "亩", False),
        ("三分地", 3, "分地", False),
        ("收了两千斤", 2000, "斤", False),
        ("十几头猪", 10, "头", True),
        ("养了1.5万羽蛋鸡", 15000, "羽", False),
        ("100多只鸭", 100, "只", True),
        ("每斤3块", 3, "元/斤", False),
        ("5块钱一斤", 5, "元/斤", False),
        ("卖了2吨", 2, "吨", False),
        ("50公斤", 50, "公斤", False),
        ("200棵橘子树", 200, "株", False),
        ("30箱蜜蜂", 30, "箱", False),
        ("大棚500平方米", 500, "平方米", False),
        ("一万尾鱼苗", 10000, "尾", False),
        ("两百条黄鳝", 200, "条", False),
        ("卖了800元", 800, "元", False),
    ],
)
def test_quantities(ex, text, value, unit, approx):
    q = ex.extract(text).quantities
    assert len(q) == 1
    assert (q[0].value, q[0].unit, q[0].approximate) == (value, unit, approx)


@pytest.mark.parametrize("text", ["一块地种什么好", "一亩要用几斤药", "几头猪", "怎么办"])
def test_not_quantities(ex, text):
    assert all(q.unit != "元" for q in ex.extract(text).quantities)
    assert all(q.text[0] != "几" for q in ex.extract(text).quantities)


def test_chinese_numbers():
    assert chinese_number("二十三") == (23, False)
    assert chinese_number("一万五千") == (15000, False)
    assert chinese_number("几十") == (10, True)
    assert chinese_number("几") is None


def test_several_places(ex):
    e = ex.extract("衡阳县和祁东县都有，长沙也有")
    assert e.places == (code("衡阳县"), code("祁东县"), code("长沙市"))


def test_a_county_hides_its_city(ex):
    assert ex.extract("长沙市浏阳市的油茶").places == (code("浏阳市"),)


@pytest.mark.parametrize(
    "text",
    [
        "鸡死了好多，怎么办",
        "鱼塘一夜之间全死了",
        "草地贪夜蛾暴发了",
        "急！猪不吃食",
        "救命，虾成片死",
        "稻飞虱蔓延很快",
        "鸭子死了一半",
        "死了5头猪",
        "死了十几只鸡",
    ],
)
def test_urgent(ex, text):
    e = ex.extract(text)
    assert e.urgent and e.urgency_terms


@pytest.mark.parametrize("text", ["急性肠炎怎么治", "死了2只鸡", "猪急性腹泻", "水稻怎么施肥", "性子急躁"])
def test_not_urgent(ex, text):
    assert not ex.extract(text).urgent


def test_as_dict_is_json(ex):
    d = ex.extract("浏阳死了十几头猪，急，每斤3块").as_dict()
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d
    assert d["quantities"][0]["unit"] == "头"
    assert d["urgent"] is True


def test_after_normalisation(ex, norm):
    e = ex.extract(norm.normalize("洋芋得了晚疫病，道温病也有").text)
    assert e.subjects == ("马铃薯",)
    assert e.pests_diseases == ("晚疫病", "稻瘟病")


def test_entity_terms_are_mostly_lexicon_terms(ex):
    lex = load_lexicon()
    outside = [t for t, k in ex.kinds.items() if k != "symptom" and t not in lex]
    assert outside == []


@pytest.mark.parametrize("raw", ["", "😀😀", "\x00\x01", "hello", "sha chong ji", "1234567890", "急" * 10_000])
def test_bad_input(ex, raw):
    e = ex.extract(raw)
    assert isinstance(e.subjects, tuple)


def test_non_text(ex):
    assert ex.extract(None) is EMPTY  # type: ignore[arg-type]


def test_speed(ex):
    text = "浏阳市的水稻得了稻瘟病，叶子发黄，种了三亩，死了十几头猪，急死了，每斤3块钱怎么办呢"
    t = time.perf_counter()
    for _ in range(200):
        ex.extract(text)
    assert (time.perf_counter() - t) / 200 < 0.0005 * 4  # 0.5 ms target; slack for slow CI


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text(ex, text):
    e = ex.extract(text)
    assert e.urgent == bool(e.urgency_terms)
    json.dumps(e.as_dict())
