"""Appointments in the embedded database: a resident's appointments of a day, and 预约签到."""

from __future__ import annotations

import datetime as dt
import sqlite3

from kiosk.backend.embedded.base import stored_time
from kiosk.backend.embedded.connection import immediate
from kiosk.backend.embedded.idempotency import remember_key, seen_key
from kiosk.backend.embedded.seeding import DemoSeeding
from kiosk.backend.embedded.tickets import Tickets
from kiosk.backend.embedded.validate import check_key, check_kiosk_id
from kiosk.backend.interface import Appointment, CheckIn, NotFound, TicketRequest

# A check-in key's result_ref is the ticket it allocated, or this prefix and the ticket it
# found (the appointment had been checked in under another key), so that a repeat of either
# answers exactly as the first call did.
_FOUND = "earlier:"


class Appointments(DemoSeeding, Tickets):
    """Reads appointments and records check-ins. A subclass of the demo seeding because
    reading today's appointments first moves stale demo appointments to today, and of the
    tickets because a check-in allocates its priority ticket in the same transaction."""

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

    def check_in(self, appointment_id: str, kiosk_id: str, idempotency_key: str) -> CheckIn:
        """预约签到: mark the appointment checked in and issue its priority ticket, in one
        transaction, so that no reply lost and no backend gone between two calls can leave
        a checked-in appointment without its ticket.

        Whether the resident is on time is the caller's rule (kiosk.domain.queue); this
        records that the appointment was used, so it never gives two priority tickets: a
        second check-in under another key gets the first one's ticket back (`earlier`).
        """
        check_key(idempotency_key)
        check_kiosk_id(kiosk_id)
        now = self._now().replace(microsecond=0)
        with self._errors():
            conn = self._conn()
            with immediate(conn):
                # Under the write lock: two retries of one scan racing each other, or two
                # kiosks checking in one appointment, see each other's row.
                seen = seen_key(conn, idempotency_key, "check_in", appointment_id)
                appt = conn.execute(
                    "SELECT resident_id, category, checked_in_at FROM appointments"
                    " WHERE appointment_id = ?",
                    (appointment_id,),
                ).fetchone()
                if appt is None:
                    raise NotFound(f"no appointment {appointment_id!r}")
                if seen is not None:
                    found = seen.startswith(_FOUND)
                    row = self._ticket_row(conn, seen.removeprefix(_FOUND))
                    if row is None:  # a key of a version whose check-in issued no ticket
                        row = self._appointment_ticket(conn, appointment_id)
                    if row is not None:
                        return CheckIn(self._ticket_from_row(row), earlier=found)
                else:
                    row = self._appointment_ticket(conn, appointment_id)
                    if row is not None:
                        # Checked in before (another scan, another kiosk), or its priority
                        # ticket taken through 扫码取号: the appointment has its number.
                        remember_key(conn, idempotency_key, "check_in", appointment_id,
                                     _FOUND + row["ticket_id"], now)
                        self._mark_checked_in(conn, appointment_id, now)
                        return CheckIn(self._ticket_from_row(row), earlier=True)
                # Checked in without a ticket is possible only in a database written before
                # check-in issued its ticket (the ticket was a second call that could fail):
                # that resident is owed the ticket, so it is issued now.
                request = TicketRequest(
                    category=appt["category"], priority=True, priority_reason="appointment",
                    resident_id=appt["resident_id"], kiosk_id=kiosk_id,
                    appointment_id=appointment_id,
                )
                try:
                    ticket = self._allocate(conn, request, now)
                except KeyError:
                    raise ValueError(
                        f"the appointment's category {appt['category']!r} is not in the"
                        " catalog") from None
                self._mark_checked_in(conn, appointment_id, now)
                if seen is None:
                    remember_key(conn, idempotency_key, "check_in", appointment_id,
                                 ticket.ticket_id, now)
                else:
                    conn.execute("UPDATE idempotency_keys SET result_ref = ? WHERE key = ?",
                                 (ticket.ticket_id, idempotency_key))
        return CheckIn(ticket, earlier=False)

    @staticmethod
    def _ticket_row(conn: sqlite3.Connection, ticket_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM tickets WHERE ticket_id = ?", (ticket_id,)).fetchone()
        return row

    @staticmethod
    def _appointment_ticket(conn: sqlite3.Connection, appointment_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM tickets WHERE appointment_id = ? AND priority = 1"
            " ORDER BY seq LIMIT 1",
            (appointment_id,),
        ).fetchone()
        return row

    @staticmethod
    def _mark_checked_in(conn: sqlite3.Connection, appointment_id: str,
                         now: dt.datetime) -> None:
        conn.execute(
            "UPDATE appointments SET checked_in_at = ? WHERE appointment_id = ?"
            " AND checked_in_at IS NULL",
            (now.isoformat(), appointment_id),
        )
