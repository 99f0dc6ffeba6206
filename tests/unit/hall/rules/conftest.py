"""The shipped hall files, and a small center built from data for the rules' tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kiosk.hall.rules.calendar import HallCalendar, load_calendar
from kiosk.hall.rules.config import CenterRules, HallFile, HallRules, load_hall_rules
from tests.helpers.paths import CONFIG_DIR

HALL_FILE = CONFIG_DIR / "hall.yaml"
CALENDAR_FILE = CONFIG_DIR / "hall-calendar.yaml"

WORKDAY = ["09:00-12:00", "13:30-17:00"]

CENTER: dict[str, Any] = {
    "id": "test",
    "name": {"zh": "测试中心", "en": "Test Center"},
    "categories": [
        {"id": "social_security", "prefix": "A", "title": {"zh": "社保", "en": "Social"},
         "default_minutes_per_ticket": 8},
        {"id": "housing_fund", "prefix": "E", "title": {"zh": "公积金", "en": "Fund"},
         "default_minutes_per_ticket": 9, "daily_cap": 50,
         "hours": {"mon": WORKDAY, "tue": WORKDAY, "wed": WORKDAY, "thu": WORKDAY,
                   "fri": WORKDAY, "sat": [], "sun": []}},
    ],
    "counters": [
        {"number": 1, "name": {"zh": "1号窗口", "en": "Counter 1"},
         "categories": ["social_security", "housing_fund"]},
    ],
    "hours": {"mon": WORKDAY, "tue": WORKDAY, "wed": WORKDAY, "thu": WORKDAY,
              "fri": WORKDAY, "sat": ["09:00-12:00"], "sun": []},
}


def center_data() -> dict[str, Any]:
    """A fresh copy of a valid center, for a test to change."""
    return copy.deepcopy(CENTER)


@pytest.fixture
def hall_data() -> dict[str, Any]:
    return {"centers": [center_data()]}


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[str, Any], Path]:
    def write(name: str, data: Any) -> Path:
        path = tmp_path / name
        text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def shipped() -> HallRules:
    return load_hall_rules(HALL_FILE, CALENDAR_FILE)


@pytest.fixture(scope="session")
def calendar() -> HallCalendar:
    return load_calendar(CALENDAR_FILE)


@pytest.fixture
def make_center(calendar: HallCalendar) -> Callable[..., CenterRules]:
    """A center from CENTER with top-level keys replaced, checked as the file's would be, on
    the shipped calendar."""

    def make(**changes: Any) -> CenterRules:
        data = center_data()
        data.update(changes)
        return CenterRules(HallFile.model_validate({"centers": [data]}).centers[0], calendar)

    return make
