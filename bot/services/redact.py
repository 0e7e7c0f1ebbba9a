"""Removing what identifies a person from a question or an answer before others may read it:
mobile and landline numbers, ID-card numbers, the person's own name and names they give
(「我是王建国」「我叫…」), and village / group names (「青山村」「三组」). Pattern based, with the
names the platform knows (the asker's display name) added; what is removed becomes 「*」 marks
so the sentence still reads."""

from __future__ import annotations

import re
from collections.abc import Iterable

_ID_CARD = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)|(?<!\d)\d{15}(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d){8}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[-\s]?\d{7,8}(?!\d)")
_SELF_NAME = re.compile(r"(我是|我叫|本人|鄙人|我姓名是|我的名字是|名字叫)([\u4e00-\u9fff]{2,4}?)(?=[，,。.！!？?\s、；;：:]|村|家|住|$)")
_PLACE = re.compile(r"([\u4e00-\u9fff]{2,3})(村|组|屯|寨|社区)")
# Words before 村/组 that are not a place's name: 「请问村里」「全村」「我们组」 stay as they are.
_NOT_A_PLACE = ("请问", "问问", "我们", "你们", "他们", "咱们", "整个", "附近", "隔壁", "别的", "这个", "那个", "每个",
                "全", "各", "本", "该", "农", "乡")
_LEAD = "在住是从到去的"
_HIDDEN = "＊＊"


def names_in(text: str) -> list[str]:
    """The names a person gives of themselves in a text (「我是王建国」 → 王建国), to take out of
    the answers too (an expert writes 「王建国您好」)."""
    return [m.group(2) for m in _SELF_NAME.finditer(text)]


def redact(text: str, names: Iterable[str] = ()) -> str:
    text = _ID_CARD.sub(_HIDDEN, text)
    text = _MOBILE.sub(_HIDDEN, text)
    text = _LANDLINE.sub(_HIDDEN, text)
    text = _SELF_NAME.sub(lambda m: m.group(1) + _HIDDEN, text)
    text = _PLACE.sub(_place, text)
    for name in names:
        name = name.strip()
        if len(name) >= 2:
            text = text.replace(name, _HIDDEN)
    return text


def _place(match: re.Match[str]) -> str:
    prefix = match.group(1)
    if prefix.endswith(_NOT_A_PLACE) or prefix in _NOT_A_PLACE:
        return match.group(0)
    lead = prefix[0] if prefix[0] in _LEAD else ""
    return lead + _HIDDEN
