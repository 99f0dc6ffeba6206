"""Numbers a kiosk holds for an outage, and the tickets it issued from them.

A kiosk leases a small block of numbers per category (and per priority series) while it can
reach the hall. The block is reserved by the same one-statement counter increment that
numbers online tickets (`tickets.allocate` with count = the block's size), so a leased
number is never also given online or leased twice. While the hall is out of reach, the
kiosk issues from its blocks and prints "issued offline"; its outbox delivers each ticket
when the link returns, and the hall accepts it once:

- the number must lie in a lease of the delivering kiosk, of today (a lease of a past day
  is void: the kiosk asks for new blocks every day), of that category; else `NotLeased`;
- a number is accepted once: the ticket table's unique (center, day, series, seq) settles
  a repeat under another key (`NumberUsed`); the same key is answered from the idempotency
  record before any of this runs;
- its place in the queue is the time the kiosk says it issued the ticket, clamped to
  [the lease's creation, now]: a kiosk's wrong clock cannot put a ticket ahead of the time
  it got the numbers, nor into the future.

Priority. Offline, the hall cannot check who the resident is, so the rule is: an offline
ticket keeps the series of its lease. The kiosk uses a priority lease ("YA…") only for a
resident whose signed personal code it verified locally and whose priority it derived with
the same rules as the hall (kiosk.domain.queue.decide_priority); the hall takes that ticket
as priority and records the reason the kiosk gave, with {"offline": true}, in hall_event
(`offline_issued`) so that staff can audit offline priority afterwards. A priority reason
on an ordinary lease, or none on a priority lease, is refused (`PriorityMismatch`): the
printed number and the queue would disagree. No resident identity travels with an offline
ticket, so neither the one-waiting-ticket-a-person rule nor an appointment check-in applies.

An offline ticket counts against the category's daily cap but is never refused for it: the
resident already holds the paper.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg.errors
from psycopg.types.json import Jsonb

from kiosk.domain.queue import PriorityReason
from kiosk.hall.db import Conn, notify
from kiosk.hall.rules.config import CenterRules as Center
from kiosk.hall.store import tickets


class LeasesOff(Exception):
    """The center's offline_lease_size is 0: its kiosks hold no numbers."""


class NotLeased(Exception):
    """The number is in no live lease of this kiosk for that category."""


class NumberUsed(Exception):
    """The number was delivered already (under another key)."""


class PriorityMismatch(Exception):
    """The priority reason does not match the lease's series."""


def lease_reply(row: dict[str, Any], used: list[int] | None = None) -> dict[str, Any]:
    return {
        "lease_id": int(row["id"]),
        "day": row["day"].isoformat(),
        "category": row["category"],
        "priority": row["priority"],
        "series": row["series"],
        "first": row["first"],
        "last": row["last"],
        "created_at": row["created_at"].isoformat(),
        "used": sorted(used or []),
    }


def take_lease(conn: Conn, center: Center, device_id: uuid.UUID, category_id: str,
               priority: bool, now: dt.datetime) -> dict[str, Any]:
    """Reserve a block of the center's offline_lease_size numbers for this device; raises
    LeasesOff or tickets.UnknownCategory."""
    size = center.config.fairness.offline_lease_size
    if size == 0:
        raise LeasesOff
    try:
        category = center.config.category(category_id)
    except KeyError:
        raise tickets.UnknownCategory(category_id) from None
    series = center.config.series(category.id, priority)
    last = tickets.allocate(conn, center.id, now.date(), series, count=size)
    row = conn.execute(
        "INSERT INTO number_lease (center_id, device_id, day, series, category, priority, "
        "first, last, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
        (center.id, device_id, now.date(), series, category.id, priority, last - size + 1,
         last, now)).fetchone()
    assert row is not None
    data = {"lease": int(row["id"]), "series": series, "first": row["first"],
            "last": row["last"]}
    conn.execute(
        "INSERT INTO hall_event (center_id, at, kind, device_id, data) "
        "VALUES (%s, %s, 'lease_taken', %s, %s)", (center.id, now, device_id, Jsonb(data)))
    notify(conn, center.id, "lease_taken", {**data, "device": str(device_id)})
    return lease_reply(row)


