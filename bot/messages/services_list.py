"""The technical service list (技术服务清单, /services)."""

from __future__ import annotations

# ---- the technical service list (技术服务清单, /services) ----------------------------
SERVICES_EMPTY = "技术服务清单还没有内容。您可以直接用文字描述遇到的问题，我会交给对口的服务团。"
SERVICES_FIELDS = "各专家服务团的技术服务清单。请选择领域："
BTN_SERVICE_FIELD = "{field}（{count}）"
SERVICES_IN_FIELD = "「{field}」的技术服务（共 {total} 项，第 {first}–{last} 项）：\n\n{lines}\n\n想问哪一项，就点下面对应的“就这个问”。"
SERVICE_LINE = "{n}. {title}\n   提供：{team}"
SERVICE_DESCRIPTION = "\n   {description}"
SERVICES_FIELD_EMPTY = "「{field}」目前没有技术服务项目了。"
BTN_ASK_SERVICE = "就这个问：{title}"
ASK_SERVICE_SITUATION = (
    "您选的是「{team}」的“{title}”。\n"
    "请说说您的具体情况，我会交给「{team}」。\n"
    "用一条消息写清楚：什么作物或畜禽、什么情况、多大面积或数量、在哪个县市。"
)
SERVICE_ASK_CANCELLED = "好的，不按服务项目提问了。有问题直接发文字给我就行。"
SERVICE_ITEM_NOTE = "将交给「{team}」（技术服务：{title}）"
