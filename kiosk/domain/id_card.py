"""The resident ID card (居民身份证) as its chip tells it, and whether it is in force.

A card read by the reader (kiosk.hardware.id_card) is an identity just as a verified 随申码
is: its ID number finds the resident. What the chip holds is personal data: an `IdCard` never
shows it in a repr or a log line, and nothing keeps one beyond the lookup.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

# GB/T 2261.1 sex codes as the chip stores them.
SEX_CODES = {"0": "unknown", "1": "male", "2": "female", "9": "unstated"}


class CardValidity(Enum):
    VALID = "valid"
    EXPIRED = "expired"  # 有效期限 ended before today
    NOT_YET_VALID = "not_yet_valid"  # issued with a start in the future: a wrong clock or card


@dataclass(frozen=True)
class IdCard:
    """The base information of one card; the photo is not read."""

    name: str
    sex: str  # "1" male, "2" female (SEX_CODES)
    ethnic_code: str  # "01" 汉 ... (GB/T 3304)
    birth_date: dt.date
    address: str
    id_number: str
    authority: str  # 签发机关
    valid_from: dt.date
    valid_until: dt.date | None  # None: 长期 (valid for life)

    def validity(self, today: dt.date) -> CardValidity:
        """A card is in force from its first to its last day, both included."""
        if today < self.valid_from:
            return CardValidity.NOT_YET_VALID
        if self.valid_until is not None and today > self.valid_until:
            return CardValidity.EXPIRED
        return CardValidity.VALID

    def __repr__(self) -> str:
        # A card that ends up in a traceback or a log line says nothing about its holder.
        return "IdCard(<personal data withheld>)"
