"""Privacy: deleting one's personal data (/forget)."""

from __future__ import annotations

FORGET_ASK = ("删除个人信息：您的姓名、地区、聊天账号、问题的原文、照片和语音、与专家往来的消息、订阅都会删除，"
              "无法恢复；问题只留下领域、地区、日期等统计信息。确定要删除吗？")
BTN_FORGET_YES = "确定删除"
BTN_FORGET_NO = "不删了"
FORGET_DONE = "已删除您的个人信息（{demands} 条问题只保留了统计信息）。以后再发消息，会当作新用户。"
FORGET_KEPT = "好的，什么都没有删除。"
