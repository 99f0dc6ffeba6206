"""The embedded backend: a local SQLite database behind the `Backend` interface.

It is the default backend of a kiosk and the reference the HTTP backend must match. Queue
numbers are the one thing that must never go wrong: a number printed on paper is a promise,
so each one is allocated from a persisted counter inside `BEGIN IMMEDIATE`, with a
UNIQUE(day, number) constraint behind it, on a database in WAL mode with synchronous=FULL
(NORMAL may lose the last commits on power loss; see notes/RELIABILITY.md).

Application references (办件编号) follow the same pattern, and every state-changing call
(ticket, application, check-in, rating, help call) stores its idempotency key in the same
transaction as its effect, so a retry after a crash or a lost reply changes nothing.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import math
import re
import secrets
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.backend import seed as demo
from kiosk.backend.interface import (
    APPLICATION_TRANSITIONS,
    RATING_LEVELS,
    RATING_REASONS,
    RATING_TARGET_KINDS,
    STAT_EVENT_KINDS,
    AlreadyCheckedIn,
    ApplicationReceipt,
    ApplicationStatus,
    ApplicationSummary,
    Appointment,
    BackendError,
    IdempotencyConflict,
    IssuedTicket,
    License,
    NotFound,
    QueueFigures,
    Resident,
    StatusEvent,
    TicketRequest,
)
from kiosk.domain.catalog import Catalog
from kiosk.domain.payloads import Kind, public_key_b64, sign

try:
    SHANGHAI: dt.tzinfo = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # no tz database (slim images); Shanghai has had no DST since 1991
    SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def shanghai_now() -> dt.datetime:
    return dt.datetime.now(SHANGHAI)


SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 5000

# Each entry upgrades the schema from version n-1 to n, in one transaction together with
# PRAGMA user_version. Append new versions; never edit a released one.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE residents (
            resident_id  TEXT PRIMARY KEY,
            name         TEXT NOT NULL,
            id_number    TEXT NOT NULL UNIQUE,
            phone        TEXT NOT NULL,
            entitlements TEXT NOT NULL DEFAULT '[]'
        )""",
        """CREATE TABLE licenses (
            resident_id TEXT NOT NULL REFERENCES residents(resident_id) ON DELETE CASCADE,
            position    INTEGER NOT NULL,
            kind        TEXT NOT NULL,
            title       TEXT NOT NULL,
            number      TEXT NOT NULL,
            valid_until TEXT,
            PRIMARY KEY (resident_id, kind)
        )""",
        """CREATE TABLE appointments (
            appointment_id TEXT PRIMARY KEY,
            resident_id    TEXT NOT NULL REFERENCES residents(resident_id) ON DELETE CASCADE,
            category       TEXT NOT NULL,
            day            TEXT NOT NULL,
            starts_at      TEXT NOT NULL,
            ends_at        TEXT NOT NULL,
            demo           INTEGER NOT NULL DEFAULT 0 CHECK (demo IN (0, 1)),
            CHECK (ends_at > starts_at)
        )""",
        "CREATE INDEX appointments_by_day ON appointments (resident_id, day, starts_at)",
        # Keyed by the printed series ('A', 'YA') rather than the category id: if staff
        # swap two prefixes in the catalog mid-day, a series still never repeats a number.
        """CREATE TABLE queue_counters (
            day         TEXT NOT NULL,
            series      TEXT NOT NULL,
            last_number INTEGER NOT NULL CHECK (last_number > 0),
            PRIMARY KEY (day, series)
        )""",
        """CREATE TABLE tickets (
            seq                INTEGER PRIMARY KEY,
            ticket_id          TEXT NOT NULL UNIQUE,
            day                TEXT NOT NULL,
            number             TEXT NOT NULL,
            category           TEXT NOT NULL,
            priority           INTEGER NOT NULL CHECK (priority IN (0, 1)),
            priority_reason    TEXT NOT NULL,
            resident_id        TEXT,
            kiosk_id           TEXT NOT NULL,
            appointment_id     TEXT,
            ahead              INTEGER NOT NULL,
            estimated_wait_min INTEGER NOT NULL,
            issued_at          TEXT NOT NULL,
            tracking_code      TEXT NOT NULL,
            status             TEXT NOT NULL DEFAULT 'waiting'
                               CHECK (status IN ('waiting', 'served')),
            served_at          TEXT,
            UNIQUE (day, number)
        )""",
        "CREATE INDEX tickets_queue ON tickets (day, category, status, priority, seq)",
        # One table for every state-changing call; `operation` keeps a key used for a
        # ticket from being replayed as, say, an application later.
        """CREATE TABLE idempotency_keys (
            key        TEXT PRIMARY KEY,
            operation  TEXT NOT NULL,
            request    TEXT NOT NULL,
            result_ref TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    2: (
        # A column rather than a table: demo appointments are deleted and re-created each
        # day, and a check-in row with a foreign key would block (or need to cascade) that.
        "ALTER TABLE appointments ADD COLUMN checked_in_at TEXT",
        # Persisted per day like the queue counters, so a reference is never handed out
        # twice, whatever restarts or clock changes happen (UNIQUE below is the backstop).
        """CREATE TABLE application_counters (
            day         TEXT PRIMARY KEY,
            last_number INTEGER NOT NULL CHECK (last_number > 0)
        )""",
        # `submission` is the whole JSON the resident submitted, typed phone and bank
        # account included: it is the backend's record of the application. Nothing that
        # reads for display (summaries, statistics) selects that column.
        """CREATE TABLE applications (
            seq             INTEGER PRIMARY KEY,
            reference       TEXT NOT NULL UNIQUE,
            resident_id     TEXT NOT NULL,
            bundle_id       TEXT NOT NULL,
            day             TEXT NOT NULL,
            submitted_at    TEXT NOT NULL,
            processing_days INTEGER NOT NULL CHECK (processing_days >= 0),
            submission      TEXT NOT NULL,
            progress_code   TEXT NOT NULL,
            status          TEXT NOT NULL
                            CHECK (status IN ('submitted', 'accepted', 'needs_more', 'done'))
        )""",
        "CREATE INDEX applications_by_resident ON applications (resident_id, submitted_at)",
        "CREATE INDEX applications_by_day ON applications (day, bundle_id)",
        """CREATE TABLE application_events (
            seq       INTEGER PRIMARY KEY,
            reference TEXT NOT NULL REFERENCES applications(reference) ON DELETE CASCADE,
            status    TEXT NOT NULL
                      CHECK (status IN ('submitted', 'accepted', 'needs_more', 'done')),
            at        TEXT NOT NULL,
            note      TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX application_events_by_reference ON application_events (reference, seq)",
        """CREATE TABLE ratings (
            seq         INTEGER PRIMARY KEY,
            day         TEXT NOT NULL,
            at          TEXT NOT NULL,
            level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
            reasons     TEXT NOT NULL DEFAULT '[]',
            target_kind TEXT NOT NULL CHECK (target_kind IN ('ticket', 'application', 'none')),
            target_id   TEXT,
            kiosk_id    TEXT NOT NULL,
            CHECK ((target_kind = 'none') = (target_id IS NULL))
        )""",
        "CREATE INDEX ratings_by_day ON ratings (day)",
        """CREATE TABLE help_calls (
            seq      INTEGER PRIMARY KEY,
            call_id  TEXT NOT NULL UNIQUE,
            day      TEXT NOT NULL,
            at       TEXT NOT NULL,
            kiosk_id TEXT NOT NULL,
            screen   TEXT NOT NULL
        )""",
        "CREATE INDEX help_calls_by_day ON help_calls (day)",
        # Usage events for the 服务指数. Deliberately without resident, ticket or
        # application columns: nothing here can be joined back to a person.
        """CREATE TABLE stat_events (
            seq        INTEGER PRIMARY KEY,
            day        TEXT NOT NULL,
            at         TEXT NOT NULL,
            kind       TEXT NOT NULL CHECK (kind IN ('flow_started', 'flow_finished',
                                                     'flow_abandoned', 'fault')),
            flow       TEXT NOT NULL,
            step       TEXT NOT NULL DEFAULT '',
            duration_s REAL CHECK (duration_s IS NULL OR duration_s >= 0),
            kiosk_id   TEXT NOT NULL
        )""",
        "CREATE INDEX stat_events_by_day ON stat_events (day, kind, flow)",
    ),
}

