"""People who need a person and devices that need one: help calls and device faults.

A help call only moves forward (raised → acknowledged → resolved), so two clerks answering
the same call cannot undo each other, and a kiosk that shows "someone is coming" never goes
back to "waiting for staff". Resolving a call nobody acknowledged counts as acknowledging it
too: someone came.

A fault is open until the device clears it; the partial unique index `device_fault_open`
keeps one open fault a device a kind, so a kiosk repeating "paper out" every minute leaves
one row. Every change writes a hall_event and notifies with the device's id under "device":
the kiosk's live stream picks its own events by that key.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from enum import StrEnum
from typing import Any

from psycopg.types.json import Jsonb

from kiosk.hall.db import Conn, notify


class HelpState(StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class FaultKind(StrEnum):
    PAPER_OUT = "paper_out"
    PAPER_NEAR_END = "paper_near_end"
    COVER_OPEN = "cover_open"
    PRINTER_SILENT = "printer_silent"
    CAMERA_DOWN = "camera_down"
    OUTBOX_BACKLOG = "outbox_backlog"
    OTHER = "other"


class UnknownCall(Exception):
    """No such call in this center (or not the asking kiosk's)."""


class StateConflict(Exception):
    """The call is already past the state asked for."""

    def __init__(self, state: HelpState) -> None:
        super().__init__(state.value)
        self.state = state


# Six digits in a row could be part of an ID number, a phone number or a code: a fault's
# detail is a technician's note about a device, so such a run is blanked out on the way in
# (the kiosk is not meant to send one; this is the second line).
_DIGIT_RUN = re.compile(r"[0-9０-９]{6,}[Xx]?")


def scrub_detail(text: str) -> str:
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return _DIGIT_RUN.sub("***", cleaned)


def _event(conn: Conn, center_id: str, kind: str, at: dt.datetime, *,
           device_id: uuid.UUID, staff_id: uuid.UUID | None = None,
           counter_no: int | None = None, data: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO hall_event (center_id, at, kind, counter_no, staff_id, device_id, data) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (center_id, at, kind, counter_no, staff_id, device_id, Jsonb(data)))
    notify(conn, center_id, kind, {**data, "device": str(device_id)})


# --- help calls

_CALL_COLUMNS = (
    "c.id, c.center_id, c.device_id, d.name AS kiosk, c.screen, c.state, c.raised_at, "
    "c.acknowledged_at, a.username AS acknowledged_by, c.resolved_at, "
    "r.username AS resolved_by"
)
_CALL_FROM = (
    "help_call c JOIN device d ON d.id = c.device_id "
    "LEFT JOIN staff a ON a.id = c.acknowledged_by LEFT JOIN staff r ON r.id = c.resolved_by"
)


def call_reply(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """A call as the wire shows it: staff by username (a staff member's account name is not
    a resident's data); waited_s runs until the call is resolved, since the resident stands
    at the kiosk until then, acknowledged or not."""

    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    until = row["resolved_at"] or now
    return {
        "call_id": row["id"],
        "state": row["state"],
        "kiosk": row["kiosk"],
        "screen": row["screen"],
        "raised_at": iso(row["raised_at"]),
        "waited_s": max(0, int((until - row["raised_at"]).total_seconds())),
        "acknowledged_at": iso(row["acknowledged_at"]),
        "acknowledged_by": row["acknowledged_by"],
        "resolved_at": iso(row["resolved_at"]),
        "resolved_by": row["resolved_by"],
    }


def raise_call(conn: Conn, center_id: str, device_id: uuid.UUID, screen: str,
               now: dt.datetime) -> dict[str, Any]:
    call_id = secrets.token_urlsafe(16)
    conn.execute(
        "INSERT INTO help_call (id, center_id, device_id, screen, raised_at) "
        "VALUES (%s, %s, %s, %s, %s)", (call_id, center_id, device_id, screen, now))
    row = get_call(conn, center_id, call_id)
    assert row is not None
    _event(conn, center_id, "help_raised", now, device_id=device_id,
           data={"call": call_id, "screen": screen, "kiosk": row["kiosk"]})
    return row


def get_call(conn: Conn, center_id: str, call_id: str,
             device_id: uuid.UUID | None = None) -> dict[str, Any] | None:
    """A call of the center; with `device_id`, only if that device raised it."""
    row: dict[str, Any] | None = conn.execute(
        f"SELECT {_CALL_COLUMNS} FROM {_CALL_FROM} WHERE c.id = %s AND c.center_id = %s "
        "AND (%s::uuid IS NULL OR c.device_id = %s::uuid)",
        (call_id, center_id, device_id, device_id)).fetchone()
    return row


def list_calls(conn: Conn, center_id: str, *, open_only: bool,
               now: dt.datetime) -> list[dict[str, Any]]:
    """Calls not yet resolved, oldest first (whoever has waited longest is at the top);
    or, with open_only False, every call raised today."""
    if open_only:
        return conn.execute(
            f"SELECT {_CALL_COLUMNS} FROM {_CALL_FROM} WHERE c.center_id = %s "
            "AND c.state <> 'resolved' ORDER BY c.raised_at, c.id", (center_id,)).fetchall()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return conn.execute(
        f"SELECT {_CALL_COLUMNS} FROM {_CALL_FROM} WHERE c.center_id = %s "
        "AND c.raised_at >= %s AND c.raised_at < %s ORDER BY c.raised_at, c.id",
        (center_id, midnight, midnight + dt.timedelta(days=1))).fetchall()


def advance(conn: Conn, center_id: str, call_id: str, to: HelpState, staff_id: uuid.UUID,
            counter_no: int | None, now: dt.datetime) -> dict[str, Any]:
    """Move a call forward to `to` (acknowledged or resolved); raises UnknownCall or
    StateConflict (already there or past it)."""
    if to is HelpState.ACKNOWLEDGED:
        moved = conn.execute(
            "UPDATE help_call SET state = 'acknowledged', acknowledged_at = %s, "
            "acknowledged_by = %s WHERE id = %s AND center_id = %s AND state = 'raised' "
            "RETURNING device_id", (now, staff_id, call_id, center_id)).fetchone()
    elif to is HelpState.RESOLVED:
        moved = conn.execute(
            "UPDATE help_call SET state = 'resolved', resolved_at = %s, resolved_by = %s, "
            "acknowledged_at = coalesce(acknowledged_at, %s), "
            "acknowledged_by = coalesce(acknowledged_by, %s) "
            "WHERE id = %s AND center_id = %s AND state <> 'resolved' RETURNING device_id",
            (now, staff_id, now, staff_id, call_id, center_id)).fetchone()
    else:
        raise ValueError(f"a call cannot be moved to {to.value}")
    if moved is None:
        current = get_call(conn, center_id, call_id)
        if current is None:
            raise UnknownCall(call_id)
        raise StateConflict(HelpState(current["state"]))
    kind = "help_acknowledged" if to is HelpState.ACKNOWLEDGED else "help_resolved"
    _event(conn, center_id, kind, now, device_id=moved["device_id"], staff_id=staff_id,
           counter_no=counter_no, data={"call": call_id, "state": to.value})
    row = get_call(conn, center_id, call_id)
    assert row is not None
    return row


# --- device faults

def fault_reply(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": row["kind"],
        "detail": row["detail"],
        "since": row["since"].isoformat(),
        "cleared_at": row["cleared_at"].isoformat() if row["cleared_at"] else None,
    }


def open_fault(conn: Conn, center_id: str, device_id: uuid.UUID, kind: FaultKind,
               detail: str, now: dt.datetime) -> tuple[dict[str, Any], bool]:
    """The device's open fault of this kind, opened now unless it was open already;
    (fault, whether it was opened by this call)."""
    row = conn.execute(
        "INSERT INTO device_fault (center_id, device_id, kind, detail, since) "
        "VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (device_id, kind) WHERE cleared_at IS NULL DO NOTHING RETURNING *",
        (center_id, device_id, kind.value, scrub_detail(detail), now)).fetchone()
    if row is not None:
        _event(conn, center_id, "fault_opened", now, device_id=device_id,
               data={"fault": kind.value, "detail": row["detail"]})
        return row, True
    held = conn.execute(
        "SELECT * FROM device_fault WHERE device_id = %s AND kind = %s AND cleared_at IS NULL",
        (device_id, kind.value)).fetchone()
    assert held is not None  # the conflicting open row; only this device clears it
    return held, False


def clear_fault(conn: Conn, center_id: str, device_id: uuid.UUID, kind: FaultKind,
                now: dt.datetime) -> tuple[dict[str, Any] | None, bool]:
    """Clear the device's open fault of this kind; (the fault or None, whether it was open)."""
    row = conn.execute(
        "UPDATE device_fault SET cleared_at = greatest(%s, since) WHERE device_id = %s "
        "AND kind = %s AND cleared_at IS NULL RETURNING *",
        (now, device_id, kind.value)).fetchone()
    if row is None:
        return None, False
    _event(conn, center_id, "fault_cleared", now, device_id=device_id,
           data={"fault": kind.value})
    return row, True


def open_faults(conn: Conn, center_id: str) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Open faults of the center's devices, oldest first, by device id."""
    out: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for row in conn.execute(
        "SELECT * FROM device_fault WHERE center_id = %s AND cleared_at IS NULL "
        "ORDER BY since, id", (center_id,)):
        out.setdefault(row["device_id"], []).append(fault_reply(row))
    return out


def devices(conn: Conn, center_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT id, name, kind, counter_no, last_seen_at, revoked_at FROM device "
        "WHERE center_id = %s ORDER BY kind, name", (center_id,)).fetchall()
