"""SQLite plumbing of the embedded backend: how a connection is opened, one per thread, and
the write transaction every state change runs in.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kiosk.backend.interface import BackendError

BUSY_TIMEOUT_MS = 5000


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
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


def connect(path: Path) -> sqlite3.Connection:
    """A connection in WAL mode with synchronous=FULL, or BackendError if WAL is refused.

    NORMAL would be faster but may lose the last commits on power loss, and a lost commit
    can be a queue number already printed on paper.
    """
    conn = sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,  # we issue BEGIN IMMEDIATE / COMMIT ourselves
        check_same_thread=False,
    )
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise BackendError(f"{path}: cannot use WAL journal mode (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


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


class ThreadConnections:
    """One connection per calling thread to one database file; `close()` closes them all.

    Connections are opened with check_same_thread=False only so that `close()`, and the
    clean-up when a thread ends, may close them from another thread; each is otherwise used
    by its own thread only.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()
        self._registry_lock = threading.Lock()
        self._open: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        # Set by close() on any thread; get() looks again under the lock, as close() may
        # run between its first look and the registration of a new connection.
        self._closed = threading.Event()

    def get(self) -> sqlite3.Connection:
        """The calling thread's connection, opened on first use."""
        if self._closed.is_set():
            raise BackendError("the embedded backend is closed")
        holder: _ThreadConnection | None = getattr(self._local, "holder", None)
        if holder is not None:
            return holder.conn
        holder = _ThreadConnection(connect(self._path))
        with self._registry_lock:
            if self._closed.is_set():
                holder.close()
                raise BackendError("the embedded backend is closed")
            self._open.add(holder)
        self._local.holder = holder
        return holder.conn

    def close(self) -> None:
        with self._registry_lock:
            self._closed.set()
            holders = list(self._open)
            self._open = weakref.WeakSet()
        for holder in holders:
            holder.close()
