"""Devices that need a person: a kiosk reports its faults (paper out, camera down, …) and
their clearing; clerks see what is open, a supervisor sees every device of the center."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from kiosk.hall.api.deps import Clerk, Key, Kiosk, Supervisor, now, pool, replay_or_none
from kiosk.hall.store import help as store
from kiosk.hall.store import idempotency

router = APIRouter(prefix="/v1", tags=["devices"])


class FaultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: store.FaultKind
    # A technician's note about the device ("cutter jammed"), never a resident's data.
    detail: str = Field(default="", max_length=200)
    state: Literal["open", "cleared"]


class Fault(BaseModel):
    kind: str
    detail: str
    since: dt.datetime
    cleared_at: dt.datetime | None


class FaultOut(BaseModel):
    kind: str
    state: Literal["open", "cleared"]
    changed: bool  # False: the fault was open (or cleared) already, nothing happened
    fault: Fault | None  # None: a clearing of a fault that was not open


class DeviceFaults(BaseModel):
    device: str
    device_kind: str
    counter: int | None
    last_seen_at: dt.datetime | None  # the device's last request (auth.LAST_SEEN_EVERY)
    faults: list[Fault]


class DeviceOut(BaseModel):
    name: str
    kind: str
    counter: int | None
    last_seen_at: dt.datetime | None
    revoked: bool
    faults: list[Fault]


@router.post("/faults", response_model=FaultOut)
def report_fault(request: Request, body: FaultIn, who: Kiosk, key: Key) -> dict[str, Any]:
    at = now(request)
    assert who.device_id is not None
    with pool(request).connection() as conn:
        replay = replay_or_none(conn, who, key, "fault", body.model_dump(mode="json"))
        if replay is not None:
            return replay
        row: dict[str, Any] | None
        if body.state == "open":
            row, changed = store.open_fault(conn, who.center_id, who.device_id, body.kind,
                                            body.detail, at)
        else:
            row, changed = store.clear_fault(conn, who.center_id, who.device_id, body.kind, at)
        reply = {"kind": body.kind.value, "state": body.state, "changed": changed,
                 "fault": store.fault_reply(row) if row is not None else None}
        idempotency.finish(conn, who.owner, key, reply)
        return reply


@router.get("/faults", response_model=list[DeviceFaults])
def open_faults(request: Request, who: Clerk) -> list[dict[str, Any]]:
    """The devices with an open fault, each with its faults, oldest first; a revoked
    device's faults are left out (it can no longer clear them, nobody needs to go)."""
    with pool(request).connection() as conn:
        faults = store.open_faults(conn, who.center_id)
        rows = store.devices(conn, who.center_id)
    return [{"device": r["name"], "device_kind": r["kind"], "counter": r["counter_no"],
             "last_seen_at": r["last_seen_at"], "faults": faults[r["id"]]} for r in rows
            if r["id"] in faults and r["revoked_at"] is None]


@router.get("/devices", response_model=list[DeviceOut])
def list_devices(request: Request, who: Supervisor) -> list[dict[str, Any]]:
    with pool(request).connection() as conn:
        faults = store.open_faults(conn, who.center_id)
        rows = store.devices(conn, who.center_id)
    return [{"name": r["name"], "kind": r["kind"], "counter": r["counter_no"],
             "last_seen_at": r["last_seen_at"], "revoked": r["revoked_at"] is not None,
             "faults": faults.get(r["id"], [])} for r in rows]
