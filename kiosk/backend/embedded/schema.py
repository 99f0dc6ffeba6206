"""The embedded database's schema, as numbered migrations, and the function that applies them."""

from __future__ import annotations

import sqlite3

from kiosk.backend.embedded.connection import immediate
from kiosk.backend.interface import BackendError

SCHEMA_VERSION = 6

# Each entry upgrades the schema from version n-1 to n, in one transaction together with
# PRAGMA user_version. Append new versions; never edit a released one.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE residents (
            resident_id  TEXT PRIMARY KEY,
            name         TEXT NOT NULL,
            id_number    TEXT NOT NULL UNIQUE,
            phone        TEXT NOT NULL,
            entitlements TEXT NOT NULL DEFAULT '[]'
        )""",
        """CREATE TABLE licenses (
            resident_id TEXT NOT NULL REFERENCES residents(resident_id) ON DELETE CASCADE,
            position    INTEGER NOT NULL,
            kind        TEXT NOT NULL,
            title       TEXT NOT NULL,
            number      TEXT NOT NULL,
            valid_until TEXT,
            PRIMARY KEY (resident_id, kind)
        )""",
        """CREATE TABLE appointments (
            appointment_id TEXT PRIMARY KEY,
            resident_id    TEXT NOT NULL REFERENCES residents(resident_id) ON DELETE CASCADE,
            category       TEXT NOT NULL,
            day            TEXT NOT NULL,
            starts_at      TEXT NOT NULL,
            ends_at        TEXT NOT NULL,
            demo           INTEGER NOT NULL DEFAULT 0 CHECK (demo IN (0, 1)),
            CHECK (ends_at > starts_at)
        )""",
        "CREATE INDEX appointments_by_day ON appointments (resident_id, day, starts_at)",
        # Keyed by the printed series ('A', 'YA') rather than the category id: if staff
        # swap two prefixes in the catalog mid-day, a series still never repeats a number.
        """CREATE TABLE queue_counters (
            day         TEXT NOT NULL,
            series      TEXT NOT NULL,
            last_number INTEGER NOT NULL CHECK (last_number > 0),
            PRIMARY KEY (day, series)
        )""",
        """CREATE TABLE tickets (
            seq                INTEGER PRIMARY KEY,
            ticket_id          TEXT NOT NULL UNIQUE,
            day                TEXT NOT NULL,
            number             TEXT NOT NULL,
            category           TEXT NOT NULL,
            priority           INTEGER NOT NULL CHECK (priority IN (0, 1)),
            priority_reason    TEXT NOT NULL,
            resident_id        TEXT,
            kiosk_id           TEXT NOT NULL,
            appointment_id     TEXT,
            ahead              INTEGER NOT NULL,
            estimated_wait_min INTEGER NOT NULL,
            issued_at          TEXT NOT NULL,
            tracking_code      TEXT NOT NULL,
            status             TEXT NOT NULL DEFAULT 'waiting'
                               CHECK (status IN ('waiting', 'served')),
            served_at          TEXT,
            UNIQUE (day, number)
        )""",
        "CREATE INDEX tickets_queue ON tickets (day, category, status, priority, seq)",
        # One table for every state-changing call; `operation` keeps a key used for a
        # ticket from being replayed as, say, an application later.
        """CREATE TABLE idempotency_keys (
            key        TEXT PRIMARY KEY,
            operation  TEXT NOT NULL,
            request    TEXT NOT NULL,
            result_ref TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    2: (
        # A column rather than a table: demo appointments are deleted and re-created each
        # day, and a check-in row with a foreign key would block (or need to cascade) that.
        "ALTER TABLE appointments ADD COLUMN checked_in_at TEXT",
        # Persisted per day like the queue counters, so a reference is never handed out
        # twice, whatever restarts or clock changes happen (UNIQUE below is the backstop).
        """CREATE TABLE application_counters (
            day         TEXT PRIMARY KEY,
            last_number INTEGER NOT NULL CHECK (last_number > 0)
        )""",
        # `submission` is the whole JSON the resident submitted, typed phone and bank
        # account included: it is the backend's record of the application. Nothing that
        # reads for display (summaries, statistics) selects that column.
        """CREATE TABLE applications (
            seq             INTEGER PRIMARY KEY,
            reference       TEXT NOT NULL UNIQUE,
            resident_id     TEXT NOT NULL,
            bundle_id       TEXT NOT NULL,
            day             TEXT NOT NULL,
            submitted_at    TEXT NOT NULL,
            processing_days INTEGER NOT NULL CHECK (processing_days >= 0),
            submission      TEXT NOT NULL,
            progress_code   TEXT NOT NULL,
            status          TEXT NOT NULL
                            CHECK (status IN ('submitted', 'accepted', 'needs_more', 'done'))
        )""",
        "CREATE INDEX applications_by_resident ON applications (resident_id, submitted_at)",
        "CREATE INDEX applications_by_day ON applications (day, bundle_id)",
        """CREATE TABLE application_events (
            seq       INTEGER PRIMARY KEY,
            reference TEXT NOT NULL REFERENCES applications(reference) ON DELETE CASCADE,
            status    TEXT NOT NULL
                      CHECK (status IN ('submitted', 'accepted', 'needs_more', 'done')),
            at        TEXT NOT NULL,
            note      TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX application_events_by_reference ON application_events (reference, seq)",
        """CREATE TABLE ratings (
            seq         INTEGER PRIMARY KEY,
            day         TEXT NOT NULL,
            at          TEXT NOT NULL,
            level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
            reasons     TEXT NOT NULL DEFAULT '[]',
            target_kind TEXT NOT NULL CHECK (target_kind IN ('ticket', 'application', 'none')),
            target_id   TEXT,
            kiosk_id    TEXT NOT NULL,
            CHECK ((target_kind = 'none') = (target_id IS NULL))
        )""",
        "CREATE INDEX ratings_by_day ON ratings (day)",
        """CREATE TABLE help_calls (
            seq      INTEGER PRIMARY KEY,
            call_id  TEXT NOT NULL UNIQUE,
            day      TEXT NOT NULL,
            at       TEXT NOT NULL,
            kiosk_id TEXT NOT NULL,
            screen   TEXT NOT NULL
        )""",
        "CREATE INDEX help_calls_by_day ON help_calls (day)",
        # Usage events for the 服务指数. Deliberately without resident, ticket or
        # application columns: nothing here can be joined back to a person.
        """CREATE TABLE stat_events (
            seq        INTEGER PRIMARY KEY,
            day        TEXT NOT NULL,
            at         TEXT NOT NULL,
            kind       TEXT NOT NULL CHECK (kind IN ('flow_started', 'flow_finished',
                                                     'flow_abandoned', 'fault')),
            flow       TEXT NOT NULL,
            step       TEXT NOT NULL DEFAULT '',
            duration_s REAL CHECK (duration_s IS NULL OR duration_s >= 0),
            kiosk_id   TEXT NOT NULL
        )""",
        "CREATE INDEX stat_events_by_day ON stat_events (day, kind, flow)",
    ),
    3: (
        # Ticket requests cancelled by their idempotency key (cancel_ticket_request): a key
        # here is never issued, and the ticket it had already been issued (nobody holds it:
        # the kiosk restarted, or gave up after a timeout) was moved out of `tickets` so no
        # queue figure, "ahead" count or call counts it. Kept for the 服务指数 and staff.
        """CREATE TABLE ticket_cancellations (
            key          TEXT PRIMARY KEY,
            day          TEXT NOT NULL,
            at           TEXT NOT NULL,
            reason       TEXT NOT NULL,
            ticket_id    TEXT,
            number       TEXT,
            category     TEXT
        )""",
        "CREATE INDEX ticket_cancellations_by_day ON ticket_cancellations (day)",
        # The waiting ticket of a resident in a category (one person, one number).
        "CREATE INDEX tickets_by_resident ON tickets (resident_id, day, category, status)",
    ),
    4: (
        # Personal codes (随申码) used at any kiosk of the hall, until the code expires
        # (claim_nonce): the same code shown at the neighbouring kiosk is refused.
        """CREATE TABLE used_nonces (
            key_id     TEXT NOT NULL,
            nonce      TEXT NOT NULL,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (key_id, nonce)
        ) WITHOUT ROWID""",
        "CREATE INDEX used_nonces_expiry ON used_nonces (expires_at)",
    ),
    5: (
        # Electronic licenses of people who use no kiosk themselves (the deceased, a child),
        # by their ID number: a 一件事 looks them up to exempt materials (身后一件事).
        """CREATE TABLE person_licenses (
            id_number   TEXT NOT NULL,
            position    INTEGER NOT NULL,
            kind        TEXT NOT NULL,
            title       TEXT NOT NULL,
            number      TEXT NOT NULL,
            valid_until TEXT,
            PRIMARY KEY (id_number, kind)
        )""",
        # Who may use them: a relative on the platform's record. Anyone else typing the
        # number learns nothing (not even whether the platform holds a death certificate).
        """CREATE TABLE person_relatives (
            id_number   TEXT NOT NULL,
            resident_id TEXT NOT NULL REFERENCES residents(resident_id) ON DELETE CASCADE,
            relation    TEXT NOT NULL,
            PRIMARY KEY (id_number, resident_id)
        )""",
    ),
    6: (
        # A 一件事's follow-up number (取号 on its result screen) names its application, so
        # that whoever calls the ticket sees what the resident has filed.
        "ALTER TABLE tickets ADD COLUMN application_reference TEXT",
    ),
}


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION; returns the version found before.

    Safe to run from several processes at once: each step re-reads the version under the
    write lock and skips what another process has done meanwhile.
    """
    found = _user_version(conn)
    if found > SCHEMA_VERSION:
        raise BackendError(
            f"the database has schema version {found}, newer than this software "
            f"({SCHEMA_VERSION}); refusing to touch it"
        )
    for target in range(found + 1, SCHEMA_VERSION + 1):
        with immediate(conn):
            current = _user_version(conn)
            if current >= target:
                continue
            for statement in _MIGRATIONS[target]:
                conn.execute(statement)
            # PRAGMA takes no parameters; target is an int from our own table.
            conn.execute(f"PRAGMA user_version = {int(target)}")
    return found
