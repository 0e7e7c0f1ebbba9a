"""Staff (/triage, /overdue) and joining (invites, /join)."""

from __future__ import annotations

# ---- staff --------------------------------------------------------------------
TRIAGE_NOTICE = "需要分派的需求 {no}（没有负责“{field}”的服务团）\n地区：{region}\n提问人：{name}\n内容：{text}"
NO_LEADER_NOTICE = "需求 {no} 已进入「{team}」的队列，但这个服务团还没有团长加入，请尽快邀请团长。\n内容：{text}"


# ---- joining ------------------------------------------------------------------
JOIN_ASK_PHONE = "专家请点下面的按钮分享您的手机号，与专家名单里的手机号一致即可完成绑定。手机号只用于核对身份，不会给农户看到。"
JOIN_NOT_FOUND = "专家名单里没有找到这个手机号。请联系工作人员核对，或使用工作人员发给您的邀请链接。"
JOIN_NOT_OWN = "请分享您自己的手机号（点“分享我的手机号”按钮）。"
CONSOLE_LINK = "管理后台登录链接（{minutes} 分钟内有效，只能用一次，请勿转发）：\n{url}"
INVITE_BAD = "这个邀请链接无效或已经用过了，请联系工作人员重新获取。"
BTN_CONFIRM_TAKEOVER = "确认更换"
BTN_REFUSE_TAKEOVER = "不同意"
TAKEOVER_CONFIRMED = "已确认更换，双方都已通知。"
TAKEOVER_REFUSED = "已决定不更换，双方都已通知。"


# ---- staff ----------------------------------------------------------------------
TRIAGE_EMPTY = "分诊队列是空的。"
TRIAGE_HEADER = "等待分派的需求（共 {total} 条）："
TRIAGE_ITEM = "{no}｜{field}｜{region}\n{text}"
BTN_ROUTE = "分派 {no}"
ASK_ROUTE_TEAM = "把需求 {no}（{field}）分派给哪个服务团？"
ROUTED_STAFF = "需求 {no} 已分派给「{team}」。"
OVERDUE_EMPTY = "没有超时的需求。"
OVERDUE_HEADER = "超时的需求（共 {total} 条）："
OVERDUE_ITEM = "{no}｜{team}｜{stage}超时 {late}"
