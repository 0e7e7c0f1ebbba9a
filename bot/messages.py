"""Every sentence the bot says, in plain Simplified Chinese, in one place for review."""

from __future__ import annotations

from datetime import datetime

from bot.clock import CHINA_TIME
from intents import regions, taxonomy

# ---- buttons ------------------------------------------------------------------
BTN_SUBMIT = "✅ 提交"
BTN_OTHER_FIELD = "换个领域"
BTN_REGION = "📍 选择地区"
BTN_CANCEL = "取消"
BTN_ACCEPT = "接单"
BTN_PREV = "« 上一页"
BTN_NEXT = "下一页 »"
BTN_BACK = "« 返回"
BTN_WHOLE_CITY = "不细分，就选{city}"
BTN_SHARE_PHONE = "📱 分享我的手机号"

# ---- commands (the menu set at start-up) --------------------------------------
COMMANDS = [
    ("start", "开始使用"),
    ("my", "我的问题和进度"),
    ("region", "设置所在地区"),
    ("services", "技术服务清单"),
    ("subscribe", "订阅培训通知"),
    ("unsubscribe", "退订培训通知"),
    ("queue", "团长：待接单的需求"),
    ("join", "专家：用手机号绑定身份"),
    ("hours", "专家：本年服务时长和继续教育学时"),
    ("triage", "工作人员：待分派的需求"),
    ("overdue", "工作人员：超时的需求"),
    ("notice", "工作人员：发布培训通知"),
    ("records", "我的学员学习档案（培训报名、出勤、学时）"),
    ("attend", "工作人员：登记培训出勤"),
    ("help", "使用说明"),
]

WELCOME = (
    "您好，{name}！这里是湖南省“专家服务基层”助手。\n"
    "种植养殖、病虫害、加工销售、企业技术等方面遇到难题，直接用文字把情况告诉我就行，"
    "也可以发照片或语音。我会帮您整理好，交给对口的专家服务团，并给您一个需求编号方便查进度。"
)
ASK_REGION = "请先选一下您所在的市州（也可以跳过，直接发问题）："
ASK_COUNTY = "请选择{city}下面的县市区："
REGION_SAVED = "好的，已记下您的地区：{region}。现在可以直接发您的问题了。"
WELCOME_LEADER = "您是「{teams}」的团长。有新需求时我会通知您，点“接单”即可；发 /queue 查看待接单的需求。"
WELCOME_STAFF = "您是工作人员。没有对口服务团的需求会通知您分派。"
WELCOME_EXPERT = "您是专家服务团的专家，需求派给您时我会通知您。"

HELP = (
    "使用说明：\n"
    "• 直接发文字描述您的问题（最好写清作物或畜禽、症状、面积或数量、所在县市），我会识别领域后请您确认提交。\n"
    "• 发照片或语音：带文字说明的当作新问题；不带说明的会补充到您正在提交或刚提交的问题里。\n"
    "• /my 查看我提交的问题和进度\n"
    "• /region 设置或修改所在地区\n"
    "• /services 查看各服务团的技术服务清单，选中一项直接向该服务团提问\n"
    "• /subscribe 按领域和地区订阅培训通知，/unsubscribe 退订\n"
    "• /queue 团长查看待接单的需求\n"
    "• /join 专家用手机号绑定身份\n"
    "• /hours 专家查看本年服务时长和继续教育学时\n"
    "• /triage、/overdue 工作人员查看待分派和超时的需求\n"
    "• /notice 工作人员发布培训通知；/cancel 取消正在进行的操作\n"
    "• 收到培训通知点“报名”；/records 查看我的学员学习档案（报名、出勤、学时）\n"
    "• /attend 工作人员登记培训出勤\n"
    "• /help 查看本说明"
)

