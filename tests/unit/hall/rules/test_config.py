"""The hall rules file: the shipped one loads and matches the kiosk catalog; a broken one is
refused with every problem, each named by file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from kiosk.common.datafiles import ConfigFileError
from kiosk.domain.catalog import load_catalog
from kiosk.hall.rules.config import HallFile, Period, load_hall_rules
from kiosk.hall.rules.fairness import FairnessParams
from tests.helpers.paths import CATALOG_FILE
from tests.unit.hall.rules.conftest import CALENDAR_FILE, center_data


def refused(path: Path, calendar: Path = CALENDAR_FILE) -> ConfigFileError:
    """The error loading `path` with `calendar`, which must name the file at fault."""
    with pytest.raises(ConfigFileError) as info:
        load_hall_rules(path, calendar)
    assert info.value.path in (path, calendar)
    return info.value


def problems(error: ConfigFileError) -> dict[str, str]:
    return dict(error.problems)


def test_shipped_file_loads_with_a_center_by_id(shipped):
    center = shipped.center("main")
    assert center.id == "main"
    assert [c.number for c in center.config.counters] == list(range(1, 12))
    assert center.fairness == FairnessParams(max_priority_streak=3, ordinary_wait_limit_min=20)
    assert center.config.fairness.no_show_return_min == 30
    assert center.config.fairness.offline_lease_size == 20
    assert [c.id for c in shipped.centers] == ["main"]
    with pytest.raises(KeyError):
        shipped.center("nowhere")


def test_shipped_categories_are_the_kiosk_catalogs(shipped):
    catalog = load_catalog(CATALOG_FILE)
    for center in shipped.centers:
        assert center.config.priority_prefix == catalog.priority_prefix
        for category in center.config.categories:
            # A kiosk prints the catalog's prefix; the hall must count the same series.
            assert catalog.get(category.id).prefix == category.prefix, category.id
    # Every category a kiosk offers has its queue at the hall: a number the hall does not
    # know would be a promise nobody calls.
    ids = {c.id: c.prefix for c in shipped.center("main").config.categories}
    assert ids == {c.id: c.prefix for c in catalog.categories}


def test_shipped_hours(shipped):
    config = shipped.center("main").config
    assert [str(p) for p in config.hours.mon] == ["09:00-12:00", "13:30-17:00"]
    assert [str(p) for p in config.hours.sat] == ["09:00-12:00"]
    assert config.hours.sun == ()
    assert config.hours_of("housing_fund").sat == ()
    assert config.hours_of("social_security") is config.hours


def test_lookups_and_series(make_center):
    config = make_center().config
    assert config.category("housing_fund").daily_cap == 50
    assert config.category("social_security").daily_cap == 0
    assert config.counter(1).categories == ["social_security", "housing_fund"]
    assert config.series("social_security", priority=False) == "A"
    assert config.series("social_security", priority=True) == "YA"
    with pytest.raises(KeyError):
        config.category("household")
    with pytest.raises(KeyError):
        config.counter(2)


def test_fairness_defaults_when_left_out(make_center):
    fairness = make_center().config.fairness
    assert (fairness.max_priority_streak, fairness.ordinary_wait_limit_min,
            fairness.no_show_return_min, fairness.offline_lease_size) == (3, 20, 30, 20)


def test_schema_problems_name_file_and_key(write_yaml, hall_data):
    center = hall_data["centers"][0]
    center["categories"][0]["prefix"] = "a"
    center["categories"][0]["daly_cap"] = 3
    del center["categories"][1]["default_minutes_per_ticket"]
    center["counters"][0]["number"] = 0
    center["fairness"] = {"max_priority_streak": 0}
    path = write_yaml("hall.yaml", hall_data)
    error = refused(path)
    assert error.path == path
    found = problems(error)
    assert "pattern" in found["centers[0].categories[0].prefix"]
    assert "unknown key" in found["centers[0].categories[0].daly_cap"]
    assert found["centers[0].categories[1].default_minutes_per_ticket"] == (
        "required key is missing")
    assert "greater than or equal to 1" in found["centers[0].counters[0].number"]
    assert "greater than or equal to 1" in found["centers[0].fairness.max_priority_streak"]
    assert len(found) == 5
    message = str(error)
    assert "hall.yaml" in message and "centers[0].categories[0].daly_cap" in message


def test_problems_across_keys_are_reported_at_once(write_yaml, hall_data):
    center = hall_data["centers"][0]
    center["categories"][1]["prefix"] = "A"
    center["counters"].append({"number": 1, "name": {"zh": "窗口", "en": "Counter"},
                               "categories": ["social_security", "household",
                                              "social_security"]})
    center["closed_early"] = [{"category": "civil_affairs", "date": "2026-03-06",
                               "at": "15:00"}]
    hall_data["centers"].append(center_data())
    found = problems(refused(write_yaml("hall.yaml", hall_data)))
    assert "also the prefix of social_security" in found["centers[0].categories[1].prefix"]
    assert "duplicate counter number 1" in found["centers[0].counters[1].number"]
    assert "unknown category 'household'" in found["centers[0].counters[1].categories[1]"]
    assert "social_security, housing_fund" in found["centers[0].counters[1].categories[1]"]
    assert "listed twice" in found["centers[0].counters[1].categories[2]"]
    assert "unknown category 'civil_affairs'" in found["centers[0].closed_early[0].category"]
    assert "duplicate center id 'test'" in found["centers[1].id"]
    assert len(found) == 6


def test_priority_prefix_must_differ_from_the_categories(write_yaml, hall_data):
    hall_data["centers"][0]["priority_prefix"] = "A"
    found = problems(refused(write_yaml("hall.yaml", hall_data)))
    assert "priority prefix" in found["centers[0].categories[0].prefix"]


def test_period_problems(write_yaml, hall_data):
    hours = hall_data["centers"][0]["hours"]
    hours["mon"] = ["09:00-12:00", "11:30-13:00", "12:45-14:00"]
    hours["tue"] = ["12:00-09:00"]
    hours["wed"] = ["9-12"]
    hours["thu"] = ["09:00-24:00"]
    del hours["sun"]
    found = problems(refused(write_yaml("hall.yaml", hall_data)))
    assert found["centers[0].hours.mon"] == (
        "periods overlap: 09:00-12:00 and 11:30-13:00; 11:30-13:00 and 12:45-14:00")
    assert "ends at or before it starts" in found["centers[0].hours.tue[0]"]
    assert '"HH:MM-HH:MM"' in found["centers[0].hours.wed[0]"]
    assert "not a time of day" in found["centers[0].hours.thu[0]"]
    assert found["centers[0].hours.sun"] == "required key is missing"
    assert len(found) == 5


def test_an_unquoted_time_gets_a_hint(write_yaml, hall_data):
    hall_data["centers"][0]["closed_early"] = [
        {"category": "housing_fund", "date": "2026-03-06", "at": "15:00"}]
    text = yaml.safe_dump(hall_data, allow_unicode=True)
    assert "at: '15:00'" in text
    # Unquoted, YAML 1.1 reads 15:00 as a base-60 number: 900.
    found = problems(refused(write_yaml("hall.yaml", text.replace("at: '15:00'", "at: 15:00"))))
    assert 'in quotes ("15:00")' in found["centers[0].closed_early[0].at"]


def test_periods_are_sorted(make_center):
    hours = make_center(hours={"mon": ["13:30-17:00", "09:00-12:00"], "tue": [], "wed": [],
                               "thu": [], "fri": [], "sat": [], "sun": []}).config.hours
    assert [str(p) for p in hours.mon] == ["09:00-12:00", "13:30-17:00"]
    assert isinstance(hours.mon[0], Period)


def test_a_broken_calendar_names_the_calendar_file(write_yaml, hall_data):
    hall = write_yaml("hall.yaml", hall_data)
    calendar = write_yaml("hall-calendar.yaml", {"years": [2026], "holidays": ["2026-13-01"]})
    error = refused(hall, calendar)
    assert error.path == calendar
    assert "holidays[0]" in problems(error)


def test_a_missing_file_is_named(tmp_path):
    error = refused(tmp_path / "hall.yaml")
    assert problems(error) == {"": "file not found"}


def test_an_empty_file_asks_for_centers(write_yaml):
    assert problems(refused(write_yaml("hall.yaml", ""))) == {
        "centers": "required key is missing"}


def test_a_model_built_in_code_is_checked_too(hall_data):
    hall_data["centers"][0]["counters"][0]["categories"] = ["nope"]
    with pytest.raises(ValidationError, match=r"counters\[0\]\.categories\[0\]: unknown"):
        HallFile.model_validate(hall_data)
