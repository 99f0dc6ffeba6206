"""Personal codes used at any kiosk of the hall, in the embedded database (`claim_nonce`)."""

from __future__ import annotations

import re

from kiosk.backend.embedded.base import EmbeddedStore
from kiosk.backend.embedded.connection import immediate

# The payload format's key id and nonce fields (kiosk.domain.payloads).
_KEY_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,16}")
_NONCE_RE = re.compile(r"[A-Za-z0-9_-]{8,24}")


class Nonces(EmbeddedStore):
    """Each (key id, nonce) claimed once, and kept until the code's expiry."""

    def claim_nonce(self, key_id: str, nonce: str, expires_at: int) -> bool:
        if not (isinstance(key_id, str) and _KEY_ID_RE.fullmatch(key_id)
                and isinstance(nonce, str) and _NONCE_RE.fullmatch(nonce)):
            raise ValueError("key id and nonce must be a personal code's fields")
        if isinstance(expires_at, bool) or not isinstance(expires_at, int):
            raise ValueError(f"expires_at must be Unix seconds: {expires_at!r}")
        now = int(self._now().timestamp())
        with self._errors():
            conn = self._conn()
            with immediate(conn):
                # Expired codes are refused by their time at every kiosk; their rows go.
                conn.execute("DELETE FROM used_nonces WHERE expires_at < ?", (now,))
                return conn.execute(
                    "INSERT OR IGNORE INTO used_nonces (key_id, nonce, expires_at)"
                    " VALUES (?, ?, ?)", (key_id, nonce, expires_at)).rowcount == 1