# ---- farmer: composing a question ----------------------------------------------
CONFIRM = (
    "我理解您的问题是：\n"
    "领域：{field}{certainty}\n"
    "{entities}"
    "关键词：{keywords}\n"
    "地区：{region}\n"
    "{notes}\n"
    "“{text}”\n\n"
    "确认无误请点“提交”；领域不对可以点“换个领域”。"
)
ENTITY_LABELS = (
    ("subjects", "对象"), ("pests_diseases", "病虫害"), ("symptoms", "症状"),
    ("pesticides", "提到的药"), ("quantities", "数量"),
)
CORRECTED = "（已把“{typed}”按“{read}”理解）"
URGENT_NOTE = "⚠️ 看起来情况紧急（{terms}），提交后会优先处理。"
SIMILAR_HEADER = "\n这些已解答的问题可能对您有帮助："
SIMILAR_ITEM = "{n}. {question}\n   答：{answer}"
BTN_SIMILAR = "📖 看第{n}条答案"
SIMILAR_FULL = "问：{question}\n\n答：{answer}\n\n（如果没解决，可以回到上面点“提交”，交给专家。）"
URGENT_TAG = "【紧急】"
CERTAIN = "（把握较大）"
UNCERTAIN = "（不太确定）"
NO_KEYWORDS = "（未识别到）"
NO_REGION = "未填写（可点“选择地区”）"
ASK_FIELD = "我还不太确定您问的是哪方面的问题：\n“{text}”\n\n请选择最接近的领域："
ASK_DRAFT_CITY = "请选择问题所在的市州："
SUBMITTED_TO_TEAM = (
    "已提交！需求编号：{no}\n"
    "已交给「{team}」处理，团长接单后会通知您。发 /my 可以随时查看进度。"
)
SUBMITTED_TO_TRIAGE = (
    "已提交！需求编号：{no}\n"
    "目前还没有专门负责“{field}”的服务团，工作人员会尽快为您安排合适的专家，请耐心等待。"
    "发 /my 可以随时查看进度。"
)
SUBMITTED_SHORT = "已提交"
DRAFT_CANCELLED = "已取消，这个问题没有提交。有需要随时再发给我。"
MEDIA_TO_DRAFT = "已收到{what}，会和您正在提交的问题一起交给专家。"
MEDIA_TO_DEMAND = "已收到{what}，已补充到需求 {no}。"
MEDIA_HELD = "已收到{what}。请再用文字简单说一下遇到的问题（比如什么作物、什么症状），我会把{what}一起交给专家。"
PHOTO = "照片"
VOICE = "语音"

# ---- farmer: /my --------------------------------------------------------------
MY_EMPTY = "您还没有提交过问题。直接发文字描述您遇到的难题就可以。"
MY_HEADER = "您提交的问题（共 {total} 条，第 {first}–{last} 条）："
MY_ITEM = "{no}｜{status}｜{field}\n{text}"

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

# ---- staff --------------------------------------------------------------------
TRIAGE_NOTICE = "需要分派的需求 {no}（没有负责“{field}”的服务团）\n地区：{region}\n提问人：{name}\n内容：{text}"
NO_LEADER_NOTICE = "需求 {no} 已进入「{team}」的队列，但这个服务团还没有团长加入，请尽快邀请团长。\n内容：{text}"

# ---- joining ------------------------------------------------------------------
JOIN_ASK_PHONE = "专家请点下面的按钮分享您的手机号，与专家名单里的手机号一致即可完成绑定。手机号只用于核对身份，不会给农户看到。"
JOIN_NOT_FOUND = "专家名单里没有找到这个手机号。请联系工作人员核对，或使用工作人员发给您的邀请链接。"
JOIN_NOT_OWN = "请分享您自己的手机号（点“分享我的手机号”按钮）。"
INVITE_BAD = "这个邀请链接无效或已经用过了，请联系工作人员重新获取。"

# ---- bad input ----------------------------------------------------------------
TOO_LONG = "您的消息太长了（超过 {limit} 字）。请分几次发送，或只写最关键的情况：什么作物或畜禽、什么症状、多大面积。"
EMPTY_TEXT = "没有看到文字内容。请用文字描述您遇到的问题，也可以发照片或语音。"
STICKER = "收到您的表情。请用文字描述您遇到的问题，也可以发照片或语音。"
UNSUPPORTED = "暂时只能处理文字、照片和语音。请用文字描述您的问题。"
EDITED = "修改过的消息不会更新已经发送的问题。如需补充或更正，请直接发一条新消息。"
GROUP_CHAT = "请私聊我提问或办理，群里的消息我不处理。"
UNKNOWN_COMMAND = "没有这个命令。发 /help 查看可用的命令。"
NOT_YOURS = "这个按钮不是给您的。"
STALE_BUTTON = "这个按钮已经失效了。"
SET_ASIDE = "抱歉，这条消息暂时没能处理，已经记下并转给工作人员查看，处理好后会继续办理，您不用重发。"
TOO_FAST = "您发得太快了，请 {seconds} 秒后再试。"


# ---- formatting helpers --------------------------------------------------------
def field_label(code: str) -> str:
    return taxonomy.field_name(code)


