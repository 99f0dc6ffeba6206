"""The embedded backend: a local SQLite database behind the `Backend` interface.

It is the default backend of a kiosk and the reference the HTTP backend must match. Every
state change runs in a `BEGIN IMMEDIATE` transaction on a database in WAL mode with
synchronous=FULL, and every state-changing call (ticket, application, check-in, rating,
help call) stores its idempotency key in the same transaction as its effect, so a retry
after a crash or a lost reply changes nothing.

Modules:
  backend       `EmbeddedBackend`, composed of the subject mixins below
  base          `EmbeddedStore`, the state and helpers every mixin uses
  connection    opening connections, one per thread; the write transaction
  schema        the numbered migrations and `migrate`; `SCHEMA_VERSION`
  validate      checks of what callers pass (ValueError for a caller's bug)
  idempotency   storing and finding idempotency keys
  seeding       the demo residents and the daily demo appointments
  residents, appointments, tickets, applications, ratings_help, usage_events, nonces
                the operations, one module per subject

The package may import the standard library, sqlite3, cryptography, `kiosk.common`,
`kiosk.domain`, `kiosk.backend.interface` and `kiosk.backend.seed`; never Qt, the UI,
services or hardware.

`EmbeddedBackend` is re-exported here on purpose: it is the one name the rest of the
program uses (`from kiosk.backend.embedded import EmbeddedBackend`). Everything else is
imported from the module that defines it.
"""

from kiosk.backend.embedded.backend import EmbeddedBackend

__all__ = ["EmbeddedBackend"]
