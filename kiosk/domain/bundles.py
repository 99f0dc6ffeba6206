"""一件事 bundles: the schema of `config/bundles/*.yaml` and its loader.

A bundle is one guided application that several departments handle together (退休一件事,
出生一件事, ...). Center staff write bundles as data; the wizard (wizard.py) runs them. The
data only *selects and parameterises* behaviour: which questions, which options, and per
option one declarative consequence (`skip_to` a later question, `add_materials`, or end
`ineligible`); per field an optional "skip this field if answer X is Y" (`skip_if`). Anything
that needs logic becomes a step or field kind in code, with its own test.

Everything a file may hold is declared once below, each key with a description: validation,
the staff reference (docs/BUNDLES.md, from bundle_reference.py) and the test of every
shipped bundle derive from it. Loading reports every problem in a file at once, as
`ConfigFileError(path, [(key path, what was expected)])`, and one broken file never stops the
kiosk from offering the valid bundles (`load_bundles`).

Public API::

    LICENSE_KINDS: frozenset[str]            # electronic license kinds (as in backend/seed.py)
    PREFILL_SOURCES_RESIDENT: tuple[str, ...] # resident.name, resident.id_number, resident.phone
    MATERIALS_TARGET = "materials"            # the skip_to target after the last question
    Bundle, Department, Question, Option, Then, Ineligibility, Material, FormField, AnswerIs,
    Prefill                                   # pydantic models (frozen, extra keys forbidden)
    bundle_problems(bundle, catalog_ids=None) -> list[tuple[str, str]]
    load_bundle(path, catalog_ids=None) -> Bundle            # raises ConfigFileError
    load_bundles(folder, catalog_ids) -> BundleSet     # .bundles (valid), .errors, .get
    date_bound(text, today) -> date           # the day a min_date / max_date means
    BundleFileError                           # a ConfigFileError naming docs/BUNDLES.md
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kiosk.common.datafiles import (
    ConfigFileError,
    problems_from_validation,
    read_data_file,
    text_trap,
    unexpected_problem,
)
from kiosk.domain.text import Bilingual

# The stable license kinds of the backend (kiosk/backend/seed.py LICENSE_TITLES). The domain
# may not import the backend, so the list is repeated here; a unit test keeps them equal.
LICENSE_KINDS: frozenset[str] = frozenset(
    {
        "id_card",
        "household_register",
        "social_security_card",
        "marriage_certificate",
        "birth_medical_certificate",
        "residence_permit",
        "retirement_certificate",
        "foreign_permanent_resident_card",
        "death_certificate",
    }
)
PREFILL_SOURCES_RESIDENT: tuple[str, ...] = ("resident.name", "resident.id_number",
                                             "resident.phone")
LICENSE_SOURCE_PREFIX = "license:"
MATERIALS_TARGET = "materials"

ID_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
_ID_HELP = "lower-case letters, digits and _, starting with a letter, at most 32"

# Default labels of yes/no options, so staff only write an option when it has a `then`.
_YES_NO_LABELS: dict[str, dict[str, str]] = {
    "yes": {"zh": "是", "en": "Yes"},
    "no": {"zh": "否", "en": "No"},
}


def _yaml_bool_as_answer(value: Any) -> Any:
    # YAML 1.1 reads a bare `yes` / `no` as a boolean; staff mean the option ids.
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(_Model):
    """A department taking part in the bundle, shown on the intro screen."""

    name: Bilingual = Field(..., description="The department's name, e.g. 市人力资源社会保障局.")
    services: list[Bilingual] = Field(
        ..., min_length=1,
        description="The services (事项) this department contributes to the bundle.",
    )


class Ineligibility(_Model):
    """Why the resident cannot apply, and where to go instead."""

    reason: Bilingual = Field(..., description="Why this answer rules the application out.")
    go_instead: Bilingual = Field(
        ..., description="Where to go or what to do first (a window, a police station, 12345).",
    )


class Then(_Model):
    """What choosing an option does, beyond recording the answer."""

    skip_to: str | None = Field(
        None,
        description="Skip the following questions up to this later question id, or "
        "`materials` to skip all remaining questions.",
    )
    add_materials: list[str] = Field(
        default_factory=list,
        description="Ids of `conditional: true` materials this answer makes necessary.",
    )
    ineligible: Ineligibility | None = Field(
        None, description="End the wizard: the resident cannot apply (cannot be combined).",
    )

    @model_validator(mode="after")
    def _one_consequence(self) -> Then:
        if self.skip_to is None and not self.add_materials and self.ineligible is None:
            raise ValueError("`then` needs skip_to, add_materials or ineligible (or remove it)")
        if self.ineligible is not None and (self.skip_to is not None or self.add_materials):
            raise ValueError("ineligible ends the wizard, so it cannot be combined with "
                             "skip_to or add_materials")
        return self


class Option(_Model):
    """One answer to a question."""

    id: str = Field(..., pattern=ID_PATTERN,
                    description=f"The option's id ({_ID_HELP}); yes_no questions use yes, no.")
    label: Bilingual = Field(
        ..., description="The text on the answer button (optional for yes/no: 是/否).",
    )
    then: Then | None = Field(None, description="What choosing this option does.")

    _answer_id = field_validator("id", mode="before")(_yaml_bool_as_answer)


class Question(_Model):
    """An eligibility question: one decision on one screen."""

    id: str = Field(..., pattern=ID_PATTERN, description=f"The question's id ({_ID_HELP}).")
    kind: Literal["yes_no", "choice"] = Field(
        ..., description="`yes_no` (options yes and no) or `choice` (2 to 6 labelled options).",
    )
    text: Bilingual = Field(..., description="The question as asked on screen.")
    help: Bilingual | None = Field(None, description="A short explanation under the question.")
    options: list[Option] = Field(
        ..., min_length=2, max_length=6,
        description="The answers; yes_no questions may omit this or list only yes/no "
        "options that have a `then` (in any order: the screen always shows 是 then 否).",
    )

    @model_validator(mode="before")
    @classmethod
    def _yes_no_defaults(cls, data: Any) -> Any:
        # Fill in the yes/no options and labels the staff left out, so that the written file
        # only says what is special about the question.
        if not isinstance(data, dict) or data.get("kind") != "yes_no":
            return data
        data = dict(data)
        given = data.get("options")
        if given is None:
            given = []
        if not isinstance(given, list):
            return data
        options: list[Any] = []
        seen: set[Any] = set()
        for opt in given:
            if isinstance(opt, dict):
                oid = _yaml_bool_as_answer(opt.get("id"))
                if not isinstance(oid, str):  # a list or table as id: the schema says so
                    options.append(opt)
                    continue
                seen.add(oid)
                if oid in _YES_NO_LABELS and "label" not in opt:
                    opt = {**opt, "label": _YES_NO_LABELS[oid]}
            options.append(opt)
        for oid in ("yes", "no"):
            if oid not in seen:
                options.append({"id": oid, "label": _YES_NO_LABELS[oid]})
        data["options"] = options
        return data

    @model_validator(mode="after")
    def _yes_no_options(self) -> Question:
        if self.kind == "yes_no" and sorted(o.id for o in self.options) != ["no", "yes"]:
            found = ", ".join(o.id for o in self.options)
            raise ValueError(f"a yes_no question has exactly the options yes and no "
                             f"(found {found}); use kind: choice for other answers")
        return self

    def option(self, option_id: str) -> Option:
        for o in self.options:
            if o.id == option_id:
                return o
        raise KeyError(f"question {self.id!r} has no option {option_id!r}")

    def shown_options(self) -> list[Option]:
        """The options in the order a resident sees them: 是 before 否 on every yes/no
        question, whatever the file lists (staff list only the options that do something, so
        the file's order differs from question to question, and a resident who learned "left
        is yes" would answer wrongly). `options` keeps the file's order, which problems name."""
        if self.kind != "yes_no":
            return list(self.options)
        return sorted(self.options, key=lambda o: o.id != "yes")


class Material(_Model):
    """A document the application needs; an electronic license makes it 免于提交."""

    id: str = Field(..., pattern=ID_PATTERN, description=f"The material's id ({_ID_HELP}).")
    title: Bilingual = Field(..., description="The document's name, as on the checklist.")
    license: str | None = Field(
        None,
        description="The electronic license kind that makes it exempt (两个免于提交), or null "
        "when it must always be brought.",
    )
    conditional: bool = Field(
        False, description="true when only an answer's `add_materials` makes it necessary.",
    )
    note: Bilingual | None = Field(
        None, description="A short note (originals or copies, how many, who issues it).",
    )
    license_of: str | None = Field(
        None,
        description="Whose license `license` is: the id of an `other_id_number` field (the "
        "deceased, the child, the person represented), whose licenses the platform looks up "
        "by the number typed there; leave it out for the applicant's own license.",
    )

    @model_validator(mode="after")
    def _license_of_needs_license(self) -> Material:
        if self.license_of is not None and self.license is None:
            raise ValueError("license_of says whose license exempts the material: give the "
                             "license kind too (license: ...)")
        return self

    @field_validator("license")
    @classmethod
    def _known_license(cls, value: str | None) -> str | None:
        if value is not None and value not in LICENSE_KINDS:
            raise ValueError(
                f"unknown license kind, expected one of {', '.join(sorted(LICENSE_KINDS))} "
                "or null"
            )
        return value


class AnswerIs(_Model):
    """A declarative condition: question `question` was answered with option `option`."""

    question: str = Field(..., description="A question id of this bundle.")
    option: str = Field(..., description="One of that question's option ids.")

    _answer_id = field_validator("option", mode="before")(_yaml_bool_as_answer)


FieldKind = Literal["phone", "bank_card", "date", "id_number", "other_id_number", "digits"]

# A date bound is "today", a fixed day, or a distance from the day the resident types it.
_RELATIVE_DATE = re.compile(r"^([+-])\s*([0-9]{1,3})\s*(day|week|month|year)s?$")
_DATE_BOUND_HELP = ('expected "today", a day like 2024-01-31, or a distance from today such '
                    'as "-12 months", "-30 days", "+2 weeks" or "-1 year"')
# Approximate lengths, only to tell whether min_date comes after max_date.
_UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 30.44, "year": 365.25}


