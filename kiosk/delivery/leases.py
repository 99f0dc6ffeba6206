"""Numbers this kiosk holds for an outage, and the tickets it issues from them.

A kiosk of a hall (`backend.kind = "http"`) keeps, for each category the hall gives numbers
in today, a block of numbers leased in advance (`POST /v1/leases`, docs/HALL.md 5.5). When a
ticket request fails because the hall cannot be reached, the take-number flow issues the
next number of that block instead, prints it as issued offline, and stores its delivery
(`POST /v1/offline-tickets`) in the outbox, which sends it when the link returns. The hall
accepts each number once and queues it by the time the kiosk issued it.

What keeps a number from being given twice:

- the hall reserves a block with the same counter that numbers online tickets, so a leased
  number is never also given online or leased twice;
- here, a number is taken in one SQLite transaction (WAL, synchronous=FULL) that records it
  against the ticket request's key and moves the block's pointer on, before anything is
  printed: a crash or power cut after that leaves a gap, never a number used again. The same
  key asked again gets the same number, not a second one;
- the outbox item that delivers it is keyed by the number itself (`offline-<lease>-<seq>`),
  so it is one item and one idempotent request at the hall, however often it is sent.

A lease is no licence to issue at night: the kiosk keeps the last queue figures the hall
gave (`GET /v1/queue`, remembered here whenever they are fetched) and issues offline only
for a category that was open in them, today, and before the end of the open period they
named; not when they said the day's numbers were all taken.

Which categories and how many: one ordinary block per category of today (the hall decides
its size, `fairness.offline_lease_size`), topped up with a new block when fewer than half of
the newest block's numbers are left, in the background while the hall answers (at start, on
a timer, and so after midnight, when yesterday's blocks are void). A lease request's key is
on disk until it is answered, so a request whose answer was lost is asked again under the
same key and the hall returns the block it made, rather than reserving another.

Offline tickets are ordinary: the hall could not verify a resident offline, and the kiosk
takes no priority blocks. Plain blocking code, run off the GUI thread
(kiosk/services/leases.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from kiosk.backend.interface import BackendError, IdempotencyConflict, NotFound, QueueFigures
from kiosk.delivery.deliverer import OFFLINE_TICKET
from kiosk.delivery.outbox import Outbox

if TYPE_CHECKING:
    from kiosk.delivery.http_client import Lease

log = logging.getLogger(__name__)

FILE_NAME = "offline-leases.sqlite3"
# Blocks and figures of days before this many are deleted (a past day's block is void).
KEEP_DAYS = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS lease (
    lease_id INTEGER PRIMARY KEY,   -- the hall's id
    day TEXT NOT NULL,              -- the day it is valid for (YYYY-MM-DD)
    category TEXT NOT NULL,
    series TEXT NOT NULL,           -- the number's letters: A, B, ...
    first INTEGER NOT NULL,
    last INTEGER NOT NULL,
    next_seq INTEGER NOT NULL,      -- the next number to give; last + 1 when used up
    CHECK (first <= next_seq AND next_seq <= last + 1)
);
CREATE INDEX IF NOT EXISTS lease_day ON lease (day, category);
-- Every number given, once: the ticket request's key it was given for, and when.
CREATE TABLE IF NOT EXISTS issued (
    request_key TEXT PRIMARY KEY,
    lease_id INTEGER NOT NULL REFERENCES lease (lease_id),
    seq INTEGER NOT NULL,
    number TEXT NOT NULL,
    category TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    UNIQUE (lease_id, seq)
);
-- A block asked for and not yet received: asked again under the same key.
CREATE TABLE IF NOT EXISTS lease_request (
    day TEXT NOT NULL,
    category TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    PRIMARY KEY (day, category)
);
-- The queue figures as the hall last gave them, per category.
CREATE TABLE IF NOT EXISTS figures (
    category TEXT PRIMARY KEY,
    fetched_at TEXT NOT NULL,
    open INTEGER NOT NULL,
    opens_at TEXT,
    closes_at TEXT,
    remaining_today INTEGER
);
"""


