"""Issuing queue numbers: one transaction per ticket, numbers that cannot repeat.

The number comes from `INSERT … ON CONFLICT … DO UPDATE … RETURNING` on one counter row per
center, day and series: PostgreSQL serialises the increments on that row, so two kiosks never
get the same number and a rolled-back ticket leaves at most a gap, never a twin. The daily cap
is taken the same way (one row a category a day, incremented only while below the cap).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg.errors

from kiosk.common.clock import SHANGHAI
from kiosk.domain.queue import AppointmentFit, PriorityReason, appointment_fit, decide_priority
from kiosk.hall.auth import Principal
from kiosk.hall.db import Conn, notify
from kiosk.hall.rules import fairness, hours, waits
from kiosk.hall.rules.config import CategoryConfig as Category
from kiosk.hall.rules.config import CenterRules as Center


class CategoryClosed(Exception):
    def __init__(self, category: str, opens_at: dt.datetime | None) -> None:
        super().__init__(category)
        self.category = category
        self.opens_at = opens_at


class CapReached(Exception):
    def __init__(self, category: str, opens_at: dt.datetime | None) -> None:
        super().__init__(category)
        self.category = category
        self.opens_at = opens_at


class UnknownCategory(Exception):
    pass


def new_ticket_id() -> str:
    return secrets.token_urlsafe(16)


def series_of(center: Center, category: Category, priority: bool) -> str:
    return center.config.series(category.id, priority)


def allocate(conn: Conn, center_id: str, day: dt.date, series: str, count: int = 1) -> int:
    """Reserve `count` numbers of a series; returns the last one reserved."""
    row = conn.execute(
        "INSERT INTO number_counter (center_id, day, series, last) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (center_id, day, series) DO UPDATE SET last = number_counter.last + %s "
        "RETURNING last",
        (center_id, day, series, count, count),
    ).fetchone()
    assert row is not None
    return int(row["last"])


def take_cap(conn: Conn, center_id: str, day: dt.date, category: Category) -> bool:
    """Count one more ticket against the category's daily cap; False when it is reached."""
    if category.daily_cap == 0:
        return True
    row = conn.execute(
        "INSERT INTO number_counter (center_id, day, series, last) VALUES (%s, %s, %s, 1) "
        "ON CONFLICT (center_id, day, series) DO UPDATE SET last = number_counter.last + 1 "
        "WHERE number_counter.last < %s RETURNING last",
        (center_id, day, "#" + category.id, category.daily_cap),
    ).fetchone()
    return row is not None


def issued_today(conn: Conn, center_id: str, day: dt.date, category_id: str) -> int:
    row = conn.execute(
        "SELECT last FROM number_counter WHERE center_id = %s AND day = %s AND series = %s",
        (center_id, day, "#" + category_id),
    ).fetchone()
    return 0 if row is None else int(row["last"])


@dataclass(frozen=True)
class Derived:
    """What the hall itself decides about the person at the kiosk."""

    resident_id: str | None
    priority: PriorityReason
    appointment_id: str | None


def derive_priority(conn: Conn, center_id: str, resident_id: str | None, category: str,
                    now: dt.datetime) -> Derived:
    """Priority from the hall's own records: age from the ID number, entitlements, an
    appointment in this category that fits now. A kiosk's word counts for nothing."""
    if resident_id is None:
        return Derived(None, PriorityReason.NONE, None)
    row = conn.execute("SELECT id_number, entitlements FROM resident WHERE resident_id = %s",
                       (resident_id,)).fetchone()
    if row is None:
        return Derived(resident_id, PriorityReason.NONE, None)
    appointment_id = None
    on_time = False
    day_start = dt.datetime.combine(now.astimezone(SHANGHAI).date(), dt.time(), SHANGHAI)
    for appt in conn.execute(
        "SELECT appointment_id, starts_at, ends_at FROM appointment WHERE resident_id = %s "
        "AND center_id = %s AND category = %s AND starts_at >= %s AND starts_at < %s "
        "AND checked_in_at IS NULL ORDER BY starts_at",
        (resident_id, center_id, category, day_start, day_start + dt.timedelta(days=1)),
    ).fetchall():
        if appointment_fit(appt["starts_at"], appt["ends_at"], now) is AppointmentFit.ON_TIME:
            appointment_id, on_time = str(appt["appointment_id"]), True
            break
    reason = decide_priority(id_number=row["id_number"], entitlements=tuple(row["entitlements"]),
                             appointment_on_time=on_time, today=now.date())
    if reason is not PriorityReason.APPOINTMENT:
        appointment_id = None
    return Derived(resident_id, reason, appointment_id)


