"""`kiosk.common.jsonable`: the one conversion both ends of the wire use."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from kiosk.common.clock import SHANGHAI
from kiosk.common.jsonable import jsonable


@dataclasses.dataclass(frozen=True)
class _Inner:
    day: dt.date
    at: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class _Outer:
    name: str
    items: tuple[_Inner, ...]
    extra: dict[str, object]


def test_a_date_becomes_its_iso_day() -> None:
    assert jsonable(dt.date(2026, 11, 3)) == "2026-11-03"


def test_a_datetime_keeps_its_time_and_offset() -> None:
    at = dt.datetime(2026, 11, 3, 9, 30, 5, tzinfo=SHANGHAI)
    assert jsonable(at) == "2026-11-03T09:30:05+08:00"
    # A datetime is also a date: it must not be cut down to its day.
    assert jsonable(dt.datetime(2026, 11, 3, 9, 30)) == "2026-11-03T09:30:00"


def test_nested_values_are_converted_at_every_depth() -> None:
    at = dt.datetime(2026, 11, 3, 9, 30, tzinfo=SHANGHAI)
    value = _Outer(
        name="证照",
        items=(_Inner(dt.date(2027, 1, 31), at), _Inner(dt.date(2026, 12, 1), None)),
        extra={"days": [dt.date(2026, 11, 4), (1, 2)], "none": None, "n": 1.5},
    )
    expected = {
        "name": "证照",
        "items": [
            {"day": "2027-01-31", "at": "2026-11-03T09:30:00+08:00"},
            {"day": "2026-12-01", "at": None},
        ],
        "extra": {"days": ["2026-11-04", [1, 2]], "none": None, "n": 1.5},
    }
    assert jsonable(value) == expected
    assert json.loads(json.dumps(jsonable(value))) == expected


def test_a_dataclass_type_and_plain_values_pass_through() -> None:
    assert jsonable(_Inner) is _Inner
    for plain in ("text", 3, 2.5, True, None):
        assert jsonable(plain) == plain
