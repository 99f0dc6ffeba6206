"""Help calls: a kiosk asks for a person, clerks see who has waited longest, acknowledge
("someone is coming", shown on the kiosk) and resolve."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from kiosk.hall.api.deps import Clerk, HallError, Key, Kiosk, now, pool, replay_or_none
from kiosk.hall.auth import Principal
from kiosk.hall.store import help as store
from kiosk.hall.store import idempotency

router = APIRouter(prefix="/v1", tags=["help"])


class HelpCallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    screen: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    # Sent by kiosks built before the hall existed; ignored, the credential names the kiosk.
    kiosk_id: str | None = Field(default=None, max_length=100)


class HelpCallOut(BaseModel):
    call_id: str
    state: str
    kiosk: str
    screen: str
    raised_at: dt.datetime
    waited_s: int
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None  # the staff member's username
    resolved_at: dt.datetime | None
    resolved_by: str | None


_NO_CALL = ("no_such_call", "没有这条呼叫记录。", "No such help call.")
_STATE_WORDS = {store.HelpState.RAISED: "等待处理", store.HelpState.ACKNOWLEDGED: "已有人响应",
                store.HelpState.RESOLVED: "已处理完毕"}


@router.post("/help-calls", response_model=HelpCallOut)
def raise_call(request: Request, body: HelpCallIn, who: Kiosk, key: Key) -> dict[str, Any]:
    at = now(request)
    assert who.device_id is not None
    with pool(request).connection() as conn:
        replay = replay_or_none(conn, who, key, "help_call", body.model_dump())
        if replay is not None:
            return replay
        reply = store.call_reply(
            store.raise_call(conn, who.center_id, who.device_id, body.screen, at), at)
        idempotency.finish(conn, who.owner, key, reply)
        return reply


@router.get("/help-calls/{call_id}", response_model=HelpCallOut)
def read_call(request: Request, call_id: str, who: Kiosk) -> dict[str, Any]:
    """A kiosk reads only the calls it raised: another kiosk's call is not found."""
    with pool(request).connection() as conn:
        row = store.get_call(conn, who.center_id, call_id, device_id=who.device_id)
    if row is None:
        raise HallError(404, *_NO_CALL)
    return store.call_reply(row, now(request))


@router.get("/help-calls", response_model=list[HelpCallOut])
def list_calls(request: Request, who: Clerk,
               open: Annotated[bool, Query()] = True) -> list[dict[str, Any]]:
    """Open calls of the center, longest waiting first; open=false: every call of today."""
    at = now(request)
    with pool(request).connection() as conn:
        rows = store.list_calls(conn, who.center_id, open_only=open, now=at)
    return [store.call_reply(r, at) for r in rows]


def _advance(request: Request, call_id: str, who: Principal, key: str,
             to: store.HelpState) -> dict[str, Any]:
    at = now(request)
    assert who.staff_id is not None
    with pool(request).connection() as conn:
        replay = replay_or_none(conn, who, key, f"help_{to.value}", {"call": call_id})
        if replay is not None:
            return replay
        try:
            row = store.advance(conn, who.center_id, call_id, to, who.staff_id,
                                who.counter_no, at)
        except store.UnknownCall:
            raise HallError(404, *_NO_CALL) from None
        except store.StateConflict as exc:
            raise HallError(409, "help_call_state",
                            f"该呼叫{_STATE_WORDS[exc.state]}，不能再改为此状态。",
                            f"This call is {exc.state.value} already; a call only moves "
                            "forward.", state=exc.state.value) from None
        reply = store.call_reply(row, at)
        idempotency.finish(conn, who.owner, key, reply)
        return reply


@router.post("/help-calls/{call_id}/acknowledge", response_model=HelpCallOut)
def acknowledge(request: Request, call_id: str, who: Clerk, key: Key) -> dict[str, Any]:
    return _advance(request, call_id, who, key, store.HelpState.ACKNOWLEDGED)


@router.post("/help-calls/{call_id}/resolve", response_model=HelpCallOut)
def resolve(request: Request, call_id: str, who: Clerk, key: Key) -> dict[str, Any]:
    return _advance(request, call_id, who, key, store.HelpState.RESOLVED)