def waiting_candidates(conn: Conn, center_id: str, day: dt.date, categories: list[str]) -> (
    list[fairness.Candidate]
):
    rows = conn.execute(
        "SELECT t.id, t.category, t.priority, t.queued_at, t.arrival, a.starts_at FROM ticket t "
        "LEFT JOIN appointment a ON a.appointment_id = t.appointment_id "
        "WHERE t.center_id = %s AND t.day = %s AND t.category = ANY(%s) AND t.state = 'waiting' "
        "ORDER BY t.queued_at, t.arrival",
        (center_id, day, categories),
    ).fetchall()
    return [fairness.Candidate(ticket_id=r["id"], category=r["category"], priority=r["priority"],
                               issued_at=r["queued_at"], appointment_start=r["starts_at"],
                               order=r["arrival"])
            for r in rows]


def streaks(conn: Conn, center_id: str, day: dt.date) -> dict[str, int]:
    return {r["category"]: int(r["streak"]) for r in conn.execute(
        "SELECT category, streak FROM priority_streak WHERE center_id = %s AND day = %s",
        (center_id, day))}


def recent_service_minutes(conn: Conn, center_id: str, category: str,
                           now: dt.datetime) -> list[float]:
    rows = conn.execute(
        "SELECT extract(epoch FROM finished_at - called_at) / 60.0 AS m FROM ticket "
        "WHERE center_id = %s AND category = %s AND state = 'finished' "
        "AND finished_at > %s - interval '1 hour' AND called_at IS NOT NULL",
        (center_id, category, now),
    ).fetchall()
    return [float(r["m"]) for r in rows]


def open_counters(conn: Conn, center: Center, category: str, now: dt.datetime) -> int:
    """Counters serving the category with a clerk signed in now; before anyone signs in, the
    counters the center configured for it (the estimate a resident gets at opening)."""
    serving = [c.number for c in center.config.counters if category in c.categories]
    row = conn.execute(
        "SELECT count(DISTINCT counter_no) AS n FROM staff_session s JOIN staff f "
        "ON f.id = s.staff_id WHERE f.center_id = %s AND s.counter_no = ANY(%s) "
        "AND s.expires_at > %s",
        (center.id, serving, now),
    ).fetchone()
    signed_in = int(row["n"]) if row else 0
    return signed_in or max(1, len(serving))


@dataclass(frozen=True)
class Queue:
    """One category's waiting tickets of a day in the order the fairness rule will call
    them, with what the wait estimate takes: read once, it answers the position of every
    ticket in it (the phones following a category share one)."""

    center_id: str
    category: str
    day: dt.date
    at: dt.datetime  # the hall's time it was read for
    places: Mapping[str, int]  # ticket id -> tickets to be called before it
    recent_minutes: tuple[float, ...]
    default_minutes: float
    open_counters: int

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self.places

    def position(self, ticket_id: str) -> tuple[int, int]:
        """(ahead, estimated minutes) of a ticket; one that is not in the queue (called
        meanwhile) has nobody ahead."""
        ahead = self.places.get(ticket_id, 0)
        return ahead, waits.estimated_wait_min(ahead, self.recent_minutes,
                                               self.default_minutes, self.open_counters)


def category_queue(conn: Conn, center: Center, category: str, day: dt.date,
                   now: dt.datetime) -> Queue:
    """The waiting tickets of a category in fairness order, and the recent service times
    and open counters the estimate divides them by."""
    # The four reads go to PostgreSQL in one round trip (psycopg's pipeline mode): a reply
    # per ticket is what kiosks wait for, and each trip costs more than the query.
    with conn.pipeline():
        candidates = waiting_candidates(conn, center.id, day, [category])
        streak = streaks(conn, center.id, day)
        recent = recent_service_minutes(conn, center.id, category, now)
        counters = open_counters(conn, center, category, now)
    order = fairness.call_order(candidates, category, streak, now, center.fairness)
    return Queue(center_id=center.id, category=category, day=day, at=now,
                 places={c.ticket_id: i for i, c in enumerate(order)},
                 recent_minutes=tuple(recent),
                 default_minutes=center.config.category(category).default_minutes_per_ticket,
                 open_counters=counters)


