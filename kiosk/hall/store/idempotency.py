"""Every state-changing request carries an Idempotency-Key: its first answer is kept and a
retry (the kiosk's outbox resends after a timeout) gets that answer, changing nothing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from kiosk.common.jsonable import jsonable
from kiosk.hall.db import Conn


class KeyConflict(Exception):
    """The key was used before for a different request."""


class KeyCancelled(Exception):
    """The key's request was cancelled (the kiosk gave up on it): never carried out."""


@dataclass(frozen=True)
class Claim:
    first: bool  # True: carry the request out now, then `finish`
    response: dict[str, Any] | None = None  # the first answer, for a repeat


def request_hash(operation: str, body: Any) -> bytes:
    text = json.dumps([operation, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).digest()


def claim(conn: Conn, owner: str, key: str, operation: str, body: Any) -> Claim:
    """Take the key for this request. A concurrent twin waits on the row's lock until the
    first commits, then reads its answer: the request runs once whatever the timing."""
    digest = request_hash(operation, body)
    row = conn.execute(
        "INSERT INTO idempotency (owner, key, operation, request_hash) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (owner, key) DO NOTHING RETURNING key",
        (owner, key, operation, digest),
    ).fetchone()
    if row is not None:
        return Claim(first=True)
    old = conn.execute(
        "SELECT operation, request_hash, response, cancelled FROM idempotency "
        "WHERE owner = %s AND key = %s FOR UPDATE",
        (owner, key),
    ).fetchone()
    assert old is not None  # the conflicting row exists and rows are never deleted
    if old["cancelled"]:
        raise KeyCancelled(key)
    if old["operation"] != operation or bytes(old["request_hash"]) != digest:
        raise KeyConflict(key)
    return Claim(first=False, response=old["response"])


def finish(conn: Conn, owner: str, key: str, response: dict[str, Any]) -> None:
    conn.execute("UPDATE idempotency SET response = %s WHERE owner = %s AND key = %s",
                 (Jsonb(jsonable(response)), owner, key))


def cancel(conn: Conn, owner: str, key: str, operation: str) -> dict[str, Any] | None:
    """Mark the key unusable; returns the answer already given under it, if any."""
    conn.execute(
        "INSERT INTO idempotency (owner, key, operation, request_hash, cancelled) "
        "VALUES (%s, %s, %s, '\\x'::bytea, true) ON CONFLICT (owner, key) DO NOTHING",
        (owner, key, operation),
    )
    row = conn.execute(
        "SELECT response, cancelled FROM idempotency WHERE owner = %s AND key = %s FOR UPDATE",
        (owner, key),
    ).fetchone()
    assert row is not None
    conn.execute("UPDATE idempotency SET cancelled = true WHERE owner = %s AND key = %s",
                 (owner, key))
    response: dict[str, Any] | None = row["response"]
    return response
