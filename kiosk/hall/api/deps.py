"""What every route needs: the caller (from the bearer token), the pool, the clock, the
center's rules; and the errors every route may answer, each with a message in Chinese and
English for whoever reads it (a technician's log, a clerk's screen)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from psycopg_pool import ConnectionPool

from kiosk.hall.auth import Principal, Role, principal_for
from kiosk.hall.db import Conn
from kiosk.hall.rules.config import CenterRules
from kiosk.hall.settings import HallSettings
from kiosk.hall.store import idempotency


class HallError(HTTPException):
    """An answer with a stable error code and a bilingual message."""

    def __init__(self, status: int, code: str, zh: str, en: str, **extra: Any) -> None:
        super().__init__(status_code=status,
                         detail={"error": code, "message": {"zh": zh, "en": en}, **extra})


UNAUTHENTICATED = ("unauthenticated", "缺少有效凭证，请联系管理员重新登记设备或重新登录。",
                   "No valid credential: ask an administrator to register this device, "
                   "or sign in again.")


def settings(request: Request) -> HallSettings:
    value: HallSettings = request.app.state.settings
    return value


def pool(request: Request) -> ConnectionPool[Conn]:
    value: ConnectionPool[Conn] = request.app.state.pool
    return value


def read_pool(request: Request) -> ConnectionPool[Conn]:
    """Connections in autocommit for single reads (who is asking, a reply after a commit):
    no BEGIN and COMMIT round trips around one SELECT."""
    value: ConnectionPool[Conn] = request.app.state.read_pool
    return value


def clock(request: Request) -> Callable[[], dt.datetime]:
    value: Callable[[], dt.datetime] = request.app.state.settings.clock
    return value


def now(request: Request) -> dt.datetime:
    return clock(request)()


def bearer(authorization: Annotated[str | None, Header()] = None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise HallError(401, *UNAUTHENTICATED)
    return authorization[len("Bearer "):].strip()


def caller(request: Request, token: Annotated[str, Depends(bearer)]) -> Principal:
    with read_pool(request).connection() as conn:
        who = principal_for(conn, token, now(request))
    if who is None:
        raise HallError(401, *UNAUTHENTICATED)
    return who


def allow(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting only these roles: any other valid credential gets 403."""

    def check(who: Annotated[Principal, Depends(caller)]) -> Principal:
        if who.role not in roles:
            raise HallError(403, "forbidden", "此设备或账号无权执行该操作。",
                            "This device or account may not do this.")
        return who

    return check


def center_of(request: Request, who: Principal) -> CenterRules:
    return settings(request).rules.center(who.center_id)


def idempotency_key(idempotency_key: Annotated[str | None, Header()] = None) -> str:
    if not idempotency_key or not 8 <= len(idempotency_key) <= 100 or not (
        idempotency_key.isascii() and idempotency_key.isprintable()
    ):
        raise HallError(400, "idempotency_key", "请求缺少幂等键（Idempotency-Key）。",
                        "An Idempotency-Key header (8 to 100 printable ASCII characters) "
                        "is required.")
    return idempotency_key


Kiosk = Annotated[Principal, Depends(allow(Role.KIOSK))]
Clerk = Annotated[Principal, Depends(allow(Role.CLERK, Role.SUPERVISOR))]
Supervisor = Annotated[Principal, Depends(allow(Role.SUPERVISOR))]
Watcher = Annotated[Principal, Depends(allow(Role.BOARD, Role.COUNTER, Role.CLERK,
                                             Role.SUPERVISOR))]
Key = Annotated[str, Depends(idempotency_key)]


def claim_key(conn: Conn, who: Principal | str, key: str, operation: str,
              body: Any) -> idempotency.Claim:
    """Take the Idempotency-Key for this request (store/idempotency.py), refusing a key that
    was cancelled (410) or used for another request (409). `who` is the caller, or for a
    caller without a credential (a resident's phone) the owner its keys are kept under."""
    owner = who if isinstance(who, str) else who.owner
    try:
        return idempotency.claim(conn, owner, key, operation, body)
    except idempotency.KeyCancelled:
        raise HallError(410, "cancelled", "该请求已撤销。", "This request was cancelled.") from None
    except idempotency.KeyConflict:
        raise HallError(409, "idempotency_conflict", "幂等键已用于另一请求。",
                        "This Idempotency-Key was used for another request.") from None


def replay_or_none(conn: Conn, who: Principal, key: str, operation: str,
                   body: Any) -> dict[str, Any] | None:
    """None: carry the request out now (then idempotency.finish); else the answer its first
    run gave."""
    taken = claim_key(conn, who, key, operation, body)
    if taken.first:
        return None
    assert taken.response is not None
    return taken.response

