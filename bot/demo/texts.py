"""Every sentence the terminal demo itself says (the bot's own words are in `bot.messages`)."""

from __future__ import annotations

ROLE_LABELS = {"farmer": "农户", "leader": "团长", "staff": "工作人员", "expert": "专家", "visitor": "用户"}

BANNER = """\
==================== 基层专家服务助手 · 离线演示 ====================
机器人、Bot API 替身和数据库都在本机运行：不需要令牌，也不联网。
{data}
{directory}
你现在扮演农户「{farmer}」。直接输入文字，就是给机器人发消息。
  先试试 /start，或者直接问：浏阳的水稻叶子有褐色病斑，是不是稻瘟病，打什么药
机器人的按钮显示为 [1] [2] …：输入数字，就是按下发给你的最近一条带按钮消息上的那个按钮。
发给其他角色的消息只显示一行摘要；用 :as 切换角色，就能看全文、替他们按按钮。
输入 :help 查看全部命令，:quit 退出。
===================================================================="""

WEB = """网页聊天（手机浏览器或微信里打开）：{url}
  用任意 11 位手机号登录（比如 13800000001），演示验证码是 {code}（短信内容会打印在这里）。
  在网页里当农户提问，在这个终端里 :as leader 当团长接单、派专家。
  管理后台：{url}/console（:as staff 后发 /console 获取一次性登录链接）。"""
WEB_BUSY = "网页聊天没有启动：端口 {port} 被占用（可以设置 JICENG_WEB_PORT 换一个端口）。"
DEMO_CODE = "123456"

DATA_TEMPORARY = "数据库在临时文件夹里，退出后删除（想保留请用 jiceng demo --data 文件夹）。"
DATA_FOLDER = "数据库在：{folder}"
DIRECTORY_IMPORTED = "已导入演示名单 —— {teams}；{experts}；工作人员 1 位。"
DIRECTORY_REUSED = "沿用上次的演示数据（名单已经在库里，没有重新导入）。"
STARTING = "正在启动演示……"

HELP = """\
命令（以英文或中文冒号开头）：
  :as farmer        扮演农户（默认）
  :as leader        扮演团长：最近收到新需求的那个服务团的团长（还没有需求时是第一个服务团的）
  :as leader2       扮演第 2 个服务团的团长（leader1 … leader4）
  :as staff         扮演工作人员（收到没有对口服务团的需求）
  :as expert        扮演专家
  :as 姓名 / :as 数字  按姓名扮演某个角色，或用任意 TelegramID 扮演一位新用户
  :who              列出所有角色
  N 或 :press N     按下发给你的最近一条带按钮消息上的第 N 个按钮（:press 文字 按文字找按钮）
  :say 文字         原样发送文字（比如只想发一个数字时）
  :photo [说明]     发一张照片（带说明就是一个新问题）
  :voice            发一条语音
  :contact 手机号   分享自己的手机号（回应“📱 分享我的手机号”键盘）
  :help             显示本说明
  :quit             退出（Ctrl-D、Ctrl-C 也可以）
小提示：
  没有对口服务团的问题（比如农机维修）会交给工作人员分诊：:as staff 看看。
  专家用手机号加入：:as 600002，发 /join，再 :contact 13800000102（演示名单里李四的手机）。"""

PROMPT = "{name}（{role}）> "

FROM_BOT = "【机器人 → {who}】"
FROM_BOT_EDITED = "【机器人（修改）→ {who}】"
FROM_BOT_DELETED = "【机器人（撤回）→ {who}】一条消息"
TOAST = "【提示 → {who}】{text}"
ALERT = "【弹窗 → {who}】{text}"
USER_PRESSES = "【{who} 按下】{button}"

WHO = "{label} {name}"
SUMMARY_HINT = "  （:as {key} 查看全文）"
BUTTONS_OF_OTHERS = "  按钮：{buttons}"
MEDIA = {
    "photo": "〔照片〕",
    "voice": "〔语音〕",
    "audio": "〔音频〕",
    "video": "〔视频〕",
    "document": "〔文件〕",
    "sticker": "〔表情〕",
    "contact": "〔联系人〕",
}
REPLY_KEYBOARD = "  键盘：{buttons}"
CONTACT_BUTTON_HINT = "（输入 :contact 手机号 分享）"

NOW_PLAYING = "现在你扮演：{label} {name}（TelegramID {telegram_id}{team}）"
NOW_PLAYING_TEAM = "，{team}"
LATEST_WITH_BUTTONS = "发给你的最近一条带按钮的消息："
PERSONA_LINE = "{mark} {key} {label} {name} {telegram_id}{team}"

NO_BUTTONS = "发给你的消息里没有可按的按钮。"
NO_SUCH_BUTTON = "没有第 {number} 个按钮（最近一条带按钮的消息上有 {count} 个）。"
NO_BUTTON_NAMED = "最近一条带按钮的消息上没有含「{text}」的按钮。"
NO_SUCH_PERSONA = "没有这个角色：{name}。输入 :who 查看所有角色，或用数字 TelegramID 扮演一位新用户。"
UNKNOWN_COMMAND = "不认识的命令：{command}。输入 :help 查看全部命令。"
NEEDS_ARGUMENT = "用法：{usage}"
USAGE_PRESS = ":press 数字 或 :press 按钮上的文字"
USAGE_SAY = ":say 文字"
USAGE_CONTACT = ":contact 手机号（如 13800000102）"
STILL_BUSY = "（机器人还在处理，稍后到达的消息会接着显示）"
BYE = "再见！演示已结束。"
