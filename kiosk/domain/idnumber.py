"""Mainland resident ID numbers (GB 11643): check digit, birth date, age.

Used only to derive facts (age for the 80+ priority lane); the number itself is never shown
unmasked, printed or logged (see masking.py).
"""

from __future__ import annotations

import datetime as dt
import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^[1-9][0-9]{16}[0-9X]$")


class InvalidIdNumber(ValueError):
    pass


def check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def is_valid(number: str) -> bool:
    try:
        birth_date(number)
    except InvalidIdNumber:
        return False
    return True


def birth_date(number: str) -> dt.date:
    """The birth date encoded in digits 7-14; raises InvalidIdNumber for a bad number."""
    n = number.strip().upper()
    if not _SHAPE.match(n):
        raise InvalidIdNumber("expected 17 digits and a digit or X")
    if check_digit(n[:17]) != n[17]:
        raise InvalidIdNumber("check digit does not match")
    try:
        return dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        raise InvalidIdNumber("birth date is not a real date") from None


def age_on(number: str, day: dt.date) -> int:
    born = birth_date(number)
    years = day.year - born.year
    if (day.month, day.day) < (born.month, born.day):
        years -= 1
    return years
