"""The holiday calendar: the shipped 2026 and 2027 days, and a broken file's problems each
at its key."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.common.clock import SHANGHAI
from kiosk.common.datafiles import ConfigFileError
from kiosk.hall.rules.calendar import HallCalendar, load_calendar

D = dt.date


def test_shipped_2026_follows_the_state_council_notice(calendar):
    spring = [D(2026, 2, 15) + dt.timedelta(days=n) for n in range(9)]
    assert all(calendar.day_kind(d) == "holiday" for d in spring)
    assert calendar.day_kind(D(2026, 2, 24)) == "normal"
    assert calendar.day_kind(D(2026, 2, 14)) == "adjusted_workday"
    assert calendar.day_kind(D(2026, 2, 28)) == "adjusted_workday"
    assert calendar.day_kind(D(2026, 10, 7)) == "holiday"
    assert calendar.day_kind(D(2026, 10, 10)) == "adjusted_workday"
    name = calendar.holiday_name(D(2026, 2, 17))
    assert name is not None and name.zh == "春节"
    assert calendar.holiday_name(D(2026, 2, 24)) is None


def test_shipped_years_are_covered(calendar):
    assert calendar.years == [2026, 2027]
    assert calendar.covers(D(2027, 12, 31))
    assert not calendar.covers(D(2028, 1, 1))
    # Beyond the file, a day keeps its weekday's hours.
    assert calendar.day_kind(D(2028, 1, 1)) == "normal"
    for day in calendar.adjusted_workdays:
        assert day.weekday() >= 5


def test_a_datetime_is_refused(calendar):
    with pytest.raises(TypeError):
        calendar.day_kind(dt.datetime(2026, 2, 15, 10, tzinfo=SHANGHAI))


def test_plain_dates_are_one_day_holidays():
    calendar = HallCalendar.model_validate(
        {"years": [2026], "holidays": [D(2026, 3, 3), "2026-03-05"]})
    assert [calendar.day_kind(D(2026, 3, d)) for d in (3, 4, 5)] == [
        "holiday", "normal", "holiday"]


def test_problems_each_at_their_key(write_yaml):
    path = write_yaml("hall-calendar.yaml", {
        "years": [2026, 2026],
        "holidays": [
            {"from": D(2026, 5, 1), "to": D(2026, 5, 5)},
            {"from": D(2026, 5, 4), "to": D(2026, 5, 6)},
            {"from": D(2027, 1, 1), "to": D(2027, 1, 3)},
            {"from": D(2026, 6, 3), "to": D(2026, 6, 1)},
            "2026-02-30",
            {"from": D(2026, 7, 1), "to": D(2026, 8, 31)},
        ],
        "adjusted_workdays": [D(2026, 5, 13), D(2026, 5, 9), D(2026, 5, 9), D(2026, 5, 2)],
    })
    with pytest.raises(ConfigFileError) as info:
        load_calendar(path)
    assert info.value.path == path
    found = dict(info.value.problems)
    # Schema problems first: the checks across keys need a valid file.
    assert "`to` (2026-06-01) is before `from`" in found["holidays[3]"]
    assert "expected a date" in found["holidays[4]"]
    assert "more than 31 days" in found["holidays[5]"]
    assert len(found) == 3

    fixed = write_yaml("hall-calendar.yaml", path.read_text("utf-8").replace(
        "to: 2026-06-01", "to: 2026-06-03").replace("- '2026-02-30'\n", "").replace(
        "to: 2026-08-31", "to: 2026-07-02"))
    with pytest.raises(ConfigFileError) as info:
        load_calendar(fixed)
    found = dict(info.value.problems)
    assert found["years[1]"] == "2026 is listed twice"
    assert found["holidays[1]"] == "overlaps holidays[0]"
    assert "add its year to `years`" in found["holidays[2].from"]
    assert "add its year to `years`" in found["holidays[2].to"]
    assert "Wednesday" in found["adjusted_workdays[0]"]
    assert found["adjusted_workdays[2]"] == "2026-05-09 is listed twice"
    assert found["adjusted_workdays[3]"] == "2026-05-02 is also in holidays[0]"
    assert len(found) == 7
