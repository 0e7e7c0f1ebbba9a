"""Operating a running bot from the shell: `jiceng status`, `jiceng updates failed`,
`jiceng updates replay ID`, `jiceng outbox status`. They read and write the update log and
the outbox; a running bot picks up a replayed update within about half a minute."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime

from bot.services import outbox
from bot.services.update_log import UpdateLog

STATUS = """收到的消息（近三天）：{received}
已处理：{handled}
待处理：{unhandled}{oldest}
已搁置（反复出错，等工作人员处理）：{failed}"""
OLDEST = "（最早一条已等 {seconds:.0f} 秒）"
NO_FAILED = "没有搁置的消息。"
FAILED_LINE = "#{update_id}  收到 {received}  搁置 {failed}  试了 {attempts} 次  来自 {sender}\n    内容：{text}\n    错误：{error}"
REPLAYED = "已放回待处理：#{update_id}。运行中的机器人会在半分钟内重新处理它。"
NOT_FAILED = "没有编号为 #{update_id} 的搁置消息（用 jiceng updates failed 查看）。"
HEALTH_LINE = "运行中的机器人（{url}）：{state}"
OUTBOX_HEAD = "待发消息：{total} 条{oldest}；已发出 {sent} 条"
OUTBOX_PRIORITY = "  {name}：{count} 条"
OUTBOX_FAILURES = "发不出去的消息（按原因）："
OUTBOX_FAILURE = "  {count} 条  {status}  {reason}"
OUTBOX_STATUS_NAMES = {outbox.BLOCKED: "对方已屏蔽或账号不存在", outbox.FAILED: "多次失败后放弃"}
NO_OUTBOX_FAILURES = "没有发不出去的消息。"


async def status(sessions, now: datetime) -> str:
    summary = await UpdateLog(sessions).summary()
    oldest = ""
    if summary.oldest_unhandled_at is not None:
        oldest = OLDEST.format(seconds=(now - summary.oldest_unhandled_at).total_seconds())
    return STATUS.format(received=summary.received, handled=summary.handled, unhandled=summary.unhandled,
                         oldest=oldest, failed=summary.failed)


def health_line(host: str, port: int | None) -> str | None:
    if not port:
        return None
    url = f"http://{host}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            state = response.read().decode().strip()
    except urllib.error.HTTPError as error:
        state = error.read().decode().strip()
    except OSError:
        state = "没有回应（没有运行，或健康检查端口不同）"
    return HEALTH_LINE.format(url=url, state=state)


async def failed_updates(sessions) -> str:
    failed = await UpdateLog(sessions).failed()
    if not failed:
        return NO_FAILED
    lines = []
    for item in failed:
        message = item.payload.get("message") or item.payload.get("callback_query") or {}
        sender = (message.get("from") or {})
        text = message.get("text") or message.get("data") or message.get("caption") or json.dumps(
            item.payload, ensure_ascii=False)[:80]
        lines.append(FAILED_LINE.format(
            update_id=item.update_id, received=_local(item.received_at), failed=_local(item.failed_at),
            attempts=item.attempts, sender=sender.get("id", "?"), text=text[:80], error=item.error.splitlines()[-1][:200]
            if item.error else ""))
    return "\n".join(lines)


async def replay(sessions, update_id: int) -> tuple[bool, str]:
    if await UpdateLog(sessions).replay(update_id):
        return True, REPLAYED.format(update_id=update_id)
    return False, NOT_FAILED.format(update_id=update_id)


def _local(moment: datetime) -> str:
    from bot.clock import CHINA_TIME

    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")


async def outbox_status(sessions, now: datetime) -> str:
    """What waits in the outbox by priority, how old the oldest is, and what could not go out."""
    found = await outbox.status(sessions, now)
    oldest = "" if found.oldest_seconds is None else OLDEST.format(seconds=found.oldest_seconds)
    lines = [OUTBOX_HEAD.format(total=sum(found.waiting.values()), oldest=oldest, sent=found.sent)]
    lines += [OUTBOX_PRIORITY.format(name=name, count=found.waiting.get(priority, 0))
              for priority, name in outbox.PRIORITY_NAMES.items()]
    if found.failures:
        lines.append(OUTBOX_FAILURES)
        lines += [OUTBOX_FAILURE.format(count=count, status=OUTBOX_STATUS_NAMES.get(status, status),
                                        reason=reason or "-") for status, reason, count in found.failures[:20]]
    else:
        lines.append(NO_OUTBOX_FAILURES)
    return "\n".join(lines)
