"""The farmer's question: composing it, and /my."""

from __future__ import annotations

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
