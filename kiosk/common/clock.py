"""The hall's clock: Shanghai time, the one time zone this software works in.

Holds `SHANGHAI` (the zone), `shanghai_now` (the default clock) and `Clock`, the type of the
clock every time-reading constructor takes so that tests can inject a fake one. Queue days,
appointment windows and receipts are all Shanghai dates, whatever zone the machine is set to.

Imports only the standard library, so every layer may import it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    SHANGHAI: dt.tzinfo = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:
    # Slim images ship neither /usr/share/zoneinfo nor the tzdata wheel (it is not one of our
    # dependencies), and ZoneInfo then raises at import. A fixed UTC+8 is exact for every
    # date this software handles: Shanghai has had no daylight saving time since 1991.
    SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

Clock: TypeAlias = Callable[[], dt.datetime]


def shanghai_now() -> dt.datetime:
    """The current time, aware, in Shanghai."""
    return dt.datetime.now(SHANGHAI)
