"""The personal codes this kiosk has accepted, on disk, and the hall's check of them.

A 随申码 is accepted once (kiosk.domain.payloads.Verifier). `UsedNonces` keeps each accepted
code's (key id, nonce) in `used-nonces.sqlite3` in the data dir (WAL, synchronous=FULL) until
the code has expired, so a kiosk killed and restarted within the code's life still refuses
it; rows are pruned once expired, so the file stays a few pages. `KioskNonces` asks this
file first, then the backend (`Backend.claim_nonce`), so a hall's neighbouring kiosk refuses
a code used here. Both block: the kiosk calls them on its backend worker, never the GUI thread.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from kiosk.backend.interface import BackendError

BUSY_TIMEOUT_MS = 5000

FILE_NAME = "used-nonces.sqlite3"


class HallNonces(Protocol):
    """The part of `Backend` this module uses."""

    def claim_nonce(self, key_id: str, nonce: str, expires_at: int) -> bool: ...


class UsedNonces:
    """A kiosk's used nonces in SQLite: one indexed insert per accepted code."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a code accepted just before a power cut must still be refused after it.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS used_nonces ("
                " key_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_at INTEGER NOT NULL,"
                " PRIMARY KEY (key_id, nonce)) WITHOUT ROWID")
            self._conn.execute(
                "CREATE INDEX IF NOT EXISTS used_nonces_expiry ON used_nonces (expires_at)")
        except BaseException:
            self._conn.close()
            raise

    def claim(self, key_id: str, nonce: str, expires_at: int) -> bool:
        now = int(self._clock())
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                # Expired codes are refused by their time anyway; their rows go here.
                self._conn.execute("DELETE FROM used_nonces WHERE expires_at < ?", (now,))
                fresh = self._conn.execute(
                    "INSERT OR IGNORE INTO used_nonces (key_id, nonce, expires_at)"
                    " VALUES (?, ?, ?)", (key_id, nonce, int(expires_at))).rowcount == 1
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        return fresh

    def release(self, key_id: str, nonce: str) -> None:
        """Forget a claim whose use never happened (the hall could not be asked)."""
        with self._lock:
            self._conn.execute("DELETE FROM used_nonces WHERE key_id = ? AND nonce = ?",
                               (key_id, nonce))

    def pragmas(self) -> dict[str, Any]:
        with self._lock:
            return {name: self._conn.execute(f"PRAGMA {name}").fetchone()[0]
                    for name in ("journal_mode", "synchronous")}

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class KioskNonces:
    """This kiosk's file, then the hall: a code is used once per kiosk and per hall.

    If the hall cannot answer, the claim here is withdrawn and the error raised (the
    resident reads that the system is unavailable): the code was not used, so the same code
    shown again once the backend answers is not refused as a replay.
    """

    def __init__(self, local: UsedNonces, hall: HallNonces) -> None:
        self._local = local
        self._hall = hall

    def claim(self, key_id: str, nonce: str, expires_at: int) -> bool:
        if not self._local.claim(key_id, nonce, expires_at):
            return False
        try:
            return self._hall.claim_nonce(key_id, nonce, expires_at)
        except BackendError:
            self._local.release(key_id, nonce)
            raise
