"""Opening hours: weekdays, lunch breaks, holidays, 调休 workdays and early closings, in
Shanghai time whatever zone the moment is given in."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.common.clock import SHANGHAI
from kiosk.hall.rules.hours import (
    SEARCH_DAYS,
    closes_at,
    is_open,
    next_opening,
    open_periods,
)

CLOSED = {"mon": [], "tue": [], "wed": [], "thu": [], "fri": [], "sat": [], "sun": []}


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def shown(periods: list[tuple[dt.datetime, dt.datetime]]) -> list[str]:
    return [f"{s:%m-%d %H:%M}-{e:%H:%M}" for s, e in periods]


@pytest.fixture
def main(shipped):
    return shipped.center("main")


def test_a_workday(main):
    assert shown(open_periods(main, "social_security", dt.date(2026, 3, 2))) == [
        "03-02 09:00-12:00", "03-02 13:30-17:00"]
    assert not is_open(main, "social_security", at(2026, 3, 2, 8, 59))
    assert is_open(main, "social_security", at(2026, 3, 2, 9, 0))
    assert is_open(main, "social_security", at(2026, 3, 2, 11, 59))
    assert not is_open(main, "social_security", at(2026, 3, 2, 12, 0))  # lunch break
    assert not is_open(main, "social_security", at(2026, 3, 2, 17, 0))  # end excluded
    assert closes_at(main, "social_security", at(2026, 3, 2, 10, 0)) == at(2026, 3, 2, 12, 0)
    assert closes_at(main, "social_security", at(2026, 3, 2, 12, 30)) is None


def test_six_in_the_morning_opens_at_nine_the_same_day(main):
    assert next_opening(main, "social_security", at(2026, 3, 2, 6, 0)) == at(2026, 3, 2, 9, 0)


def test_over_lunch_opens_in_the_afternoon(main):
    assert next_opening(main, "social_security", at(2026, 3, 2, 12, 30)) == (
        at(2026, 3, 2, 13, 30))


def test_while_open_the_next_opening_is_now(main):
    now = at(2026, 3, 2, 10, 17, 5)
    assert next_opening(main, "social_security", now) == now


def test_after_closing_opens_the_next_day(main):
    assert next_opening(main, "social_security", at(2026, 3, 2, 17, 0)) == (
        at(2026, 3, 3, 9, 0))
    # Friday evening: Saturday morning is 周末延时服务 ...
    assert next_opening(main, "social_security", at(2026, 3, 6, 18, 0)) == (
        at(2026, 3, 7, 9, 0))
    # ... which the housing fund does not keep: Monday.
    assert next_opening(main, "housing_fund", at(2026, 3, 6, 18, 0)) == at(2026, 3, 9, 9, 0)
    # Saturday noon: closed until Monday (Sunday is closed).
    assert next_opening(main, "social_security", at(2026, 3, 7, 12, 0)) == (
        at(2026, 3, 9, 9, 0))


def test_a_holiday_opens_the_first_workday_after_it(main):
    assert open_periods(main, "social_security", dt.date(2026, 2, 17)) == []
    assert not is_open(main, "social_security", at(2026, 2, 17, 10, 0))
    # 春节 2026: 15 to 23 February; the 14th (a Saturday) was an adjusted workday before it.
    assert next_opening(main, "social_security", at(2026, 2, 15, 10, 0)) == (
        at(2026, 2, 24, 9, 0))
    # 国庆: closing on 30 September, open again on Thursday 8 October.
    assert next_opening(main, "household", at(2026, 9, 30, 17, 30)) == at(2026, 10, 8, 9, 0)


def test_an_adjusted_saturday_keeps_the_monday_hours(main):
    saturday = dt.date(2026, 2, 14)
    assert saturday.weekday() == 5
    assert shown(open_periods(main, "social_security", saturday)) == [
        "02-14 09:00-12:00", "02-14 13:30-17:00"]
    assert is_open(main, "social_security", at(2026, 2, 14, 15, 0))
    # The housing fund has no weekend hours, but a 调休 Saturday is a workday for it too.
    assert is_open(main, "housing_fund", at(2026, 2, 14, 9, 30))
    # Friday evening before it: open on Saturday morning.
    assert next_opening(main, "housing_fund", at(2026, 2, 13, 17, 30)) == at(2026, 2, 14, 9, 0)
    # An ordinary Saturday afternoon is closed.
    assert not is_open(main, "social_security", at(2026, 3, 7, 15, 0))


def test_closing_early(make_center):
    center = make_center(closed_early=[
        {"category": "housing_fund", "date": "2026-03-06", "at": "15:00"},
        {"category": "housing_fund", "date": "2026-03-06", "at": "16:00"},
        {"category": "social_security", "date": "2026-03-05", "at": "11:00"},
    ])
    assert shown(open_periods(center, "housing_fund", dt.date(2026, 3, 6))) == [
        "03-06 09:00-12:00", "03-06 13:30-15:00"]
    assert closes_at(center, "housing_fund", at(2026, 3, 6, 14, 0)) == at(2026, 3, 6, 15, 0)
    assert not is_open(center, "housing_fund", at(2026, 3, 6, 15, 0))
    assert next_opening(center, "housing_fund", at(2026, 3, 6, 15, 0)) == at(2026, 3, 9, 9, 0)
    # Other categories and days keep their hours.
    assert is_open(center, "social_security", at(2026, 3, 6, 16, 0))
    assert is_open(center, "housing_fund", at(2026, 3, 5, 16, 0))
    # Closing in the morning also closes the afternoon.
    assert shown(open_periods(center, "social_security", dt.date(2026, 3, 5))) == [
        "03-05 09:00-11:00"]
    assert next_opening(center, "social_security", at(2026, 3, 5, 11, 0)) == (
        at(2026, 3, 6, 9, 0))


def test_the_whole_center_closed_for_a_day(make_center):
    center = make_center(closed_early=[{"date": "2026-03-02", "at": "00:00"}])
    for category in ("social_security", "housing_fund"):
        assert open_periods(center, category, dt.date(2026, 3, 2)) == []
        assert next_opening(center, category, at(2026, 3, 2, 8, 0)) == at(2026, 3, 3, 9, 0)


def test_touching_periods_are_one(make_center):
    hours = {**CLOSED, "mon": ["09:00-12:00", "12:00-13:00", "14:00-15:00"]}
    center = make_center(hours=hours)
    assert shown(open_periods(center, "social_security", dt.date(2026, 3, 2))) == [
        "03-02 09:00-13:00", "03-02 14:00-15:00"]
    assert closes_at(center, "social_security", at(2026, 3, 2, 11, 0)) == at(2026, 3, 2, 13, 0)


def test_never_open_within_the_search_is_none(make_center):
    center = make_center(hours=CLOSED)
    assert next_opening(center, "social_security", at(2026, 3, 2, 8, 0)) is None
    # Open on Mondays only, the next nine of them closed and 4 May in 劳动节: the first open
    # day is the 调休 Saturday 9 May (Monday hours), 68 days after 2 March, further than the
    # search looks.
    mondays = make_center(hours={**CLOSED, "mon": ["09:00-10:00"]}, closed_early=[
        {"date": (dt.date(2026, 3, 2) + dt.timedelta(weeks=w)).isoformat(), "at": "00:00"}
        for w in range(9)])
    assert (dt.date(2026, 5, 9) - dt.date(2026, 3, 2)).days > SEARCH_DAYS
    assert next_opening(mondays, "social_security", at(2026, 3, 2, 8, 0)) is None
    assert next_opening(mondays, "social_security", at(2026, 4, 27, 8, 0)) == (
        at(2026, 5, 9, 9, 0))


def test_any_zone_is_read_as_shanghai_time(main):
    utc = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai
    assert is_open(main, "social_security", utc)
    late_utc = dt.datetime(2026, 3, 2, 22, 0, tzinfo=dt.UTC)  # 06:00 on the 3rd
    assert next_opening(main, "social_security", late_utc) == at(2026, 3, 3, 9, 0)


def test_a_naive_time_or_an_unknown_category_is_refused(main):
    with pytest.raises(ValueError, match="naive"):
        is_open(main, "social_security", dt.datetime(2026, 3, 2, 10, 0))
    with pytest.raises(KeyError):
        is_open(main, "no_such_category", at(2026, 3, 2, 10, 0))