def _parse_date_bound(text: str) -> dt.date | tuple[int, str]:
    """A fixed day, or (signed amount, unit); raises ValueError with what was expected."""
    value = text.strip().lower()
    if value == "today":
        return (0, "day")
    m = _RELATIVE_DATE.match(value)
    if m is not None:
        amount = int(m.group(2))
        return (-amount if m.group(1) == "-" else amount, m.group(3))
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(_DATE_BOUND_HELP) from None


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    # 31 March minus one month is the last day of February, not an error.
    for last in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("every month has 28 days")


def date_bound(text: str, today: dt.date) -> dt.date:
    """The day a `min_date` / `max_date` means when the resident types on `today`.
    `text` has passed the schema's check (see FormField)."""
    parsed = _parse_date_bound(text)
    if isinstance(parsed, dt.date):
        return parsed
    amount, unit = parsed
    if unit == "day":
        return today + dt.timedelta(days=amount)
    if unit == "week":
        return today + dt.timedelta(weeks=amount)
    return _add_months(today, amount * (12 if unit == "year" else 1))


def _bound_text(value: Any) -> Any:
    # YAML reads an unquoted 2024-01-31 as a date: keep it, as the text it was.
    return value.isoformat() if isinstance(value, dt.date) else value


class FormField(_Model):
    """A value the resident types on the on-screen keypad."""

    id: str = Field(..., pattern=ID_PATTERN, description=f"The field's id ({_ID_HELP}).")
    label: Bilingual = Field(..., description="What to type, e.g. 联系电话.")
    kind: FieldKind = Field(
        ...,
        description="phone (mobile, 11 digits), bank_card (12-19 digits, Luhn check), date "
        "(YYYYMMDD or YYYY-MM-DD), id_number (18 characters, check digit), other_id_number "
        "(another person's ID number: the deceased, the child, the person represented; "
        "18 characters, check digit, never the applicant's own; asked before the materials "
        "list, so that materials with `license_of` this field are looked up by it) or digits.",
    )
    person: Bilingual | None = Field(
        None,
        description="other_id_number only, and required there: who the number belongs to, "
        "as the resident calls them (逝者 / the deceased), used in the screen's messages.",
    )
    required: bool = Field(True, description="false lets the resident leave it empty.")
    hint: Bilingual | None = Field(None, description="A short hint under the keypad.")
    min_len: int | None = Field(None, ge=1, le=64,
                                description="digits only: the fewest digits accepted.")
    max_len: int | None = Field(None, ge=1, le=64,
                                description="digits only: the most digits accepted.")
    allow_future: bool = Field(False, description="date only: accept dates after today.")
    allow_past: bool = Field(True, description="date only: accept dates before today.")
    min_date: str | None = Field(
        None,
        description='date only: the earliest date accepted, "today", a day (2024-01-31) or a '
        'distance from the day of typing ("-12 months", "-30 days", "-1 year"); replaces '
        "allow_past.",
    )
    max_date: str | None = Field(
        None,
        description='date only: the latest date accepted, "today", a day or a distance from '
        'the day of typing ("+30 days"); replaces allow_future.',
    )
    skip_if: list[AnswerIs] = Field(
        default_factory=list,
        description="Skip this field when any of these answers was given.",
    )

    _min_date_text = field_validator("min_date", mode="before")(_bound_text)
    _max_date_text = field_validator("max_date", mode="before")(_bound_text)

    @field_validator("min_date", "max_date")
    @classmethod
    def _date_bound_syntax(cls, value: str | None) -> str | None:
        if value is not None:
            _parse_date_bound(value)
        return value

    @model_validator(mode="after")
    def _kind_options(self) -> FormField:
        given = self.model_fields_set
        if self.kind != "digits" and given & {"min_len", "max_len"}:
            raise ValueError("min_len and max_len apply to kind digits only")
        if self.kind != "date" and given & {"allow_future", "allow_past"}:
            raise ValueError("allow_future and allow_past apply to kind date only")
        if self.kind != "date" and given & {"min_date", "max_date"}:
            raise ValueError("min_date and max_date apply to kind date only")
        if self.kind == "other_id_number" and self.person is None:
            raise ValueError("an other_id_number field needs `person`: whose number it is, "
                             "e.g. person: {zh: 逝者, en: the deceased}")
        if self.kind != "other_id_number" and self.person is not None:
            raise ValueError("person applies to kind other_id_number only")
        if self.min_len is not None and self.max_len is not None and self.min_len > self.max_len:
            raise ValueError(f"min_len ({self.min_len}) is larger than max_len ({self.max_len})")
        if self.min_date is not None and "allow_past" in given:
            raise ValueError("min_date replaces allow_past: remove allow_past")
        if self.max_date is not None and "allow_future" in given:
            raise ValueError("max_date replaces allow_future: remove allow_future")
        if self.kind == "date" and not (self.allow_future or self.allow_past):
            raise ValueError("a date field must allow past or future dates (or both)")
        if self.min_date is not None and self.max_date is not None:
            low, high = _parse_date_bound(self.min_date), _parse_date_bound(self.max_date)
            if _later(low, high):
                raise ValueError(f"min_date ({self.min_date!r}) is later than max_date "
                                 f"({self.max_date!r}): no date could be accepted")
        return self



