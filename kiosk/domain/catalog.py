"""The service catalog: categories a resident can take a number for.

Staff edit `config/catalog.yaml`; this module declares its schema and loads it. The data
only names and parameterises categories; queue rules stay in code (queue.py).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kiosk.domain.text import Bilingual


class Matter(Bilingual):
    """A matter as a resident would name it ("办退休"): short, it is a button's text."""

    zh: str = Field(..., min_length=1, max_length=10,
                    description="The matter in Chinese, at most 10 characters.")
    en: str = Field(..., min_length=1, max_length=40,
                    description="The matter in English, at most 40 characters.")


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(..., pattern=r"^[a-z0-9_]{1,32}$")
    prefix: str = Field(..., pattern=r"^[A-Z]$")
    title: Bilingual
    # What the department does, under its name on the category screen.
    hint: Bilingual | None = None
    # The matters residents come for, in their words: the category screen's 按事项找 lists
    # them as buttons, each taking a number for this category ("办退休" -> 社保), so that a
    # resident need not know which department does what.
    matters: list[Matter] = Field(default_factory=list, max_length=6)
    minutes_per_ticket: float = Field(..., gt=0, le=240)
    windows: int = Field(1, ge=1, le=50)


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    priority_prefix: str = Field("Y", pattern=r"^[A-Z]$")
    categories: list[Category] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Catalog:
        problems = clash_problems([c.model_dump() for c in self.categories],
                                  self.priority_prefix)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def get(self, category_id: str) -> Category:
        for c in self.categories:
            if c.id == category_id:
                return c
        raise KeyError(category_id)


def clash_problems(categories: list[object], priority_prefix: object = "Y") -> list[str]:
    """Ids and prefixes that two categories share, and a priority prefix that is also a
    category's: read from the categories as written (dicts), so that they can be reported
    with the file's other mistakes rather than once those are fixed."""
    problems = []
    rows = [c for c in categories if isinstance(c, dict)]
    for attr in ("id", "prefix"):
        values = [v for c in rows if isinstance(v := c.get(attr), str)]
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            problems.append(f"categories: duplicate {attr} {', '.join(dupes)} (each category"
                            f" needs its own {attr})")
    prefixes = {c.get("prefix") for c in rows}
    if isinstance(priority_prefix, str) and priority_prefix in prefixes:
        problems.append(f"priority_prefix {priority_prefix!r} must differ from every category"
                        " prefix")
    # A matter under two categories would send a resident to either: each names one.
    owners: dict[str, set[str]] = {}
    for c in rows:
        matters = c.get("matters")
        for m in matters if isinstance(matters, list) else []:
            if isinstance(m, dict) and isinstance(m.get("zh"), str):
                owners.setdefault(m["zh"], set()).add(str(c.get("id")))
    shared = sorted(m for m, ids in owners.items() if len(ids) > 1)
    if shared:
        problems.append(f"categories: matter {', '.join(shared)} listed under more than one"
                        " category (each matter leads to one)")
    return problems


def load_catalog(path: Path) -> Catalog:
    """Load and validate; raises kiosk.common.datafiles.ConfigFileError with every problem."""
    from kiosk.common.datafiles import ConfigFileError, load_model_file, read_data_file

    try:
        return load_model_file(path, Catalog)
    except ConfigFileError as e:
        # The clash check runs only on categories that are otherwise valid: with any other
        # mistake in the file it would be reported only after that was fixed.
        try:
            data = read_data_file(path)
        except ConfigFileError:
            raise e from None
        if not isinstance(data, dict) or not isinstance(data.get("categories"), list):
            raise
        said = {what for _key, what in e.problems}
        extra = [("", p) for p in clash_problems(data["categories"],
                                                 data.get("priority_prefix", "Y"))
                 if not any(p in what for what in said)]
        if not extra:
            raise
        raise ConfigFileError(path, [*e.problems, *extra]) from None
