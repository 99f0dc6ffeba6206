"""`EmbeddedBackend`: the embedded SQLite backend, composed of one mixin per subject.

Each mixin (tickets, appointments, applications, ...) lives in its own module of this
package and subclasses `EmbeddedStore`; this class adds the constructor (open, migrate,
seed), closing, and the small operations that belong to no subject.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.backend.embedded.applications import Applications
from kiosk.backend.embedded.appointments import Appointments
from kiosk.backend.embedded.connection import ThreadConnections
from kiosk.backend.embedded.nonces import Nonces
from kiosk.backend.embedded.ratings_help import RatingsAndHelp
from kiosk.backend.embedded.residents import Residents
from kiosk.backend.embedded.schema import migrate
from kiosk.backend.embedded.tickets import Tickets
from kiosk.backend.embedded.usage_events import UsageEvents
from kiosk.common.clock import Clock, shanghai_now
from kiosk.domain.catalog import Catalog
from kiosk.domain.payloads import Kind, public_key_b64, sign


class EmbeddedBackend(Residents, Appointments, Tickets, Applications, RatingsAndHelp,
                      UsageEvents, Nonces):
    """SQLite implementation of `kiosk.backend.interface.Backend`, plus staff tools.

    Threads: one sqlite3 connection per thread (threading.local). The object is built on
    the GUI thread and called from the services layer's worker threads; separate
    connections let WAL readers run while another thread writes, and make two threads of
    one process contend exactly like two processes on one file (BEGIN IMMEDIATE +
    busy_timeout), which is the path the concurrency tests exercise. A lock around one
    shared connection would also be correct, but would hide that path from the tests.
    """

    def __init__(
        self,
        db_path: Path,
        catalog: Catalog,
        *,
        signing_key: Ed25519PrivateKey,
        key_id: str,
        seed: bool = True,
        clock: Clock = shanghai_now,
    ) -> None:
        self._path = Path(db_path)
        self._catalog = catalog
        self._key = signing_key
        self._key_id = key_id
        self._clock = clock
        self._connections = ThreadConnections(self._path)
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

    @property
    def db_path(self) -> Path:
        """The database file, for tools that read it on their own (statistics export)."""
        return self._path

    def close(self) -> None:
        self._connections.close()

    def __enter__(self) -> EmbeddedBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def trusted_keys(self) -> dict[str, str]:
        """Key id -> base64 raw Ed25519 public key of the key that signs ticket codes."""
        return {self._key_id: public_key_b64(self._key)}

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
