"""一件事 applications at the hall: filing one, its progress, staff moving it on.

A reference (办件编号) is "YW" + the Shanghai day + a six-digit count from one counter row a
day (`INSERT … ON CONFLICT … DO UPDATE … RETURNING`), so it never repeats; since it counts
up, anything that works as a capability (URLs, the progress code) uses `public_id`: the
progress code is the address of the application's page on the hall's public address.
Summaries carry no resident id and none of the submitted values.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from psycopg.types.json import Jsonb

from kiosk.backend.interface import APPLICATION_TRANSITIONS, ApplicationStatus
from kiosk.hall.db import Conn, notify
from kiosk.hall.store.residents import local_day

MAX_NOTE_LENGTH = 500


class UnknownApplication(LookupError):
    pass


class TransitionRefused(ValueError):
    def __init__(self, current: ApplicationStatus, target: ApplicationStatus) -> None:
        super().__init__(f"{current.value} -> {target.value}")
        self.current = current
        self.target = target


class NoteRequired(ValueError):
    """需补正 must say what is still missing (最多跑一次)."""


def progress_url(public_url: str, public_id: str) -> str:
    """What the receipt's QR code holds: the application's page on the resident's phone,
    and what a kiosk's 办件查询 reads the public id from."""
    return f"{public_url}/a/{public_id}"


def new_reference(conn: Conn, day: dt.date) -> str:
    row = conn.execute(
        "INSERT INTO application_counter (day, last) VALUES (%s, 1) ON CONFLICT (day) "
        "DO UPDATE SET last = application_counter.last + 1 RETURNING last", (day,)).fetchone()
    assert row is not None
    return f"YW{day:%Y%m%d}{int(row['last']):06d}"


def submit(conn: Conn, *, center_id: str, resident_id: str, device_id: uuid.UUID,
           bundle_id: str, processing_days: int, submission: dict[str, Any],
           now: dt.datetime, public_url: str) -> dict[str, Any]:
    """File the application; returns the receipt a kiosk prints."""
    at = now.replace(microsecond=0)
    reference = new_reference(conn, local_day(at))
    public_id = secrets.token_urlsafe(16)
    progress_code = progress_url(public_url, public_id)
    conn.execute(
        "INSERT INTO application (reference, public_id, center_id, resident_id, bundle_id, "
        "submitted_at, processing_days, submission, progress_code, status) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (reference, public_id, center_id, resident_id, bundle_id, at, processing_days,
         Jsonb(submission), progress_code, ApplicationStatus.SUBMITTED.value))
    conn.execute("INSERT INTO application_status (reference, status, at) VALUES (%s, %s, %s)",
                 (reference, ApplicationStatus.SUBMITTED.value, at))
    conn.execute(
        "INSERT INTO hall_event (center_id, at, kind, device_id, data) VALUES "
        "(%s, %s, 'application_submitted', %s, jsonb_build_object('reference', %s::text, "
        "'bundle', %s::text))", (center_id, at, device_id, reference, bundle_id))
    notify(conn, center_id, "application_submitted", {"reference": reference,
                                                      "bundle": bundle_id})
    return {"reference": reference, "public_id": public_id, "bundle_id": bundle_id,
            "submitted_at": at.isoformat(), "progress_code": progress_code,
            "processing_days": processing_days}


# Never `submission` or `resident_id`: summaries go to screens and receipts.
_SUMMARY = ("SELECT reference, public_id, bundle_id, submitted_at, processing_days, status "
            "FROM application ")


def _with_timelines(conn: Conn, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not rows:
        return []
    timelines: dict[str, list[dict[str, Any]]] = {r["reference"]: [] for r in rows}
    for e in conn.execute(
        "SELECT reference, status, at, note FROM application_status WHERE reference = ANY(%s) "
        "ORDER BY id", (list(timelines),)):
        timelines[e["reference"]].append({"status": e["status"], "at": e["at"],
                                          "note": e["note"]})
    return [{**r, "timeline": timelines[r["reference"]]} for r in rows]


def by_public_id(conn: Conn, public_id: str) -> dict[str, Any] | None:
    found = _with_timelines(conn, conn.execute(
        _SUMMARY + "WHERE public_id = %s", (public_id,)).fetchall())
    return found[0] if found else None


def by_reference(conn: Conn, center_id: str, reference: str) -> dict[str, Any] | None:
    found = _with_timelines(conn, conn.execute(
        _SUMMARY + "WHERE reference = %s AND center_id = %s", (reference, center_id)).fetchall())
    return found[0] if found else None


def of_resident(conn: Conn, resident_id: str, limit: int = 50) -> list[dict[str, Any]]:
    return _with_timelines(conn, conn.execute(
        _SUMMARY + "WHERE resident_id = %s ORDER BY submitted_at DESC, reference DESC "
        "LIMIT %s", (resident_id, limit)).fetchall())


def resident_of(conn: Conn, center_id: str, reference: str) -> str | None:
    row = conn.execute("SELECT resident_id FROM application WHERE reference = %s "
                       "AND center_id = %s", (reference, center_id)).fetchone()
    return None if row is None else str(row["resident_id"])


def advance(conn: Conn, *, center_id: str, reference: str, target: ApplicationStatus,
            note: str, staff_id: uuid.UUID | None, counter_no: int | None,
            now: dt.datetime) -> dict[str, Any]:
    """Staff move an application on; raises UnknownApplication, NoteRequired or
    TransitionRefused (APPLICATION_TRANSITIONS: nothing follows DONE)."""
    note = note.strip()
    if target is ApplicationStatus.NEEDS_MORE and not note:
        raise NoteRequired(reference)
    row = conn.execute("SELECT status FROM application WHERE reference = %s AND center_id = %s "
                       "FOR UPDATE", (reference, center_id)).fetchone()
    if row is None:
        raise UnknownApplication(reference)
    current = ApplicationStatus(row["status"])
    if target not in APPLICATION_TRANSITIONS[current]:
        raise TransitionRefused(current, target)
    at = now.replace(microsecond=0)
    conn.execute("UPDATE application SET status = %s WHERE reference = %s",
                 (target.value, reference))
    conn.execute("INSERT INTO application_status (reference, status, at, note, staff_id) "
                 "VALUES (%s, %s, %s, %s, %s)", (reference, target.value, at, note, staff_id))
    conn.execute(
        "INSERT INTO hall_event (center_id, at, kind, counter_no, staff_id, data) VALUES "
        "(%s, %s, 'application_status', %s, %s, jsonb_build_object('reference', %s::text, "
        "'from', %s::text, 'to', %s::text))",
        (center_id, at, counter_no, staff_id, reference, current.value, target.value))
    notify(conn, center_id, "application_status", {"reference": reference,
                                                   "status": target.value})
    summary = by_reference(conn, center_id, reference)
    assert summary is not None
    return summary
