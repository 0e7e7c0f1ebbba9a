"""The service loop: the leader's 接单 and demand card, the expert, the farmer closing the loop, and messages that could not reach their person."""

from __future__ import annotations

# ---- leader -------------------------------------------------------------------
NEW_DEMAND = (
    "{urgent}新需求 {no}\n"
    "领域：{field}\n"
    "地区：{region}\n"
    "提问人：{name}\n"
    "时间：{time}\n"
    "内容：{text}"
)
NEW_DEMAND_MEDIA = "需求 {no} 附带的{what}"
ACCEPTED_LINE = "\n\n✅ 已由 {name} 于 {time} 接单"
ACCEPTED_OK = "接单成功"
DEMAND_ACCEPTED_FARMER = "您的需求 {no} 已由「{team}」团长 {name} 接单，专家会尽快联系您。"
QUEUE_EMPTY = "目前没有等待接单的需求。"
QUEUE_HEADER = "待接单的需求（共 {total} 条，第 {first}–{last} 条，先到先排）："
QUEUE_ITEM = "{no}｜{field}｜{region}｜{age}\n{text}"


# ---- the service loop: leader after 接单 ------------------------------------------
BTN_MODE = "选择服务方式"
BTN_ASSIGN = "👥 派专家"
BTN_TRANSFER = "转派"
BTN_RETURN = "退回工作人员"
BTN_BY_FIELD = "按领域转派"
BTN_TODAY = "今天"
LEADER_NEXT = "请选择服务方式并派专家；不归本团管的可以转派或退回。"
ASK_MODE = "需求 {no} 用哪种方式服务？"
ASK_VISIT_DATE = "短期服务哪天上门？"
MODE_SET = "需求 {no} 的服务方式：{mode}{date}"
ASK_EXPERTS = "需求 {no} 派哪位专家？按匹配程度排序：\n{lines}"
EXPERT_LINE = "{n}. {name}（{title}）：{reason}"
ASSIGNED_LEADER = "已派 {names} 服务需求 {no}。"
ASSIGNED_FARMER = "您的需求 {no} 已安排专家 {names}，专家会在这里答复您。"
ASK_TRANSFER_TEAM = "把需求 {no} 转派给哪个服务团？也可以按领域转派。"
ASK_TRANSFER_FIELD = "把需求 {no} 转到哪个领域？会交给负责该领域的服务团。"
ASK_REASON = "请发一句话说明转派的原因（会记录在需求的办理过程里）。"
ASK_RETURN_REASON = "请发一句话说明退回的原因，工作人员会重新分派。"
TRANSFERRED_LEADER = "需求 {no} 已转派给「{team}」。"
TRANSFERRED_TO_STAFF = "需求 {no} 已交给工作人员分派。"
TRANSFER_IN = "「{from_team}」转派来的需求（原因：{reason}）：\n"
RETURNED_STAFF = "需求 {no} 被「{team}」退回（原因：{reason}），请重新分派：/triage\n内容：{text}"
REROUTED_FARMER = "您的需求 {no} 已转交给更合适的{where}处理，请耐心等待。"


# ---- the expert -----------------------------------------------------------------
BTN_REPLY_FARMER = "💬 回复农户"
BTN_CLOSE = "✅ 办结"
EXPERT_CARD = "派给您的需求 {no}（{team}）\n领域：{field}\n地区：{region}\n服务方式：{mode}\n提问人：{name}\n内容：{text}\n\n点“回复农户”后发文字、照片或语音，我会转给农户；办完请点“办结”填写服务记录。"
ASK_ANSWER = "请发给农户的内容（文字、照片或语音都可以），需求 {no}："
RELAYED = "已转给农户。"
RELAYED_TO_EXPERT = "已转给专家。"
ASK_CLOSE_MODE = "需求 {no} 是用哪种方式服务的？"
ASK_RECORD = "请发服务记录：先写服务时长（小时），再写一句摘要。例如：2 电话指导用药，已好转"
BAD_RECORD = "没看懂服务时长。请按“时长 摘要”发，例如：1.5 上门查看，建议喷三环唑"
CLOSED_EXPERT = "需求 {no} 已办结，服务记录已保存（{mode} {hours} 小时）。发 /hours 可查看本年服务学时。"
NO_MODE = "未定"
ANSWER_TO_FARMER = "专家 {name} 答复您的需求 {no}：\n{text}\n\n（直接回复这条消息可以继续问专家）"
ANSWER_MEDIA_CAPTION = "专家 {name} 发来的{what}（需求 {no}）"
FARMER_TO_EXPERT = "农户 {name} 关于需求 {no} 说：\n{text}"
FARMER_MEDIA_CAPTION = "农户 {name} 发来的{what}（需求 {no}）"