def region_label(code: str | None) -> str:
    return regions.full_name(code) if code else "未填写"


def china_time(moment: datetime) -> str:
    return moment.astimezone(CHINA_TIME).strftime("%m月%d日 %H:%M")


def short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def duration(delta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}分钟"
    if minutes < 24 * 60:
        return f"{minutes // 60}小时"
    return f"{minutes // (24 * 60)}天{minutes % (24 * 60) // 60}小时"


def age(since: datetime, now: datetime) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"等了{minutes}分钟"
    if minutes < 24 * 60:
        return f"等了{minutes // 60}小时"
    return f"等了{minutes // (24 * 60)}天"


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
REOPENED_FARMER = "已重新交给服务团处理需求 {no}，专家会再联系您。"
REOPENED_TEAM = "需求 {no} 农户反映问题没有解决，已重新打开，请继续跟进。\n内容：{text}"
FOLLOW_UP_OK = "太好了！有新问题随时发给我。"
BTN_WITHDRAW = "撤回 {no}"
WITHDRAWN = "需求 {no} 已撤回。"
WHICH_ROLE = "您现在有正在服务的需求。这条消息是："
BTN_AS_QUESTION = "作为我自己的新问题"
BTN_AS_REPLY = "发给需求 {no} 的农户"

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

# ---- training sign-ups (报名, 出勤) and the trainee learning record (学员学习档案) ----------
BTN_SIGNUP_CANCEL = "取消报名"
BTN_ATTEND_NOTICE = "{title}（{when}）"
BTN_ATTENDED = "✅ {name}"
BTN_NOT_ATTENDED = "⬜ {name}"
BTN_WAITING_MARK = "（候补）"
SIGNED_UP = "报名成功，座位已保留：「{title}」{when}。"
SIGNED_UP_WAITING = "名额已满，您在候补第 {position} 位：「{title}」。有人取消时会按顺序递补，递补成功我会通知您。"
ALREADY_SIGNED_UP = "您已经报名了「{title}」，座位已保留。"
ALREADY_WAITING = "您已在「{title}」的候补名单上，现在是第 {position} 位。"
SIGNUP_CANCELLED = "已取消报名「{title}」。"
WAITING_CANCELLED = "已退出「{title}」的候补名单。"
PROMOTED = "好消息：有人取消报名，您已从候补转为正式报名「{title}」{when}，座位已保留。不能参加请点“取消报名”。"
TRAINING_REMINDER = "⏰ 培训提醒：您报名的「{title}」将于 {when} 开始{place}。不能参加请点“取消报名”，把名额让给候补的学员。"
TRAINING_PLACE = "，地点：{place}"
NOTICE_GONE = "这条培训通知不存在或已撤下。"
NOTICE_CANCELLED = "「{title}」已取消，不能报名。"
SIGNUP_DEADLINE_PASSED = "「{title}」的报名已于 {when} 截止。"
TRAINING_STARTED = "「{title}」已经开始，不能再报名或取消报名了。"
NOT_SIGNED_UP = "您没有报名「{title}」。"
ATTEND_STAFF_ONLY = "只有工作人员才能登记出勤。"
ATTEND_NO_SIGNUP = "这位学员没有报名这次培训。"
ATTEND_NO_NOTICES = "还没有可以登记出勤的培训通知。"
ATTEND_PICK_NOTICE = "登记哪次培训的出勤？"
ATTEND_SHEET = "「{title}」{when}的出勤（点名字切换 ✅ 出勤 / ⬜ 未到）：已到 {present} / 报名 {total}"
ATTEND_EMPTY = "「{title}」还没有人报名。"
ATTEND_SAVED = "已登记：{name} {state}"
ATTEND_PRESENT = "出勤"
ATTEND_ABSENT = "未到"
RECORDS_EMPTY = "您还没有报名过培训。收到培训通知时点“报名”，参加后的学时会记在这里。"
RECORDS_HEADER = "{name}的学员学习档案：报名 {signed} 次，出勤 {attended} 次，累计 {hours} 学时"
RECORDS_TOPICS = "培训主题：{topics}"
RECORDS_ITEM = "{n}. {title}｜{when}｜{state}{hours}"
RECORDS_ITEM_HOURS = "｜{hours} 学时"
RECORDS_ITEM_TOPICS = "\n   主题：{topics}"
RECORD_STATE_ATTENDED = "已出勤"
RECORD_STATE_ABSENT = "缺勤"
RECORD_STATE_CONFIRMED = "已报名"
RECORD_STATE_WAITING = "候补"
RECORD_NO_DATE = "时间待定"
SIGNUP_STATUS_NAMES = {"confirmed": "已报名", "waiting": "候补", "cancelled": "已取消"}
ATTENDANCE_YES, ATTENDANCE_NO = "是", "否"
ATTENDANCE_BAD_VALUE = "出勤「{value}」看不懂，请填 是/否（也可填 √、×、1、0、出勤、缺勤），不改的留空"
ATTENDANCE_NO_ID = "TelegramID 不能为空（请不要删改导出的这一列）"
ATTENDANCE_BAD_ID = "TelegramID「{value}」应是数字"
ATTENDANCE_UNKNOWN_ID = "TelegramID {value} 没有报名这次培训"
ATTENDANCE_DUPLICATE = "TelegramID {value} 与第 {row} 行重复"
ATTENDANCE_IMPORTED = "「{title}」出勤已导入：出勤 {present} 人，缺勤 {absent} 人，未填 {unchanged} 人"
REPORT_BAD_SUFFIX = "不支持保存为「{suffix}」文件，请用 .xlsx（Excel 工作簿）或 .csv（逗号分隔）结尾的文件名。"
REPORT_UNWRITABLE = "无法写入文件「{name}」：{reason}"
SIGNUPS_SHEET = "报名名单"
TRAINEES_SHEET = "学员学习档案"
SIGNUPS_REPORT_WRITTEN = "「{title}」报名名单：{count} 人，已写入 {path}"
TRAINEES_REPORT_WRITTEN = "学员学习档案：{count} 位学员，已写入 {path}"

