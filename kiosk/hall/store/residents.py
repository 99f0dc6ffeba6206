"""Residents as the hall knows them: who a verified personal code names, what the hall
derives about them, and the masked forms a kiosk may show.

Nothing here returns a full name, ID number or phone number to a caller that answers a
device, except `real_prefill`, whose values go into the application being stored and never
into a reply.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from kiosk.common.clock import SHANGHAI
from kiosk.domain.masking import mask_id_number, mask_name, mask_phone
from kiosk.domain.queue import PriorityReason
from kiosk.hall.db import Conn
from kiosk.hall.store.tickets import derive_priority

# A used personal code needs remembering only while some verifier could still accept it
# (its expiry plus the clock skew, or its issue time plus the maximum age); a kiosk that
# asks for more is capped, so the table cannot be filled with rows that never go.
MAX_NONCE_KEEP = dt.timedelta(days=1)

# License kinds whose number is a person's ID number: masked as one (no birth date shown).
_ID_LIKE = frozenset({"id_card", "foreign_permanent_resident_card"})

NAME_SOURCE = "resident.name"
ID_SOURCE = "resident.id_number"
PHONE_SOURCE = "resident.phone"
LICENSE_PREFIX = "license:"


def _stamp(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _keep_until(expires_at: int, now: dt.datetime) -> dt.datetime:
    return min(_stamp(expires_at), now + MAX_NONCE_KEEP)


def forget_expired_nonces(conn: Conn, now: dt.datetime) -> None:
    conn.execute("DELETE FROM used_nonce WHERE expires_at < %s", (now,))


def claim_nonce(conn: Conn, device_id: uuid.UUID, key_id: str, nonce: str, expires_at: int,
                now: dt.datetime) -> bool:
    """A kiosk saw a personal code: True if no kiosk of the hall had used it. The same
    kiosk asking again before it opened a session with the code hears True again, so a
    retry after a lost answer does not turn the resident's fresh code into a replay."""
    forget_expired_nonces(conn, now)
    row = conn.execute(
        "INSERT INTO used_nonce (key_id, nonce, device_id, expires_at) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (key_id, nonce) DO NOTHING RETURNING nonce",
        (key_id, nonce, device_id, _keep_until(expires_at, now)),
    ).fetchone()
    if row is not None:
        return True
    again = conn.execute(
        "SELECT 1 FROM used_nonce WHERE key_id = %s AND nonce = %s AND device_id = %s "
        "AND NOT session_opened", (key_id, nonce, device_id)).fetchone()
    return again is not None


class SessionNonces:
    """The `SeenNonces` of a code shown to open a resident session: accepted if new, or
    if this same kiosk claimed it (POST /v1/used-nonces) and has not opened a session with
    it yet; either way it can open no other session afterwards."""

    def __init__(self, conn: Conn, device_id: uuid.UUID, now: dt.datetime) -> None:
        self._conn = conn
        self._device_id = device_id
        self._now = now

    def claim(self, key_id: str, nonce: str, expires_at: int) -> bool:
        forget_expired_nonces(self._conn, self._now)
        row = self._conn.execute(
            "INSERT INTO used_nonce (key_id, nonce, device_id, expires_at, session_opened) "
            "VALUES (%s, %s, %s, %s, true) ON CONFLICT (key_id, nonce) DO NOTHING "
            "RETURNING nonce",
            (key_id, nonce, self._device_id, _keep_until(expires_at, self._now)),
        ).fetchone()
        if row is not None:
            return True
        # The row lock taken by the UPDATE settles two requests of one kiosk racing.
        row = self._conn.execute(
            "UPDATE used_nonce SET session_opened = true WHERE key_id = %s AND nonce = %s "
            "AND device_id = %s AND NOT session_opened RETURNING nonce",
            (key_id, nonce, self._device_id),
        ).fetchone()
        return row is not None


