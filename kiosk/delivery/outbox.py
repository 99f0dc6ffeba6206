"""The kiosk's local outbox: every state-changing call is stored before it is sent.

A resident's application, rating or help call is written here (SQLite, WAL,
synchronous=FULL, so an acknowledged write survives a power cut) together with the
idempotency key made when the resident pressed the button. Only then is it sent to the
backend; it is retried with backoff until the backend confirms, and the backend applies a
repeated key once. A crash between any two steps therefore neither loses nor duplicates it.

Personal data: a pending application holds what the resident typed (phone, bank card)
until the backend has it; once confirmed, the payload is replaced by a redacted stub, so the
rows the kiosk keeps after a session carry no personal data. The redaction reaches the disk,
not only the rows: secure_delete zeroes what a replaced payload leaves in its page, and a
checkpoint that truncates the WAL removes the older page images that held it (see _scrub).

Written by hand on sqlite3 rather than taken from a queue library (persist-queue and the
like): what matters here is what such libraries do not offer together, namely one row per
idempotency key enforced by the database, a payload rewritten in place once it is
delivered (redaction), per-kind expiry, and every state change committed with
synchronous=FULL before the caller hears "stored".
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idem_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead', 'expired')),
    result TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_at);
-- Tickets the backend issued that no resident has seen yet: a kiosk that dies (or a resident
-- who leaves) before the number is on screen leaves one here, withdrawn at the next start.
CREATE TABLE IF NOT EXISTS unclaimed_tickets (idem_key TEXT PRIMARY KEY);
"""

MAX_BACKOFF_S = 300.0
BUSY_TIMEOUT_MS = 5000
# How long a scrub waits for another connection's read to end before it tries again later.
SCRUB_WAIT_MS = 100


@dataclass(frozen=True)
class OutboxItem:
    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    created_at: float
    expires_at: float | None
    attempts: int
    state: str
    result: dict[str, Any] | None
    last_error: str


