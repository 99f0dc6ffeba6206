"""How long a resident will wait, and how many numbers a category may still give today.

The estimate is what a ticket and a board show ("前面还有 4 人，约 12 分钟"): the tickets
ahead (fairness.ahead_of) times the time one takes, shared by the counters open now. The time
one takes is measured when there is enough to measure (at least MIN_SAMPLES services in the
last hour, selected by the caller) and otherwise the category's configured default: three
services are few, but a morning's first resident should not see an estimate from yesterday.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MIN_SAMPLES = 3
"""Measured service times needed before their mean replaces the configured default."""


def service_minutes(recent_service_minutes: Sequence[float], default_minutes: float) -> float:
    """Minutes one service takes: the mean of the recent measured ones when there are at
    least MIN_SAMPLES usable ones (finite, not negative), else `default_minutes`."""
    usable = [m for m in recent_service_minutes if math.isfinite(m) and m >= 0]
    if len(usable) >= MIN_SAMPLES:
        return sum(usable) / len(usable)
    return default_minutes


def estimated_wait_min(ahead: int, recent_service_minutes: Sequence[float],
                       default_minutes: float, open_counters: int) -> int:
    """Whole minutes until a ticket with `ahead` tickets before it is called, rounded up;
    0 only when nobody is ahead. With no counter open the one that opens serves alone."""
    if ahead <= 0:
        return 0
    per_ticket = service_minutes(recent_service_minutes, default_minutes)
    minutes = ahead * per_ticket / max(1, open_counters)
    # Rounded to a millionth of a minute first: 5 tickets at the mean of 4.5, 4.6 and 4.7
    # minutes is 23.000000000000004 in floating point, and a board must not say 24.
    return max(1, math.ceil(round(minutes, 6)))


def remaining_today(cap: int, issued_today: int) -> int | None:
    """Numbers the category may still give today; None when it has no cap (cap 0)."""
    if cap <= 0:
        return None
    return max(0, cap - issued_today)
