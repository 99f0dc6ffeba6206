"""`kiosk.common.clock`: Shanghai time, with or without a tz database."""

from __future__ import annotations

import datetime as dt
import importlib.util
import zoneinfo

import pytest

import kiosk.common.clock
from kiosk.common.clock import SHANGHAI, shanghai_now

EIGHT_HOURS = dt.timedelta(hours=8)


def test_shanghai_now_is_aware_and_eight_hours_ahead_of_utc() -> None:
    now = shanghai_now()
    assert now.tzinfo is SHANGHAI
    assert now.utcoffset() == EIGHT_HOURS


def test_without_a_tz_database_shanghai_is_a_fixed_utc_plus_8(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(key: str) -> zoneinfo.ZoneInfo:
        raise zoneinfo.ZoneInfoNotFoundError(key)

    monkeypatch.setattr(zoneinfo, "ZoneInfo", missing)
    # A private copy of the module, so the SHANGHAI every other module holds stays the same.
    spec = importlib.util.spec_from_file_location("_clock_without_tzdata",
                                                  kiosk.common.clock.__file__)
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    assert isinstance(copy.SHANGHAI, dt.timezone)
    for day in (dt.datetime(2026, 1, 15, 12), dt.datetime(2026, 7, 15, 12)):  # no DST
        assert copy.SHANGHAI.utcoffset(day) == EIGHT_HOURS
    assert copy.shanghai_now().utcoffset() == EIGHT_HOURS