def position(conn: Conn, center: Center, ticket_id: str, category: str, day: dt.date,
             now: dt.datetime) -> tuple[int, int]:
    """(ahead, estimated minutes) of a waiting ticket under the fairness rule."""
    return category_queue(conn, center, category, day, now).position(ticket_id)


def tracking_code(public_url: str, ticket_id: str) -> str:
    """The address the ticket's QR code holds: the resident's phone opens the ticket's page
    (the unguessable id is the capability), and a kiosk's 办件查询 reads the id from it."""
    return f"{public_url}/t/{ticket_id}"


def ticket_reply(conn: Conn, center: Center, row: dict[str, Any], now: dt.datetime,
                 *, public_url: str, already_waiting: bool = False) -> dict[str, Any]:
    ahead, minutes = (position(conn, center, row["id"], row["category"], row["day"], now)
                      if row["state"] == "waiting" else (0, 0))
    return {
        "ticket_id": row["id"],
        "number": row["number"],
        "category": row["category"],
        "priority": row["priority"],
        "priority_reason": row["priority_reason"],
        "ahead": ahead,
        "estimated_wait_min": minutes,
        "issued_at": row["issued_at"].astimezone(SHANGHAI).isoformat(),
        "tracking_code": tracking_code(public_url, row["id"]),
        "already_waiting": already_waiting,
        "offline": row["offline"],
        "state": row["state"],
    }


# The number (from the series' counter row, or a leased one), the ticket, its 'issued' event,
# the idempotency record and the live event, in ONE statement: the counter row's lock, which
# every ticket of the series waits for, is held for this statement and the commit only.
# Numbers are zero-padded to three digits (A007) and written in full beyond 999.
_INSERT_TICKET = """
WITH n AS ({number}),
t AS (
  INSERT INTO ticket (id, center_id, day, category, series, seq, number, priority,
                      priority_reason, resident_id, appointment_id, device_id, issued_at,
                      queued_at, offline)
  SELECT %(id)s, %(center)s, %(day)s, %(category)s, %(series)s, n.last,
         %(series)s || CASE WHEN n.last < 1000 THEN lpad(n.last::text, 3, '0')
                            ELSE n.last::text END,
         %(priority)s, %(reason)s, %(resident)s, %(appointment)s, %(device)s, %(issued)s,
         %(issued)s, %(offline)s
  FROM n RETURNING *
),
e AS (
  INSERT INTO hall_event (center_id, at, kind, ticket_id, device_id, data)
  SELECT center_id, %(now)s, 'issued', id, device_id,
         jsonb_build_object('number', number, 'category', category, 'offline', offline)
  FROM t
),
i AS (
  UPDATE idempotency SET response = jsonb_build_object('ticket_id', (SELECT id FROM t),
                                                       'already_waiting', false)
  WHERE owner = %(owner)s AND key = %(key)s
)
SELECT t.*, pg_notify('hall_events', json_build_object(
         'center', t.center_id, 'kind', 'issued', 'number', t.number,
         'category', t.category, 'ticket', t.id)::text) AS notified
FROM t
"""
_NEXT_NUMBER = ("INSERT INTO number_counter (center_id, day, series, last) "
                "VALUES (%(center)s, %(day)s, %(series)s, 1) "
                "ON CONFLICT (center_id, day, series) "
                "DO UPDATE SET last = number_counter.last + 1 RETURNING last")
_GIVEN_NUMBER = "SELECT %(seq)s::integer AS last"


def insert_ticket(conn: Conn, center: Center, *, category: Category, priority: PriorityReason,
                  resident_id: str | None, appointment_id: str | None, device_id: uuid.UUID,
                  now: dt.datetime, seq: int | None = None, offline: bool = False,
                  issued_at: dt.datetime | None = None,
                  idempotency: tuple[str, str] | None = None) -> dict[str, Any]:
    """Insert a ticket with the next number of its series (or `seq`, a leased number), log
    and announce it; with `idempotency` (owner, key), record it as that request's answer."""
    is_priority = priority is not PriorityReason.NONE
    series = series_of(center, category, is_priority)
    issued = issued_at or now
    owner, key = idempotency if idempotency is not None else ("", "")
    sql = _INSERT_TICKET.format(number=_NEXT_NUMBER if seq is None else _GIVEN_NUMBER)
    row = conn.execute(sql, {  # built from constants only
        "id": new_ticket_id(), "center": center.id, "day": issued.date(), "category": category.id,
        "series": series, "seq": seq, "priority": is_priority, "reason": priority.value,
        "resident": resident_id, "appointment": appointment_id, "device": device_id,
        "issued": issued, "offline": offline, "now": now, "owner": owner, "key": key,
    }).fetchone()
    assert row is not None
    return row


