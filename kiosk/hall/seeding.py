"""What a new hall database gets before it serves: its signing key and, for a demo hall, the
fictional residents and appointments the kiosk's demo codes refer to (kiosk/backend/seed.py,
the same people as the embedded backend's)."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

from kiosk.backend.seed import demo_appointments, demo_residents
from kiosk.hall.settings import HallSettings
from kiosk.hall.store import keys


def prepare(dsn: str, settings: HallSettings) -> None:
    now = settings.clock()
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        keys.signing_key(conn)
        if not settings.seed_demo_residents:
            return
        if conn.execute("SELECT 1 FROM resident LIMIT 1").fetchone() is not None:
            return
        for r in demo_residents(now.date()):
            conn.execute(
                "INSERT INTO resident (resident_id, name, id_number, phone, entitlements) "
                "VALUES (%s, %s, %s, %s, %s)",
                (r.resident_id, r.name, r.id_number, r.phone, list(r.entitlements)))
            for i, lic in enumerate(r.licenses):
                conn.execute(
                    "INSERT INTO license (resident_id, position, kind, title, number, "
                    "valid_until) VALUES (%s, %s, %s, %s, %s, %s)",
                    (r.resident_id, i, lic.kind, lic.title, lic.number, lic.valid_until))
        center = settings.rules.centers[0]
        for a in demo_appointments(now, [c.id for c in center.config.categories]):
            conn.execute(
                "INSERT INTO appointment (appointment_id, center_id, resident_id, category, "
                "starts_at, ends_at) VALUES (%s, %s, %s, %s, %s, %s)",
                (a.appointment_id, center.id, a.resident_id, a.category, a.start, a.end))