@dataclasses.dataclass(frozen=True)
class OfflineNumber:
    """A number taken from a block: what is printed, and what the hall is told."""

    lease_id: int
    seq: int
    number: str
    category: str
    issued_at: dt.datetime

    @property
    def delivery_key(self) -> str:
        """The idempotency key of its delivery: one per number."""
        return f"offline-{self.lease_id}-{self.seq}"


@dataclasses.dataclass(frozen=True)
class OfflineRefusal:
    """Why no offline number: the category was closed (or past its hours) as the hall last
    said, its numbers of today were all taken, or the kiosk holds none to give (no block,
    used up, or no figures of today to know the hours by)."""

    reason: Literal["closed", "cap_reached", "no_numbers"]
    opens_at: dt.datetime | None = None


def _day(value: dt.date) -> str:
    return value.isoformat()


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


class LeaseStore:
    """The blocks, the numbers given from them and the last figures, on disk. Thread-safe:
    one connection under a lock (every call is short)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None,
                                     timeout=5.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a number taken must still be taken after a power cut, or it would be given
        # again to the next resident.
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- blocks ----------------------------------------------------------------------------
    def add_lease(self, lease: Lease) -> None:
        """A block the hall reserved for this kiosk. A block already held keeps its place:
        the hall's answer to a repeated request is the same block, not fresh numbers. The
        numbers the hall has already had delivered (`used`) are never given here again."""
        start = max([lease.first, *(n + 1 for n in lease.used if n <= lease.last)])
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    "INSERT OR IGNORE INTO lease (lease_id, day, category, series, first, last,"
                    " next_seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (lease.lease_id, _day(lease.day), lease.category, lease.series,
                     lease.first, lease.last, min(start, lease.last + 1)))
                self._conn.execute("DELETE FROM lease_request WHERE day=? AND category=?",
                                   (_day(lease.day), lease.category))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def lease_key(self, day: dt.date, category: str) -> str:
        """The idempotency key of the block to ask for: the one of an unanswered request if
        there is one (the hall then returns the block it made), else a new one, stored."""
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO lease_request (day, category, idem_key) VALUES (?, ?, ?)",
                (_day(day), category, f"lease-{uuid.uuid4().hex}"))
            row = self._conn.execute(
                "SELECT idem_key FROM lease_request WHERE day=? AND category=?",
                (_day(day), category)).fetchone()
            return str(row[0])

    def drop_lease_key(self, day: dt.date, category: str) -> None:
        """The request was refused for good: the next one is a new request."""
        with self._lock:
            self._conn.execute("DELETE FROM lease_request WHERE day=? AND category=?",
                               (_day(day), category))

    def remaining(self, category: str, day: dt.date) -> int:
        """Numbers of `day` this kiosk can still give in `category`."""
        with self._lock:
            row = self._conn.execute(
                "SELECT coalesce(sum(last - next_seq + 1), 0) FROM lease"
                " WHERE day=? AND category=?", (_day(day), category)).fetchone()
            return int(row[0])

    def needs_top_up(self, category: str, day: dt.date) -> bool:
        """No block of `day`, or fewer than half of the newest block's numbers left."""
        with self._lock:
            newest = self._conn.execute(
                "SELECT first, last FROM lease WHERE day=? AND category=?"
                " ORDER BY lease_id DESC LIMIT 1", (_day(day), category)).fetchone()
        if newest is None:
            return True
        size = int(newest[1]) - int(newest[0]) + 1
        return self.remaining(category, day) * 2 < size

    def take(self, category: str, day: dt.date, request_key: str,
             issued_at: dt.datetime) -> OfflineNumber | None:
        """The next number of `category` for the ticket request `request_key` (the same one
        again for the same key), on disk before it is returned; None if none is left."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                found = self._issued(request_key)
                if found is None:
                    found = self._take(category, day, request_key, issued_at)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return found

    def _take(self, category: str, day: dt.date, request_key: str,
              issued_at: dt.datetime) -> OfflineNumber | None:
        # The oldest block first: its numbers are the lowest, nearest to their place.
        lease = self._conn.execute(
            "SELECT lease_id, series, next_seq FROM lease WHERE day=? AND category=?"
            " AND next_seq <= last ORDER BY lease_id LIMIT 1",
            (_day(day), category)).fetchone()
        if lease is None:
            return None
        lease_id, series, seq = lease
        number = f"{series}{seq:03d}"  # as the hall writes it (kiosk.hall.store.tickets)
        self._conn.execute(
            "INSERT INTO issued (request_key, lease_id, seq, number, category, issued_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (request_key, lease_id, seq, number, category, issued_at.isoformat()))
        self._conn.execute("UPDATE lease SET next_seq = next_seq + 1 WHERE lease_id=?",
                           (lease_id,))
        return OfflineNumber(lease_id, seq, number, category, issued_at)

    def _issued(self, request_key: str) -> OfflineNumber | None:
        row = self._conn.execute(
            "SELECT lease_id, seq, number, category, issued_at FROM issued"
            " WHERE request_key=?", (request_key,)).fetchone()
        if row is None:
            return None
        return OfflineNumber(row[0], row[1], row[2], row[3], dt.datetime.fromisoformat(row[4]))

    def issued(self) -> list[OfflineNumber]:
        """Every number given offline still on file, in the order given."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT lease_id, seq, number, category, issued_at FROM issued"
                " ORDER BY rowid").fetchall()
        return [OfflineNumber(r[0], r[1], r[2], r[3], dt.datetime.fromisoformat(r[4]))
                for r in rows]

    def leases(self, day: dt.date | None = None) -> list[dict[str, Any]]:
        """The blocks on file (of `day`), for tests and the technician."""
        query = "SELECT lease_id, day, category, series, first, last, next_seq FROM lease"
        args: tuple[str, ...] = ()
        if day is not None:
            query += " WHERE day=?"
            args = (_day(day),)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY lease_id", args).fetchall()
        keys = ("lease_id", "day", "category", "series", "first", "last", "next_seq")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def forget_before(self, day: dt.date) -> None:
        """Blocks of days before `day` are void at the hall: dropped, with their numbers."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    "DELETE FROM issued WHERE lease_id IN (SELECT lease_id FROM lease"
                    " WHERE day < ?)", (_day(day),))
                self._conn.execute("DELETE FROM lease WHERE day < ?", (_day(day),))
                self._conn.execute("DELETE FROM lease_request WHERE day < ?", (_day(day),))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    # --- the hall's hours, as last heard ----------------------------------------------------
    def remember_figures(self, figures: dict[str, QueueFigures], at: dt.datetime) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for f in figures.values():
                    self._conn.execute(
                        "INSERT OR REPLACE INTO figures (category, fetched_at, open, opens_at,"
                        " closes_at, remaining_today) VALUES (?, ?, ?, ?, ?, ?)",
                        (f.category, at.isoformat(), int(f.open),
                         f.opens_at.isoformat() if f.opens_at else None,
                         f.closes_at.isoformat() if f.closes_at else None, f.remaining_today))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def last_figures(self, category: str) -> tuple[dt.datetime, QueueFigures] | None:
        """When the figures of `category` were last fetched, and the parts kept of them."""
        with self._lock:
            row = self._conn.execute(
                "SELECT fetched_at, open, opens_at, closes_at, remaining_today FROM figures"
                " WHERE category=?", (category,)).fetchone()
        if row is None:
            return None
        return dt.datetime.fromisoformat(row[0]), QueueFigures(
            category=category, waiting=0, priority_waiting=0, minutes_per_ticket=0.0,
            open=bool(row[1]), opens_at=_when(row[2]), closes_at=_when(row[3]),
            remaining_today=row[4])

    def may_issue(self, category: str, now: dt.datetime) -> OfflineRefusal | None:
        """None if the last figures allow an offline number of `category` at `now`; else
        why not. Figures of another day say nothing of today's hours."""
        found = self.last_figures(category)
        if found is None:
            return OfflineRefusal("no_numbers")
        fetched_at, figures = found
        if fetched_at.date() != now.date() or fetched_at > now:
            return OfflineRefusal("no_numbers")
        if not figures.open:
            opens_at = figures.opens_at
            return OfflineRefusal("closed", opens_at if opens_at and opens_at > now else None)
        if figures.closes_at is not None and now >= figures.closes_at:
            return OfflineRefusal("closed")  # when it opens next was not said
        if figures.remaining_today == 0:
            return OfflineRefusal("cap_reached")
        return None


