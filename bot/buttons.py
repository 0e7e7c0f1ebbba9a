"""What a button press means, declared once per button as a small typed class.

A button carries its class's tag and its fields as text: `AcceptDemand(12)` is "ac:12",
`SetDraftField(7, "crop")` is "dr:set:7:crop". At most 64 bytes (the chat apps' limit for button
data; the web chat posts the same string back). Channel-neutral: services put buttons in
messages they write (a 回访's 已解决 / 未解决), channels draw them and hand presses back.

`decode` is the one place pressed data is read. Data of no known tag, with too few or too many
fields, a word where a number belongs, or a value outside a field's choices gives None — forged,
stale and malformed presses alike — and the channel answers 「按钮已失效」. A trailing "-" is
ignored (buttons sent before this module padded their data with it). A button whose fields
change gets a new tag (e.g. "ld2:…"), so a press on an old message is refused, never misread.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

MAX_BYTES = 64
_TOKEN = re.compile(r"[A-Za-z0-9_.\-*]{1,40}")
_REGISTRY: dict[str, type[Button]] = {}

B = TypeVar("B", bound="type[Button]")


@dataclass(frozen=True)
class Button:
    TAG: ClassVar[str] = ""

    def encode(self) -> str:
        fields = list(dataclasses.fields(self))
        while fields and fields[-1].default is not dataclasses.MISSING \
                and getattr(self, fields[-1].name) == fields[-1].default:
            fields.pop()  # trailing defaults are left out, and filled in again by `decode`
        values = [_text(getattr(self, f.name)) for f in fields]
        data = ":".join([self.TAG, *values])
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"button data longer than {MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def _from_parts(cls, parts: list[str]) -> Button | None:
        fields = dataclasses.fields(cls)
        required = sum(1 for f in fields if f.default is dataclasses.MISSING)
        if not required <= len(parts) <= len(fields):
            return None
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for field, text in zip(fields, parts):
            value = _parse(hints[field.name], text)
            if value is None:
                return None
            values[field.name] = value
        return cls(**values)


def button(tag: str) -> typing.Callable[[B], B]:
    """Register a button class under its tag (unique across the bot)."""

    def register(cls: B) -> B:
        if tag in _REGISTRY:
            raise ValueError(f"button tag {tag!r} is declared twice")
        cls.TAG = tag
        _REGISTRY[tag] = cls
        return cls

    return register


def decode(data: object) -> Button | None:
    """The button a press carries, or None for anything not made by `encode` (see above)."""
    if not isinstance(data, str) or not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    while len(parts) > 1 and parts[-1] == "-":
        parts.pop()
    for size in (2, 1):  # the longest tag first: "dr:set" before "dr"
        cls = _REGISTRY.get(":".join(parts[:size]))
        if cls is not None and len(parts) >= size:
            found = cls._from_parts(parts[size:])
            if found is not None:
                return found
    return None


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _parse(hint: Any, text: str) -> Any:
    if hint is int:
        return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None
    if hint is bool:
        return {"1": True, "0": False}.get(text)
    if typing.get_origin(hint) is Literal:
        return text if text in typing.get_args(hint) else None
    if hint is str:
        return text if _TOKEN.fullmatch(text) else None
    raise TypeError(f"buttons carry int, bool, str or Literal fields, not {hint!r}")


# --- The buttons, by feature --------------------------------------------------------------------
# Intake: the farmer's draft question.


@button("dr:sub")
@dataclass(frozen=True)
class SubmitDraft(Button):
    draft_id: int


@button("dr:cxl")
@dataclass(frozen=True)
class CancelDraft(Button):
    draft_id: int


@button("dr:fld")
@dataclass(frozen=True)
class AskDraftField(Button):
    draft_id: int


@button("dr:set")
@dataclass(frozen=True)
class SetDraftField(Button):
    draft_id: int
    field: str


@button("dr:reg")
@dataclass(frozen=True)
class AskDraftRegion(Button):
    draft_id: int


@button("dr:city")
@dataclass(frozen=True)
class DraftCity(Button):
    draft_id: int
    city: str


@button("dr:rset")
@dataclass(frozen=True)
class SetDraftRegion(Button):
    draft_id: int
    region: str


@button("kb2")
@dataclass(frozen=True)
class SimilarAnswer(Button):
    """📖 the whole answer of a similar solved question shown under a draft: only an answer that
    draft showed its owner ("kb:" buttons, which named any entry, are refused)."""

    draft_id: int
    source: str
    number: str

    @property
    def key(self) -> str:
        return f"{self.source}:{self.number}"


# The farmer after submitting: the loop's end.


@button("fb:ok")
@dataclass(frozen=True)
class Solved(Button):
    demand_id: int


@button("fb:no")
@dataclass(frozen=True)
class NotSolved(Button):
    demand_id: int


@button("fb:sh")
@dataclass(frozen=True)
class ShareAnswer(Button):
    """May this question and its answer (names and numbers taken out) help other farmers?"""

    demand_id: int
    agree: bool


@button("fb:s")
@dataclass(frozen=True)
class Rate(Button):
    demand_id: int
    stars: int


@button("fu:ok")
@dataclass(frozen=True)
class FollowUpSolved(Button):
    demand_id: int


@button("fu:no")
@dataclass(frozen=True)
class FollowUpNotSolved(Button):
    demand_id: int


@button("cx")
@dataclass(frozen=True)
class Withdraw(Button):
    demand_id: int


@button("pg:my")
@dataclass(frozen=True)
class MyDemandsPage(Button):
    offset: int


# The leader: 接单, then the demand card.


@button("ac")
@dataclass(frozen=True)
class AcceptDemand(Button):
    demand_id: int


@button("pg:q")
@dataclass(frozen=True)
class QueuePage(Button):
    offset: int


@button("ld:mode")
@dataclass(frozen=True)
class AskMode(Button):
    demand_id: int


@button("ld:m")
@dataclass(frozen=True)
class SetMode(Button):
    demand_id: int
    mode: Literal["online", "short_visit", "circuit"]


@button("ld:v")
@dataclass(frozen=True)
class SetVisitDate(Button):
    demand_id: int
    day: int  # yyyymmdd


@button("ld:ex")
@dataclass(frozen=True)
class AskExperts(Button):
    demand_id: int


@button("ld:a")
@dataclass(frozen=True)
class AssignExpert(Button):
    demand_id: int
    expert_id: int


@button("ld:tr")
@dataclass(frozen=True)
class AskTransferTeam(Button):
    demand_id: int


@button("ld:tf")
@dataclass(frozen=True)
class AskTransferField(Button):
    demand_id: int


@button("ld:tt")
@dataclass(frozen=True)
class TransferToTeam(Button):
    demand_id: int
    team_id: int


@button("ld:tfs")
@dataclass(frozen=True)
class TransferToField(Button):
    demand_id: int
    field: str


@button("ld:rt")
@dataclass(frozen=True)
class ReturnToStaff(Button):
    demand_id: int


# The expert.


@button("ex:ans")
@dataclass(frozen=True)
class AnswerFarmer(Button):
    demand_id: int


@button("ex:close")
@dataclass(frozen=True)
class AskCloseMode(Button):
    demand_id: int


@button("ex:cm")
@dataclass(frozen=True)
class CloseWithMode(Button):
    demand_id: int
    mode: Literal["online", "short_visit", "circuit"]


@button("rc:q")
@dataclass(frozen=True)
class MessageIsQuestion(Button):
    """An expert with open work wrote without pressing a button: it is a question of their own."""


@button("rc:d")
@dataclass(frozen=True)
class MessageIsReply(Button):
    demand_id: int


@button("ak")
@dataclass(frozen=True)
class AskAboutAchievement(Button):
    """An enterprise (or anyone shown it) asks to know more about a technology achievement."""

    achievement_id: int
    demand_id: int


@button("jb")
@dataclass(frozen=True)
class ReportJobs(Button):
    """An enterprise says how many jobs a finished service helped keep and add (稳岗扩岗)."""

    demand_id: int


@button("oh")
@dataclass(frozen=True)
class LogMyHours(Button):
    """An assigned expert who did not close the demand records their own service hours."""

    demand_id: int


@button("hr")
@dataclass(frozen=True)
class ReviewHours(Button):
    """Staff count a service record under review (认可) or not (不认可)."""

    record_id: int
    approve: bool


@button("kr")
@dataclass(frozen=True)
class ReviewShared(Button):
    """The leader or staff on an answer a farmer agreed to share: publish it, turn it down, or
    correct its question or answer first."""

    entry_id: int
    action: Literal["publish", "drop", "question", "answer"]


@button("pv")
@dataclass(frozen=True)
class AgreePrivacy(Button):
    """同意 under the privacy notice."""


@button("tk")
@dataclass(frozen=True)
class DecideTakeover(Button):
    """Staff on an invite that would replace a team's leader or move an expert's account:
    确认更换 or 不同意."""

    code: str
    confirm: bool


@button("fg")
@dataclass(frozen=True)
class ForgetMe(Button):
    """/forget: yes, delete my personal data (or no)."""

    confirm: bool


# Staff: triage.


@button("tg")
@dataclass(frozen=True)
class Triage(Button):
    demand_id: int
    team_id: int = 0  # 0: show the teams to choose from


# Training notices, sign-ups and attendance.


@button("sg")
@dataclass(frozen=True)
class SignUp(Button):
    notice_id: int


@button("sgx")
@dataclass(frozen=True)
class CancelSignup(Button):
    notice_id: int


@button("at")
@dataclass(frozen=True)
class Attendance(Button):
    notice_id: int
    person_id: int = 0     # 0: show the notice's sheet
    attended: bool = False


# Subscriptions to training notices (/subscribe, /unsubscribe, the offer after a first demand).


@button("sb")
@dataclass(frozen=True)
class SubscriptionStep(Button):
    """f: a field chosen, home: back to the fields, c: a city chosen (a: field, b: city),
    s: subscribe (a: field, b: region), o: the offer accepted (same), n: the offer declined,
    u: unsubscribe one (a: its id) or all (a: "all")."""

    action: Literal["f", "home", "c", "s", "o", "n", "u"]
    a: str = ""
    b: str = ""


# The staff's notice composer (/notice): one step at a time.


@button("nt")
@dataclass(frozen=True)
class NoticeStep(Button):
    """f / r: toggle a field / a city; fa / ra: every field / the whole province; fd / rd: done
    choosing; cap / dl: no limit / no deadline; send; x: cancel."""

    action: Literal["f", "r", "fa", "ra", "fd", "rd", "cap", "dl", "send", "x"]
    arg: str = ""


# The home region (/start, /region).


@button("rg")
@dataclass(frozen=True)
class ProfileRegion(Button):
    action: Literal["city", "set", "back"]
    code: str = ""


# The service list (/services, 技术服务清单).


@button("sv:home")
@dataclass(frozen=True)
class ServicesHome(Button):
    pass


@button("sv:f")
@dataclass(frozen=True)
class ServicesInField(Button):
    field: str
    offset: int = 0


@button("sv:i")
@dataclass(frozen=True)
class AskAboutService(Button):
    item_id: int


@button("sv:x")
@dataclass(frozen=True)
class CancelServiceQuestion(Button):
    pass