def _later(a: dt.date | tuple[int, str], b: dt.date | tuple[int, str]) -> bool:
    """Whether bound `a` surely comes after bound `b` (two fixed days, or two distances;
    a fixed day and a distance depend on the day of typing, and are not compared)."""
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        return a > b
    if isinstance(a, tuple) and isinstance(b, tuple):
        return a[0] * _UNIT_DAYS[a[1]] > b[0] * _UNIT_DAYS[b[1]]
    return False


class Prefill(_Model):
    """A value filled in from the identified resident, shown masked for review."""

    id: str = Field(..., pattern=ID_PATTERN, description=f"The entry's id ({_ID_HELP}).")
    label: Bilingual = Field(..., description="What the value is, e.g. 姓名.")
    source: str = Field(
        ...,
        description="resident.name, resident.id_number, resident.phone or license:<kind> "
        "(the license's masked number).",
    )

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value in PREFILL_SOURCES_RESIDENT:
            return value
        if value.startswith(LICENSE_SOURCE_PREFIX):
            kind = value.removeprefix(LICENSE_SOURCE_PREFIX)
            if kind in LICENSE_KINDS:
                return value
            raise ValueError(f"unknown license kind {kind!r} after license:, expected one of "
                             f"{', '.join(sorted(LICENSE_KINDS))}")
        raise ValueError(f"unknown source, expected one of {', '.join(PREFILL_SOURCES_RESIDENT)}"
                         " or license:<kind>")