# ---- training notices: subscriptions (/subscribe, /unsubscribe) and composing (/notice) ----
ALL_FIELDS_LABEL = "全部领域"
BTN_ALL_FIELDS = "全部领域"
BTN_WHOLE_PROVINCE = "全省"
BTN_SUBSCRIBE = "订阅"
BTN_NO_THANKS = "不用了"
BTN_UNSUBSCRIBE_ONE = "退订 {label}"
BTN_UNSUBSCRIBE_ALL = "全部退订"
SUBSCRIBE_FIELD = "订阅培训通知：想收到哪个领域的培训、讲座、现场教学通知？"
SUBSCRIBE_CITY = "「{field}」的培训通知，想收哪里的？请选择市州，或选全省："
SUBSCRIBE_COUNTY = "请选择{city}下面的县市区："
SUBSCRIBED = "已订阅：{label}\n有符合的培训通知时我会发给您。发 /unsubscribe 可以退订。"
SUBSCRIPTION_LABEL = "{field}·{region}"
SUBSCRIBE_OFFER = "要不要订阅「{field}」在「{region}」的培训通知？有相关的讲座、现场教学时我会通知您。"
SUBSCRIBE_DECLINED = "好的，不订阅。以后想收培训通知，发 /subscribe 就行。"
UNSUBSCRIBE_NONE = "您还没有订阅培训通知。发 /subscribe 可以订阅。"
UNSUBSCRIBE_PICK = "您订阅的培训通知：\n{lines}\n\n点下面的按钮退订："
UNSUBSCRIBED_ONE = "已退订：{label}"
UNSUBSCRIBED_ALL = "已全部退订，不会再收到培训通知。想再收时发 /subscribe。"