def backoff_s(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter, so a hall of kiosks coming back online at once does
    not hit the backend in the same second."""
    base = min(MAX_BACKOFF_S, 2.0 ** max(0, attempts - 1))
    return base * (0.5 + (rng or random).random())


class Outbox:
    """Thread-safe store; one connection guarded by a lock (calls are short)."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None,
                                     timeout=5.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # FULL: with NORMAL, WAL may roll back the last commits on power loss, and an
        # acknowledged application must survive a power cut.
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # Bytes of a replaced or deleted payload are overwritten with zeros, not left in the
        # page's free space (and freed pages) where a copy of the file would still show them.
        self._conn.execute("PRAGMA secure_delete=ON")
        self._conn.executescript(SCHEMA)
        # A WAL left by a crash may still hold page images from before a redaction.
        self._scrubbed_changes = -1
        with self._lock:
            self._scrub()

    def close(self) -> None:
        with self._lock:
            self._scrub()
            self._conn.close()

    def _scrub(self) -> bool:
        """Checkpoint the WAL into the database and truncate it to zero bytes (lock held).

        In WAL mode a redacting UPDATE appends a new image of the page; the older images,
        holding the typed phone and bank card, stay in the WAL file until it wraps. Once the
        checkpoint has copied the newest pages back (with secure_delete they carry zeros
        where the payload was), truncating the WAL removes the old ones.

        A truncating checkpoint must wait until no other connection reads an older snapshot
        (a technician's sqlite3 shell, a backup). It waits SCRUB_WAIT_MS at most rather than
        the usual busy timeout, since every outbox call waits on the lock meanwhile; if a
        reader is still there it reports False, and `due` (the sender's next round) tries
        again until it succeeds. Returns True once the WAL is empty.
        """
        try:
            self._conn.execute(f"PRAGMA busy_timeout={SCRUB_WAIT_MS}")
            busy = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.OperationalError:  # locked by another writer: the same as busy
            busy = 1
        finally:
            self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if busy:
            return False
        self._scrubbed_changes = self._conn.total_changes
        return True

    # --- writes ----------------------------------------------------------------------------
    def put(self, kind: str, key: str, payload: dict[str, Any], *,
            ttl_s: float | None = None) -> OutboxItem:
        """Store an item; the same key again returns the stored item unchanged."""
        now = self._clock()
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO outbox (idem_key, kind, payload, created_at, expires_at,"
                " next_at, state) VALUES (?, ?, ?, ?, ?, ?, 'pending')",
                (key, kind, json.dumps(payload, ensure_ascii=False, sort_keys=True), now,
                 now + ttl_s if ttl_s is not None else None, now),
            )
            return self._get(key)

    def mark_done(self, key: str, result: dict[str, Any], redacted: dict[str, Any]) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE outbox SET state='done', result=?, payload=?, last_error=NULL"
                " WHERE idem_key=?",
                (json.dumps(result, ensure_ascii=False, sort_keys=True),
                 json.dumps(redacted, ensure_ascii=False, sort_keys=True), key),
            )
            self._scrub()

    def mark_ticket_issued(self, key: str, result: dict[str, Any],
                           redacted: dict[str, Any]) -> None:
        """mark_done for a ticket, noted unclaimed in the same transaction: until the screen
        shows it (claim_ticket), a crash leaves it to be withdrawn."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    "UPDATE outbox SET state='done', result=?, payload=?, last_error=NULL"
                    " WHERE idem_key=?",
                    (json.dumps(result, ensure_ascii=False, sort_keys=True),
                     json.dumps(redacted, ensure_ascii=False, sort_keys=True), key),
                )
                self._conn.execute(
                    "INSERT OR IGNORE INTO unclaimed_tickets (idem_key) VALUES (?)", (key,))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def claim_ticket(self, key: str) -> None:
        """The resident has the ticket on screen: it is theirs, never withdrawn."""
        with self._lock:
            self._conn.execute("DELETE FROM unclaimed_tickets WHERE idem_key=?", (key,))

    def withdrawable_tickets(self) -> list[OutboxItem]:
        """Ticket requests no resident holds after a restart: pending ones (maybe sent, maybe
        not) and issued ones never shown."""
        with self._lock:
            keys = [k for (k,) in self._conn.execute(
                "SELECT idem_key FROM outbox WHERE kind='ticket' AND (state='pending'"
                " OR idem_key IN (SELECT idem_key FROM unclaimed_tickets)) ORDER BY id")]
            return [self._get(k) for k in keys]

    def mark_withdrawn(self, key: str, redacted: dict[str, Any]) -> None:
        """A ticket request given up (its cancellation is stored): expired, never sent."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    "UPDATE outbox SET state='expired', payload=? WHERE idem_key=?"
                    " AND state IN ('pending', 'done')",
                    (json.dumps(redacted, ensure_ascii=False, sort_keys=True), key))
                self._conn.execute("DELETE FROM unclaimed_tickets WHERE idem_key=?", (key,))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def mark_retry(self, key: str, error: str) -> float:
        """Count a failed attempt; returns when the next one is due."""
        with self._lock:
            row = self._conn.execute("SELECT attempts FROM outbox WHERE idem_key=?",
                                     (key,)).fetchone()
            attempts = (row[0] if row else 0) + 1
            next_at = self._clock() + backoff_s(attempts)
            self._conn.execute(
                "UPDATE outbox SET attempts=?, next_at=?, last_error=? WHERE idem_key=?",
                (attempts, next_at, error[:200], key),
            )
            return next_at

    def mark_dead(self, key: str, error: str, redacted: dict[str, Any]) -> None:
        """A request the backend refuses for good (a bug, a conflict): keep it for staff."""
        with self._lock:
            self._conn.execute(
                "UPDATE outbox SET state='dead', last_error=?, payload=? WHERE idem_key=?",
                (error[:200], json.dumps(redacted, ensure_ascii=False, sort_keys=True), key),
            )
            self._scrub()

    def expire_now(self, key: str, redacted: dict[str, Any]) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE outbox SET state='expired', payload=? WHERE idem_key=?"
                " AND state='pending'",
                (json.dumps(redacted, ensure_ascii=False, sort_keys=True), key))

    def now(self) -> float:
        return self._clock()

    def hurry(self, kinds: tuple[str, ...]) -> int:
        """Make the pending items of `kinds` due now, whatever their backoff said: the
        backend has just answered again after an outage. Returns how many are due."""
        now = self._clock()
        marks = ", ".join("?" for _ in kinds)
        with self._lock:
            cur = self._conn.execute(
                f"UPDATE outbox SET next_at=min(next_at, ?) WHERE state='pending'"
                f" AND kind IN ({marks})", (now, *kinds))
            return cur.rowcount

    def expire(self, redact: Callable[[OutboxItem], dict[str, Any]]) -> list[OutboxItem]:
        """Pending items whose time has passed (a ticket nobody waits for any more)."""
        now = self._clock()
        with self._lock:
            rows = self._conn.execute(
                "SELECT idem_key FROM outbox WHERE state='pending' AND expires_at IS NOT NULL"
                " AND expires_at < ?", (now,)).fetchall()
            items = [self._get(k) for (k,) in rows]
            for item in items:
                self._conn.execute(
                    "UPDATE outbox SET state='expired', payload=? WHERE idem_key=?",
                    (json.dumps(redact(item), ensure_ascii=False), item.key))
            return items

    # --- reads -----------------------------------------------------------------------------
    def get(self, key: str) -> OutboxItem | None:
        with self._lock:
            try:
                return self._get(key)
            except KeyError:
                return None

    def due(self, limit: int = 20) -> list[OutboxItem]:
        now = self._clock()
        with self._lock:
            # The sender's round: a scrub a reader held up is tried again, and a redaction
            # written without one (expiry) reaches the disk here.
            if self._conn.total_changes != self._scrubbed_changes:
                self._scrub()
            rows = self._conn.execute(
                "SELECT idem_key FROM outbox WHERE state='pending' AND next_at <= ?"
                " AND (expires_at IS NULL OR expires_at >= ?) ORDER BY id LIMIT ?",
                (now, now, limit)).fetchall()
            return [self._get(k) for (k,) in rows]

    def pending(self) -> tuple[int, float | None]:
        """How many items wait, and when the oldest was stored (for the maintenance screen)."""
        with self._lock:
            n, oldest = self._conn.execute(
                "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE state='pending'").fetchone()
            return int(n), oldest

    def all_items(self) -> list[OutboxItem]:
        with self._lock:
            keys = [k for (k,) in self._conn.execute("SELECT idem_key FROM outbox ORDER BY id")]
            return [self._get(k) for k in keys]

    def _get(self, key: str) -> OutboxItem:
        row = self._conn.execute(
            "SELECT id, idem_key, kind, payload, created_at, expires_at, attempts, state,"
            " result, last_error FROM outbox WHERE idem_key=?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return OutboxItem(
            id=row[0], key=row[1], kind=row[2], payload=json.loads(row[3]), created_at=row[4],
            expires_at=row[5], attempts=row[6], state=row[7],
            result=json.loads(row[8]) if row[8] else None, last_error=row[9] or "",
        )
