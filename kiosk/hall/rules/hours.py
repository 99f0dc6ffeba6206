"""When a category of a center takes numbers: its weekly hours, the holiday calendar and
early closings, as Shanghai times.

A holiday closes every category; an adjusted workday (调休上班, a Saturday or Sunday) keeps
the Monday hours, whatever weekday it stands in for (calendar.py says why); an early closing
cuts the day's periods at its time. Every function takes the moment it reasons about, an
aware datetime in any zone (compared in Shanghai time); a naive one is refused, since it
would silently mean the machine's zone.
"""

from __future__ import annotations

import datetime as dt

from kiosk.common.clock import SHANGHAI
from kiosk.hall.rules.config import CenterRules

SEARCH_DAYS = 60
"""How far ahead next_opening looks: past the longest holiday with room to spare, and a
category closed for longer is closed "until further notice" (None)."""

MONDAY = 0

OpenPeriods = list[tuple[dt.datetime, dt.datetime]]


def _shanghai(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a naive datetime has no zone: pass an aware one "
                         "(kiosk.common.clock.SHANGHAI)")
    return at.astimezone(SHANGHAI)


def open_periods(center: CenterRules, category_id: str, day: dt.date) -> OpenPeriods:
    """The category's open periods on `day` (start included, end excluded), in order, with
    touching periods joined; empty on a holiday or a closed weekday. KeyError for a
    category the center does not have."""
    config = center.config
    hours = config.hours_of(category_id)
    kind = center.calendar.day_kind(day)
    if kind == "holiday":
        return []
    weekday = MONDAY if kind == "adjusted_workday" else day.weekday()
    cutoff = config.closing_early(category_id, day)
    periods: OpenPeriods = []
    for period in hours.on(weekday):
        end = period.end if cutoff is None else min(period.end, cutoff)
        if end <= period.start:
            continue
        start_at = dt.datetime.combine(day, period.start, tzinfo=SHANGHAI)
        end_at = dt.datetime.combine(day, end, tzinfo=SHANGHAI)
        if periods and periods[-1][1] == start_at:
            periods[-1] = (periods[-1][0], end_at)
        else:
            periods.append((start_at, end_at))
    return periods


def is_open(center: CenterRules, category_id: str, at: dt.datetime) -> bool:
    """Whether the category takes numbers at `at`."""
    return closes_at(center, category_id, at) is not None


def closes_at(center: CenterRules, category_id: str, at: dt.datetime) -> dt.datetime | None:
    """When the open period holding `at` ends; None when the category is closed at `at`."""
    local = _shanghai(at)
    for start, end in open_periods(center, category_id, local.date()):
        if start <= local < end:
            return end
    return None


def next_opening(center: CenterRules, category_id: str,
                 at: dt.datetime) -> dt.datetime | None:
    """The first moment at or after `at` when the category is open: `at` itself while it is
    open, else the start of its next period (the first day after a holiday, say); None when
    it stays closed for the next SEARCH_DAYS days."""
    local = _shanghai(at)
    for offset in range(SEARCH_DAYS + 1):
        day = local.date() + dt.timedelta(days=offset)
        for start, end in open_periods(center, category_id, day):
            if end > local:
                return max(start, local)
    return None
