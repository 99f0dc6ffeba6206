"""Appointments in the embedded database: a resident's appointments of a day, and 预约签到."""

from __future__ import annotations

import datetime as dt

from kiosk.backend.embedded.base import stored_time
from kiosk.backend.embedded.connection import immediate
from kiosk.backend.embedded.idempotency import remember_key, seen_key
from kiosk.backend.embedded.seeding import DemoSeeding
from kiosk.backend.embedded.validate import check_key
from kiosk.backend.interface import AlreadyCheckedIn, Appointment, NotFound


class Appointments(DemoSeeding):
    """Reads appointments and records check-ins. A subclass of the demo seeding because
    reading today's appointments first moves stale demo appointments to today."""

    def appointments_on(self, resident_id: str, day: dt.date) -> list[Appointment]:
        if day == self._now().date():
            self.refresh_demo_appointments()
        with self._errors():
            rows = self._conn().execute(
                "SELECT appointment_id, resident_id, category, starts_at, ends_at,"
                " checked_in_at FROM appointments WHERE resident_id = ? AND day = ?"
                " ORDER BY starts_at",
                (resident_id, day.isoformat()),
            ).fetchall()
        return [
            Appointment(
                appointment_id=r["appointment_id"],
                resident_id=r["resident_id"],
                category=r["category"],
                start=stored_time(r["starts_at"]),
                end=stored_time(r["ends_at"]),
                checked_in_at=stored_time(r["checked_in_at"]) if r["checked_in_at"] else None,
            )
            for r in rows
        ]

    def check_in(self, appointment_id: str, idempotency_key: str) -> None:
        """Mark an appointment checked in (预约签到).

        Whether the resident is on time is the caller's rule (kiosk.domain.queue); this
        only records that the appointment was used, so it cannot give two priority tickets.
        """
        check_key(idempotency_key)
        now = self._now().replace(microsecond=0)
        with self._errors():
            conn = self._conn()
            with immediate(conn):
                if seen_key(conn, idempotency_key, "check_in", appointment_id) is not None:
                    return
                row = conn.execute(
                    "SELECT checked_in_at FROM appointments WHERE appointment_id = ?",
                    (appointment_id,),
                ).fetchone()
                if row is None:
                    raise NotFound(f"no appointment {appointment_id!r}")
                if row["checked_in_at"] is not None:
                    raise AlreadyCheckedIn(
                        f"appointment {appointment_id} was already checked in at"
                        f" {stored_time(row['checked_in_at']):%H:%M}"
                    )
                conn.execute(
                    "UPDATE appointments SET checked_in_at = ? WHERE appointment_id = ?",
                    (now.isoformat(), appointment_id),
                )
                remember_key(conn, idempotency_key, "check_in", appointment_id,
                             appointment_id, now)
