"""What identifies a farmer is taken out before a question and its answer may help others."""

from __future__ import annotations

import pytest

from bot.services.redact import names_in, redact


@pytest.mark.parametrize(("text", "secrets"), [
    ("我是王建国，住在青山村，电话13912345678，水稻稻瘟病怎么防治？", ["王建国", "青山村", "13912345678"]),
    ("我叫李四 身份证430102199001011234 联系0731-88886666", ["李四", "430102199001011234", "0731-88886666"]),
    ("+86 139 1234 5678 打这个号码", ["139 1234 5678"]),
    ("浏阳市永安镇桃花村的稻田黄了", ["桃花村"]),
])
def test_numbers_names_and_villages_are_taken_out(text, secrets):
    cleaned = redact(text, names_in(text))
    for secret in secrets:
        assert secret not in cleaned
    assert "＊＊" in cleaned


def test_the_question_still_reads_and_ordinary_words_stay():
    assert redact("水稻稻瘟病怎么防治") == "水稻稻瘟病怎么防治"
    assert redact("请问村里统一打药好吗") == "请问村里统一打药好吗"
    assert redact("我们组的稻子都黄了") == "我们组的稻子都黄了"
    assert redact("每亩用20克，兑水30公斤") == "每亩用20克，兑水30公斤"


def test_known_names_are_taken_out_wherever_they_appear():
    assert redact("张大哥您好，三环唑喷雾即可", ["张大哥"]) == "＊＊您好，三环唑喷雾即可"
    assert names_in("我是王建国，我叫王二") == ["王建国", "王二"]