def resident(conn: Conn, resident_id: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = conn.execute(
        "SELECT resident_id, name, id_number, phone, entitlements FROM resident "
        "WHERE resident_id = %s", (resident_id,)).fetchone()
    return row


def by_id_card(conn: Conn, id_number: str, name: str) -> dict[str, Any] | None:
    """The resident whose ID card a kiosk read: the number finds them, and the name on the
    card must be theirs too, so a number read or typed wrongly never lands on someone else.
    None either way, so a caller cannot tell which of the two did not match."""
    row: dict[str, Any] | None = conn.execute(
        "SELECT resident_id, name, id_number, phone, entitlements FROM resident "
        "WHERE id_number = %s", (id_number.strip().upper(),)).fetchone()
    if row is None or row["name"].strip() != name.strip():
        return None
    return row


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A Shanghai calendar day as an instant range (the database's own time zone may be
    another one, so `::date` would cut the day at the wrong midnight)."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI)
    return start, start + dt.timedelta(days=1)


def local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(SHANGHAI).date()


def appointments_on(conn: Conn, resident_id: str, center_id: str,
                    day: dt.date) -> list[dict[str, Any]]:
    """The resident's appointments at this center on a day, earliest first."""
    start, end = day_bounds(day)
    return [
        {"appointment_id": r["appointment_id"], "category": r["category"],
         "start": r["starts_at"].astimezone(SHANGHAI), "end": r["ends_at"].astimezone(SHANGHAI),
         "checked_in": r["checked_in_at"] is not None}
        for r in conn.execute(
            "SELECT appointment_id, category, starts_at, ends_at, checked_in_at "
            "FROM appointment WHERE resident_id = %s AND center_id = %s "
            "AND starts_at >= %s AND starts_at < %s ORDER BY starts_at, appointment_id",
            (resident_id, center_id, start, end))
    ]


def identification_priority(conn: Conn, center_id: str, resident_id: str,
                            appointments_today: list[dict[str, Any]],
                            now: dt.datetime) -> PriorityReason:
    """The priority the hall would give this resident now, in any category: age and
    entitlements first, else an appointment of today that fits now."""
    reason = derive_priority(conn, center_id, resident_id, "", now).priority
    if reason is not PriorityReason.NONE:
        return reason
    for category in dict.fromkeys(a["category"] for a in appointments_today
                                  if not a["checked_in"]):
        found = derive_priority(conn, center_id, resident_id, category, now).priority
        if found is not PriorityReason.NONE:
            return found
    return PriorityReason.NONE


def mask_license_number(kind: str, number: str) -> str:
    """An ID-like number as an ID number; any other keeps a quarter (at most 4
    characters) at each end, the rest starred."""
    if kind in _ID_LIKE:
        return mask_id_number(number)
    keep = min(4, len(number) // 4)
    if keep == 0:
        return "*" * len(number)
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[-keep:]


def _license_rows(conn: Conn, resident_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT kind, title, number, valid_until FROM license WHERE resident_id = %s "
        "ORDER BY position, kind", (resident_id,)).fetchall()


def licenses(conn: Conn, resident_id: str) -> list[dict[str, Any]]:
    return [{"kind": r["kind"], "title": r["title"],
             "number_masked": mask_license_number(r["kind"], r["number"]),
             "valid_until": r["valid_until"]}
            for r in _license_rows(conn, resident_id)]


def real_prefill(conn: Conn, person: dict[str, Any]) -> dict[str, str]:
    """Prefill source -> the hall's real value: for storing with an application only."""
    values = {NAME_SOURCE: person["name"], ID_SOURCE: person["id_number"],
              PHONE_SOURCE: person["phone"]}
    for r in _license_rows(conn, person["resident_id"]):
        values[LICENSE_PREFIX + r["kind"]] = r["number"]
    return {k: str(v) for k, v in values.items() if v}


def masked_prefill(conn: Conn, person: dict[str, Any]) -> dict[str, str]:
    """Prefill source -> the value as a kiosk may show it."""
    return {source: mask_source(source, value)
            for source, value in real_prefill(conn, person).items()}


def mask_source(source: str, value: str) -> str:
    if source == NAME_SOURCE:
        return mask_name(value)
    if source == ID_SOURCE:
        return mask_id_number(value)
    if source == PHONE_SOURCE:
        return mask_phone(value)
    return mask_license_number(source.removeprefix(LICENSE_PREFIX), value)
