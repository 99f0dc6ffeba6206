"""The hall rules file (config/hall.yaml): each center's categories, counters, hours and
fairness settings, and the loader that reads it with the holiday calendar.

Staff and technicians edit the file; `load_hall_rules` refuses a broken one with a message
naming the file, each key and what was expected, every problem at once. The category ids
are the kiosk catalog's (config/catalog.yaml), so a kiosk's ticket and the hall's queue
speak of the same categories.

Times in the file are Shanghai wall-clock times written in quotes ("09:00-12:00"): unquoted,
YAML reads 13:30 as the number 810 (a base-60 integer), which the schema refuses with a hint.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, field_validator

from kiosk.domain.text import Bilingual
from kiosk.hall.rules._files import CheckedFile, load_checked_file
from kiosk.hall.rules.calendar import HallCalendar, load_calendar
from kiosk.hall.rules.fairness import FairnessParams

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""The schedule's keys, in the order of datetime.date.weekday()."""


class Period(NamedTuple):
    """One opening period of a day, start included, end excluded."""

    start: dt.time
    end: dt.time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


_CLOCK = r"([0-9]{1,2}):([0-9]{2})"
_CLOCK_RE = re.compile(rf"^\s*{_CLOCK}\s*$")
_PERIOD_RE = re.compile(rf"^\s*{_CLOCK}\s*-\s*{_CLOCK}\s*$")


def _unquoted_hint(value: int) -> str:
    hours, minutes = divmod(value, 60)
    if 0 <= hours < 24:
        return (f'; write the time in quotes ("{hours:02d}:{minutes:02d}"): unquoted, YAML '
                "reads it as a number")
    return ""


def _clock(hours: str, minutes: str) -> dt.time:
    h, m = int(hours), int(minutes)
    if h > 23 or m > 59:
        raise ValueError(f"{hours}:{minutes} is not a time of day (00:00 to 23:59)")
    return dt.time(h, m)


def _parse_clock(value: object) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError('expected a time "HH:MM"' + _unquoted_hint(value))
    match = _CLOCK_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError('expected a time "HH:MM" in quotes, like "15:00"')
    return _clock(*match.groups())


def _parse_period(value: object) -> Period:
    if isinstance(value, Period):
        return value
    match = _PERIOD_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError('expected a period "HH:MM-HH:MM" in quotes, like "09:00-12:00"')
    h1, m1, h2, m2 = match.groups()
    period = Period(_clock(h1, m1), _clock(h2, m2))
    if period.end <= period.start:
        raise ValueError("the period ends at or before it starts")
    return period


Clock = Annotated[dt.time, PlainValidator(_parse_clock),
                  PlainSerializer(lambda t: f"{t:%H:%M}", return_type=str)]
PeriodText = Annotated[Period, PlainValidator(_parse_period),
                       PlainSerializer(str, return_type=str)]
DayPeriods = tuple[PeriodText, ...]


class WeeklyHours(BaseModel):
    """Opening periods for each weekday; every day is written, `[]` for a closed one, so a
    forgotten day is an error rather than a day closed by accident."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    mon: DayPeriods
    tue: DayPeriods
    wed: DayPeriods
    thu: DayPeriods
    fri: DayPeriods
    sat: DayPeriods
    sun: DayPeriods

    @field_validator(*WEEKDAYS)
    @classmethod
    def _apart(cls, periods: tuple[Period, ...]) -> tuple[Period, ...]:
        ordered = tuple(sorted(periods))
        overlapping = [f"{a} and {b}" for a, b in itertools.pairwise(ordered)
                       if b.start < a.end]
        if overlapping:
            raise ValueError(f"periods overlap: {'; '.join(overlapping)}")
        return ordered

    def on(self, weekday: int) -> tuple[Period, ...]:
        """The periods of a weekday numbered as datetime.date.weekday() (Monday 0)."""
        periods: tuple[Period, ...] = getattr(self, WEEKDAYS[weekday])
        return periods


class CategoryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(..., pattern=r"^[a-z0-9_]{1,32}$")
    prefix: str = Field(..., pattern=r"^[A-Z]$")
    title: Bilingual
    default_minutes_per_ticket: float = Field(..., gt=0, le=240)
    daily_cap: int = Field(0, ge=0, le=100_000)
    """Numbers the category gives a day; 0 for no cap."""
    hours: WeeklyHours | None = None
    """This category's own hours; None keeps the center's."""


class CounterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    number: int = Field(..., ge=1, le=999)
    name: Bilingual
    categories: list[str] = Field(..., min_length=1)
    """Category ids in the order the counter serves them (fairness.choose_next)."""


class EarlyClosing(BaseModel):
    """A category (or, without `category`, the whole center) closing early on one day;
    `at: "00:00"` keeps it closed that day."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    category: str | None = None
    date: dt.date
    at: Clock


class FairnessConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    max_priority_streak: int = Field(3, ge=1, le=100)
    ordinary_wait_limit_min: int = Field(20, ge=0, le=24 * 60)
    no_show_return_min: int = Field(30, ge=0, le=24 * 60)
    """How long after being called a no-show ticket may still return to the queue."""
    offline_lease_size: int = Field(20, ge=0, le=1000)
    """Numbers a kiosk holds in reserve to issue while the server is unreachable."""

    def params(self) -> FairnessParams:
        return FairnessParams(max_priority_streak=self.max_priority_streak,
                              ordinary_wait_limit_min=self.ordinary_wait_limit_min)


class CenterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(..., pattern=r"^[a-z0-9_-]{1,32}$")
    name: Bilingual
    priority_prefix: str = Field("Y", pattern=r"^[A-Z]$")
    """Put before the category prefix on a priority number (YA003)."""
    categories: list[CategoryConfig] = Field(..., min_length=1)
    counters: list[CounterConfig] = Field(..., min_length=1)
    hours: WeeklyHours
    closed_early: list[EarlyClosing] = Field(default_factory=list)
    fairness: FairnessConfig = Field(default_factory=FairnessConfig)
    announce_languages: list[Literal["zh", "en"]] = Field(["zh", "en"], max_length=2)
    """The languages the calling board speaks a call in, in order, each twice after the
    chime; [] for the chime alone."""

    @field_validator("announce_languages")
    @classmethod
    def _once_each(cls, languages: list[str]) -> list[str]:
        if len(set(languages)) != len(languages):
            raise ValueError("each language once: the board already says every call twice")
        return languages

    def category(self, category_id: str) -> CategoryConfig:
        for c in self.categories:
            if c.id == category_id:
                return c
        raise KeyError(category_id)

    def counter(self, number: int) -> CounterConfig:
        for c in self.counters:
            if c.number == number:
                return c
        raise KeyError(number)

    def hours_of(self, category_id: str) -> WeeklyHours:
        """The category's weekly hours: its own, else the center's."""
        return self.category(category_id).hours or self.hours

    def closing_early(self, category_id: str, day: dt.date) -> dt.time | None:
        """The earliest early closing of the category (or the whole center) on `day`."""
        times = [c.at for c in self.closed_early
                 if c.date == day and c.category in (None, category_id)]
        return min(times, default=None)

    def series(self, category_id: str, priority: bool) -> str:
        """The number series of a ticket: the category prefix ("A"), with the priority
        prefix before it for a priority ticket ("YA")."""
        prefix = self.category(category_id).prefix
        return self.priority_prefix + prefix if priority else prefix

    def problems(self, key: str) -> list[tuple[str, str]]:
        """Problems across this center's keys, each at its key path under `key`."""
        problems: list[tuple[str, str]] = []
        ids = [c.id for c in self.categories]
        known = ", ".join(ids)
        for i, c in enumerate(self.categories):
            if c.id in ids[:i]:
                problems.append((f"{key}.categories[{i}].id", f"duplicate category {c.id!r}"))
            other = next((o for o in self.categories[:i] if o.prefix == c.prefix), None)
            if other is not None:
                problems.append((f"{key}.categories[{i}].prefix", f"prefix {c.prefix!r} is "
                                 f"also the prefix of {other.id}: each needs its own"))
            if c.prefix == self.priority_prefix:
                problems.append((f"{key}.categories[{i}].prefix", f"prefix {c.prefix!r} is "
                                 "the priority prefix: a resident could not tell this "
                                 "category's numbers from priority ones"))
        numbers = [c.number for c in self.counters]
        for i, counter in enumerate(self.counters):
            if counter.number in numbers[:i]:
                problems.append((f"{key}.counters[{i}].number",
                                 f"duplicate counter number {counter.number}"))
            for j, category in enumerate(counter.categories):
                where = f"{key}.counters[{i}].categories[{j}]"
                if category not in ids:
                    problems.append((where, f"unknown category {category!r}; this center's "
                                     f"categories are {known}"))
                elif category in counter.categories[:j]:
                    problems.append((where, f"{category!r} is listed twice"))
        for i, closing in enumerate(self.closed_early):
            if closing.category is not None and closing.category not in ids:
                problems.append((f"{key}.closed_early[{i}].category", f"unknown category "
                                 f"{closing.category!r}; this center's categories are {known}"))
        return problems


class HallFile(CheckedFile):
    """The whole rules file."""

    centers: list[CenterConfig] = Field(..., min_length=1)

    def cross_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        ids = [c.id for c in self.centers]
        for i, center in enumerate(self.centers):
            if center.id in ids[:i]:
                problems.append((f"centers[{i}].id", f"duplicate center id {center.id!r}"))
            problems.extend(center.problems(f"centers[{i}]"))
        return problems


@dataclass(frozen=True, eq=False)
class CenterRules:
    """One center's rules with the holiday calendar they are applied with (hours.py)."""

    config: CenterConfig
    calendar: HallCalendar

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def fairness(self) -> FairnessParams:
        return self.config.fairness.params()


@dataclass(frozen=True, eq=False)
class HallRules:
    """The rules file and the calendar, read together."""

    file: HallFile
    calendar: HallCalendar

    @property
    def centers(self) -> tuple[CenterRules, ...]:
        return tuple(CenterRules(c, self.calendar) for c in self.file.centers)

    def center(self, center_id: str) -> CenterRules:
        """The center with this id; KeyError when the file has none."""
        for c in self.file.centers:
            if c.id == center_id:
                return CenterRules(c, self.calendar)
        raise KeyError(center_id)


def load_hall_rules(path: Path, calendar_path: Path) -> HallRules:
    """Read and validate the rules file and the calendar; raises
    kiosk.common.datafiles.ConfigFileError naming the file at fault, with every problem."""
    hall = load_checked_file(path, HallFile)
    return HallRules(hall, load_calendar(calendar_path))
