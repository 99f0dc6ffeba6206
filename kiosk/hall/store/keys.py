"""The hall's own Ed25519 key, which signs the codes it prints (ticket tracking, receipts)
so that any kiosk of the hall can verify them. Made once, kept in the database, so every
server process and host signs with the same key."""

from __future__ import annotations

import base64
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.hall.db import Conn

# The key never changes once made: read once per database and process.
_cache: dict[tuple[str, str, int], tuple[str, Ed25519PrivateKey]] = {}


def signing_key(conn: Conn) -> tuple[str, Ed25519PrivateKey]:
    where = (conn.info.host, conn.info.dbname, conn.info.port)
    cached = _cache.get(where)
    if cached is None:
        existed = conn.execute("SELECT 1 FROM signing_key LIMIT 1").fetchone() is not None
        cached = _signing_key(conn)
        # A key made in this transaction is not cached: the transaction may yet roll back.
        if existed:
            _cache[where] = cached
    return cached


def _signing_key(conn: Conn) -> tuple[str, Ed25519PrivateKey]:
    row = conn.execute(
        "SELECT key_id, private_key FROM signing_key ORDER BY created_at DESC LIMIT 1"
    ).fetchone()
    if row is None:
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        kid = "hall" + secrets.token_hex(3)
        conn.execute(
            "INSERT INTO signing_key (key_id, private_key) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING", (kid, raw))
        row = conn.execute(
            "SELECT key_id, private_key FROM signing_key ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        assert row is not None
    return str(row["key_id"]), Ed25519PrivateKey.from_private_bytes(bytes(row["private_key"]))


def public_keys(conn: Conn) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in conn.execute("SELECT key_id, private_key FROM signing_key").fetchall():
        key = Ed25519PrivateKey.from_private_bytes(bytes(row["private_key"]))
        raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
        out[str(row["key_id"])] = base64.b64encode(raw).decode()
    return out
