"""Professional titles (职称) by level, as the policy reads them: experts are normally of 副高级 or
above; a lower title is not refused but flagged for staff to review."""

from __future__ import annotations

SENIOR, ASSOCIATE, BELOW = "正高级", "副高级", "副高以下"
_SENIOR_EXACT = {"研究员", "教授", "主任医师", "主任药师", "主任护师", "编审", "研究馆员", "推广研究员",
                 "农业技术推广研究员", "正高级农艺师", "正高级畜牧师", "正高级兽医师", "正高级工程师", "二级研究员",
                 "一级研究员", "三级研究员", "二级教授", "一级教授", "三级教授"}


def level(title: str) -> str:
    """正高级, 副高级 or 副高以下 for a title as written in a directory (blank: 副高以下)."""
    t = "".join(title.split())
    if not t:
        return BELOW
    if t in _SENIOR_EXACT or t.startswith(("正高级", "教授级")) or t.endswith("级研究员"):
        return SENIOR
    if t.startswith("副") and any(word in t for word in ("研究员", "教授", "主任", "编审", "研究馆员")):
        return ASSOCIATE
    if "高级" in t:
        return ASSOCIATE
    return BELOW


def below_associate(title: str) -> bool:
    return level(title) == BELOW
