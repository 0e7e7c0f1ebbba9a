import time

import pytest

from intents import regions as R


def test_fourteen_cities_and_122_counties():
    cities = R.cities()
    assert len(cities) == 14
    assert [c.code for c in cities] == sorted(c.code for c in cities)
    assert sum(len(R.counties(c.code)) for c in cities) == 122
    assert R.counties("999999") == ()


def test_codes_unique_six_digits_and_nested():
    codes = [R.PROVINCE_CODE]
    for city in R.cities():
        assert city.level == "city" and city.parent == R.PROVINCE_CODE
        codes.append(city.code)
        kids = R.counties(city.code)
        assert [k.code for k in kids] == sorted(k.code for k in kids)
        for k in kids:
            assert k.level == "county" and k.parent == city.code
            assert k.code[:4] == city.code[:4]
            codes.append(k.code)
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(set(codes)) == len(codes) == 137


def test_every_word_names_one_region():
    assert None not in R._EXACT.values()


@pytest.mark.parametrize(
    "code, name, short, city",
    [
        ("430181", "浏阳市", "浏阳", "430100"),
        ("430121", "长沙县", "长沙县", "430100"),
        ("430582", "邵东市", "邵东", "430500"),
        ("430212", "渌口区", "渌口", "430200"),
        ("431181", "祁阳市", "祁阳", "431100"),
        ("433101", "吉首市", "吉首", "433100"),
        ("431129", "江华瑶族自治县", "江华", "431100"),
        ("430921", "南县", "南县", "430900"),
    ],
)
def test_spot_checks(code, name, short, city):
    r = R.get(code)
    assert (r.name, r.short, r.parent) == (name, short, city)
    assert R.city_of(code) == city


def test_cities_and_province():
    xiangxi = R.get("433100")
    assert (xiangxi.name, xiangxi.short) == ("湘西土家族苗族自治州", "湘西")
    assert R.get(R.PROVINCE_CODE).name == R.PROVINCE_NAME == "全省"
    assert R.city_of("430100") == "430100"
    assert R.city_of(R.PROVINCE_CODE) is None and R.city_of("123456") is None
    assert R.get("430221") is None  # 株洲县, now 渌口区


@pytest.mark.parametrize(
    "text, code",
    [
        ("浏阳市", "430181"),
        ("浏阳", "430181"),
        (" 怀化 ", "431200"),
        ("怀化市", "431200"),
        ("长沙", "430100"),
        ("长沙市", "430100"),
        ("长沙县", "430121"),
        ("邵阳", "430500"),
        ("邵阳县", "430523"),
        ("湘西州", "433100"),
        ("湘西", "433100"),
        ("吉首", "433101"),
        ("江华县", "431129"),
        ("邵东县", "430582"),
        ("芙蓉", "430102"),
        ("全省", R.PROVINCE_CODE),
        ("湖南省", R.PROVINCE_CODE),
        ("湖南", R.PROVINCE_CODE),
    ],
)
def test_resolve_region(text, code):
    assert R.resolve_region(text).code == code


@pytest.mark.parametrize("text", ["", "北京", "长沙浏阳", "南", "湘"])
def test_resolve_region_unknown(text):
    assert R.resolve_region(text) is None


def test_covers():
    assert R.covers(R.PROVINCE_CODE, "430181")
    assert R.covers(R.PROVINCE_CODE, "430100")
    assert R.covers("430100", "430100")
    assert R.covers("430100", "430181")
    assert not R.covers("430100", "430200")
    assert not R.covers("430100", "430202")
    assert R.covers("430181", "430181")
    assert not R.covers("430181", "430100")
    assert not R.covers("430181", "430182")
    assert not R.covers("430100", None)
    assert not R.covers("999999", "999999")


def test_full_name():
    assert R.full_name("430181") == "长沙市浏阳市"
    assert R.full_name("433101") == "湘西土家族苗族自治州吉首市"
    assert R.full_name("430100") == "长沙市"
    assert R.full_name(R.PROVINCE_CODE) == "全省"


@pytest.mark.parametrize(
    "text, code",
    [
        ("我是浏阳的，辣椒叶子发黄怎么办", "430181"),
        ("邵阳县的柑橘", "430523"),
        ("邵阳市大祥区", "430503"),
        ("邵阳的专家", "430500"),
        ("长沙县黄花镇", "430121"),
        ("在长沙市里", "430100"),
        ("湖南长沙浏阳", "430181"),
        ("湘西吉首的猕猴桃", "433101"),
        ("湘西州", "433100"),
        ("岳阳楼边上", "430602"),
        ("我在江华瑶族自治县种茶", "431129"),
        ("渌口区还是叫株洲县", "430212"),
        ("我在南县养小龙虾", "430921"),
        ("我们是湖南的", R.PROVINCE_CODE),
    ],
)
def test_find_in_text(text, code):
    assert R.find_in_text(text).code == code


@pytest.mark.parametrize(
    "text",
    [
        "辣椒叶子发黄怎么办",
        "芙蓉花怎么养",
        "洞口有虫子钻进去",
        "不知道县里有没有专家",
        "湖南县城边的鱼塘",
        "全省都在下雨",
        "",
    ],
)
def test_find_in_text_none(text):
    r = R.find_in_text(text)
    assert r is None or r.code == R.PROVINCE_CODE


def test_find_in_text_is_fast():
    text = "老师您好，我家在山里种了十亩辣椒，最近叶子发黄还有斑点，" * 5
    start = time.perf_counter()
    for _ in range(200):
        R.find_in_text(text)
    assert (time.perf_counter() - start) / 200 < 0.005
