"""Queue tickets in the embedded database: issuing numbers, the waiting figures, calling next.

Queue numbers are the one thing that must never go wrong: a number printed on paper is a
promise, so each one is allocated from a persisted counter inside `BEGIN IMMEDIATE`, with a
UNIQUE(day, number) constraint behind it.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import math
import secrets
import sqlite3

from kiosk.backend.embedded.base import EmbeddedStore, stored_time
from kiosk.backend.embedded.connection import immediate
from kiosk.backend.embedded.validate import MAX_KEY_LENGTH, check_key, check_token
from kiosk.backend.interface import (
    IdempotencyConflict,
    IssuedTicket,
    QueueFigures,
    TicketProgress,
    TicketRequest,
    TicketRequestCancelled,
    TicketState,
)
from kiosk.common.clock import SHANGHAI
from kiosk.domain.hall_links import TICKET_ID
from kiosk.domain.payloads import Kind, sign


def _new_ticket_id() -> str:
    # 60 random bits in base32: fits the payload reference pattern and is unguessable,
    # so a tracking code cannot be forged by counting.
    return "T" + base64.b32encode(secrets.token_bytes(8)).decode("ascii")[:12]


class Tickets(EmbeddedStore):
    """Issues queue tickets and reports the queues; `call_next` is for staff tools."""

    def queue_figures(self) -> dict[str, QueueFigures]:
        """Per catalog category: tickets waiting today (priority ones included in `waiting`)
        and, of those, the priority ones."""
        today = self._now().date().isoformat()
        with self._errors():
            rows = self._conn().execute(
                "SELECT category, COUNT(*) AS waiting, SUM(priority) AS priority_waiting"
                " FROM tickets WHERE day = ? AND status = 'waiting' GROUP BY category",
                (today,),
            ).fetchall()
        counts = {r["category"]: (r["waiting"], r["priority_waiting"] or 0) for r in rows}
        return {
            c.id: QueueFigures(
                category=c.id,
                waiting=counts.get(c.id, (0, 0))[0],
                priority_waiting=counts.get(c.id, (0, 0))[1],
                minutes_per_ticket=c.minutes_per_ticket,
            )
            for c in self._catalog.categories
        }

    def issue_ticket(self, request: TicketRequest, idempotency_key: str) -> IssuedTicket:
        """Allocate the next number of the request's category and lane, today.

        A resident who already has a waiting ticket today in the category gets that ticket
        back (`already_waiting`, with the people ahead of it now), not a second number: one
        person, one number, whichever kiosk or code they come with.

        Raises ValueError for an unknown category or an empty key (a bug in the caller, not
        a backend fault), IdempotencyConflict for a key reused with another request,
        TicketRequestCancelled for a key that `cancel_ticket_request` cancelled.
        """
        if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
            raise ValueError(f"idempotency key must be 1..{MAX_KEY_LENGTH} characters")
        try:
            category = self._catalog.get(request.category)
        except KeyError:
            raise ValueError(f"unknown category {request.category!r}") from None
        request_json = json.dumps(
            dataclasses.asdict(request), sort_keys=True, ensure_ascii=False
        )
        now = self._now().replace(microsecond=0)
        day = now.date()
        with self._errors():
            conn = self._conn()
            with immediate(conn):
                # A request the kiosk gave up on (a restart, an unanswered timeout) may
                # arrive late, held up in the network: it must not issue a number for nobody.
                if conn.execute("SELECT 1 FROM ticket_cancellations WHERE key = ?",
                                (idempotency_key,)).fetchone() is not None:
                    raise TicketRequestCancelled(
                        "this ticket request was cancelled; it is not issued")
                # Looked up under the write lock: two retries of one press racing each
                # other see each other's row and return one ticket.
                seen = conn.execute(
                    "SELECT operation, request, result_ref FROM idempotency_keys"
                    " WHERE key = ?",
                    (idempotency_key,),
                ).fetchone()
                if seen is not None:
                    if seen["operation"] != "issue_ticket" or seen["request"] != request_json:
                        raise IdempotencyConflict(
                            "this idempotency key was already used for another request"
                        )
                    row = conn.execute(
                        "SELECT * FROM tickets WHERE ticket_id = ?", (seen["result_ref"],)
                    ).fetchone()
                    if row is None:
                        # Withdrawn under the key that issued it, which this one found.
                        raise TicketRequestCancelled("the ticket was withdrawn")
                    if self._issuing_key(conn, row["ticket_id"]) == idempotency_key:
                        return self._ticket_from_row(row)
                    return self._waiting_now(conn, row)

                if request.resident_id is not None:
                    held = conn.execute(
                        "SELECT * FROM tickets WHERE resident_id = ? AND day = ?"
                        " AND category = ? AND status = 'waiting' ORDER BY seq LIMIT 1",
                        (request.resident_id, day.isoformat(), category.id),
                    ).fetchone()
                    if held is not None:
                        if request.application_reference is not None:
                            # Their number in the category already: it now also names the
                            # application they come with (unless it named one before).
                            conn.execute(
                                "UPDATE tickets SET application_reference = ? WHERE seq = ?"
                                " AND application_reference IS NULL",
                                (request.application_reference, held["seq"]))
                        # The key is remembered too: its retry returns the same answer.
                        conn.execute(
                            "INSERT INTO idempotency_keys (key, operation, request,"
                            " result_ref, created_at) VALUES (?, 'issue_ticket', ?, ?, ?)",
                            (idempotency_key, request_json, held["ticket_id"],
                             now.isoformat()),
                        )
                        return self._waiting_now(conn, held)

                ticket = self._allocate(conn, request, now)
                conn.execute(
                    "INSERT INTO idempotency_keys (key, operation, request, result_ref,"
                    " created_at) VALUES (?, 'issue_ticket', ?, ?, ?)",
                    (idempotency_key, request_json, ticket.ticket_id, now.isoformat()),
                )
        return ticket

    def _allocate(self, conn: sqlite3.Connection, request: TicketRequest,
                  now: dt.datetime) -> IssuedTicket:
        """The next number of the request's category and lane today, inserted under the
        caller's write transaction: issue_ticket's, or 预约签到's, whose check-in and
        priority ticket are committed together (kiosk/backend/embedded/appointments.py)."""
        category = self._catalog.get(request.category)  # KeyError: the caller checks
        day = now.date()
        series = (self._catalog.priority_prefix if request.priority else "") + (
            category.prefix
        )
        n = conn.execute(
            "INSERT INTO queue_counters (day, series, last_number) VALUES (?, ?, 1)"
            " ON CONFLICT (day, series) DO UPDATE SET last_number = last_number + 1"
            " RETURNING last_number",
            (day.isoformat(), series),
        ).fetchone()[0]
        number = f"{series}{n:03d}"  # A001..A999, then A1000

        # Priority tickets are called first, so only priority ones precede a
        # priority ticket; everyone waiting precedes an ordinary one.
        ahead = conn.execute(
            "SELECT COUNT(*) FROM tickets WHERE day = ? AND category = ?"
            " AND status = 'waiting' AND (priority = 1 OR ? = 0)",
            (day.isoformat(), category.id, int(request.priority)),
        ).fetchone()[0]
        # round() first so 3 * 7.0 / 3 = 7.000000000000001 does not become 8.
        wait = math.ceil(round(ahead * category.minutes_per_ticket / category.windows, 6))

        ticket_id = _new_ticket_id()
        end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(),
                                         tzinfo=SHANGHAI)
        issued_s = int(now.timestamp())
        tracking = sign(
            self._key, self._key_id, Kind.TICKET, ticket_id,
            issued_at=issued_s,
            lifetime_s=max(1, int(end_of_day.timestamp()) - issued_s),
        )
        conn.execute(
            "INSERT INTO tickets (ticket_id, day, number, category, priority,"
            " priority_reason, resident_id, kiosk_id, appointment_id, ahead,"
            " estimated_wait_min, issued_at, tracking_code, application_reference)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (ticket_id, day.isoformat(), number, category.id, int(request.priority),
             request.priority_reason, request.resident_id, request.kiosk_id,
             request.appointment_id, ahead, wait, now.isoformat(), tracking,
             request.application_reference),
        )
        return IssuedTicket(
            ticket_id=ticket_id,
            number=number,
            category=category.id,
            priority=request.priority,
            priority_reason=request.priority_reason,
            ahead=ahead,
            estimated_wait_min=wait,
            issued_at=now,
            tracking_code=tracking,
        )

    @staticmethod
    def _issuing_key(conn: sqlite3.Connection, ticket_id: str) -> str | None:
        """The key that allocated a ticket: the first of the keys that returned it (later
        ones found it already waiting)."""
        row = conn.execute(
            "SELECT key FROM idempotency_keys WHERE operation = 'issue_ticket'"
            " AND result_ref = ? ORDER BY rowid LIMIT 1", (ticket_id,)).fetchone()
        return None if row is None else str(row["key"])

    def _waiting_now(self, conn: sqlite3.Connection, row: sqlite3.Row) -> IssuedTicket:
        """A waiting ticket shown again: the people ahead of it now, not when it was issued."""
        ahead, wait = self._ahead_now(conn, row)
        return dataclasses.replace(self._ticket_from_row(row), ahead=ahead,
                                   estimated_wait_min=wait, already_waiting=True)

    def _ahead_now(self, conn: sqlite3.Connection, row: sqlite3.Row) -> tuple[int, int]:
        """(people ahead, estimated minutes) of a waiting ticket, now.

        Priority tickets are called first: a priority ticket has the earlier priority ones
        ahead; an ordinary one has every earlier ticket and every priority one.
        """
        ahead = int(conn.execute(
            "SELECT COUNT(*) FROM tickets WHERE day = ? AND category = ? AND status = 'waiting'"
            " AND seq != ? AND ((priority = 1 AND (? = 0 OR seq < ?))"
            " OR (priority = 0 AND ? = 0 AND seq < ?))",
            (row["day"], row["category"], row["seq"], row["priority"], row["seq"],
             row["priority"], row["seq"]),
        ).fetchone()[0])
        try:
            category = self._catalog.get(row["category"])
            wait = math.ceil(round(ahead * category.minutes_per_ticket / category.windows, 6))
        except KeyError:  # staff removed the category from the catalog since
            wait = int(row["estimated_wait_min"])
        return ahead, wait

    def ticket_progress(self, ticket_id: str) -> TicketProgress | None:
        """Where a ticket stands now (办件查询, from its tracking code): waiting with the
        people ahead of it now, finished once staff served it (`call_next`), withdrawn when
        the kiosk gave up on its request. A ticket of an earlier day that was never called
        is a no-show with no way back: the day's queue has ended. None for an unknown id."""
        if not isinstance(ticket_id, str) or not TICKET_ID.fullmatch(ticket_id):
            return None  # never one of ours (ids are "T" + 12 base32 characters)
        today = self._now().date().isoformat()
        with self._errors():
            conn = self._conn()
            # One read transaction: the ticket and the queue ahead of it at one moment.
            conn.execute("BEGIN")
            try:
                row = conn.execute("SELECT * FROM tickets WHERE ticket_id = ?",
                                   (ticket_id,)).fetchone()
                if row is None:
                    gone = conn.execute(
                        "SELECT number, category FROM ticket_cancellations"
                        " WHERE ticket_id = ?", (ticket_id,)).fetchone()
                    if gone is None or gone["number"] is None:
                        return None
                    return TicketProgress(ticket_id=ticket_id, number=gone["number"],
                                          category=gone["category"],
                                          state=TicketState.WITHDRAWN)
                progress = TicketProgress(
                    ticket_id=ticket_id, number=row["number"], category=row["category"],
                    state=TicketState.WAITING, priority=bool(row["priority"]),
                    issued_at=stored_time(row["issued_at"]))
                if row["status"] == "served":
                    return dataclasses.replace(
                        progress, state=TicketState.FINISHED,
                        called_at=stored_time(row["served_at"]) if row["served_at"] else None)
                if row["day"] != today:
                    return dataclasses.replace(progress, state=TicketState.NO_SHOW)
                ahead, wait = self._ahead_now(conn, row)
                return dataclasses.replace(progress, ahead=ahead, estimated_wait_min=wait)
            finally:
                conn.execute("COMMIT")

    def cancel_ticket_request(self, idempotency_key: str, reason: str = "timeout") -> str | None:
        """Make the request with this key unissuable; withdraw the ticket it issued, if any.

        A ticket this key only found (the resident's earlier one, `already_waiting`) is not
        this request's and stays; so does one already called (someone was served).
        """
        check_key(idempotency_key)
        check_token("reason", reason, required=True)
        now = self._now().replace(microsecond=0)
        with self._errors():
            conn = self._conn()
            with immediate(conn):
                done = conn.execute("SELECT number FROM ticket_cancellations WHERE key = ?",
                                    (idempotency_key,)).fetchone()
                if done is not None:
                    return None if done["number"] is None else str(done["number"])
                seen = conn.execute(
                    "SELECT operation, result_ref FROM idempotency_keys WHERE key = ?",
                    (idempotency_key,)).fetchone()
                if seen is not None and seen["operation"] != "issue_ticket":
                    raise IdempotencyConflict(
                        "this idempotency key was already used for another request")
                row = None
                if seen is not None and self._issuing_key(
                        conn, seen["result_ref"]) == idempotency_key:
                    row = conn.execute(
                        "SELECT * FROM tickets WHERE ticket_id = ? AND status = 'waiting'",
                        (seen["result_ref"],)).fetchone()
                if row is not None:
                    conn.execute("DELETE FROM tickets WHERE seq = ?", (row["seq"],))
                conn.execute(
                    "INSERT INTO ticket_cancellations (key, day, at, reason, ticket_id, number,"
                    " category) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (idempotency_key, now.date().isoformat(), now.isoformat(), reason,
                     None if row is None else row["ticket_id"],
                     None if row is None else row["number"],
                     None if row is None else row["category"]),
                )
        return None if row is None else str(row["number"])

    @staticmethod
    def _ticket_from_row(row: sqlite3.Row) -> IssuedTicket:
        return IssuedTicket(
            ticket_id=row["ticket_id"],
            number=row["number"],
            category=row["category"],
            priority=bool(row["priority"]),
            priority_reason=row["priority_reason"],
            ahead=row["ahead"],
            estimated_wait_min=row["estimated_wait_min"],
            issued_at=stored_time(row["issued_at"]),
            tracking_code=row["tracking_code"],
        )

    def ticket_application(self, number: str) -> str | None:
        """The 一件事 application today's ticket `number` was taken for (a bundle's follow-up
        number), or None: what the clerk calling it needs to see."""
        with self._errors():
            row = self._conn().execute(
                "SELECT application_reference FROM tickets WHERE day = ? AND number = ?",
                (self._now().date().isoformat(), number),
            ).fetchone()
        return None if row is None else row["application_reference"]

    def call_next(self, category: str) -> str | None:
        """Mark the next waiting ticket of a category served; its number, or None if none.

        Priority tickets first, then in order of issue. The embedded backend has no calling
        system; staff tools and tests drive the queue with this.
        """
        try:
            self._catalog.get(category)
        except KeyError:
            raise ValueError(f"unknown category {category!r}") from None
        now = self._now().replace(microsecond=0)
        with self._errors():
            conn = self._conn()
            with immediate(conn):
                row = conn.execute(
                    "SELECT seq, number FROM tickets WHERE day = ? AND category = ?"
                    " AND status = 'waiting' ORDER BY priority DESC, seq LIMIT 1",
                    (now.date().isoformat(), category),
                ).fetchone()
                if row is None:
                    return None
                conn.execute(
                    "UPDATE tickets SET status = 'served', served_at = ? WHERE seq = ?",
                    (now.isoformat(), row["seq"]),
                )
        return str(row["number"])
