"""Residents in the embedded database: who a personal code belongs to, and their licenses."""

from __future__ import annotations

import datetime as dt
import json

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
        return Resident(
            resident_id=row["resident_id"],
            name=row["name"],
            id_number=row["id_number"],
            phone=row["phone"],
            entitlements=tuple(json.loads(row["entitlements"])),
        )

    def licenses(self, resident_id: str) -> list[License]:
        with self._errors():
            rows = self._conn().execute(
                "SELECT kind, title, number, valid_until FROM licenses"
                " WHERE resident_id = ? ORDER BY position",
                (resident_id,),
            ).fetchall()
        return [
            License(
                kind=r["kind"],
                title=r["title"],
                number_masked=_mask(r["number"]),
                valid_until=dt.date.fromisoformat(r["valid_until"]) if r["valid_until"] else None,
            )
            for r in rows
        ]