class LeaseBackend(Protocol):
    """What the keeper asks of the hall (kiosk.delivery.http_client.HttpBackend)."""

    def queue_figures(self) -> dict[str, QueueFigures]: ...

    def take_lease(self, category: str, priority: bool, idempotency_key: str) -> Lease: ...


# A refusal no retry changes (leases_off, unknown_category); the hall's HallRefused is one.
_REFUSED = (ValueError, NotFound, IdempotencyConflict)
_UNREACHABLE = (BackendError, OSError, TimeoutError)


class LeaseKeeper:
    """Keeps the blocks topped up, and issues from them; blocking (off the GUI thread)."""

    def __init__(self, store: LeaseStore, backend: LeaseBackend, outbox: Outbox,
                 categories: Sequence[str], *, clock: Callable[[], dt.datetime]) -> None:
        self.store = store
        self.backend = backend
        self.outbox = outbox
        self.categories = tuple(categories)
        self.clock = clock
        self._lock = threading.Lock()
        # Categories the hall refused a block today (no offline numbers there, or a category
        # it does not know): not asked again until the next day.
        self._refused: dict[str, dt.date] = {}

    def queue_figures(self) -> dict[str, QueueFigures]:
        """The hall's queue figures, remembered for the hours offline numbers keep to."""
        figures = self.backend.queue_figures()
        self.store.remember_figures(figures, self.clock())
        return figures

    def top_up(self) -> bool:
        """One round: the figures, then a new block for every category that needs one.
        True if the hall answered throughout (it is reachable)."""
        with self._lock:  # one round at a time, whoever asks
            try:
                figures = self.queue_figures()
            except _UNREACHABLE as exc:
                log.info("offline numbers: the hall is not reachable (%s)", type(exc).__name__)
                return False
            now = self.clock()
            today = now.date()
            self.store.forget_before(today - dt.timedelta(days=KEEP_DAYS))
            for category in self.categories:
                f = figures.get(category)
                if f is None or self._refused.get(category) == today:
                    continue
                # Not for a day the category gives no numbers (a holiday, Sunday).
                gives_today = f.open or (f.opens_at is not None and f.opens_at.date() == today)
                if not gives_today or not self.store.needs_top_up(category, today):
                    continue
                key = self.store.lease_key(today, category)
                try:
                    lease = self.backend.take_lease(category, False, key)
                except _REFUSED as exc:
                    log.warning("offline numbers for %s refused by the hall: %s", category, exc)
                    self._refused[category] = today
                    self.store.drop_lease_key(today, category)
                    continue
                except _UNREACHABLE as exc:
                    log.info("offline numbers: block for %s not taken (%s)", category,
                             type(exc).__name__)
                    return False
                self.store.add_lease(lease)
                log.info("offline numbers: %s%03d-%s%03d held for %s", lease.series,
                         lease.first, lease.series, lease.last, category)
            return True

    def issue(self, category: str, request_key: str) -> OfflineNumber | OfflineRefusal:
        """An ordinary number of `category` for the ticket request `request_key`, which the
        hall did not (and now never will) issue: taken from a block on disk, then its
        delivery stored in the outbox, both before the resident sees it."""
        now = self.clock()
        refused = self.store.may_issue(category, now)
        if refused is not None:
            return refused
        number = self.store.take(category, now.date(), request_key, now)
        if number is None:
            return OfflineRefusal("no_numbers")
        self.outbox.put(OFFLINE_TICKET, number.delivery_key, {
            "lease_id": number.lease_id, "seq": number.seq, "category": number.category,
            "issued_at": number.issued_at.isoformat(), "priority_reason": ""})
        log.info("offline number %s issued (%s)", number.number, category)
        return number

    def withdraw(self, number: OfflineNumber) -> None:
        """The resident left before the number was on screen: it is not delivered (unless
        it went already). The number stays used: a gap, never given again."""
        item = self.outbox.get(number.delivery_key)
        if item is not None and item.state == "pending":
            self.outbox.expire_now(number.delivery_key, {"category": number.category,
                                                          "offline": True})
