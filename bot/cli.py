"""The `jiceng` command: run the bot, migrate the database, import the directory,
invite leaders and experts, add staff, write reports."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.config import Settings
from bot.errors import JicengError
from storage.db import create_engine, session_factory
from storage.schema import SchemaState, schema_state, upgrade

NEEDS_UPGRADE = "数据库结构不是最新版本。请先运行：jiceng db upgrade（Database schema is out of date: run `jiceng db upgrade`.）"
NO_TOKEN = "请先设置环境变量 TELEGRAM_BOT_TOKEN（机器人的令牌）。Set TELEGRAM_BOT_TOKEN first."
UPGRADED = "数据库结构已是最新版本。"
NO_USERNAME = (
    "不知道机器人的用户名，无法生成链接。请先运行一次 jiceng run，"
    "或设置环境变量 JICENG_BOT_USERNAME（不带 @）。"
)
STAFF_ADDED = "已添加工作人员：{name}（TelegramID {telegram_id}）"
HOURS_REPORT_WRITTEN = "{year} 年服务时长台账：{experts} 位专家，已写入 {path}"
NOTICE_QUEUED = "培训通知「{title}」：{count} 位订阅者，开始发送。"
NOTICE_BY_RUNNING_BOT = "正在运行的机器人负责发送消息：通知已排队，由它在回复农户之余发出。下面是进度（按 Ctrl+C 退出查看，不影响发送）。"
PROGRESS_LINE = "[{bar}] {done}/{total}  已发送 {sent}  失败 {failed}  {rate:.1f} 条/秒  预计还需 {eta}   "


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "jieba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.handler(args, settings) or 0
    except JicengError as error:
        print(str(error), file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jiceng", description="基层专家服务助手 jiceng")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="连接 Telegram 运行机器人（默认轮询；--webhook 改为接收 Telegram 推送）")
    run.add_argument("--webhook", metavar="URL", default=None,
                     help="Telegram 推送更新的公网 HTTPS 地址，如 https://bot.example.cn/telegram（多个进程可共用，需 PostgreSQL）")
    run.add_argument("--secret-token", default=None,
                     help="推送请求必须带的密钥（X-Telegram-Bot-Api-Secret-Token）；也可用 JICENG_WEBHOOK_SECRET")
    run.add_argument("--listen", default=None, metavar="HOST:PORT",
                     help="本进程接收推送的地址（默认 127.0.0.1:8443，放在反向代理后面）")
    run.set_defaults(handler=_run)
    web = commands.add_parser("web", help="网页聊天（H5）：农户、团长、专家用手机号和短信验证码登录")
    web.add_argument("--host", default=None, help="监听地址（默认 JICENG_WEB_HOST 或 127.0.0.1）")
    web.add_argument("--port", type=int, default=None, help="端口（默认 JICENG_WEB_PORT 或 8080）")
    web.set_defaults(handler=_web)
    wechat = commands.add_parser("wechat", help="微信公众号").add_subparsers(dest="action", required=True)
    wechat_menu = wechat.add_parser("menu", help="设置公众号菜单：网页提问（链接到网页聊天）、我的问题、使用说明")
    wechat_menu.add_argument("--url", required=True, help="网页聊天的地址，如 https://jiceng.example.cn/")
    wechat_menu.set_defaults(handler=_wechat_menu)

    demo = commands.add_parser("demo", help="离线演示：在终端里扮演农户、团长与机器人对话（不需要令牌，不联网）")
    demo.add_argument("--data", metavar="DIR", default=None, help="把演示数据库保存在这个文件夹（默认用临时文件夹）")
    demo.set_defaults(handler=_demo)

    commands.add_parser("status", help="运行状况：收到、已处理、待处理和搁置的消息，以及健康检查").set_defaults(
        handler=_status)
    updates = commands.add_parser("updates", help="收到的消息").add_subparsers(dest="updates_command", required=True)
    updates.add_parser("failed", help="列出反复出错而被搁置的消息").set_defaults(handler=_updates_failed)
    replay = updates.add_parser("replay", help="把一条搁置的消息放回待处理，让运行中的机器人重新处理")
    replay.add_argument("update_id", type=int, metavar="ID", help="消息编号（见 jiceng updates failed）")
    replay.set_defaults(handler=_updates_replay)

    outbox = commands.add_parser("outbox", help="待发消息").add_subparsers(dest="outbox_command", required=True)
    outbox.add_parser("status", help="按优先级列出待发消息、最早一条等了多久、发不出去的原因").set_defaults(
        handler=_outbox_status)

    db = commands.add_parser("db", help="数据库").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="创建或升级数据库结构").set_defaults(handler=_db_upgrade)

    imports = commands.add_parser("import", help="导入名单").add_subparsers(dest="what", required=True)
    for what, label in (("teams", "服务团名单"), ("experts", "专家名单"), ("knowledge", "已解答问题（问题、答案、领域）"),
                        ("services", "技术服务清单（服务团名称、服务项目、领域、说明）"),
                        ("achievements", "技术成果（成果名称、所有者、领域、阶段、简介、转化方式）")):
        sub = imports.add_parser(what, help=f"导入{label}（.xlsx 或 .csv）")
        sub.add_argument("file")
        sub.set_defaults(handler=_import, what=what)
    attendance = imports.add_parser("attendance", help="导入培训出勤：填好“出勤”列的报名名单（jiceng report signups 导出的文件）")
    attendance.add_argument("notice_id", type=int, metavar="NOTICE_ID", help="培训通知编号")
    attendance.add_argument("file")
    attendance.set_defaults(handler=_import_attendance)

    forget = commands.add_parser("forget", help="删除一位农户的个人信息（需求只留统计）")
    forget.add_argument("telegram_id", type=int)
    forget.set_defaults(handler=_forget)
    invite = commands.add_parser("invite", help="生成一次性邀请链接").add_subparsers(dest="kind", required=True)
    invite.add_parser("leader", help="团长邀请").add_argument("target", metavar="TEAM")
    invite.add_parser("expert", help="专家邀请").add_argument("target", metavar="NAME")
    for sub in invite.choices.values():
        sub.set_defaults(handler=_invite)
    invite.add_parser("list", help="列出邀请（未用、已用、过期、收回）").set_defaults(handler=_invite_list)
    revoke = invite.add_parser("revoke", help="收回一个还没用过的邀请")
    revoke.add_argument("code", help="邀请码（可以只写开头几位）")
    revoke.set_defaults(handler=_invite_revoke)
    for verb, text in (("confirm", "确认一个会替换现任团长或专家账号的邀请"), ("refuse", "不同意这次更换")):
        decide = invite.add_parser(verb, help=text)
        decide.add_argument("code", metavar="CODE")
        decide.set_defaults(handler=_invite_decide)

    intents = commands.add_parser("intents", help="理解中文：分类检查与重新训练").add_subparsers(
        dest="intents_command", required=True)
    intents.add_parser(
        "classify", help="从标准输入逐行读问题，逐行输出 JSON（领域、置信度、前三、关键词、实体）"
    ).set_defaults(handler=_intents_classify)
    retrain = intents.add_parser("retrain", help="把纠正过的领域加入训练，报告留出集准确率并保存新模型")
    retrain.add_argument("--force", action="store_true", help="即使留出集准确率下降也采用新模型")
    retrain.set_defaults(handler=_intents_retrain)
    evaluate = intents.add_parser(
        "evaluate", help="在带标注的 TSV 上评测：各领域精确率/召回率、混淆矩阵，并与 TF-IDF + 线性 SVM 基线对照")
    evaluate.add_argument("files", nargs="+", metavar="FILE.tsv")
    evaluate.add_argument("--no-baseline", action="store_true", help="不训练、不对照基线")
    evaluate.set_defaults(handler=_intents_evaluate)

    staff = commands.add_parser("staff", help="工作人员").add_subparsers(dest="staff_command", required=True)
    add = staff.add_parser("add", help="添加工作人员")
    add.add_argument("telegram_id", type=int)
    add.add_argument("--name", default=None)
    add.add_argument("--phone", default=None, help="手机号：用它在网页聊天和管理后台用短信验证码登录")
    add.add_argument("--region", default=None,
                     help="负责的地区（市州或县市区名称，如 浏阳市；不填为全省），管理后台只显示这个地区")
    add.set_defaults(handler=_staff_add)

    notice = commands.add_parser("notice", help="培训通知").add_subparsers(dest="notice_command", required=True)
    send = notice.add_parser("send", help="发送培训通知（.toml，或两列“项目、内容”的 .xlsx/.csv，格式见 README）")
    send.add_argument("file")
    send.set_defaults(handler=_notice_send)
    bench = notice.add_parser("bench", help="基准测试：向临时数据库里的合成订阅者群发一条通知（从不使用正式数据库）")
    bench.add_argument("--recipients", type=int, default=10_000, metavar="N")
    bench.add_argument("--api-url", default=None, metavar="URL",
                       help="Bot API 基础地址（令牌接在后面，如 http://127.0.0.1:8081/bot）；默认启动本地替身（限速 30 条/秒、每聊天 1 条/秒）")
    bench.add_argument("--kill-at", type=int, default=None, metavar="K",
                       help="送达 K 条后用 SIGKILL 杀掉发送进程并重新启动")
    bench.set_defaults(handler=_notice_bench)

    report = commands.add_parser("report", help="生成报表").add_subparsers(dest="report_kind", required=True)
    hours = report.add_parser("hours", help="专家服务时长与继续教育学时台账（.xlsx 或 .csv）")
    hours.add_argument("--year", type=int, default=None, help="年份（按北京时间；默认今年）")
    hours.add_argument("--out", required=True, metavar="FILE", help="保存到这个文件，以 .xlsx 或 .csv 结尾")
    hours.add_argument("--rule", metavar="RULEFILE", default=None,
                       help="折算规则文件（.toml 或 .json；默认线上 0.5、短期 1、巡回 1，每年上限 72 学时）")
    hours.add_argument("--region", default=None, metavar="地区",
                       help="只统计这个市州或县市区（名称或代码），如 浏阳市；默认全省")
    hours.set_defaults(handler=_report_hours)
    signups = report.add_parser("signups", help="一次培训的报名名单，带空白“出勤”列（.xlsx 或 .csv）")
    signups.add_argument("notice_id", type=int, metavar="NOTICE_ID", help="培训通知编号")
    signups.add_argument("--out", required=True, metavar="FILE", help="保存到这个文件，以 .xlsx 或 .csv 结尾")
    signups.set_defaults(handler=_report_signups)
    record = report.add_parser("service-record", help="专家年度服务记录：服务过的需求（含非本人办结）、讲课、评分（.xlsx 或 .csv）")
    record.add_argument("--year", type=int, default=None)
    record.add_argument("--out", required=True, metavar="FILE")
    record.add_argument("--region", default=None, metavar="地区",
                       help="只统计这个市州或县市区（名称或代码），如 浏阳市；默认全省")
    record.set_defaults(handler=_report_service_record)
    teams = report.add_parser("teams", help="服务团年度报表：收到和办结的需求、接单用时、服务时长、评分（.xlsx 或 .csv）")
    teams.add_argument("--year", type=int, default=None, help="年份（按北京时间；默认今年）")
    teams.add_argument("--out", required=True, metavar="FILE", help="保存到这个文件，以 .xlsx 或 .csv 结尾")
    teams.add_argument("--region", default=None, metavar="地区",
                       help="只统计这个市州或县市区（名称或代码），如 浏阳市；默认全省")
    teams.set_defaults(handler=_report_teams)
    trainees = report.add_parser("trainees", help="学员学习档案：每位学员的报名、出勤次数、累计学时和培训主题（.xlsx 或 .csv）")
    trainees.add_argument("--out", required=True, metavar="FILE", help="保存到这个文件，以 .xlsx 或 .csv 结尾")
    trainees.add_argument("--region", default=None, metavar="地区",
                       help="只统计这个市州或县市区（名称或代码），如 浏阳市；默认全省")
    trainees.set_defaults(handler=_report_trainees)
    return parser


def _run(args, settings: Settings) -> int:
    if not settings.bot_token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    if not _schema_ready(settings):
        return 2
    from telegram import Update

    from bot.app import build_application

    if args.webhook:
        return _run_webhook(args, settings)
    application = build_application(settings)
    application.run_polling(allowed_updates=Update.ALL_TYPES, timeout=settings.poll_timeout)
    return 0


def _run_webhook(args, settings: Settings) -> int:
    import asyncio
    import os
    import signal

    from bot.app import build_application, start, stop
    from bot.telegram.webhook import WebhookSettings

    host, _, port = (args.listen or "127.0.0.1:8443").rpartition(":")
    webhook = WebhookSettings(args.webhook, args.secret_token or os.environ.get("JICENG_WEBHOOK_SECRET", ""),
                              host or "127.0.0.1", int(port) if port.isdigit() else 0)
    problems = webhook.problems() + ([] if webhook.listen_port else [f"--listen 应是 地址:端口（现在是：{args.listen}）"])
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    application = build_application(settings, webhook=webhook)

    async def serve() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await start(application)
        try:
            await stopping.wait()
        finally:
            await stop(application)

    asyncio.run(serve())
    return 0


def _web(args, settings: Settings) -> int:
    import asyncio
    from dataclasses import replace

    from bot.web.run import serve

    if not _schema_ready(settings):
        return 2
    settings = replace(settings, web_host=args.host or settings.web_host, web_port=args.port or settings.web_port)
    asyncio.run(serve(settings))
    return 0


def _wechat_menu(args, settings: Settings) -> int:
    import asyncio

    import aiohttp

    from bot.wechat.api import WeChatApi
    from bot.wechat.channel import menu

    if not settings.wechat_appid or not settings.wechat_secret:
        print("请先设置 JICENG_WECHAT_APPID 和 JICENG_WECHAT_SECRET。", file=sys.stderr)
        return 2

    async def create() -> None:
        async with aiohttp.ClientSession() as http:
            api = WeChatApi(http, settings.wechat_appid, settings.wechat_secret, base_url=settings.wechat_api_url)
            await api.create_menu(menu(args.url))

    asyncio.run(create())
    print("公众号菜单已设置。")
    return 0


def _demo(args, settings: Settings) -> int:
    from bot.demo.runner import main as run_demo

    return run_demo(args.data)


def _schema_ready(settings: Settings) -> bool:
    """Create the schema on an empty database; refuse an out-of-date one."""
    state = asyncio.run(schema_state(settings.database_url))
    if state is SchemaState.EMPTY:
        upgrade(settings.database_url)
    elif state is SchemaState.OUTDATED:
        print(NEEDS_UPGRADE, file=sys.stderr)
        return False
    return True


def _db_upgrade(args, settings: Settings) -> int:
    upgrade(settings.database_url)
    print(UPGRADED)
    return 0


def _status(args, settings: Settings) -> int:
    from bot import ops
    from storage.models import utcnow

    if not _schema_ready(settings):
        return 2
    print(_with_sessions(settings, lambda sessions: ops.status(sessions, utcnow())))
    if line := ops.health_line(settings.health_host, settings.health_port):
        print(line)
    return 0


def _outbox_status(args, settings: Settings) -> int:
    from bot import ops
    from storage.models import utcnow

    if not _schema_ready(settings):
        return 2
    print(_with_sessions(settings, lambda sessions: ops.outbox_status(sessions, utcnow())))
    return 0


def _updates_failed(args, settings: Settings) -> int:
    from bot import ops

    if not _schema_ready(settings):
        return 2
    print(_with_sessions(settings, ops.failed_updates))
    return 0


def _updates_replay(args, settings: Settings) -> int:
    from bot import ops

    if not _schema_ready(settings):
        return 2
    done, text = _with_sessions(settings, lambda sessions: ops.replay(sessions, args.update_id))
    print(text, file=sys.stdout if done else sys.stderr)
    return 0 if done else 1


def _with_sessions(settings: Settings, work):
    async def go():
        engine = create_engine(settings.database_url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _import(args, settings: Settings) -> int:
    from bot.services import directory

    if not _schema_ready(settings):
        return 2
    from bot.services import achievements, knowledge, service_list

    importer = {"teams": directory.import_teams, "experts": directory.import_experts,
                "knowledge": knowledge.import_knowledge, "services": service_list.import_services,
                "achievements": achievements.import_achievements}[args.what]
    report = _with_sessions(settings, lambda sessions: importer(sessions, args.file))
    print(report.summary())
    if report.flags:
        print(f"以下 {len(report.flags)} 处已导入，但需要工作人员审核：")
        for flag in report.flags:
            print(f"  {flag}")
    return 0


def _invite(args, settings: Settings) -> int:
    from bot.services import invites

    if not _schema_ready(settings):
        return 2
    code = _with_sessions(settings, lambda sessions: invites.create(sessions, args.kind, args.target))
    username = settings.bot_username or _with_sessions(settings, _stored_username) or _ask_username(settings)
    if not username:
        print(NO_USERNAME, file=sys.stderr)
        print(f"邀请码 / invite code: {code}")
        return 1
    from bot.telegram.links import invite_link

    print(invite_link(username, code))
    return 0


def _forget(args, settings: Settings) -> int:
    from bot.services.forget import forget
    from bot.services.people import find_person
    from bot.telegram.common import account_of

    if not _schema_ready(settings):
        return 2

    async def work(sessions):
        async with sessions() as session:
            person = await find_person(session, account_of(args.telegram_id))
        return None if person is None else await forget(sessions, person.id)

    forgotten = _with_sessions(settings, work)
    if forgotten is None:
        print(f"没有 TelegramID 为 {args.telegram_id} 的人。", file=sys.stderr)
        return 1
    print(f"已删除个人信息：{forgotten.demands} 条需求只保留统计，清空 {forgotten.messages} 条消息，"
          f"删除 {forgotten.media} 个照片或语音。")
    return 0


INVITE_STATES = {"open": "可用", "used": "已使用", "expired": "已过期", "revoked": "已收回",
                 "pending": "待确认更换", "refused": "未同意更换"}
INVITE_KINDS = {"leader": "团长", "expert": "专家"}


def _invite_line(info) -> str:
    from bot.clock import CHINA_TIME

    expires = info.expires_at.astimezone(CHINA_TIME).strftime("%m-%d %H:%M") if info.expires_at else "不过期"
    return (f"{info.code[:8]}…  {INVITE_KINDS.get(info.kind, info.kind)}  {info.target}  "
            f"{INVITE_STATES[info.state]}  有效至 {expires}")


def _invite_list(args, settings: Settings) -> int:
    from bot.services import invites

    if not _schema_ready(settings):
        return 2
    found = _with_sessions(settings, invites.list_all)
    for info in found:
        print(_invite_line(info))
    if not found:
        print("还没有邀请。")
    return 0


def _invite_revoke(args, settings: Settings) -> int:
    from bot.services import invites

    if not _schema_ready(settings):
        return 2
    info = _with_sessions(settings, lambda sessions: invites.revoke(sessions, args.code))
    print(_invite_line(info))
    return 0


def _invite_decide(args, settings: Settings) -> int:
    """`jiceng invite confirm|refuse CODE`: staff decide on an invite that would replace a leader or
    move an expert's account; both people hear the decision through the running bot's outbox."""
    from bot.services import invites
    from bot.services.outbox import ACTION, Outbox, Outgoing
    from storage.models import utcnow

    if not _schema_ready(settings):
        return 2

    async def work(sessions):
        decision = await invites.decide(sessions, args.code, args.kind == "confirm")
        if decision.first:
            outbox = Outbox(sessions, utcnow)
            await outbox.send(decision.takeover.newcomer_id, Outgoing(decision.to_newcomer), ACTION)
            await outbox.send(decision.takeover.current_id, Outgoing(decision.to_current), ACTION)
        return decision

    decision = _with_sessions(settings, work)
    t = decision.takeover
    verdict = "已确认更换" if decision.confirmed else "未同意更换"
    print(f"「{t.target}」{t.role}：{t.current_name} → {t.newcomer_name}  {verdict}"
          + ("" if decision.first else "（之前已处理）"))
    return 0


async def _stored_username(sessions) -> str | None:
    from bot.services import settings_store

    return await settings_store.recall(sessions, settings_store.BOT_USERNAME)


def _ask_username(settings: Settings) -> str | None:
    """Ask the Bot API who we are (getMe); None when no token or the server is unreachable."""
    if not settings.bot_token:
        return None
    from telegram import Bot
    from telegram.error import TelegramError

    async def get_me():
        async with Bot(settings.bot_token, base_url=settings.api_url) as bot:
            return bot.username

    try:
        return asyncio.run(get_me())
    except (TelegramError, OSError):
        return None


def _intents_classify(args, settings: Settings) -> int:
    import json

    understander = _understander_with_current_model(settings)
    for line in sys.stdin:
        text = line.rstrip("\n")
        print(json.dumps(understander.understand(text).as_dict(text), ensure_ascii=False), flush=True)
    return 0


def _understander_with_current_model(settings: Settings):
    """The shipped model, or the newest retrained one when the database has one."""
    from bot.services.learning import newest_model
    from intents.understand import Understander

    understander = Understander()
    if _database_exists(settings) and asyncio.run(schema_state(settings.database_url)) is SchemaState.CURRENT:
        newest = _with_sessions(settings, newest_model)
        if newest:
            understander.swap_model(newest[1])
    return understander


def _database_exists(settings: Settings) -> bool:
    url = settings.database_url
    if not url.startswith("sqlite"):
        return True
    from pathlib import Path

    path = url.split("///", 1)[-1]
    return path not in ("", ":memory:") and Path(path).exists()


def _intents_retrain(args, settings: Settings) -> int:
    from bot.services.learning import retrain
    from intents.understand import Understander
    from storage.models import utcnow

    if not _schema_ready(settings):
        return 2
    understander = Understander()
    report = _with_sessions(settings, lambda sessions: retrain(sessions, understander, utcnow(), force=args.force))
    print(report.summary())
    return 0


def _intents_evaluate(args, settings: Settings) -> int:
    from pathlib import Path

    from intents import evaluation
    from intents.training import load_examples, split

    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        print(f"找不到文件：{'、'.join(missing)}", file=sys.stderr)
        return 2
    predictors = {"jiceng": evaluation.ours(_understander_with_current_model(settings))}
    if not args.no_baseline:
        train, _ = split(load_examples())
        predictors["SVM baseline"] = evaluation.svm_baseline(train)
    print(evaluation.evaluate([Path(f) for f in args.files], predictors))
    return 0


def _staff_add(args, settings: Settings) -> int:
    from bot.services import directory

    if not _schema_ready(settings):
        return 2
    from bot.telegram.common import account_of
    from intents import regions

    region = None
    if args.region:
        found = regions.resolve_region(args.region)
        if found is None:
            print(f"没有这个地区：{args.region}（可填湖南的市州、县市区名称，或“全省”）", file=sys.stderr)
            return 1
        region = found.code
    person = _with_sessions(settings, lambda sessions: directory.add_staff(
        sessions, account_of(args.telegram_id), args.name, region=region, phone=args.phone))
    print(STAFF_ADDED.format(name=person.display_name or "（未填姓名）", telegram_id=args.telegram_id))
    return 0


def _notice_send(args, settings: Settings) -> int:
    from bot.services import broadcast
    from bot.services.notice_files import read_notice_file

    draft = read_notice_file(args.file)  # a wrong file fails before anything else
    if not settings.bot_token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    if not _schema_ready(settings):
        return 2

    async def work(sessions):
        from bot.services.sender import LeaseHeld, Sender
        from bot.telegram.broadcast_channel import TelegramChannel, sending_bot

        async with sessions() as session, session.begin():
            notice = draft.to_notice()
            session.add(notice)
            queued = await broadcast.enqueue(session, notice, await broadcast.recipients_for(session, notice))
        print(NOTICE_QUEUED.format(title=notice.title, count=queued))
        if not queued:
            async with sessions() as session, session.begin():
                (await session.get(type(notice), notice.id)).status = broadcast.NOTICE_SENT
            return 0
        async with sending_bot(settings.bot_token, settings.api_url) as bot:
            sender = Sender(sessions, TelegramChannel(bot), pace=settings.pace(), yields=True)
            try:
                report = await sender.run(notice.id, on_progress=_progress_bar)
                if sender.yielded:  # `jiceng run` started meanwhile and sends the rest
                    print()
                    print(NOTICE_BY_RUNNING_BOT)
                    report = await _follow_notice(sessions, notice.id)
            except LeaseHeld:
                # The running bot is this token's sender: it sends the notice behind its replies.
                print(NOTICE_BY_RUNNING_BOT)
                report = await _follow_notice(sessions, notice.id)
        print()
        print(report.text())
        return 0

    return _with_sessions(settings, work)


async def _follow_notice(sessions, notice_id: int):
    """Show the progress of a notice another process sends, until it is done."""
    import time

    from bot.services import broadcast

    started, samples = time.monotonic(), []
    while True:
        async with sessions() as session:
            counts, title = await broadcast.notice_counts(session, notice_id)
        samples = [*samples[-7:], (time.monotonic(), counts.get("sent", 0))]
        report = broadcast.report(title, counts, samples, time.monotonic() - started, True)
        _progress_bar(report)
        if report.done:
            return report
        await asyncio.sleep(1.0)


def _progress_bar(report) -> None:
    """One terminal line redrawn in place."""
    done = report.sent + report.failed
    total = max(1, report.total)
    filled = int(30 * done / total)
    line = PROGRESS_LINE.format(bar="#" * filled + "-" * (30 - filled), done=done, total=report.total,
                                sent=report.sent, failed=report.failed, rate=report.rate,
                                eta=_eta(report.eta_seconds))
    print("\r" + line, end="", flush=True)


def _eta(seconds: float) -> str:
    from bot.services.broadcast import duration_text

    return duration_text(seconds)


def _notice_bench(args, settings: Settings) -> int:
    from bot import notice_bench

    print(notice_bench.report(notice_bench.run(args.recipients, args.api_url, args.kill_at)))
    return 0


def _report_hours(args, settings: Settings) -> int:
    from bot.services import hours
    from storage.models import utcnow

    out = hours.check_report_path(args.out)  # a wrong suffix fails before any work
    rule = hours.ConversionRule.load(args.rule)
    year = args.year or hours.china_year(utcnow())
    scope = _report_scope(args.region)
    if scope is None:
        return 1
    if not _schema_ready(settings):
        return 2
    rows = _with_sessions(settings, lambda sessions: hours.ledger(sessions, year, rule, scope))
    hours.write_report(rows, out)
    print(HOURS_REPORT_WRITTEN.format(year=year, experts=len(rows), path=out))
    return 0


def _report_service_record(args, settings: Settings) -> int:
    from bot.services import service_record

    return _yearly_report(args, settings, service_record, "已写出{area} {year} 年 {count} 位专家的服务记录：{path}")


def _report_teams(args, settings: Settings) -> int:
    from bot.services import team_report

    return _yearly_report(args, settings, team_report, "已写出{area} {year} 年 {count} 个服务团的报表：{path}")


def _yearly_report(args, settings: Settings, report, written: str) -> int:
    """A yearly report for an area: `report.yearly(sessions, year, scope)` rows written by
    `report.write_report(rows, path)`."""
    from bot.services import hours
    from storage.models import utcnow

    out = hours.check_report_path(args.out)
    year = args.year or hours.china_year(utcnow())
    scope = _report_scope(args.region)
    if scope is None:
        return 1
    if not _schema_ready(settings):
        return 2
    rows = _with_sessions(settings, lambda sessions: report.yearly(sessions, year, scope))
    report.write_report(rows, out)
    print(written.format(area=scope.name, year=year, count=len(rows), path=out))
    return 0


def _report_scope(region: str | None):
    """The area a report covers: the province unless --region names a 市州 or county (None, with
    the reason printed, when it names no place in Hunan)."""
    from bot.services.scope import Scope
    from intents import regions

    if not region:
        return Scope.province()
    found = regions.resolve_region(region)
    if found is None:
        print(f"没有这个地区：{region}（可填湖南的市州、县市区名称，或“全省”）", file=sys.stderr)
        return None
    return Scope(found.code)


def _signup_service(sessions):
    from bot.services.signups import SignupService

    return SignupService(sessions)


def _report_signups(args, settings: Settings) -> int:
    from bot import messages
    from bot.services.signups import check_report_path

    out = check_report_path(args.out)
    if not _schema_ready(settings):
        return 2
    notice, count = _with_sessions(
        settings, lambda sessions: _signup_service(sessions).export_signups(args.notice_id, out))
    print(messages.SIGNUPS_REPORT_WRITTEN.format(title=notice.title, count=count, path=out))
    return 0


def _report_trainees(args, settings: Settings) -> int:
    from bot import messages
    from bot.services.signups import check_report_path

    out = check_report_path(args.out)
    scope = _report_scope(args.region)
    if scope is None:
        return 1
    if not _schema_ready(settings):
        return 2
    count = _with_sessions(settings, lambda sessions: _signup_service(sessions).export_trainees(out, scope))
    print(messages.TRAINEES_REPORT_WRITTEN.format(count=count, path=out))
    return 0


def _import_attendance(args, settings: Settings) -> int:
    if not _schema_ready(settings):
        return 2
    report = _with_sessions(
        settings, lambda sessions: _signup_service(sessions).import_attendance(args.notice_id, args.file))
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