class BundleProblems(ValueError):
    """Cross-field problems of a bundle, each as (key path, what was expected).

    Raised from the model validator so that direct `Bundle.model_validate` also refuses a
    bundle with dangling references; the loader unpacks it into one problem per line.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {w}" for k, w in problems))


class Bundle(_Model):
    """One 一件事 bundle (one file in config/bundles)."""

    id: str = Field(..., pattern=ID_PATTERN,
                    description=f"The bundle's id ({_ID_HELP}); must equal the file name.")
    order: int = Field(100, ge=0, le=9999,
                       description="Position in the bundle list (smaller first, then by id).")
    title: Bilingual = Field(..., description="The bundle's name, e.g. 退休一件事.")
    summary: Bilingual = Field(..., description="One line under the title on the list.")
    description: Bilingual = Field(..., description="What it covers, on the intro screen.")
    departments: list[Department] = Field(
        ..., min_length=1, description="The departments that handle the bundle together.",
    )
    trips_saved: int = Field(
        ..., ge=0, le=20, description="How many separate visits this one application replaces.",
    )
    ticket_category: str = Field(
        ..., description=("A category id of catalog.yaml: the window the result screen's"
                          " 取号 gives a number for, naming the application so that the"
                          " clerk sees it."),
    )
    processing_days: int = Field(
        ..., ge=0, le=365,
        description="Working days until the result is expected (0: done on the spot).",
    )
    questions: list[Question] = Field(
        default_factory=list, description="Eligibility questions, asked in this order.",
    )
    materials: list[Material] = Field(
        default_factory=list, description="Documents the application needs.",
    )
    fields: list[FormField] = Field(
        default_factory=list, description="Values the resident types (phone, bank card, ...).",
    )
    prefilled: list[Prefill] = Field(
        ..., min_length=1,
        description="Values taken from the resident's identity and licenses, shown masked.",
    )
    next_steps: list[Bilingual] = Field(
        ..., min_length=1, description="What happens next, printed on the receipt.",
    )
    disclaimer: Bilingual | None = Field(
        None, description="An extra note on the intro screen (e.g. policy varies by case).",
    )

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> Bundle:
        catalog_ids = (info.context or {}).get("catalog_ids")
        problems = bundle_problems(self, catalog_ids)
        if problems:
            raise BundleProblems(problems)
        return self

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(f"bundle {self.id!r} has no question {question_id!r}")

    def material(self, material_id: str) -> Material:
        for m in self.materials:
            if m.id == material_id:
                return m
        raise KeyError(f"bundle {self.id!r} has no material {material_id!r}")

    def form_field(self, field_id: str) -> FormField:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(f"bundle {self.id!r} has no field {field_id!r}")


def _one_of(values: Iterable[str]) -> str:
    values = list(values)
    return ", ".join(values) if values else "(none declared)"


def _duplicates(prefix: str, ids: list[str]) -> list[tuple[str, str]]:
    first: dict[str, int] = {}
    out: list[tuple[str, str]] = []
    for i, value in enumerate(ids):
        if value in first:
            out.append((f"{prefix}[{i}].id",
                        f"duplicate id {value!r} (also {prefix}[{first[value]}])"))
        else:
            first[value] = i
    return out


def bundle_problems(
    bundle: Bundle, catalog_ids: Collection[str] | None = None
) -> list[tuple[str, str]]:
    """Every cross-reference problem of a schema-valid bundle, as (key path, expectation).

    `catalog_ids` None skips the ticket category check (no catalog at hand).
    """
    problems: list[tuple[str, str]] = []
    q_ids = [q.id for q in bundle.questions]
    m_ids = [m.id for m in bundle.materials]
    problems += _duplicates("questions", q_ids)
    problems += _duplicates("materials", m_ids)
    problems += _duplicates("fields", [f.id for f in bundle.fields])
    problems += _duplicates("prefilled", [p.id for p in bundle.prefilled])
    for i, q in enumerate(bundle.questions):
        if q.id == MATERIALS_TARGET:
            problems.append((f"questions[{i}].id", f"{MATERIALS_TARGET!r} is reserved for "
                             "skip_to; choose another id"))
        problems += _duplicates(f"questions[{i}].options", [o.id for o in q.options])

    conditional = {m.id for m in bundle.materials if m.conditional}
    added: set[str] = set()
    for i, q in enumerate(bundle.questions):
        later = [*q_ids[i + 1:], MATERIALS_TARGET]
        for j, opt in enumerate(q.options):
            if opt.then is None:
                continue
            where = f"questions[{i}].options[{j}].then"
            target = opt.then.skip_to
            if target is not None and target not in later:
                if target in q_ids[: i + 1]:
                    what = (f"{target!r} is not after this question (skip_to only skips "
                            f"forward), expected one of {_one_of(later)}")
                else:
                    what = f"unknown question {target!r}, expected one of {_one_of(later)}"
                problems.append((f"{where}.skip_to", what))
            for k, mid in enumerate(opt.then.add_materials):
                path = f"{where}.add_materials[{k}]"
                if mid not in m_ids:
                    problems.append((path, f"unknown material {mid!r}, expected one of "
                                     f"{_one_of(m_ids)}"))
                elif mid not in conditional:
                    problems.append((path, f"material {mid!r} is always needed; mark it "
                                     "`conditional: true` to add it only with this answer"))
                added.add(mid)
    for i, m in enumerate(bundle.materials):
        if m.conditional and m.id not in added:
            problems.append((f"materials[{i}].conditional",
                             f"no answer adds material {m.id!r}: add it with add_materials "
                             "or remove `conditional: true`"))

    for i, f in enumerate(bundle.fields):
        for k, cond in enumerate(f.skip_if):
            path = f"fields[{i}].skip_if[{k}]"
            if cond.question not in q_ids:
                problems.append((f"{path}.question", f"unknown question {cond.question!r}, "
                                 f"expected one of {_one_of(q_ids)}"))
                continue
            options = [o.id for o in bundle.question(cond.question).options]
            if cond.option not in options:
                problems.append((f"{path}.option", f"unknown option {cond.option!r} of "
                                 f"question {cond.question!r}, expected one of "
                                 f"{_one_of(options)}"))

    people = [f.id for f in bundle.fields if f.kind == "other_id_number"]
    for i, m in enumerate(bundle.materials):
        if m.license_of is not None and m.license_of not in people:
            what = (f"field {m.license_of!r} is not of kind other_id_number"
                    if m.license_of in {f.id for f in bundle.fields}
                    else f"unknown field {m.license_of!r}")
            problems.append((f"materials[{i}].license_of", f"{what}, expected one of "
                             f"{_one_of(people)} (the other_id_number fields, whose number the "
                             "license is looked up by)"))

    if catalog_ids is not None and bundle.ticket_category not in catalog_ids:
        problems.append(("ticket_category", f"unknown service category "
                         f"{bundle.ticket_category!r}, expected one of "
                         f"{_one_of(sorted(catalog_ids))} (the ids in catalog.yaml)"))
    return problems


BUNDLES_DOC = "docs/BUNDLES.md"
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class BundleFileError(ConfigFileError):
    """A bundle file's problems; the message ends with where the format is described."""

    def message(self) -> str:
        return (super().message() + "\n  Every key of a bundle file, what it does and a worked "
                f"example: {BUNDLES_DOC}")