def leases_of(conn: Conn, center_id: str, device_id: uuid.UUID,
              day: dt.date) -> list[dict[str, Any]]:
    """The device's leases of `day` with the numbers already delivered from each."""
    rows = conn.execute(
        "SELECT l.*, coalesce(array_agg(t.seq ORDER BY t.seq) FILTER (WHERE t.seq IS NOT NULL), "
        "'{}') AS used FROM number_lease l LEFT JOIN ticket t ON t.center_id = l.center_id "
        "AND t.day = l.day AND t.series = l.series AND t.seq BETWEEN l.first AND l.last "
        "WHERE l.center_id = %s AND l.device_id = %s AND l.day = %s GROUP BY l.id "
        "ORDER BY l.id", (center_id, device_id, day)).fetchall()
    return [lease_reply(r, list(r["used"])) for r in rows]


def _used(conn: Conn, center_id: str, day: dt.date, series: str, seq: int) -> bool:
    return conn.execute(
        "SELECT 1 FROM ticket WHERE center_id = %s AND day = %s AND series = %s AND seq = %s",
        (center_id, day, series, seq)).fetchone() is not None


def issue_offline(conn: Conn, center: Center, device_id: uuid.UUID, *, lease_id: int,
                  seq: int, category_id: str, issued_at: dt.datetime,
                  priority_reason: PriorityReason, now: dt.datetime,
                  public_url: str) -> dict[str, Any]:
    """Accept a ticket the kiosk issued offline from its lease; the ticket's reply. Raises
    NotLeased, NumberUsed or PriorityMismatch (see the module's rules)."""
    lease = conn.execute(
        "SELECT * FROM number_lease WHERE id = %s AND center_id = %s AND device_id = %s",
        (lease_id, center.id, device_id)).fetchone()
    if (lease is None or lease["day"] != now.date() or lease["category"] != category_id
            or not lease["first"] <= seq <= lease["last"]):
        raise NotLeased
    try:
        category = center.config.category(category_id)
    except KeyError:
        raise NotLeased from None
    if center.config.series(category.id, lease["priority"]) != lease["series"]:
        raise NotLeased  # the category's prefix changed since: the printed number is void
    if (priority_reason is not PriorityReason.NONE) != lease["priority"]:
        raise PriorityMismatch
    if _used(conn, center.id, lease["day"], lease["series"], seq):
        raise NumberUsed
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    earliest = max(lease["created_at"], midnight)
    queued = min(max(issued_at, earliest), now).astimezone(now.tzinfo)
    tickets.take_cap(conn, center.id, lease["day"], category)  # counted, never refused
    try:
        # A savepoint, left by the exception (caught outside it: a savepoint cannot be
        # released in an aborted transaction): the unique number settles a concurrent twin.
        with conn.transaction():
            row = tickets.insert_ticket(
                conn, center, category=category, priority=priority_reason, resident_id=None,
                appointment_id=None, device_id=device_id, now=now, seq=seq, offline=True,
                issued_at=queued)
    except psycopg.errors.UniqueViolation:
        raise NumberUsed from None
    conn.execute(
        "INSERT INTO hall_event (center_id, at, kind, ticket_id, device_id, data) "
        "VALUES (%s, %s, 'offline_issued', %s, %s, %s)",
        (center.id, now, row["id"], device_id, Jsonb({
            "offline": True, "priority_reason": priority_reason.value, "lease": lease_id,
            "number": row["number"], "kiosk_issued_at": issued_at.isoformat(),
            "issued_at": queued.isoformat()})))
    return tickets.ticket_reply(conn, center, row, now, public_url=public_url)
