"""What the console's pages share: rendering, refusals, reading filters and numbers from a
request, and the labels pages show."""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from bot.clock import CHINA_TIME
from bot.services import lifecycle
from bot.services.notices import NoticeDraft
from bot.services.oversight import Filters
from bot.services.scope import Scope
from intents import regions, taxonomy

STATUS_NAMES = {
    lifecycle.WAITING: "待接单", lifecycle.TRIAGE: "待分派", lifecycle.ACCEPTED: "已接单",
    lifecycle.IN_SERVICE: "服务中", lifecycle.ANSWERED: "已答复", lifecycle.CLOSED: "已办结",
    lifecycle.REOPENED: "重新办理", lifecycle.CANCELLED: "已撤回",
}
STATUS_FILTERS = [("open", "办理中"), ("overdue", "超时"), *STATUS_NAMES.items()]
FLASH = {"reroute": "已改派。", "urge": "已督办，已通知 {n} 人。", "note": "已加备注。", "saved": "已保存。"}


def _flash(request: web.Request) -> str:
    """What the page says after an action: one of ours by key (never text from the URL)."""
    return FLASH.get(request.query.get("done", ""), "").format(n=_int(request.query.get("n")))
NEED_LINK = "请在聊天里给机器人发 /console，用收到的一次性链接登录，或用登记过的手机号登录。"
PER_PAGE = 50
STREAM_SECONDS = 600  # a progress stream ends after this long; the browser opens a new one



# -- helpers -------------------------------------------------------------------------------


@dataclass
class _NoticeForm:
    """What staff typed in the notice composer (kept to show the form again)."""

    title: str = ""
    content: str = ""
    starts_at: str = ""
    hours: str = ""
    place: str = ""
    capacity: str = ""
    audience: str = ""  # "", "team:N" or "training:N"
    base: str = ""      # the hosting 专家服务基地's id
    lecturers: list[str] = dataclass_field(default_factory=list)  # expert ids
    fields: list[str] = dataclass_field(default_factory=list)
    regions: list[str] = dataclass_field(default_factory=list)
    action: str = "preview"

    @classmethod
    def read(cls, form: Any) -> _NoticeForm:
        return cls(title=str(form.get("title", "")).strip(), content=str(form.get("content", "")).strip(),
                   starts_at=str(form.get("starts_at", "")), hours=str(form.get("hours", "")),
                   place=str(form.get("place", "")).strip(), capacity=str(form.get("capacity", "")).strip(),
                   audience=str(form.get("audience", "")).strip(), base=str(form.get("base", "")).strip(),
                   lecturers=[str(v) for v in form.getall("lecturer", []) if str(v).isdigit()],
                   fields=[f for f in form.getall("field", []) if taxonomy.is_field(f)],
                   regions=[r for r in form.getall("region", []) if regions.get(r)],
                   action=str(form.get("action", "preview")))

    def draft(self, scope: Scope, now: datetime) -> NoticeDraft:
        """The notice these answers make; ValueError names what to correct. A county's or city's
        staff who tick no region send to their own area, never the whole province."""
        if not self.title or not self.content or not self.place:
            raise ValueError("请填写标题、内容和地点。")
        try:
            starts = datetime.fromisoformat(self.starts_at).replace(tzinfo=CHINA_TIME)
        except ValueError:
            raise ValueError("请填写培训时间。") from None
        if starts <= now:
            raise ValueError("培训时间已经过去了，请重新填写。")
        try:
            hours = float(self.hours or 2)
            capacity = int(self.capacity) if self.capacity else None
        except ValueError:
            raise ValueError("时长和名额请填数字。") from None
        if not 0 < hours <= 24 or (capacity is not None and capacity < 1):
            raise ValueError("时长应在 0 到 24 小时之间，名额至少 1 人。")
        return NoticeDraft(step="preview", title=self.title[:60], content=self.content[:1000], starts_at=starts,
                           duration_hours=hours, place=self.place[:100], fields=list(self.fields),
                           regions=list(self.regions) or ([] if scope.everything else [scope.region]),
                           capacity=capacity, audience=self.audience_choice(),
                           base_id=int(self.base) if self.base.isdigit() else None,
                           lecturers=[int(v) for v in self.lecturers])

    def audience_choice(self) -> dict[str, int] | None:
        kind, _, number = self.audience.partition(":")
        if kind in ("team", "training") and number.isdigit():
            return {f"{kind}_id": int(number)}
        return None