def _text_trap(err: Any) -> str | None:
    """For a key no model has that is no key at all (乙, zh：出生): the YAML trap that made
    part of a text into a key."""
    loc = err.get("loc", ())
    key = loc[-1] if loc else None
    if err.get("type") != "extra_forbidden" or not isinstance(key, str) or _PLAIN_KEY.match(key):
        return None
    return text_trap(key, in_flow=True)


def _problems_of(exc: ValidationError) -> list[tuple[str, str]]:
    plain = problems_from_validation(exc, model=Bundle)
    out: list[tuple[str, str]] = []
    for err, problem in zip(exc.errors(), plain, strict=True):
        cause = (err.get("ctx") or {}).get("error")
        trap = _text_trap(err)
        if isinstance(cause, BundleProblems):
            out.extend(cause.problems)
        elif trap is not None:
            out.append((problem[0], f"no such key: {trap}"))
        else:
            out.append(problem)
    return out


def load_bundle(path: Path, catalog_ids: Collection[str] | None = None) -> Bundle:
    """Load and check one bundle file; raises BundleFileError (a ConfigFileError) listing
    every problem, and pointing at docs/BUNDLES.md rather than the config's reference."""
    try:
        return _load_bundle_file(path, catalog_ids)
    except BundleFileError:
        raise
    except ConfigFileError as e:
        problems = [(k, w.replace("docs/CONFIG.md", BUNDLES_DOC)) for k, w in e.problems]
        raise BundleFileError(e.path, problems) from None


