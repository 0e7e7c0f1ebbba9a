"""Privacy: the notice at first contact and its agree step, /privacy, and deleting one's personal data (/forget)."""

from __future__ import annotations

FORGET_ASK = ("删除个人信息：您的姓名、地区、聊天账号、问题的原文、照片和语音、与专家往来的消息、订阅都会删除，"
              "无法恢复；问题只留下领域、地区、日期等统计信息。确定要删除吗？")
BTN_FORGET_YES = "确定删除"
BTN_FORGET_NO = "不删了"
FORGET_DONE = "已删除您的个人信息（{demands} 条问题只保留了统计信息）。以后再发消息，会当作新用户。"
FORGET_KEPT = "好的，什么都没有删除。"

# The notice at first contact (/start, and above the first question's 提交) and /privacy.
PRIVACY_SHORT = ("隐私说明：您发来的问题、照片和语音只用来办理您的需求，只有负责的团长、专家和工作人员能看到；"
                 "没确认的草稿 7 天后删除。问答要给其他农户参考，必须经您同意并去掉姓名、电话、村名。"
                 "发 /privacy 看详细说明，发 /forget 删除您的个人信息。")
PRIVACY_FULL = (
    "隐私说明\n"
    "• 存什么：您的称呼、地区、聊天账号；您发来的问题、照片、语音，和专家之间往来的消息、服务记录、评价。\n"
    "• 给谁看：只有负责您这条需求的服务团团长、专家和省市县工作人员。\n"
    "• 存多久：没确认的草稿（连同照片、语音）7 天后删除；已发出的消息记录 30 天后删除；"
    "需求和服务记录长期保存，用于统计和专家服务考核。\n"
    "• 分享：问题解决后会问您能不能给其他农户参考，默认不分享；同意后去掉姓名、电话、身份证号、村名，"
    "再经团长或工作人员审核才会发布。\n"
    "• 删除：发 /forget 并确认，您的个人信息全部删除，需求只留下领域、地区、日期等统计信息。"
)
BTN_AGREE = "同意"
SUBMIT_MEANS_AGREE = "点“✅ 提交”即表示您同意以上隐私说明。"
PRIVACY_AGREED = "谢谢！现在可以直接发您的问题了。"
PRIVACY_ALREADY = "您已经同意过隐私说明。发 /forget 可以删除您的个人信息。"