def _progress(counts: dict[str, int]) -> dict[str, Any]:
    from bot.services.outbox import BLOCKED, FAILED, OPEN_STATUSES, SENT

    total = sum(counts.values())
    sent, failed = counts.get(SENT, 0), counts.get(FAILED, 0) + counts.get(BLOCKED, 0)
    queued = sum(counts.get(s, 0) for s in OPEN_STATUSES)
    percent = 100 if total == 0 else round(100 * (total - queued) / total)
    return {"sent": sent, "failed": failed, "queued": queued, "total": total, "percent": percent,
            "done": queued == 0}


def _city_rows(by_region: list[tuple[str | None, int]]) -> list[tuple[str, str, int, list[tuple[str, int]]]]:
    """Hunan's 14 市州 with their demands, and each county's beside it (a map, as a table)."""
    counts = dict(by_region)
    rows = []
    for city in regions.cities():
        counties = [(c.name, counts[c.code]) for c in regions.counties(city.code) if counts.get(c.code)]
        total = counts.get(city.code, 0) + sum(n for _, n in counties)
        rows.append((city.code, city.name, total, sorted(counties, key=lambda item: -item[1])))
    return rows


MAX_EVIDENCE = 10 * 1024 * 1024
EVIDENCE_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx")


def _evidence_suffix(filename: str) -> str | None:
    """Evidence is kept under a random name with its own suffix (never the uploader's path)."""
    suffix = Path(filename).suffix.lower()
    return suffix if suffix in EVIDENCE_SUFFIXES else None


def _importer(kind: str) -> Any:
    from bot.services import directory

    return directory.import_teams if kind == "teams" else directory.import_experts


def _static_folder() -> str:
    from importlib import resources

    return str(resources.files("bot.console").joinpath("static"))


def _page(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    return response


def _refused(request: web.Request, title: str, message: str, status: int) -> web.HTTPException:
    body = aiohttp_jinja2.render_string("error.html", request, {"title": title, "message": message})
    cls = {401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 404: web.HTTPNotFound, 409: web.HTTPConflict}[status]
    return cls(text=body, content_type="text/html")


def _filters(request: web.Request, scope: Scope) -> Filters:
    q = request.query
    field = q.get("field") or None
    region = q.get("region") or None
    return Filters(
        field=field if field and taxonomy.is_field(field) else None,
        region=region if region and regions.get(region) and scope.contains(region) else None,
        status=q.get("status") or None, team_id=_int(q.get("team")) or None,
        since=_date(q.get("since")), until=_date(q.get("until")),
        text=(q.get("q") or "").strip()[:50] or None,
    )


def _query(filters: Filters) -> str:
    values = {"field": filters.field, "region": filters.region, "status": filters.status, "team": filters.team_id,
              "since": filters.since.isoformat() if filters.since else None,
              "until": filters.until.isoformat() if filters.until else None, "q": filters.text}
    return urlencode({k: v for k, v in values.items() if v})


def _places(scope: Scope) -> list[tuple[str, str]]:
    if scope.everything:
        found = []
        for city in regions.cities():
            found.append((city.code, city.name))
            found += [(c.code, f"　{c.name}") for c in regions.counties(city.code)]
        return found
    if regions.city_of(scope.region) == scope.region:
        return [(c.code, c.name) for c in regions.counties(scope.region)]
    return []


def _date(text: str | None) -> date | None:
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day is None or date(2000, 1, 1) <= day <= date(2100, 12, 31) else None


def _int(value: object) -> int:
    """A non-negative id or number from a request; 0 for anything else (or out of 64-bit range)."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return 0
    return number if 0 <= number < 2**63 else 0


def _mask(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else phone


def _region_name(code: str | None) -> str:
    return regions.full_name(code) if code else "未填写"


def _status_name(status: str) -> str:
    return STATUS_NAMES.get(status, status)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M") if moment else ""


def _hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} 小时" if value < 48 else f"{value / 24:.1f} 天"


def _level(n: int) -> int:
    return 0 if n <= 0 else min(5, 1 + int(math.log10(n) * 1.5))


def _percent(n: int, most: int) -> int:
    return round(100 * n / most) if most else 0
