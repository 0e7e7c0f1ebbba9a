"""Domain errors raised by the workflow services.

    JicengError                 base; `.user_message` is a polite Chinese sentence
    ├── NotFound                 a demand, draft, team or invite that does not exist
    ├── NotAllowed               the person's role does not allow the action
    │   └── NotTeamLeader        only the leader of the demand's team may do this
    ├── Conflict                 the thing already changed (accepted, submitted, used)
    │   └── AlreadyAccepted
    └── ImportFileError          a directory file that cannot be imported (with row errors)

The Telegram layer turns these into replies in one place; anything else is a bug and is
logged with the update id.
"""

from __future__ import annotations

from dataclasses import dataclass


class JicengError(Exception):
    user_message = "操作没有成功，请稍后再试。"

    def __init__(self, user_message: str | None = None) -> None:
        super().__init__(user_message or self.user_message)
        if user_message:
            self.user_message = user_message


class NotFound(JicengError):
    user_message = "没有找到这条记录，可能已经失效。"


class NotAllowed(JicengError):
    user_message = "您没有权限做这个操作。"


class NotTeamLeader(NotAllowed):
    user_message = "只有这条需求所属服务团的团长才能接单。"


class Conflict(JicengError):
    user_message = "这条记录已经被处理过了。"


class AlreadyAccepted(Conflict):
    user_message = "这条需求已经被接单了。"


@dataclass(frozen=True)
class RowError:
    row: int  # spreadsheet row number as staff see it (header is row 1)
    reason: str

    def __str__(self) -> str:
        return f"第 {self.row} 行：{self.reason}"


class ImportFileError(JicengError):
    user_message = "文件有错误，没有导入任何数据。"

    def __init__(self, errors: list[RowError] | str) -> None:
        self.errors = [RowError(0, errors)] if isinstance(errors, str) else list(errors)
        super().__init__()

    def __str__(self) -> str:
        lines = [self.user_message]
        lines += [e.reason if e.row == 0 else str(e) for e in self.errors]
        return "\n".join(lines)
