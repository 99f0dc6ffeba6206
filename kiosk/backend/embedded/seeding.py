"""Demo data in the embedded database: the fictional residents and today's appointments.

The residents are written once, into an empty database; the demo appointments are
re-created relative to the current day, once per day, so the demo always has someone with
an appointment now. The data itself is in `kiosk.backend.seed`.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from kiosk.backend import seed as demo
from kiosk.backend.embedded.base import EmbeddedStore
from kiosk.backend.embedded.connection import immediate

_DEMO_DAY_KEY = "demo_appointments_day"
_PERSONS_KEY = "demo_persons_seeded"


class DemoSeeding(EmbeddedStore):
    """Writes the demo residents and keeps the demo appointments on today."""

    def _seed_if_empty(self, conn: sqlite3.Connection) -> None:
        now = self._now()
        with immediate(conn):
            # Checked under the write lock, so two processes starting together seed once.
            if conn.execute("SELECT 1 FROM residents LIMIT 1").fetchone() is not None:
                self._seed_persons_once(conn)  # a demo database from before schema 5
                return
            for r in demo.demo_residents(now.date()):
                conn.execute(
                    "INSERT INTO residents (resident_id, name, id_number, phone, entitlements)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (r.resident_id, r.name, r.id_number, r.phone, json.dumps(r.entitlements)),
                )
                conn.executemany(
                    "INSERT INTO licenses (resident_id, position, kind, title, number,"
                    " valid_until) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (r.resident_id, i, lic.kind, lic.title, lic.number,
                         lic.valid_until.isoformat() if lic.valid_until else None)
                        for i, lic in enumerate(r.licenses)
                    ],
                )
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('seeded_at', ?)",
                (now.isoformat(),),
            )
            self._seed_persons_once(conn)
            self._write_demo_appointments(conn, now)

    def _seed_persons_once(self, conn: sqlite3.Connection) -> None:
        """The demo's other people (the deceased of 身后一件事), once, into a database that
        holds the demo residents; a database of real residents is never touched."""
        has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                                 " AND name = 'person_licenses'").fetchone()
        if has_table is None:  # a schema older than 5 (an older build seeding its file)
            return
        demo_db = conn.execute("SELECT 1 FROM meta WHERE key = 'seeded_at'").fetchone()
        done = conn.execute("SELECT 1 FROM meta WHERE key = ?", (_PERSONS_KEY,)).fetchone()
        if demo_db is None or done is not None:
            return
        known = {r[0] for r in conn.execute("SELECT resident_id FROM residents")}
        for p in demo.demo_persons():
            conn.executemany(
                "INSERT OR IGNORE INTO person_licenses (id_number, position, kind, title,"
                " number, valid_until) VALUES (?, ?, ?, ?, ?, ?)",
                [(p.id_number, i, lic.kind, lic.title, lic.number,
                  lic.valid_until.isoformat() if lic.valid_until else None)
                 for i, lic in enumerate(p.licenses)],
            )
            conn.executemany(
                "INSERT OR IGNORE INTO person_relatives (id_number, resident_id, relation)"
                " VALUES (?, ?, ?)",
                [(p.id_number, rid, relation) for rid, relation in p.relatives if rid in known],
            )
        conn.execute("INSERT INTO meta (key, value) VALUES (?, '1')", (_PERSONS_KEY,))

    def _write_demo_appointments(self, conn: sqlite3.Connection, now: dt.datetime) -> None:
        conn.execute("DELETE FROM appointments WHERE demo = 1")
        conn.executemany(
            "INSERT INTO appointments (appointment_id, resident_id, category, day, starts_at,"
            " ends_at, demo) VALUES (?, ?, ?, ?, ?, ?, 1)",
            [
                (a.appointment_id, a.resident_id, a.category, a.start.date().isoformat(),
                 a.start.isoformat(), a.end.isoformat())
                for a in demo.demo_appointments(now, [c.id for c in self._catalog.categories])
            ],
        )
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (_DEMO_DAY_KEY, now.date().isoformat()),
        )

    def refresh_demo_appointments(self) -> bool:
        """Re-create the demo appointments relative to now, once per day.

        Only databases seeded with demo data carry the marker this looks at; appointments
        that are not demo rows are never touched. Returns True when it re-created them.
        """
        with self._errors():
            conn = self._conn()
            now = self._now()
            today = now.date().isoformat()

            def stale() -> bool:
                row = conn.execute(
                    "SELECT value FROM meta WHERE key = ?", (_DEMO_DAY_KEY,)
                ).fetchone()
                return row is not None and row["value"] != today

            if not stale():  # the common case, without taking the write lock
                return False
            with immediate(conn):
                if not stale():
                    return False
                self._write_demo_appointments(conn, now)
            return True
