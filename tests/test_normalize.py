"""The normaliser: cleaning, folk words, pinyin typos — and never corrupting correct text."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intents.normalize import Normalizer


@pytest.fixture(scope="module")
def n() -> Normalizer:
    return Normalizer()


TYPOS = {
    "道温病怎么治": ("稻瘟病怎么治", ("道温病", "稻瘟病")),
    "稻问病打什么药": ("稻瘟病打什么药", ("稻问病", "稻瘟病")),
    "二化明太多了怎么办": ("二化螟太多了怎么办", ("二化明", "二化螟")),
    "纹枯并用什么药": ("纹枯病用什么药", ("纹枯并", "纹枯病")),
    "柑橘红蜘珠好多": ("柑橘红蜘蛛好多", ("红蜘珠", "红蜘蛛")),
    "吡蚜同和噻虫嗪能混用吗": ("吡蚜酮和噻虫嗪能混用吗", ("吡蚜同", "吡蚜酮")),
    "水稻纹姑病严重": ("水稻纹枯病严重", ("纹姑病", "纹枯病")),
    "辣椒上好多牙虫": ("辣椒上好多蚜虫", ("牙虫", "蚜虫")),
}


@pytest.mark.parametrize("typed", TYPOS)
def test_pinyin_typos_are_corrected_and_reported(n, typed):
    text, pair = TYPOS[typed]
    r = n.normalize(typed)
    assert r.text == text
    assert pair in r.corrections


FOLK = {
    "洋芋几月份种": "马铃薯几月份种",
    "土豆叶子发黄": "马铃薯叶子发黄",
    "番薯和红苕一起种": "红薯和红薯一起种",
    "包谷地里有虫，苞谷长不大": "玉米地里有虫,玉米长不大",
    "禾苗发黄": "水稻发黄",
    "猪崽拉稀": "仔猪拉稀",
    "鸡婆不下蛋": "母鸡不下蛋",
    "团鱼不吃食": "甲鱼不吃食",
    "是么子原因": "是什么原因",
}


@pytest.mark.parametrize("folk", FOLK)
def test_folk_words_become_standard_terms(n, folk):
    r = n.normalize(folk)
    assert r.text == FOLK[folk]
    assert r.synonyms and not r.corrections


def test_folk_words_inside_longer_words_stay(n):
    assert n.normalize("油菜花开了，小龙虾也下塘了").text == "油菜花开了,小龙虾也下塘了"
    assert n.normalize("土豆丝怎么炒").text == "土豆丝怎么炒"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("稻瘟病怎麼治？？？", "稻瘟病怎么治?"),
        ("ＡＢＣ１２３　水稻", "ABC123 水稻"),
        ("葉子發黃！！！", "叶子发黄!"),
        ("水稻\u200b倒伏\u200d了", "水稻倒伏了"),
        ("猪😀😀不吃食🐷", "猪 不吃食"),
        ("鸡\t\n\r拉稀", "鸡 拉稀"),
        ("好多虫。。。怎么办?!?!", "好多虫。怎么办?"),
    ],
)
def test_cleaning(n, raw, clean):
    assert n.normalize(raw).text == clean


# Correct farmers' sentences: the normaliser may only clean them, never rewrite words.
CORRECT = """
水稻叶子发黄是什么原因
稻瘟病用什么药效果好
二化螟什么时候打药
纹枯病怎么防治
柑橘红蜘蛛用阿维菌素行不行
吡蚜酮能不能防稻飞虱
辣椒叶子卷起来了
黄瓜霜霉病怎么治
番茄晚疫病打什么药
草地贪夜蛾在玉米上怎么防
猪不吃食还发烧
母猪产后不吃料怎么办
小猪拉黄色稀粪
鸡拉白色稀粪死了好几只
鸭子脚软站不起来
牛咳嗽流鼻涕
黑山羊拉稀用什么兽药
鱼塘里的鱼早上浮头
草鱼烂鳃病怎么办
小龙虾不吃食死了很多
稻虾田的水草怎么种
黄精叶斑病用什么药
玉竹种苗哪里买
油茶炭疽病怎么防
松树成片死了是不是松材线虫
楠竹林怎么施肥
杉木砍伐要办采伐证吗
大棚蔬菜土壤板结怎么办
水稻分蘖期追什么肥
测土配方施肥去哪里做
茶叶怎么加工保存
腊肉怎么做才不坏
收割机发动不了
植保无人机哪里可以租
合作社怎么申请补贴
想学养蜂技术
网上怎么卖橘子
冰糖橙种下去几年挂果
猕猴桃溃疡病怎么治
葡萄灰霉病用什么药
桃树流胶病怎么办
梨树黑星病怎么防
西瓜枯萎病怎么治
白菜根肿病怎么防
萝卜糠心是什么原因
红薯什么时候插苗
马铃薯晚疫病打什么药
油菜菌核病怎么防
花生叶斑病用什么药
玉米大斑病怎么治
今年早稻种什么品种好
再生稻头季什么时候收割
秧苗立枯病怎么办
稻曲病什么时候预防
稻飞虱太多了
蓟马用什么药
白粉虱怎么杀
蜗牛吃菜苗怎么办
老鼠咬玉米
我们这里有好多例子
小卖部里有没有卖种子的
举个例子说说怎么种
家里有菜地想种点辣椒
一病就死是怎么回事
鱼死了好多条
幼虫钻到果子里去了
驱虫药多久用一次
粉丝说辣椒好卖
我知道温度太低了
天气太热了鸡不吃东西
今天下大雨田里积水
明天要打药了
同一块地能不能连作
并且要注意什么
东西太多了卖不完
请问专家这个是什么病
谢谢老师
我是浏阳的农户
长沙县的葡萄园
衡阳县水稻
祁东县黄花菜怎么种
湘潭的湘莲怎么种
邵阳县的油茶
湘西的猕猴桃
张家界的莓茶
益阳的茶叶
郴州的烟叶
永州的柑橘
怀化的冰糖橙
娄底的生猪
岳阳的小龙虾
常德的水稻
株洲的黄桃
每斤卖三块钱
一亩地产多少斤
养了两千只鸡
十几头猪都不吃食
鸡瘟打什么疫苗
非洲猪瘟怎么防
蓝耳病有什么症状
口蹄疫疫苗怎么打
新城疫怎么预防
兔子掉毛打喷嚏
狗咬了羊
蜜蜂分蜂怎么办
""".split()


def test_correct_sentences_are_left_alone(n):
    changed = [(s, n.normalize(s)) for s in CORRECT if n.normalize(s).text != n.clean(s)]
    assert changed == []


def test_own_results_are_fixed_points(n):
    for s in [*TYPOS, *FOLK, *CORRECT]:
        once = n.normalize(s)
        assert n.normalize(once.text).text == once.text
        assert not n.normalize(once.text).corrections


@pytest.mark.parametrize(
    "raw", ["", " ", "😀😀😀", "\x00\x01\x02", "hello world", "dao wen bing zen me zhi", "?!?!", "\u200b\u200d"]
)
def test_bad_input_never_raises(n, raw):
    r = n.normalize(raw)
    assert isinstance(r.text, str)
    assert r.text == r.text.strip()
    assert "\x00" not in r.text


def test_non_text_reads_as_empty(n):
    assert n.normalize(None).text == ""  # type: ignore[arg-type]


def test_long_input(n):
    text = "水稻道温病叶子发黄😀" * 1000
    t = time.perf_counter()
    r = n.normalize(text)
    assert time.perf_counter() - t < 1.0
    assert "稻瘟病" in r.text and "道温病" not in r.text


def test_speed(n):
    text = "我家水稻得了道温病，叶子发黄，二化明也多，打什么药好呢，急！！包谷地也有虫"
    n.normalize(text)
    t = time.perf_counter()
    for _ in range(200):
        n.normalize(text)
    assert (time.perf_counter() - t) / 200 < 0.0005 * 4  # 0.5 ms target; slack for slow CI


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_never_raises_and_is_idempotent(n, text):
    once = n.normalize(text).text
    assert n.normalize(once).text == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("稻瘟病道温问纹枯并红蜘珠蛛吡蚜同酮虫牙洋芋土豆！？ 😀，。")))
def test_domain_alphabet_is_idempotent(n, text):
    once = n.normalize(text).text
    assert n.normalize(once).text == once