NOTICE_STAFF_ONLY = "抱歉，培训通知只能由工作人员发布。如果您想收到培训通知，请发 /subscribe 订阅。"
NOTICE_ASK_TITLE = "发布培训通知（随时发 /cancel 或点“取消”停止）。\n第 1 步：请发通知的标题，如“水稻病虫害绿色防控现场培训”。"
NOTICE_ASK_CONTENT = "第 2 步：请发通知的内容（培训安排、主讲专家、需要带什么等）。"
NOTICE_ASK_TIME = "第 3 步：培训什么时候开始？（北京时间）\n例如：2026-12-05 09:00、12月5日 9:00 或 12-05 09:00"
NOTICE_ASK_DURATION = "第 4 步：培训大约多少小时？请发一个数字，如 2 或 1.5"
NOTICE_ASK_PLACE = "第 5 步：培训地点在哪里？如“浏阳市永安镇农技站二楼会议室”，线上培训请写“线上”和会议号。"
NOTICE_ASK_FIELDS = "第 6 步：发给哪些领域的订阅者？可以多选，选好点“完成”；不限领域点“全部领域”。\n已选：{chosen}"
NOTICE_ASK_REGIONS = "第 7 步：发给哪些地区的订阅者？可以多选，选好点“完成”；全省的都发点“全省”。\n已选：{chosen}"
NOTICE_ASK_CAPACITY = "第 8 步：有多少个名额？请发一个数字，不限名额发“不限”或点下面的按钮。"
NOTICE_ASK_DEADLINE = "第 9 步：报名什么时候截止？（北京时间）例如 12月4日 18:00；不设截止发“不设”或点下面的按钮。"
NOTICE_STEP_ANSWERED = "{ask}\n→ {answer}"
NOTICE_USE_BUTTONS = "请用上面消息里的按钮选择，选好点“完成”。"
NOTICE_NONE_CHOSEN = "（未选，即全部）"
NOTICE_BAD_TIME = "没看懂这个时间。请按这样写（北京时间）：2026-12-05 09:00、12月5日 9:00 或 12-05 09:00"
NOTICE_NEED_CLOCK = "请写上几点开始，如：12月5日 9:00"
NOTICE_TIME_PAST = "这个时间已经过去了，请发一个以后的时间，如：{example}"
NOTICE_DEADLINE_AFTER_START = "报名截止时间不能晚于培训开始时间（{start}），请重新发，或发“不设”。"
NOTICE_BAD_DURATION = "时长请发一个大于 0、不超过 240 的数字（小时），如 2 或 1.5"
NOTICE_BAD_CAPACITY = "名额请发一个正整数，如 50；不限名额发“不限”。"
NOTICE_EMPTY = "内容不能为空，请用文字发送。"
NOTICE_TOO_LONG = "太长了（超过 {limit} 字），请精简后再发。"
NOTICE_PREVIEW = "预览：订阅者将收到下面这条通知\n━━━━━━━━━━\n{notice}\n━━━━━━━━━━\n目标领域：{fields}\n目标地区：{regions}\n将发给 {count} 位订阅者。\n\n确认无误请点“发送”。"
NOTICE_PREVIEW_NOBODY = "（目前没有符合的订阅者；发送后通知会保存，报名照常可用。）"
NOTICE_CANCELLED_COMPOSE = "已取消，这条培训通知没有保存，也没有发出。"
NOTICE_ALREADY_SENT = "这条通知已经提交发送了。"
NOTICE_QUEUED = "培训通知「{title}」已保存，正在准备发给 {count} 位订阅者…"
NOTICE_NO_RECIPIENTS = "培训通知「{title}」已保存。目前没有符合的订阅者，没有发出任何消息。"
NOTICE_SEND_FAILED = "培训通知「{title}」发送中断了（{reason}）。未发出的部分已保存在发送队列里，机器人重新启动后会继续发送。"
NOTICE_NOT_FOUND = "没有找到这条培训通知。"
BTN_NOTICE_DONE = "完成 ➡️"
BTN_NOTICE_SEND = "📢 发送"
BTN_NO_LIMIT = "不限名额"
BTN_NO_DEADLINE = "不设截止"
BTN_CHOSEN = "✅ {name}"
CANCEL_NOTHING = "现在没有要取消的操作。"
CANCEL_DONE = "好的，已取消。"


def subscription_field_label(code: str) -> str:
    return ALL_FIELDS_LABEL if code == "*" else taxonomy.field_name(code)


def subscription_label(field: str, region: str) -> str:
    return SUBSCRIPTION_LABEL.format(field=subscription_field_label(field), region=regions.full_name(region))

# --- Messages that cannot reach their person (the outbox) ---
EXPERT_UNREACHABLE = ("专家 {names} 还没有绑定本机器人，收不到派单，没有派出。"
                      "请工作人员为他生成专家邀请链接（jiceng invite expert 姓名）并请他点开绑定，或改派其他专家。")
LEADER_UNREACHABLE = ("⚠️ 需求 {no} 的新需求通知没有送到团长（{reason}）。"
                      "请工作人员联系团长，或改派给其他服务团。\n{text}")
EXPERT_CARD_UNREACHABLE = "⚠️ 派给专家 {name} 的需求 {no} 没有送到（{reason}），请改派其他专家。"
UNREACHABLE_REASONS = {"blocked": "对方已屏蔽机器人或账号已不存在", "failed": "多次发送失败"}
