"""Idempotency keys: how a retried call finds the result of its first attempt.

Every state-changing call stores its key, with a canonical spelling of its request, in the
same transaction as its effect, so a retry after a crash or a lost reply changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from kiosk.backend.interface import IdempotencyConflict


def canonical_json(value: object) -> str:
    """One spelling per value, so a retry of the same request compares equal."""
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not JSON-serialisable: {exc}") from None


def seen_key(
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


def remember_key(
    conn: sqlite3.Connection, key: str, operation: str, request: str, result_ref: str,
    now: dt.datetime,
) -> None:
    conn.execute(
        "INSERT INTO idempotency_keys (key, operation, request, result_ref, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (key, operation, request, result_ref, now.isoformat()),
    )
