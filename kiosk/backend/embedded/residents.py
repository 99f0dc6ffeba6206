"""Residents in the embedded database: who a personal code belongs to, and their licenses;
and the licenses of the people they may apply for (person_licenses)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from kiosk.backend.embedded.base import EmbeddedStore
from kiosk.backend.interface import License, Resident


def _mask(number: str) -> str:
    """Keep a quarter (at most 4 characters) at each end.

    For an 18-character ID number that shows the first 4 and last 4, so the birth date
    (digits 7-14) never appears.
    """
    keep = min(4, len(number) // 4)
    if keep == 0:
        return "*" * len(number)
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[-keep:]


class Residents(EmbeddedStore):
    """Looks residents and their electronic licenses up; writes nothing."""

    def identify(self, resident_id: str, code: str = "") -> Resident | None:
        # The kiosk verified the code against its own keys: this database is the kiosk's.
        del code
        with self._errors():
            row = self._conn().execute(
                "SELECT * FROM residents WHERE resident_id = ?", (resident_id,)
            ).fetchone()
        if row is None:
            return None
        return self._resident(row)

    @staticmethod
    def _resident(row: sqlite3.Row) -> Resident:
        return Resident(
            resident_id=row["resident_id"],
            name=row["name"],
            id_number=row["id_number"],
            phone=row["phone"],
            entitlements=tuple(json.loads(row["entitlements"])),
        )

    def identify_by_id_card(self, id_number: str, name: str) -> Resident | None:
        # The reader's security module verified the card; this database is the kiosk's own.
        # The name must agree too: a number read wrongly never lands on someone else.
        with self._errors():
            row = self._conn().execute(
                "SELECT * FROM residents WHERE id_number = ?", (id_number.strip().upper(),)
            ).fetchone()
        if row is None or row["name"].strip() != name.strip():
            return None
        return self._resident(row)

    def licenses(self, resident_id: str) -> list[License]:
        with self._errors():
            rows = self._conn().execute(
                "SELECT kind, title, number, valid_until FROM licenses"
                " WHERE resident_id = ? ORDER BY position",
                (resident_id,),
            ).fetchall()
        return [_license(r) for r in rows]

    def person_licenses(self, resident_id: str, id_number: str) -> list[License]:
        number = "".join(id_number.split()).upper()
        with self._errors():
            rows = self._conn().execute(
                "SELECT l.kind, l.title, l.number, l.valid_until FROM person_licenses l"
                " JOIN person_relatives r ON r.id_number = l.id_number"
                " WHERE r.resident_id = ? AND l.id_number = ? ORDER BY l.position",
                (resident_id, number),
            ).fetchall()
        return [_license(r) for r in rows]


def _license(row: sqlite3.Row) -> License:
    """A license row (the resident's or another person's) as a kiosk shows it: masked."""
    return License(
        kind=row["kind"],
        title=row["title"],
        number_masked=_mask(row["number"]),
        valid_until=dt.date.fromisoformat(row["valid_until"]) if row["valid_until"] else None,
    )