# ---- the farmer closes the loop -----------------------------------------------------
BTN_SOLVED = "已解决"
BTN_UNSOLVED = "未解决"
BTN_STARS = "{n}星"
CLOSED_FARMER = "专家 {name} 已办结您的需求 {no}。问题解决了吗？"
ASK_STARS = "谢谢！请给这次服务打个分："
THANKS_RATING = "谢谢您的评价（{stars}星）！"
HOURS_UNDER_REVIEW = "这次的服务时长（{reason}）要经工作人员审核后才计入学时。"
REVIEW_HOURS = ("请审核服务时长：{name} 办结需求 {no}，{mode} {hours} 小时（{reason}）。\n服务摘要：{summary}")
BTN_APPROVE_HOURS = "✅ 认可"
BTN_REJECT_HOURS = "不认可"
HOURS_APPROVED = "→ 已认可：{name} 的 {hours} 小时计入学时。"
HOURS_REJECTED = "→ 不认可：{name} 的 {hours} 小时不计入学时。"
ASK_SHARE = ("您的问题和专家的答复，可以给遇到同样问题的农户参考吗？分享前会去掉姓名、电话、身份证号和村组名称。"
             "不点就不分享。")
BTN_SHARE = "可以分享"
BTN_NO_SHARE = "不分享"
SHARED = "谢谢！去掉个人信息、经团长或工作人员审核后，这条问答会帮到遇到同样问题的农户。"
REVIEW_SHARED = ("农户同意分享需求 {no} 的问答。姓名、电话、身份证号和村组名称已自动去掉，请核对后发布"
                 "（发布后其他农户提问时会看到）：\n\n问：{question}\n\n答：{answer}")
BTN_PUBLISH = "发布"
BTN_DONT_PUBLISH = "不发布"
BTN_CORRECT_QUESTION = "修改问题"
BTN_CORRECT_ANSWER = "修改答案"
ASK_CORRECTION = "请发送修改后的{part}（整段替换原文）："
SHARED_PUBLISHED = "已发布。"
SHARED_WITHDRAWN = "已决定不发布，其他农户看不到这条问答。"
SHARED_PARTS = {"question": "问题", "answer": "答案"}
NOT_SHARED = "好的，这条问答不会给别人看。"
REOPENED_FARMER = "已重新交给服务团处理需求 {no}，专家会再联系您。"
REOPENED_TEAM = "需求 {no} 农户反映问题没有解决，已重新打开，请继续跟进。\n内容：{text}"
FOLLOW_UP_OK = "太好了！有新问题随时发给我。"
BTN_WITHDRAW = "撤回 {no}"
WITHDRAWN = "需求 {no} 已撤回。"
WHICH_ROLE = "您现在有正在服务的需求。这条消息是："
BTN_AS_QUESTION = "作为我自己的新问题"
BTN_AS_REPLY = "发给需求 {no} 的农户"


# --- Messages that cannot reach their person (the outbox) ---
EXPERT_UNREACHABLE = ("专家 {names} 还没有绑定本机器人，收不到派单，没有派出。"
                      "请工作人员为他生成专家邀请链接（jiceng invite expert 姓名）并请他点开绑定，或改派其他专家。")
LEADER_UNREACHABLE = ("⚠️ 需求 {no} 的新需求通知没有送到团长（{reason}）。"
                      "请工作人员联系团长，或改派给其他服务团。\n{text}")
EXPERT_CARD_UNREACHABLE = "⚠️ 派给专家 {name} 的需求 {no} 没有送到（{reason}），请改派其他专家。"
UNREACHABLE_REASONS = {"blocked": "对方已屏蔽机器人或账号已不存在", "failed": "多次发送失败"}
