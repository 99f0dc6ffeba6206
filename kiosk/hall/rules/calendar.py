"""The holiday calendar (config/hall-calendar.yaml): 法定节假日 and 调休 workdays.

The State Council publishes each year's holidays every November; a technician copies them
into the file, which lists whole years (`years:`) so that a missing year is visible. On a
holiday every category is closed; on an adjusted workday (a Saturday or Sunday the notice
makes a workday, 调休上班) the hall keeps the ordinary workday hours, those of Monday, whatever
weekday the day replaces: one rule a resident and a technician can both predict.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from kiosk.domain.text import Bilingual
from kiosk.hall.rules._files import CheckedFile, load_checked_file

DayKind = Literal["holiday", "adjusted_workday", "normal"]

MAX_HOLIDAY_DAYS = 31
"""The longest holiday the file may hold: the longest real one is nine days, so a longer
range is a typing mistake (a wrong month) rather than a holiday."""


class Holiday(BaseModel):
    """Closed days, `from` to `to` inclusive; a plain date in the file is a one-day holiday."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Bilingual | None = None
    first: dt.date = Field(..., alias="from")
    last: dt.date = Field(..., alias="to")

    @model_validator(mode="before")
    @classmethod
    def _single_day(cls, data: Any) -> Any:
        if isinstance(data, str):
            try:
                data = dt.date.fromisoformat(data.strip())
            except ValueError:
                raise ValueError("expected a date YYYY-MM-DD (a day that exists) or "
                                 "{from: YYYY-MM-DD, to: YYYY-MM-DD}") from None
        if isinstance(data, dt.date) and not isinstance(data, dt.datetime):
            return {"from": data, "to": data}
        return data

    @model_validator(mode="after")
    def _in_order(self) -> Holiday:
        if self.last < self.first:
            raise ValueError(f"`to` ({self.last}) is before `from` ({self.first})")
        if (self.last - self.first).days >= MAX_HOLIDAY_DAYS:
            raise ValueError(f"a holiday of more than {MAX_HOLIDAY_DAYS} days: check the dates")
        return self

    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n)
                for n in range((self.last - self.first).days + 1)]


_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                  "Sunday")


class HallCalendar(CheckedFile):
    """The calendar file: the years it covers, their holidays and adjusted workdays."""

    years: list[int] = Field(..., min_length=1)
    holidays: list[Holiday] = Field(default_factory=list)
    adjusted_workdays: list[dt.date] = Field(default_factory=list)
    _kinds: dict[dt.date, DayKind] = PrivateAttr(default_factory=dict)
    _names: dict[dt.date, Bilingual] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        for holiday in self.holidays:
            for day in holiday.days():
                self._kinds[day] = "holiday"
                if holiday.name is not None:
                    self._names[day] = holiday.name
        for day in self.adjusted_workdays:
            self._kinds.setdefault(day, "adjusted_workday")

    def day_kind(self, day: dt.date) -> DayKind:
        """Whether `day` is a holiday, an adjusted workday (调休上班) or a normal day, which
        keeps its weekday's hours. A day outside the listed years is normal."""
        return self._kinds.get(_plain_date(day), "normal")

    def holiday_name(self, day: dt.date) -> Bilingual | None:
        """The name of the holiday `day` falls in, when the file gives one."""
        return self._names.get(_plain_date(day))

    def covers(self, day: dt.date) -> bool:
        """Whether the file lists `day`'s year: beyond it, holidays are unknown."""
        return _plain_date(day).year in self.years

    def cross_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        years = ", ".join(str(y) for y in self.years)
        for i, year in enumerate(self.years):
            if not 2000 <= year <= 2100:
                problems.append((f"years[{i}]", f"not a plausible year: {year}"))
            elif year in self.years[:i]:
                problems.append((f"years[{i}]", f"{year} is listed twice"))
        taken: dict[dt.date, int] = {}
        for i, holiday in enumerate(self.holidays):
            for key, day in (("from", holiday.first), ("to", holiday.last)):
                if day.year not in self.years:
                    problems.append((f"holidays[{i}].{key}", f"{day} is not in the years this "
                                     f"file lists ({years}); add its year to `years`"))
            clash = next((taken[d] for d in holiday.days() if d in taken), None)
            if clash is not None:
                problems.append((f"holidays[{i}]", f"overlaps holidays[{clash}]"))
            for day in holiday.days():
                taken.setdefault(day, i)
        for i, day in enumerate(self.adjusted_workdays):
            key = f"adjusted_workdays[{i}]"
            if day.year not in self.years:
                problems.append((key, f"{day} is not in the years this file lists ({years})"))
            if day.weekday() < 5:
                problems.append((key, f"{day} is a {_WEEKDAY_NAMES[day.weekday()]}: an adjusted "
                                 "workday (调休上班) is a Saturday or Sunday"))
            if day in taken:
                problems.append((key, f"{day} is also in holidays[{taken[day]}]"))
            if day in self.adjusted_workdays[:i]:
                problems.append((key, f"{day} is listed twice"))
        return problems


def _plain_date(day: dt.date) -> dt.date:
    # A datetime is a date to Python but never equal to one: the lookup would silently miss.
    if isinstance(day, dt.datetime):
        raise TypeError("pass a date: which day a datetime falls on depends on its zone")
    return day


def load_calendar(path: Path) -> HallCalendar:
    """Load and validate; raises kiosk.common.datafiles.ConfigFileError with every problem."""
    return load_checked_file(path, HallCalendar)
