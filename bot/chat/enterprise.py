"""Enterprises in chat: /enterprise registers the writer's enterprise with its 统一社会信用代码; an
enterprise's question, once submitted, is answered at once with the technology achievements and
experts that match it (the matching hub), each with its reasons."""

from __future__ import annotations

from bot.buttons import AskAboutAchievement, ReportJobs
from bot.chat.commands import command
from bot.chat.presses import on
from bot.chat.steps import step
from bot.chat.turn import Choice, Turn
from bot.services import achievements, enterprises, hub, states

ENTERPRISE_NAME = "enterprise_register"

ASK = ("企业登记：请发送“企业名称 统一社会信用代码”，例如：\n湖南某某食品有限公司 91430181MA4L000000\n"
       "（18 位代码在营业执照上）。登记后，以企业身份提的问题会同时推荐相关的技术成果和专家。")
REGISTERED = "已登记企业「{name}」（{code}）。现在可以直接发企业遇到的技术问题了。"
BAD_FORMAT = "请按“企业名称 统一社会信用代码”发送，名称和代码之间空一格。"
MATCH_HEADER = "根据您的问题，平台为您匹配了："
ACHIEVEMENTS = "相关技术成果："
ACHIEVEMENT_LINE = "{n}. {title}（{owner}，{stage}）— {reason}"
EXPERTS = "对口专家："
EXPERT_LINE = "{n}. {name}（{title}，{employer}）— {reason}"
NONE_FOUND = "暂时没有匹配的技术成果；服务团接单后会安排专家。"


@command("enterprise")
async def enterprise_command(turn: Turn) -> None:
    if len(turn.args) >= 2:
        await _register(turn, " ".join(turn.args))
        return
    await turn.services.states.set(turn.person_id, ENTERPRISE_NAME, {})
    await turn.say(ASK)


@step(ENTERPRISE_NAME, needs_text=True)
async def name_and_code(turn: Turn, waiting: states.Waiting) -> None:
    await _register(turn, turn.content.text)


async def _register(turn: Turn, text: str) -> None:
    name, _, code = text.strip().rpartition(" ")
    if not name.strip() or not code.strip():
        await turn.say(BAD_FORMAT)
        return
    registered = await enterprises.register(turn.services.sessions, turn.person_id, name, code)
    await turn.services.states.clear(turn.person_id)
    await turn.say(REGISTERED.format(name=registered.name, code=registered.credit_code))


BASES = "本地的专家服务基地："
LEADER_MATCHES = "需求 {no} 的匹配参考："


async def show_leader_matches(turn: Turn, demand_id: int) -> None:
    """After 接单: achievements and bases the hub found, for the leader planning the service (the
    experts are ranked when they press 派专家)."""
    found = await hub.matches(turn.services.sessions, demand_id)
    if found is None or not (found.achievements or found.bases):
        return
    lines = [LEADER_MATCHES.format(no=found.demand.tracking_no)]
    if found.achievements:
        lines.append(ACHIEVEMENTS)
        lines += [ACHIEVEMENT_LINE.format(n=n, title=m.achievement.title, owner=m.achievement.owner,
                                          stage=m.achievement.stage or "阶段未填", reason=m.reason)
                  for n, m in enumerate(found.achievements, 1)]
    if found.bases:
        lines.append(BASES)
        lines += [f"{n}. {b.name}（{b.host}）" for n, b in enumerate(found.bases, 1)]
    await turn.say("\n".join(lines))


async def show_matches(turn: Turn, demand_id: int) -> None:
    """After an enterprise's question is submitted: what the hub found, with reasons."""
    found = await hub.matches(turn.services.sessions, demand_id)
    if found is None or found.demand.enterprise_id is None:
        return
    lines = [MATCH_HEADER]
    if found.achievements:
        lines.append(ACHIEVEMENTS)
        lines += [ACHIEVEMENT_LINE.format(n=n, title=m.achievement.title, owner=m.achievement.owner,
                                          stage=m.achievement.stage or "阶段未填", reason=m.reason)
                  for n, m in enumerate(found.achievements, 1)]
    else:
        lines.append(NONE_FOUND)
    if found.bases:
        lines.append(BASES)
        lines += [f"{n}. {b.name}（{b.host}）" for n, b in enumerate(found.bases, 1)]
    if found.experts:
        lines.append(EXPERTS)
        lines += [EXPERT_LINE.format(n=n, name=c.expert.name, title=c.expert.title or "专家",
                                     employer=c.expert.employer or "", reason=c.reason)
                  for n, c in enumerate(found.experts, 1)]
    asks = [[Choice(ASK_BUTTON.format(n=n), AskAboutAchievement(m.achievement.id, demand_id))]
            for n, m in enumerate(found.achievements, 1)]
    await turn.say("\n".join(lines), asks)


ASK_BUTTON = "了解第{n}项成果"
ASKED = "已转告成果方「{owner}」和工作人员，他们会与您联系商谈转化方式。"
INTEREST = "{who}对技术成果「{title}」感兴趣（需求 {no}），请与其联系商谈转化（技术转让、许可、技术承包或技术入股）。"


@on(AskAboutAchievement)
async def ask_pressed(turn: Turn, button: AskAboutAchievement) -> None:
    found = await achievements.interest(turn.services.sessions, button.achievement_id, button.demand_id,
                                        turn.person_id)
    who = turn.display_name or "一位用户"
    for person in found.tell:
        await turn.notify(person, INTEREST.format(who=who, title=found.title, no=found.tracking_no))
    await turn.answer()
    await turn.say(ASKED.format(owner=found.owner))


JOBS_ASK = "这次服务帮助企业稳定了多少个岗位、新增了多少个岗位？点下面的按钮填写（用于稳岗扩岗统计，不清楚可以不填）。"
JOBS_BUTTON = "填写稳岗扩岗情况"
JOBS_HOW = "请回复两个数字：稳定的岗位数 新增的岗位数，例如：20 3"
JOBS_BAD = "没看懂。请回复两个整数，中间空一格，例如：20 3"
JOBS_SAVED = "已记录：稳定岗位 {kept} 个，新增岗位 {added} 个。谢谢！"
JOBS_STEP = "enterprise_jobs"


async def offer_jobs_report(turn: Turn, demand_id: int) -> None:
    """After an enterprise's service is solved: the 稳岗扩岗 outcome, if they know it."""
    await turn.say(JOBS_ASK, [[Choice(JOBS_BUTTON, ReportJobs(demand_id))]])


@on(ReportJobs)
async def jobs_pressed(turn: Turn, button: ReportJobs) -> None:
    await turn.services.states.set(turn.person_id, JOBS_STEP, {"demand_id": button.demand_id})
    await turn.answer()
    await turn.say(JOBS_HOW)


@step(JOBS_STEP, needs_text=True)
async def jobs_given(turn: Turn, waiting: states.Waiting) -> None:
    numbers = turn.content.text.replace("，", " ").replace(",", " ").split()
    if len(numbers) != 2 or not all(n.isascii() and n.isdigit() for n in numbers):
        await turn.say(JOBS_BAD)
        return
    kept, added = int(numbers[0]), int(numbers[1])
    await turn.services.states.clear(turn.person_id)
    await enterprises.report_jobs(turn.services.sessions, waiting.data["demand_id"], turn.person_id, kept, added)
    await turn.say(JOBS_SAVED.format(kept=kept, added=added))
