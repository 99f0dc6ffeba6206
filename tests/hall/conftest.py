"""Fixtures of the hall's tests: a real PostgreSQL database and server per test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from kiosk.common.clock import SHANGHAI
from tests.helpers.clock import FakeClock
from tests.helpers.hall import RunningHall, running_hall

# A Monday in the hall's opening hours, and not a holiday in config/hall-calendar.yaml.
OPEN_MONDAY = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OPEN_MONDAY)


@pytest.fixture
def hall(clock: FakeClock) -> Iterator[RunningHall]:
    with running_hall(clock) as h:
        h.add_device("kiosk", "kiosk-1")
        h.add_device("kiosk", "kiosk-2")
        h.add_device("board", "board-1")
        h.add_device("counter", "counter-3", counter_no=3)
        h.tokens["clerk-pw"] = h.add_staff("clerk", "clerk1")
        h.tokens["super-pw"] = h.add_staff("supervisor", "boss")
        yield h
