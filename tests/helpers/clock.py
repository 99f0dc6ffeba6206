"""The one fake clock of the test tree, and the moments tests start it at."""

from __future__ import annotations

import datetime as dt

from kiosk.common.clock import SHANGHAI

MONDAY_MORNING = dt.datetime(2024, 6, 3, 10, 0, tzinfo=SHANGHAI)


class FakeClock:
    """A clock that moves only when the test moves it.

    Calling it gives the time as a datetime, the shape of `kiosk.common.clock.Clock`; its
    `time` method gives epoch seconds, the shape of `time.time`, for the parts that count in
    seconds (the outbox's retry times, the PIN lockout): pass `clock.time` to those.
    """

    def __init__(self, start: dt.datetime | float) -> None:
        # Kept as given (zone included): some tests hand the code a UTC time on purpose.
        self.now = (start if isinstance(start, dt.datetime)
                    else dt.datetime.fromtimestamp(start, SHANGHAI))

    def __call__(self) -> dt.datetime:
        return self.now

    def time(self) -> float:
        return self.now.timestamp()

    @property
    def seconds(self) -> float:
        """The time in epoch seconds; set it (or `+=` it) to move the clock."""
        return self.now.timestamp()

    @seconds.setter
    def seconds(self, value: float) -> None:
        self.now = dt.datetime.fromtimestamp(value, SHANGHAI)

    def advance(self, **delta: float) -> None:
        """Move on (or back, with negative values) by `datetime.timedelta(**delta)`."""
        self.now += dt.timedelta(**delta)

    def at(self, day: dt.date, hour: int, minute: int = 0) -> None:
        """Set the clock to a Shanghai wall-clock time."""
        self.now = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)
