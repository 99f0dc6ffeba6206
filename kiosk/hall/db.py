"""The hall's PostgreSQL connections: one psycopg pool per server process.

Every request borrows a connection for one transaction and gives it back; the pool's size
bounds how many transactions a process runs at once, so a burst of kiosks queues here for
milliseconds instead of opening hundreds of server connections.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

Row = dict[str, Any]
Conn = psycopg.Connection[Row]


def make_pool(dsn: str, *, min_size: int = 2, max_size: int = 16, timeout_s: float = 5.0,
              autocommit: bool = False) -> ConnectionPool[Conn]:
    # No check on lending (a round trip per request): a connection PostgreSQL dropped fails
    # the one request that gets it with 503 (app.py), which the kiosk retries with the same
    # key, and the pool replaces it.
    pool: ConnectionPool[Conn] = ConnectionPool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        timeout=timeout_s,
        kwargs={"row_factory": dict_row, "autocommit": autocommit},
        open=False,
        name="hall-read" if autocommit else "hall",
    )
    pool.open(wait=False)
    return pool


@contextmanager
def transaction(pool: ConnectionPool[Conn]) -> Iterator[Conn]:
    """A connection in one transaction: committed when the block ends, rolled back on error."""
    with pool.connection() as conn:
        yield conn


def notify(conn: Conn, center_id: str, kind: str, data: dict[str, Any]) -> None:
    """A live event, sent to every server process when the transaction commits (and never if
    it rolls back): boards and consoles see only what happened."""
    import json

    payload = json.dumps({"center": center_id, "kind": kind, **data}, ensure_ascii=False,
                         default=str)
    conn.execute("SELECT pg_notify('hall_events', %s)", (payload,))