def _load_bundle_file(path: Path, catalog_ids: Collection[str] | None = None) -> Bundle:
    data = read_data_file(path)
    if not isinstance(data, dict):
        raise ConfigFileError(path, [("", "expected a mapping of keys (id, title, questions, "
                                      "...) at the top level of the file")])
    problems: list[tuple[str, str]] = []
    given_id = data.get("id")
    if isinstance(given_id, str) and given_id != path.stem:
        problems.append(("id", f"must equal the file name {path.stem!r} (found {given_id!r})"))
    context = {"catalog_ids": None if catalog_ids is None else set(catalog_ids)}
    try:
        bundle = Bundle.model_validate(data, context=context)
    except ValidationError as e:
        problems += _problems_of(e)
        raise ConfigFileError(path, problems) from None
    except Exception as e:  # a validator tripped over data nobody foresaw
        raise ConfigFileError(path, [*problems, ("", unexpected_problem(e))]) from None
    if problems:
        raise ConfigFileError(path, problems)
    return bundle


@dataclass
class BundleSet:
    """The bundles of a folder: the valid ones in display order, one error per broken file."""

    bundles: list[Bundle] = field(default_factory=list)
    errors: list[ConfigFileError] = field(default_factory=list)

    def get(self, bundle_id: str) -> Bundle:
        for b in self.bundles:
            if b.id == bundle_id:
                return b
        raise KeyError(bundle_id)


