"""Made-up resident ID numbers with a correct check digit, for tests that need valid ones."""

from __future__ import annotations

from kiosk.domain import idnumber


def make_id(birth: str, region: str = "310104", seq: str = "123") -> str:
    """An 18-digit ID number born on `birth` (YYYYMMDD) whose check digit is right."""
    first17 = region + birth + seq
    return first17 + idnumber.check_digit(first17)