_DEMO_DAY_KEY = "demo_appointments_day"
_MAX_KEY_LENGTH = 200
_MAX_NOTE_LENGTH = 500
RECEIPT_LIFETIME = dt.timedelta(days=365)  # a progress QR code keeps working for a year

# Statistics strings are short lowercase tokens so that a name, phone or ID number cannot
# slip into them by mistake; a run of 6+ digits (phone, ID, bank card, reference) is refused
# even though the character class alone would let it through.
_TOKEN_RE = re.compile(r"[a-z0-9_:-]{0,64}")
_DIGIT_RUN_RE = re.compile(r"[0-9]{6,}")
_KIOSK_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
# Bundle ids also end up in statistics as "bundle:<id>", which must stay a token of <= 64.
_BUNDLE_ID_RE = re.compile(r"[a-z0-9_-]{1,48}")
_REFERENCE_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")  # the payload format's reference field


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the write lock up front.

    A deferred transaction that reads first and writes later can fail with SQLITE_BUSY
    without the busy handler ever running; IMMEDIATE waits (busy_timeout) for the lock
    instead, so two kiosks or threads take turns rather than fail.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION; returns the version found before.

    Safe to run from several processes at once: each step re-reads the version under the
    write lock and skips what another process has done meanwhile.
    """
    found = _user_version(conn)
    if found > SCHEMA_VERSION:
        raise BackendError(
            f"the database has schema version {found}, newer than this software "
            f"({SCHEMA_VERSION}); refusing to touch it"
        )
    for target in range(found + 1, SCHEMA_VERSION + 1):
        with _immediate(conn):
            current = _user_version(conn)
            if current >= target:
                continue
            for statement in _MIGRATIONS[target]:
                conn.execute(statement)
            # PRAGMA takes no parameters; target is an int from our own table.
            conn.execute(f"PRAGMA user_version = {int(target)}")
    return found


def _mask(number: str) -> str:
    """Keep a quarter (at most 4 characters) at each end.

    For an 18-character ID number that shows the first 4 and last 4, so the birth date
    (digits 7-14) never appears.
    """
    keep = min(4, len(number) // 4)
    if keep == 0:
        return "*" * len(number)
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[-keep:]


def _new_ticket_id() -> str:
    # 60 random bits in base32: fits the payload reference pattern and is unguessable,
    # so a tracking code cannot be forged by counting.
    return "T" + base64.b32encode(secrets.token_bytes(8)).decode("ascii")[:12]


def _new_call_id() -> str:
    return "H" + base64.b32encode(secrets.token_bytes(8)).decode("ascii")[:12]


def _check_key(idempotency_key: str) -> None:
    if not idempotency_key or len(idempotency_key) > _MAX_KEY_LENGTH:
        raise ValueError(f"idempotency key must be 1..{_MAX_KEY_LENGTH} characters")


def _check_token(what: str, value: str, *, required: bool) -> None:
    """Refuse anything in a statistics string that could be personal data."""
    if (
        not isinstance(value, str)
        or not _TOKEN_RE.fullmatch(value)
        or _DIGIT_RUN_RE.search(value)
        or (required and not value)
    ):
        raise ValueError(
            f"{what} must be a lowercase token [a-z0-9_:-]{{{int(required)},64}} without long"
            f" digit runs (no personal data in statistics): {value!r}"
        )


def _check_kiosk_id(kiosk_id: str) -> None:
    if not isinstance(kiosk_id, str) or not _KIOSK_ID_RE.fullmatch(kiosk_id):
        raise ValueError(f"kiosk id must match {_KIOSK_ID_RE.pattern}: {kiosk_id!r}")


def _canonical_json(value: object) -> str:
    """One spelling per value, so a retry of the same request compares equal."""
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not JSON-serialisable: {exc}") from None


def _seen_key(
    conn: sqlite3.Connection, key: str, operation: str, request: str
) -> str | None:
    """The result of an earlier call with this key, or None if the key is new.

    Call under the write lock, so two racing retries of one press see each other.
    """
    row = conn.execute(
        "SELECT operation, request, result_ref FROM idempotency_keys WHERE key = ?", (key,)
    ).fetchone()
    if row is None:
        return None
    if row["operation"] != operation or row["request"] != request:
        raise IdempotencyConflict("this idempotency key was already used for another request")
    return str(row["result_ref"])


def _remember_key(
    conn: sqlite3.Connection, key: str, operation: str, request: str, result_ref: str,
    now: dt.datetime,
) -> None:
    conn.execute(
        "INSERT INTO idempotency_keys (key, operation, request, result_ref, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (key, operation, request, result_ref, now.isoformat()),
    )


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(SHANGHAI)


class _ThreadConnection:
    """One thread's connection, closed as soon as that thread's local storage goes away.

    CPython drops a thread's threading.local values when the thread ends (for threads Qt
    created, possibly each time the thread leaves Python). A bare sqlite3.Connection would
    then wait for the cyclic garbage collector (it references itself through its statement
    cache), holding three file descriptors each; a kiosk whose thread pool recycles workers
    for weeks would pile them up. Closing in __del__ makes the release immediate.
    """

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def close(self) -> None:
        self.conn.close()

    def __del__(self) -> None:
        self.conn.close()


class EmbeddedBackend:
    """SQLite implementation of `kiosk.backend.interface.Backend`, plus staff tools.

    Threads: one sqlite3 connection per thread (threading.local). The object is built on
    the GUI thread and called from the services layer's worker threads; separate
    connections let WAL readers run while another thread writes, and make two threads of
    one process contend exactly like two processes on one file (BEGIN IMMEDIATE +
    busy_timeout), which is the path the concurrency tests exercise. A lock around one
    shared connection would also be correct, but would hide that path from the tests.
    Connections are opened with check_same_thread=False only so that `close()`, and the
    clean-up when a thread ends, may close them from another thread; each is otherwise used
    by its own thread only.
    """

    def __init__(
        self,
        db_path: Path,
        catalog: Catalog,
        *,
        signing_key: Ed25519PrivateKey,
        key_id: str,
        seed: bool = True,
        clock: Callable[[], dt.datetime] = shanghai_now,
    ) -> None:
        self._path = Path(db_path)
        self._catalog = catalog
        self._key = signing_key
        self._key_id = key_id
        self._clock = clock
        self._local = threading.local()
        self._registry_lock = threading.Lock()
        self._open: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._closed = False
        # Fail at start, not at the first ticket, on a key id the payload format rejects.
        sign(signing_key, key_id, Kind.TICKET, "T0", lifetime_s=1)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._errors():
                conn = self._conn()
                migrate(conn)
                if seed:
                    self._seed_if_empty(conn)
                self.refresh_demo_appointments()
        except BaseException:
            self.close()
            raise

    # ----------------------------------------------------------------- plumbing

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # we issue BEGIN IMMEDIATE / COMMIT ourselves
            check_same_thread=False,
        )
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise BackendError(f"{self._path}: cannot use WAL journal mode (got {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            conn.close()
            raise
        return conn

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise BackendError("the embedded backend is closed")
        holder: _ThreadConnection | None = getattr(self._local, "holder", None)
        if holder is not None:
            return holder.conn
        holder = _ThreadConnection(self._connect())
        with self._registry_lock:
            if self._closed:
                holder.close()
                raise BackendError("the embedded backend is closed")
            self._open.add(holder)
        self._local.holder = holder
        return holder.conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Report database failures as BackendError, which the services layer handles."""
        try:
            yield
        except sqlite3.Error as exc:
            raise BackendError(f"embedded database error: {exc}") from exc

    def _now(self) -> dt.datetime:
        now = self._clock()
        if now.tzinfo is None:
            return now.replace(tzinfo=SHANGHAI)
        return now.astimezone(SHANGHAI)

    @property
    def db_path(self) -> Path:
        """The database file, for tools that read it on their own (statistics export)."""
        return self._path

    def close(self) -> None:
        with self._registry_lock:
            self._closed = True
            holders = list(self._open)
            self._open = weakref.WeakSet()
        for holder in holders:
            holder.close()

    def __enter__(self) -> EmbeddedBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ seeding

    def _seed_if_empty(self, conn: sqlite3.Connection) -> None:
        now = self._now()
        with _immediate(conn):
            # Checked under the write lock, so two processes starting together seed once.
            if conn.execute("SELECT 1 FROM residents LIMIT 1").fetchone() is not None:
                return
            for r in demo.demo_residents(now.date()):
                conn.execute(
                    "INSERT INTO residents (resident_id, name, id_number, phone, entitlements)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (r.resident_id, r.name, r.id_number, r.phone, json.dumps(r.entitlements)),
                )
                conn.executemany(
                    "INSERT INTO licenses (resident_id, position, kind, title, number,"
                    " valid_until) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (r.resident_id, i, lic.kind, lic.title, lic.number,
                         lic.valid_until.isoformat() if lic.valid_until else None)
                        for i, lic in enumerate(r.licenses)
                    ],
                )
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('seeded_at', ?)",
                (now.isoformat(),),
            )
            self._write_demo_appointments(conn, now)

    def _write_demo_appointments(self, conn: sqlite3.Connection, now: dt.datetime) -> None:
        conn.execute("DELETE FROM appointments WHERE demo = 1")
        conn.executemany(
            "INSERT INTO appointments (appointment_id, resident_id, category, day, starts_at,"
            " ends_at, demo) VALUES (?, ?, ?, ?, ?, ?, 1)",
            [
                (a.appointment_id, a.resident_id, a.category, a.start.date().isoformat(),
                 a.start.isoformat(), a.end.isoformat())
                for a in demo.demo_appointments(now, [c.id for c in self._catalog.categories])
            ],
        )
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (_DEMO_DAY_KEY, now.date().isoformat()),
        )

    def refresh_demo_appointments(self) -> bool:
        """Re-create the demo appointments relative to now, once per day.

        Only databases seeded with demo data carry the marker this looks at; appointments
        that are not demo rows are never touched. Returns True when it re-created them.
        """
        with self._errors():
            conn = self._conn()
            now = self._now()
            today = now.date().isoformat()

            def stale() -> bool:
                row = conn.execute(
                    "SELECT value FROM meta WHERE key = ?", (_DEMO_DAY_KEY,)
                ).fetchone()
                return row is not None and row["value"] != today

            if not stale():  # the common case, without taking the write lock
                return False
            with _immediate(conn):
                if not stale():
                    return False
                self._write_demo_appointments(conn, now)
            return True

    # ------------------------------------------------------------ the interface

    def trusted_keys(self) -> dict[str, str]:
        """Key id -> base64 raw Ed25519 public key of the key that signs ticket codes."""
        return {self._key_id: public_key_b64(self._key)}

    def identify(self, resident_id: str) -> Resident | None:
        with self._errors():
            row = self._conn().execute(
                "SELECT * FROM residents WHERE resident_id = ?", (resident_id,)
            ).fetchone()
        if row is None:
            return None
        return Resident(
            resident_id=row["resident_id"],
            name=row["name"],
            id_number=row["id_number"],
            phone=row["phone"],
            entitlements=tuple(json.loads(row["entitlements"])),
        )

    def licenses(self, resident_id: str) -> list[License]:
        with self._errors():
            rows = self._conn().execute(
                "SELECT kind, title, number, valid_until FROM licenses"
                " WHERE resident_id = ? ORDER BY position",
                (resident_id,),
            ).fetchall()
        return [
            License(
                kind=r["kind"],
                title=r["title"],
                number_masked=_mask(r["number"]),
                valid_until=dt.date.fromisoformat(r["valid_until"]) if r["valid_until"] else None,
            )
            for r in rows
        ]

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
                start=dt.datetime.fromisoformat(r["starts_at"]).astimezone(SHANGHAI),
                end=dt.datetime.fromisoformat(r["ends_at"]).astimezone(SHANGHAI),
                checked_in_at=_at(r["checked_in_at"]) if r["checked_in_at"] else None,
            )
            for r in rows
        ]

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

        Raises ValueError for an unknown category or an empty key (a bug in the caller, not
        a backend fault), IdempotencyConflict for a key reused with another request.
        """
        if not idempotency_key or len(idempotency_key) > _MAX_KEY_LENGTH:
            raise ValueError(f"idempotency key must be 1..{_MAX_KEY_LENGTH} characters")
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
            with _immediate(conn):
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
                        raise BackendError("idempotency key refers to a missing ticket")
                    return self._ticket_from_row(row)

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
                    " estimated_wait_min, issued_at, tracking_code)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (ticket_id, day.isoformat(), number, category.id, int(request.priority),
                     request.priority_reason, request.resident_id, request.kiosk_id,
                     request.appointment_id, ahead, wait, now.isoformat(), tracking),
                )
                conn.execute(
                    "INSERT INTO idempotency_keys (key, operation, request, result_ref,"
                    " created_at) VALUES (?, 'issue_ticket', ?, ?, ?)",
                    (idempotency_key, request_json, ticket_id, now.isoformat()),
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
    def _ticket_from_row(row: sqlite3.Row) -> IssuedTicket:
        return IssuedTicket(
            ticket_id=row["ticket_id"],
            number=row["number"],
            category=row["category"],
            priority=bool(row["priority"]),
            priority_reason=row["priority_reason"],
            ahead=row["ahead"],
            estimated_wait_min=row["estimated_wait_min"],
            issued_at=dt.datetime.fromisoformat(row["issued_at"]).astimezone(SHANGHAI),
            tracking_code=row["tracking_code"],
        )

    # ------------------------------------------------------------ appointments

    def check_in(self, appointment_id: str, idempotency_key: str) -> None:
        """Mark an appointment checked in (预约签到).

        Whether the resident is on time is the caller's rule (kiosk.domain.queue); this
        only records that the appointment was used, so it cannot give two priority tickets.
        """
        _check_key(idempotency_key)
        now = self._now().replace(microsecond=0)
        with self._errors():
            conn = self._conn()
            with _immediate(conn):
                if _seen_key(conn, idempotency_key, "check_in", appointment_id) is not None:
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
                        f" {_at(row['checked_in_at']):%H:%M}"
                    )
                conn.execute(
                    "UPDATE appointments SET checked_in_at = ? WHERE appointment_id = ?",
                    (now.isoformat(), appointment_id),
                )
                _remember_key(conn, idempotency_key, "check_in", appointment_id,
                              appointment_id, now)

    # ------------------------------------------------------------ applications

    def submit_application(
        self,
        resident_id: str,
        submission: Mapping[str, Any],
        processing_days: int,
        idempotency_key: str,
    ) -> ApplicationReceipt:
        """File a 一件事 application and allocate its reference (办件编号).

        Raises ValueError for a malformed request (a caller bug), IdempotencyConflict for a
        key reused with another submission.
        """
        _check_key(idempotency_key)
        if not isinstance(resident_id, str) or not resident_id:
            raise ValueError("resident id is required")
        if not isinstance(submission, Mapping):
            raise ValueError("submission must be a JSON object")
        bundle_id = submission.get("bundle_id")
        if not isinstance(bundle_id, str) or not _BUNDLE_ID_RE.fullmatch(bundle_id):
            raise ValueError(f"submission bundle_id must match {_BUNDLE_ID_RE.pattern}")
        if (
            isinstance(processing_days, bool)
            or not isinstance(processing_days, int)
            or processing_days < 0
        ):
            raise ValueError("processing_days must be a whole number >= 0")
        submission_json = _canonical_json(submission)
        # Only a digest goes into the idempotency table: the submission holds the typed
        # phone and bank account, which should live in one row, not be copied around.
        request = "sha256:" + hashlib.sha256(
            _canonical_json([resident_id, processing_days, submission_json]).encode("utf-8")
        ).hexdigest()
        now = self._now().replace(microsecond=0)
        day = now.date()
        with self._errors():
            conn = self._conn()
            with _immediate(conn):
                seen = _seen_key(conn, idempotency_key, "submit_application", request)
                if seen is not None:
                    row = conn.execute(
                        "SELECT reference, bundle_id, submitted_at, progress_code,"
                        " processing_days FROM applications WHERE reference = ?",
                        (seen,),
                    ).fetchone()
                    if row is None:
                        raise BackendError("idempotency key refers to a missing application")
                    return self._receipt_from_row(row)

                n = conn.execute(
                    "INSERT INTO application_counters (day, last_number) VALUES (?, 1)"
                    " ON CONFLICT (day) DO UPDATE SET last_number = last_number + 1"
                    " RETURNING last_number",
                    (day.isoformat(),),
                ).fetchone()[0]
                reference = f"YW{day:%Y%m%d}{n:06d}"
                issued_s = int(now.timestamp())
                progress_code = sign(
                    self._key, self._key_id, Kind.RECEIPT, reference,
                    issued_at=issued_s, lifetime_s=int(RECEIPT_LIFETIME.total_seconds()),
                )
                conn.execute(
                    "INSERT INTO applications (reference, resident_id, bundle_id, day,"
                    " submitted_at, processing_days, submission, progress_code, status)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (reference, resident_id, bundle_id, day.isoformat(), now.isoformat(),
                     processing_days, submission_json, progress_code,
                     ApplicationStatus.SUBMITTED.value),
                )
                conn.execute(
                    "INSERT INTO application_events (reference, status, at, note)"
                    " VALUES (?, ?, ?, '')",
                    (reference, ApplicationStatus.SUBMITTED.value, now.isoformat()),
                )
                _remember_key(conn, idempotency_key, "submit_application", request,
                              reference, now)
        return ApplicationReceipt(
            reference=reference,
            bundle_id=bundle_id,
            submitted_at=now,
            progress_code=progress_code,
            processing_days=processing_days,
        )

    @staticmethod
    def _receipt_from_row(row: sqlite3.Row) -> ApplicationReceipt:
        return ApplicationReceipt(
            reference=row["reference"],
            bundle_id=row["bundle_id"],
            submitted_at=_at(row["submitted_at"]),
            progress_code=row["progress_code"],
            processing_days=row["processing_days"],
        )

    @staticmethod
    def _summaries(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[ApplicationSummary]:
        if not rows:
            return []
        references = [r["reference"] for r in rows]
        timelines: dict[str, list[StatusEvent]] = {ref: [] for ref in references}
        placeholders = ",".join("?" * len(references))
        for e in conn.execute(
            "SELECT reference, status, at, note FROM application_events"
            f" WHERE reference IN ({placeholders}) ORDER BY seq",
            references,
        ):
            timelines[e["reference"]].append(
                StatusEvent(ApplicationStatus(e["status"]), _at(e["at"]), e["note"])
            )
        return [
            ApplicationSummary(
                reference=r["reference"],
                bundle_id=r["bundle_id"],
                submitted_at=_at(r["submitted_at"]),
                status=ApplicationStatus(r["status"]),
                timeline=tuple(timelines[r["reference"]]),
            )
            for r in rows
        ]

    # Never selects `submission` or `resident_id`: summaries are for screens and receipts.
    _SUMMARY_COLUMNS = "reference, bundle_id, submitted_at, status"

    def applications_of(self, resident_id: str) -> list[ApplicationSummary]:
        with self._errors():
            conn = self._conn()
            rows = conn.execute(
                f"SELECT {self._SUMMARY_COLUMNS} FROM applications WHERE resident_id = ?"
                " ORDER BY submitted_at DESC, seq DESC",
                (resident_id,),
            ).fetchall()
            return self._summaries(conn, rows)

    def application(self, reference: str) -> ApplicationSummary | None:
        with self._errors():
            conn = self._conn()
            rows = conn.execute(
                f"SELECT {self._SUMMARY_COLUMNS} FROM applications WHERE reference = ?",
                (reference,),
            ).fetchall()
            found = self._summaries(conn, rows)
        return found[0] if found else None

    def advance_application(
        self, reference: str, status: ApplicationStatus | str, note: str = ""
    ) -> ApplicationSummary:
        """Staff: move an application on and append the step to its timeline.

        Raises ValueError for an unknown status, a move APPLICATION_TRANSITIONS does not
        allow (nothing follows DONE) or NEEDS_MORE without a note saying what is missing;
        NotFound for an unknown reference.
        """
        target = ApplicationStatus(status)
        note = (note or "").strip()
        if target is ApplicationStatus.NEEDS_MORE and not note:
            raise ValueError("需补正 needs a note saying what is still missing")
        if len(note) > _MAX_NOTE_LENGTH:
            raise ValueError(f"note longer than {_MAX_NOTE_LENGTH} characters")
        now = self._now().replace(microsecond=0)
        with self._errors():
            conn = self._conn()
            with _immediate(conn):
                row = conn.execute(
                    "SELECT status FROM applications WHERE reference = ?", (reference,)
                ).fetchone()
                if row is None:
                    raise NotFound(f"no application {reference!r}")
                current = ApplicationStatus(row["status"])
                if target not in APPLICATION_TRANSITIONS[current]:
                    if current is ApplicationStatus.DONE:
                        raise ValueError(f"{reference} is already 已办结 (done); it is final")
                    raise ValueError(
                        f"{reference} cannot go from {current.value} to {target.value}"
                    )
                conn.execute(
                    "INSERT INTO application_events (reference, status, at, note)"
                    " VALUES (?, ?, ?, ?)",
                    (reference, target.value, now.isoformat(), note),
                )
                conn.execute(
                    "UPDATE applications SET status = ? WHERE reference = ?",
                    (target.value, reference),
                )
        summary = self.application(reference)
        if summary is None:  # deleted between the commit and the read: not by this code
            raise BackendError(f"application {reference} vanished")
        return summary

    # ------------------------------------------------------- ratings, help, stats

    def rate(
        self,
        level: int,
        reasons: tuple[str, ...],
        target_kind: str,
        target_id: str | None,
        kiosk_id: str,
        idempotency_key: str,
    ) -> None:
        """Record a 好差评 rating. The target is not looked up: a rating must never fail
        because the ticket was issued by another kiosk or has been cleaned up."""
        _check_key(idempotency_key)
        if isinstance(level, bool) or not isinstance(level, int) or level not in RATING_LEVELS:
            raise ValueError(f"rating level must be one of {sorted(RATING_LEVELS)}: {level!r}")
        unknown = [r for r in reasons if r not in RATING_REASONS]
        if isinstance(reasons, str) or unknown:
            raise ValueError(f"unknown rating reasons {unknown or reasons!r}")
        if target_kind not in RATING_TARGET_KINDS:
            raise ValueError(f"target kind must be one of {RATING_TARGET_KINDS}")
        if target_kind == "none":
            if target_id is not None:
                raise ValueError("target kind 'none' takes no target id")
        elif not isinstance(target_id, str) or not _REFERENCE_RE.fullmatch(target_id):
            raise ValueError(f"target id must match {_REFERENCE_RE.pattern}")
        _check_kiosk_id(kiosk_id)
        unique_reasons = list(dict.fromkeys(reasons))  # a double tap on a tag counts once
        request = _canonical_json([level, unique_reasons, target_kind, target_id, kiosk_id])
        now = self._now().replace(microsecond=0)
        with self._errors():
            conn = self._conn()
            with _immediate(conn):
                if _seen_key(conn, idempotency_key, "rate", request) is not None:
                    return
                seq = conn.execute(
                    "INSERT INTO ratings (day, at, level, reasons, target_kind, target_id,"
                    " kiosk_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (now.date().isoformat(), now.isoformat(), level,
                     _canonical_json(unique_reasons), target_kind, target_id, kiosk_id),
                ).lastrowid
                _remember_key(conn, idempotency_key, "rate", request, str(seq), now)

    def call_help(self, kiosk_id: str, screen: str, idempotency_key: str) -> str:
        """Record a 帮办 call and return its id. The embedded backend has no staff pager:
        the hall's staff console (or the HTTP backend) reads the help_calls table."""
        _check_key(idempotency_key)
        _check_kiosk_id(kiosk_id)
        _check_token("screen", screen, required=True)
        request = _canonical_json([kiosk_id, screen])
        now = self._now().replace(microsecond=0)
        with self._errors():
            conn = self._conn()
            with _immediate(conn):
                seen = _seen_key(conn, idempotency_key, "call_help", request)
                if seen is not None:
                    return seen
                call_id = _new_call_id()
                conn.execute(
                    "INSERT INTO help_calls (call_id, day, at, kiosk_id, screen)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (call_id, now.date().isoformat(), now.isoformat(), kiosk_id, screen),
                )
                _remember_key(conn, idempotency_key, "call_help", request, call_id, now)
        return call_id

    def record_event(
        self,
        kind: str,
        *,
        flow: str,
        step: str = "",
        duration_s: float | None = None,
        kiosk_id: str,
        at: dt.datetime | None = None,
    ) -> None:
        """Count a usage event for the 服务指数 (see kiosk.backend.stats).

        No idempotency key: an event counted twice after a retry skews a statistic by one,
        which is not worth a key per tap.
        """
        if kind not in STAT_EVENT_KINDS:
            raise ValueError(f"event kind must be one of {STAT_EVENT_KINDS}: {kind!r}")
        _check_token("flow", flow, required=True)
        _check_token("step", step, required=False)
        _check_kiosk_id(kiosk_id)
        if duration_s is not None:
            if (
                isinstance(duration_s, bool)
                or not isinstance(duration_s, int | float)
                or not math.isfinite(duration_s)
                or duration_s < 0
            ):
                raise ValueError(f"duration must be a finite number >= 0: {duration_s!r}")
            duration_s = float(duration_s)
        if at is None:
            when = self._now()
        elif at.tzinfo is None:
            when = at.replace(tzinfo=SHANGHAI)
        else:
            when = at.astimezone(SHANGHAI)
        when = when.replace(microsecond=0)
        with self._errors():
            conn = self._conn()
            with _immediate(conn):
                conn.execute(
                    "INSERT INTO stat_events (day, at, kind, flow, step, duration_s, kiosk_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (when.date().isoformat(), when.isoformat(), kind, flow, step, duration_s,
                     kiosk_id),
                )

    # -------------------------------------------------------------- staff tools

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
            with _immediate(conn):
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

    def pragmas(self) -> dict[str, int | str]:
        """The calling thread's connection settings, for health checks and tests."""
        with self._errors():
            conn = self._conn()
            return {
                name: conn.execute(f"PRAGMA {name}").fetchone()[0]
                for name in (
                    "journal_mode", "synchronous", "busy_timeout", "foreign_keys",
                    "user_version",
                )
            }