BUNDLE_SUFFIXES = (".yaml", ".yml")


def load_bundles(folder: Path, catalog_ids: Collection[str] | None) -> BundleSet:
    """Every bundle file of `folder`; a broken file is reported, never fatal.

    `catalog_ids` None skips the ticket category check (no catalog at hand)."""
    result = BundleSet()
    if not folder.is_dir():
        result.errors.append(ConfigFileError(folder, [("", "bundle folder not found")]))
        return result
    try:
        files = sorted(
            p for p in folder.iterdir()
            if p.suffix in BUNDLE_SUFFIXES and p.is_file() and not p.name.startswith(".")
        )
    except OSError as e:
        result.errors.append(ConfigFileError(folder, [("", f"cannot read the bundle folder: "
                                                       f"{e.strerror}")]))
        return result
    seen: dict[str, Path] = {}
    for path in files:
        try:
            bundle = load_bundle(path, catalog_ids)
        except ConfigFileError as e:
            result.errors.append(e)
            continue
        except Exception as e:  # one file never stops the others (or the kiosk)
            result.errors.append(ConfigFileError(path, [("", unexpected_problem(e))]))
            continue
        if bundle.id in seen:
            result.errors.append(ConfigFileError(path, [
                ("id", f"duplicate bundle id {bundle.id!r} (also {seen[bundle.id].name})")
            ]))
            continue
        seen[bundle.id] = path
        result.bundles.append(bundle)
    result.bundles.sort(key=lambda b: (b.order, b.id))
    return result
