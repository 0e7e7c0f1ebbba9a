"""Which failures are passing (retry the work later) and which are not (set it aside).

Transient: the database is locked or busy past its timeout, a connection was lost or the
server is restarting, the pool had no free connection, the network or the chat server
timed out. (Each channel adds its own: a chat platform's 429 and network errors.) Anything else — a bug, bad data — is not: retrying it
a few times is harmless, retrying it forever would block a person's chat.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import exc as sa

# OperationalError also covers mistakes that no retry mends.
_PERMANENT_DB_PHRASES = ("no such table", "no such column", "syntax error", "has no column", "does not exist")


def is_transient(error: BaseException) -> bool:
    if isinstance(error, (sa.TimeoutError, sa.DisconnectionError, ConnectionError, asyncio.TimeoutError, TimeoutError)):
        return True
    if isinstance(error, sa.DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error, (sa.OperationalError, sa.InterfaceError)):
            message = str(error.orig or error).lower()
            return not any(phrase in message for phrase in _PERMANENT_DB_PHRASES)
        return False
    if isinstance(error, OSError):
        return True
    cause = error.__cause__ or error.__context__
    return cause is not None and cause is not error and isinstance(cause, (sa.OperationalError, ConnectionError))
