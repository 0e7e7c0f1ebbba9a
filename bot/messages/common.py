"""What every feature shares: buttons, the command menu, answers to bad input, and formatting."""

from __future__ import annotations

from datetime import datetime, timedelta

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
    ("console", "工作人员：打开管理后台"),
    ("enterprise", "企业登记（统一社会信用代码）"),
    ("privacy", "隐私说明"),
    ("forget", "删除我的个人信息"),
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
    "• /privacy 隐私说明；/forget 删除我的个人信息\n"
    "• /help 查看本说明"
)


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


def duration(delta: timedelta) -> str:
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
