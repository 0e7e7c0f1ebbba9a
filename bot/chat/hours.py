"""/hours: an expert's service hours this year by mode, and the 继续教育学时 they convert to."""

from __future__ import annotations

from bot.chat.commands import command
from bot.chat.turn import Turn
from bot.services.hours import SERVICE_MODES, ConversionRule, LedgerRow, china_year, expert_hours, format_hours

# What /hours says (kept together so a reviewer reads every sentence in one place).
HOURS_HEADER = "{name}老师，您 {year} 年的服务时长："
HOURS_MODE_LINE = "· {mode}：{hours} 小时"
HOURS_TOTAL = "合计：{hours} 小时（共 {count} 次服务）"
HOURS_CREDIT = "可折算继续教育学时：{credit} 学时"
HOURS_CAPPED = "（按规则折算为 {before} 学时，已达每年 {cap} 学时上限）"
HOURS_NONE_YET = "{name}老师，您 {year} 年还没有服务记录。办结需求时填写的服务时长会计入这里，并折算为继续教育学时。"
HOURS_NOT_EXPERT = "/hours 用于专家查看本年服务时长和继续教育学时。您还没有以专家身份加入；如果您是专家，请使用工作人员发给您的邀请链接加入。"


def hours_text(row: LedgerRow, year: int, rule: ConversionRule) -> str:
    if row.services == 0:
        return HOURS_NONE_YET.format(name=row.name, year=year)
    lines = [HOURS_HEADER.format(name=row.name, year=year)]
    lines += [HOURS_MODE_LINE.format(mode=name, hours=format_hours(row.hours_by_mode.get(code, 0.0)))
              for code, name in SERVICE_MODES.items()]
    lines.append(HOURS_TOTAL.format(hours=format_hours(row.total_hours), count=row.services))
    lines.append(HOURS_CREDIT.format(credit=format_hours(row.credit_hours)))
    if row.capped and rule.yearly_cap is not None:
        lines.append(HOURS_CAPPED.format(before=format_hours(row.credit_before_cap),
                                         cap=format_hours(rule.yearly_cap)))
    return "\n".join(lines)


@command("hours")
async def hours_command(turn: Turn) -> None:
    services = turn.services
    # A rule file configured for the deployment, when the services carry one; else the defaults.
    rule = getattr(services, "hours_rule", None) or ConversionRule()
    year = china_year(services.clock())
    row = await expert_hours(services.sessions, turn.person_id, year, rule)
    text = HOURS_NOT_EXPERT if row is None else hours_text(row, year, rule)
    await turn.say(text)