def waiting_ticket_of(conn: Conn, center_id: str, day: dt.date, category: str,
                      resident_id: str) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT * FROM ticket WHERE center_id = %s AND day = %s AND category = %s "
        "AND resident_id = %s AND state = 'waiting'",
        (center_id, day, category, resident_id),
    ).fetchone()


@dataclass(frozen=True)
class Issued:
    row: dict[str, Any]
    already_waiting: bool = False  # the resident's own waiting ticket, given back
    recorded: bool = False  # the idempotency record was written with the ticket


def issue(conn: Conn, center: Center, who: Principal, category_id: str,
          resident_id: str | None, now: dt.datetime,
          idempotency: tuple[str, str] | None = None) -> Issued:
    """One ticket for the person at the kiosk, or the one they already hold; raises
    CategoryClosed, CapReached or UnknownCategory.

    The number's row lock (`allocate`) is held from here to the commit: everything that
    can be done before it is, and the reply (`ticket_reply`, which reads the whole queue)
    is the caller's to build after the commit. A ticket a second takes the lock for a few
    statements, not for a read of every waiting ticket."""
    try:
        category = center.config.category(category_id)
    except KeyError:
        raise UnknownCategory(category_id) from None
    if not hours.is_open(center, category.id, now):
        raise CategoryClosed(category.id, hours.next_opening(center, category.id, now))
    derived = derive_priority(conn, center.id, resident_id, category.id, now)
    if resident_id is not None:
        held = waiting_ticket_of(conn, center.id, now.date(), category.id, resident_id)
        if held is not None:
            return Issued(held, already_waiting=True)
    if not take_cap(conn, center.id, now.date(), category):
        next_day = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(),
                                       now.tzinfo)
        raise CapReached(category.id, hours.next_opening(center, category.id, next_day))
    assert who.device_id is not None
    row: dict[str, Any] | None
    try:
        # A savepoint: the unique index settles a same-person race, and the loser's insert
        # is rolled back to here (the try is outside it, so the savepoint is released first).
        with conn.transaction():
            row = insert_ticket(conn, center, category=category, priority=derived.priority,
                                resident_id=resident_id, appointment_id=derived.appointment_id,
                                device_id=who.device_id, now=now, idempotency=idempotency)
    except psycopg.errors.UniqueViolation:
        row = None
    if row is None:
        held = waiting_ticket_of(conn, center.id, now.date(), category.id, resident_id or "")
        assert held is not None
        return Issued(held, already_waiting=True)
    if derived.appointment_id is not None:
        conn.execute("UPDATE appointment SET checked_in_at = %s, ticket_id = %s "
                     "WHERE appointment_id = %s AND checked_in_at IS NULL",
                     (now, row["id"], derived.appointment_id))
    return Issued(row, recorded=idempotency is not None)


def reply_for(conn: Conn, center: Center, ticket_id: str, now: dt.datetime, *,
              public_url: str, already_waiting: bool = False) -> dict[str, Any]:
    """The reply for a ticket as it stands now: the first answer, or a repeat's."""
    row = conn.execute("SELECT * FROM ticket WHERE id = %s", (ticket_id,)).fetchone()
    assert row is not None  # tickets are never deleted
    return ticket_reply(conn, center, row, now, public_url=public_url,
                        already_waiting=already_waiting)


def withdraw(conn: Conn, center_id: str, ticket_id: str, reason: str) -> str | None:
    row = conn.execute(
        "UPDATE ticket SET state = 'withdrawn' WHERE id = %s AND center_id = %s "
        "AND state = 'waiting' RETURNING number, category", (ticket_id, center_id)).fetchone()
    if row is None:
        return None
    conn.execute("INSERT INTO hall_event (center_id, kind, ticket_id, data) VALUES "
                 "(%s, 'withdrawn', %s, jsonb_build_object('reason', %s::text))",
                 (center_id, ticket_id, reason))
    notify(conn, center_id, "withdrawn", {"number": row["number"], "category": row["category"],
                                          "ticket": ticket_id})
    return str(row["number"])
