"""`EmbeddedStore`: what every operation of the embedded backend reads, and how.

The operation mixins in this package (tickets, appointments, applications, ...) subclass it
and use only its attributes and helpers; `EmbeddedBackend` sets the attributes in its
constructor.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.backend.embedded.connection import ThreadConnections
from kiosk.backend.interface import BackendError
from kiosk.common.clock import SHANGHAI, Clock
from kiosk.domain.catalog import Catalog


def stored_time(text: str) -> dt.datetime:
    """A time as the database stores it (ISO 8601), in Shanghai time."""
    return dt.datetime.fromisoformat(text).astimezone(SHANGHAI)


class EmbeddedStore:
    """The database, catalog, code-signing key and clock behind the embedded backend."""

    _path: Path
    _catalog: Catalog
    _key: Ed25519PrivateKey
    _key_id: str
    _clock: Clock
    _connections: ThreadConnections

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Report database failures as BackendError, which the services layer handles."""
        try:
            yield
        except sqlite3.Error as exc:
            raise BackendError(f"embedded database error: {exc}") from exc

    def _now(self) -> dt.datetime:
        """The clock's time in Shanghai; a naive time is taken to be Shanghai time already."""
        now = self._clock()
        if now.tzinfo is None:
            return now.replace(tzinfo=SHANGHAI)
        return now.astimezone(SHANGHAI)
