"""The 一件事 wizard as a pure state machine: one bundle, one resident, no Qt.

The UI shows one widget per `StepKind` and calls these methods; everything about paths,
branches, exemptions, validation and masking is decided here, so it is tested without a
screen. API::

    class StepKind(Enum): INTRO, IDENTIFY, QUESTION, MATERIALS, REVIEW, FIELD, CONFIRM,
                          INELIGIBLE
    @dataclass(frozen=True) class Step: kind; key   # "intro", "question:q1", "field:phone"
                                                    # .ref, .stat_key (for statistics)
    class Wizard:
        Wizard(bundle, *, today=dt.date.today)
        bundle; steps -> list[Step]; current -> Step; index -> int; total -> int
        remaining -> int; remaining_certain() -> bool  # what the step count says
        identify(*, licenses: set[str], prefill_values: dict[str, str]) -> None
        identified -> bool; masked_name -> str; clear() -> None
        answer(question_id, option_id) -> None; answer_of(question_id) -> str | None
        set_field(field_id, value) -> FieldProblem | None; field_value(field_id) -> str | None
        date_range(field_id) -> (earliest, latest)    # days a date field accepts today
        person_lookups() -> dict[str, str]            # other_id_number field -> number to
        set_person_licenses(field_id, number, kinds)  #   look up; that person's licenses
        can_next() -> bool; next() -> Step; back() -> Step; go_to(key) -> Step
        outcome -> Ineligible | None; can_submit() -> bool
        materials() -> list[MaterialStatus]; to_bring() / exempt() -> list[Material]
        review(language) -> list[tuple[str, str]]        # prefilled labels, masked values
        typed_review(language) -> list[tuple[str, str]]  # typed fields, masked, for CONFIRM
        submission() -> dict   # {bundle_id, answers, fields, materials: {exempt, to_bring}}
                               # raises WizardIncomplete before the path is complete
    check_field(field, value, *, today) -> tuple[str, FieldProblem | None]
    date_range(field, today) -> tuple[date | None, date | None]
    luhn_valid(digits) -> bool
    prefill_values(name=, id_number=, phone=, license_numbers=) -> dict[str, str]

The path (`steps`) is recomputed from the answers every time: intro, identify, the questions
on the path (a `skip_to` jumps forward), then either `ineligible` (an answer ended it) or
the other_id_number fields (another person's licenses can exempt materials), materials,
review, one field step per other field not skipped by `skip_if`, confirm. Answers and
typed values of steps that drop off the path are kept, so going back and changing an answer
again restores them; only what is on the path is submitted.

Personal data: `identify` masks the prefilled values at once and keeps only the masked
forms, so the wizard never holds a full name or ID number (the applicant's ID number only as
a digest under a key of this session, to refuse it in an other_id_number field); `clear()`
forgets everything. A material with `license_of` is exempt when the licenses looked up for
the number typed in that field (`set_person_licenses`) include its kind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from kiosk.domain import idnumber
from kiosk.domain.bundles import (
    LICENSE_SOURCE_PREFIX,
    MATERIALS_TARGET,
    Bundle,
    FormField,
    Material,
    Option,
    Question,
    date_bound,
)
from kiosk.domain.masking import mask_id_number, mask_name, mask_phone
from kiosk.domain.text import Bilingual


class StepKind(Enum):
    INTRO = "intro"
    IDENTIFY = "identify"
    QUESTION = "question"
    MATERIALS = "materials"
    REVIEW = "review"
    FIELD = "field"
    CONFIRM = "confirm"
    INELIGIBLE = "ineligible"  # the end of a path an answer ruled out


@dataclass(frozen=True)
class Step:
    kind: StepKind
    key: str  # unique on a path: "intro", "question:<id>", "field:<id>", ...

    @property
    def ref(self) -> str:
        """The question or field id of a QUESTION / FIELD step, else ""."""
        return self.key.partition(":")[2]

    @property
    def stat_key(self) -> str:
        """The step as the statistics record where a resident gave up (abandoned_at:...)."""
        return self.key.replace("_", "-")[:64]


INTRO = Step(StepKind.INTRO, "intro")
IDENTIFY = Step(StepKind.IDENTIFY, "identify")
MATERIALS = Step(StepKind.MATERIALS, "materials")
REVIEW = Step(StepKind.REVIEW, "review")
CONFIRM = Step(StepKind.CONFIRM, "confirm")
INELIGIBLE = Step(StepKind.INELIGIBLE, "ineligible")


def question_step(question_id: str) -> Step:
    return Step(StepKind.QUESTION, f"question:{question_id}")


def field_step(field_id: str) -> Step:
    return Step(StepKind.FIELD, f"field:{field_id}")


class FieldProblem(Enum):
    """Why a typed value was refused; the UI maps each code to a message."""

    EMPTY = "empty"
    NOT_DIGITS = "not_digits"
    WRONG_LENGTH = "wrong_length"
    BAD_CHECKSUM = "bad_checksum"  # bank card number fails the Luhn check
    BAD_DATE = "bad_date"  # not YYYYMMDD / YYYY-MM-DD, or no such day
    FUTURE_DATE = "future_date"
    PAST_DATE = "past_date"  # a date field that only accepts today or later
    BAD_ID_NUMBER = "bad_id_number"
    BAD_PHONE = "bad_phone"  # 11 digits, but not a mainland mobile number (1[3-9]...)
    DATE_TOO_EARLY = "date_too_early"  # before the field's min_date (date_range)
    DATE_TOO_LATE = "date_too_late"  # after the field's max_date (date_range)
    SAME_AS_APPLICANT = "same_as_applicant"  # other_id_number: the applicant's own number


@dataclass(frozen=True)
class Ineligible:
    question_id: str  # the question whose answer ended the wizard
    reason: Bilingual
    go_instead: Bilingual


@dataclass(frozen=True)
class MaterialStatus:
    material: Material
    exempt: bool  # the resident holds the electronic license: 免于提交


class WizardIncomplete(Exception):
    """submission() before every step on the path is complete (or on an ineligible path)."""


NOT_AVAILABLE = {"zh": "未获取", "en": "Not available"}

_PHONE = re.compile(r"^1[3-9][0-9]{9}$")
_DATE = re.compile(r"^([0-9]{4})(-?)([0-9]{2})\2([0-9]{2})$")
_EARLIEST_YEAR = 1900  # older dates are typing mistakes, not birth or work dates
_BANK_CARD_LENGTHS = range(12, 20)
_DIGITS_MAX = 64


def _ascii_digits(text: str) -> bool:
    # str.isdigit() alone accepts full-width and superscript digits.
    return text.isascii() and text.isdigit()


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of bank card numbers."""
    if not digits or not _ascii_digits(digits):
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def check_field(field: FormField, value: str, *, today: dt.date) -> tuple[str, FieldProblem | None]:
    """The normalised value and its problem (None when valid). Empty is EMPTY for any kind;
    whether an empty optional field is acceptable is the caller's decision."""
    # Spaces are how card and phone numbers are printed and read aloud in groups.
    text = "".join(value.split())
    if not text:
        return "", FieldProblem.EMPTY
    kind = field.kind
    if kind in ("id_number", "other_id_number"):
        text = text.upper()
        return text, None if idnumber.is_valid(text) else FieldProblem.BAD_ID_NUMBER
    if kind == "date":
        return _check_date(field, text, today)
    if not _ascii_digits(text):
        return text, FieldProblem.NOT_DIGITS
    if kind == "phone":
        if len(text) != 11:
            return text, FieldProblem.WRONG_LENGTH
        return text, None if _PHONE.match(text) else FieldProblem.BAD_PHONE
    if kind == "bank_card":
        if len(text) not in _BANK_CARD_LENGTHS:
            return text, FieldProblem.WRONG_LENGTH
        return text, None if luhn_valid(text) else FieldProblem.BAD_CHECKSUM
    low = field.min_len or 1
    high = field.max_len or _DIGITS_MAX
    return text, None if low <= len(text) <= high else FieldProblem.WRONG_LENGTH


def date_range(field: FormField, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The earliest and latest day a date field accepts when typed on `today` (None: no
    bound), from min_date / max_date or else allow_past / allow_future."""
    if field.min_date is not None:
        low: dt.date | None = date_bound(field.min_date, today)
    else:
        low = None if field.allow_past else today
    if field.max_date is not None:
        high: dt.date | None = date_bound(field.max_date, today)
    else:
        high = None if field.allow_future else today
    return low, high


def _check_date(field: FormField, text: str, today: dt.date) -> tuple[str, FieldProblem | None]:
    m = _DATE.match(text)
    if not m:
        return text, FieldProblem.BAD_DATE
    try:
        day = dt.date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
    except ValueError:
        return text, FieldProblem.BAD_DATE
    if day.year < _EARLIEST_YEAR:
        return text, FieldProblem.BAD_DATE
    iso = day.isoformat()
    low, high = date_range(field, today)
    if field.max_date is not None and high is not None and day > high:
        return iso, FieldProblem.DATE_TOO_LATE
    if field.min_date is not None and low is not None and day < low:
        return iso, FieldProblem.DATE_TOO_EARLY
    if day > today and field.max_date is None and not field.allow_future:
        return iso, FieldProblem.FUTURE_DATE
    if day < today and field.min_date is None and not field.allow_past:
        return iso, FieldProblem.PAST_DATE
    return iso, None


def _mask_source(source: str, value: str) -> str:
    if source == "resident.name":
        return mask_name(value)
    if source == "resident.id_number":
        return mask_id_number(value)
    if source == "resident.phone":
        return mask_phone(value)
    # License numbers come masked from the backend (License.number_masked).
    return value.strip()


def _mask_typed(field: FormField, value: str) -> str:
    if field.kind == "phone":
        return mask_phone(value)
    if field.kind in ("id_number", "other_id_number"):
        return mask_id_number(value)
    if field.kind == "bank_card":
        return "**** " + value[-4:]
    return value


def prefill_values(
    *, name: str = "", id_number: str = "", phone: str = "",
    license_numbers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The `prefill_values` argument of `Wizard.identify` from plain resident facts
    (license kind -> masked number)."""
    values = {"resident.name": name, "resident.id_number": id_number, "resident.phone": phone}
    for kind, number in (license_numbers or {}).items():
        values[LICENSE_SOURCE_PREFIX + kind] = number
    return {k: v for k, v in values.items() if v}


class Wizard:
    """One resident's pass through one bundle."""

    def __init__(self, bundle: Bundle, *, today: Callable[[], dt.date] = dt.date.today) -> None:
        self.bundle = bundle
        self._today = today
        people = [f for f in bundle.fields if f.kind == "other_id_number"]
        canonical = [INTRO, IDENTIFY, *(question_step(q.id) for q in bundle.questions),
                     INELIGIBLE, *(field_step(f.id) for f in people), MATERIALS, REVIEW,
                     *(field_step(f.id) for f in bundle.fields if f not in people), CONFIRM]
        # Every path is a subsequence of this order; it places a step that dropped off the
        # path (its question got skipped) between the steps that remain.
        self._rank = {s.key: i for i, s in enumerate(canonical)}
        self.clear()

    # ------------------------------------------------------------------ state
    def clear(self) -> None:
        """Forget the resident, the answers and the typed values; back to the intro."""
        self._answers: dict[str, str] = {}
        self._fields: dict[str, str] = {}
        self._licenses: frozenset[str] = frozenset()
        self._shown: dict[str, str] = {}  # prefill source -> masked value
        self._identified = False
        self._current = INTRO
        # The applicant's ID number only as a keyed digest (a key of this session), to tell
        # an other_id_number typed in its place: the number itself is never kept.
        self._digest_key = secrets.token_bytes(16)
        self._applicant_digest: bytes | None = None
        # other_id_number field -> (the number looked up, the license kinds found for it).
        self._person_licenses: dict[str, tuple[str, frozenset[str]]] = {}

    def identify(self, *, licenses: set[str], prefill_values: Mapping[str, str]) -> None:
        """Record who is applying: license kinds held, and raw prefill values by source
        (resident.name, resident.id_number, resident.phone, license:<kind>). Only masked
        forms are kept."""
        self._licenses = frozenset(licenses)
        self._shown = {src: _mask_source(src, v) for src, v in prefill_values.items() if v}
        # A hall gives the number masked: then there is nothing to compare with here.
        own = "".join(prefill_values.get("resident.id_number", "").split()).upper()
        self._applicant_digest = self._digest(own) if idnumber.is_valid(own) else None
        self._identified = True

    def _digest(self, number: str) -> bytes:
        return hmac.new(self._digest_key, number.encode("ascii"), hashlib.sha256).digest()

    @property
    def identified(self) -> bool:
        return self._identified

    @property
    def masked_name(self) -> str:
        return self._shown.get("resident.name", "")

    def answer(self, question_id: str, option_id: str) -> None:
        """Record an answer (replacing an earlier one); unknown ids raise KeyError."""
        self.bundle.question(question_id).option(option_id)
        self._answers[question_id] = option_id
        self._settle()

    def answer_of(self, question_id: str) -> str | None:
        return self._answers.get(question_id)

    def set_field(self, field_id: str, value: str) -> FieldProblem | None:
        """Validate and store a typed value. An invalid value also drops the value stored
        before, so what counts is always what the resident last typed; an empty optional
        field is valid and stores nothing."""
        f = self.bundle.form_field(field_id)
        normal, problem = check_field(f, value, today=self._today())
        if problem is FieldProblem.EMPTY and not f.required:
            self._fields.pop(field_id, None)
            return None
        if (problem is None and f.kind == "other_id_number"
                and self._applicant_digest is not None
                and hmac.compare_digest(self._digest(normal), self._applicant_digest)):
            problem = FieldProblem.SAME_AS_APPLICANT
        if problem is not None:
            self._fields.pop(field_id, None)
            return problem
        self._fields[field_id] = normal
        return None

    def date_range(self, field_id: str) -> tuple[dt.date | None, dt.date | None]:
        """The days a date field accepts today (see `date_range`), for the screen to say."""
        return date_range(self.bundle.form_field(field_id), self._today())

    # ------------------------------------------------------------------ other people
    def person_lookups(self) -> dict[str, str]:
        """other_id_number fields on the path whose licenses exempt a material and are not
        known yet for the number typed there: field id -> that number, to look up."""
        wanted = {m.license_of for m in self.bundle.materials if m.license_of is not None}
        out: dict[str, str] = {}
        for f in self._active_fields():
            number = self._fields.get(f.id)
            if f.id in wanted and number is not None:
                known = self._person_licenses.get(f.id)
                if known is None or known[0] != number:
                    out[f.id] = number
        return out

    def set_person_licenses(self, field_id: str, id_number: str, kinds: set[str]) -> bool:
        """Record the license kinds the platform holds for the person whose number is typed
        in `field_id`. False (and nothing recorded) when the field holds another number by
        now: the answer to an earlier lookup."""
        if self._fields.get(field_id) != id_number:
            return False
        self._person_licenses[field_id] = (id_number, frozenset(kinds))
        return True

    def _holds(self, m: Material) -> bool:
        if m.license is None:
            return False
        if m.license_of is None:
            return m.license in self._licenses
        known = self._person_licenses.get(m.license_of)
        number = self._fields.get(m.license_of)
        active = any(f.id == m.license_of for f in self._active_fields())
        return (active and known is not None and known[0] == number
                and m.license in known[1])

    def field_value(self, field_id: str) -> str | None:
        """The stored (normalised) value, for refilling the keypad after Back."""
        return self._fields.get(field_id)

    # ------------------------------------------------------------------ path
    def _chosen(self, q: Question) -> Option | None:
        oid = self._answers.get(q.id)
        return None if oid is None else q.option(oid)

    def _question_path(self) -> tuple[list[Question], Ineligible | None]:
        qs = self.bundle.questions
        index = {q.id: i for i, q in enumerate(qs)}
        path: list[Question] = []
        i = 0
        while i < len(qs):
            q = qs[i]
            path.append(q)
            opt = self._chosen(q)
            then = opt.then if opt is not None else None
            if then and then.ineligible is not None:
                return path, Ineligible(q.id, then.ineligible.reason, then.ineligible.go_instead)
            if then and then.skip_to is not None:
                # The schema guarantees skip_to names a later question or `materials`.
                i = len(qs) if then.skip_to == MATERIALS_TARGET else index[then.skip_to]
            else:
                i += 1
        return path, None

    def _path_answers(self) -> dict[str, str]:
        path, _ = self._question_path()
        return {q.id: self._answers[q.id] for q in path if q.id in self._answers}

    def _active_fields(self) -> list[FormField]:
        answers = self._path_answers()
        return [f for f in self.bundle.fields
                if not any(answers.get(c.question) == c.option for c in f.skip_if)]

    @property
    def outcome(self) -> Ineligible | None:
        return self._question_path()[1]

    @property
    def steps(self) -> list[Step]:
        path, ineligible = self._question_path()
        out = [INTRO, IDENTIFY, *(question_step(q.id) for q in path)]
        if ineligible is not None:
            return [*out, INELIGIBLE]
        fields = self._active_fields()
        # Another person's number comes before the materials list: their licenses can
        # exempt some of it.
        people = [field_step(f.id) for f in fields if f.kind == "other_id_number"]
        rest = [field_step(f.id) for f in fields if f.kind != "other_id_number"]
        return [*out, *people, MATERIALS, REVIEW, *rest, CONFIRM]

    def _settle(self) -> None:
        # An answer can take the current step off the path (only when answering out of
        # order); stand on the first remaining step at or after it.
        steps = self.steps
        if self._current in steps:
            return
        rank = self._rank[self._current.key]
        self._current = next((s for s in steps if self._rank[s.key] >= rank), steps[-1])

    @property
    def current(self) -> Step:
        return self._current

    @property
    def index(self) -> int:
        return self.steps.index(self._current)

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def remaining(self) -> int:
        """Steps after the current one on the path the answers so far make. Unanswered
        questions count as not skipping, so going forward it can only stay or shrink."""
        return len(self.steps) - 1 - self.index

    def remaining_certain(self) -> bool:
        """Whether `remaining` is exactly what the resident will meet going forward: no
        question still ahead (or here) has an answer that would make the path another
        length (a skip_to, an ineligible end, a field's skip_if)."""
        steps = self.steps
        here = steps.index(self._current)
        saved = self._answers
        try:
            for step in steps[here:]:
                if step.kind is not StepKind.QUESTION:
                    continue
                for option in self.bundle.question(step.ref).options:
                    self._answers = {**saved, step.ref: option.id}
                    if len(self.steps) != len(steps):
                        return False
        finally:
            self._answers = saved
        return True

    def _complete(self, step: Step) -> bool:
        if step.kind is StepKind.IDENTIFY:
            return self._identified
        if step.kind is StepKind.QUESTION:
            return step.ref in self._answers
        if step.kind is StepKind.FIELD:
            return step.ref in self._fields or not self.bundle.form_field(step.ref).required
        # The ends of a path: submitting or leaving is the caller's business.
        return step.kind not in (StepKind.CONFIRM, StepKind.INELIGIBLE)

    def can_next(self) -> bool:
        steps = self.steps
        return self._complete(self._current) and steps.index(self._current) < len(steps) - 1

    def next(self) -> Step:
        """Move forward when the current step is complete; otherwise stay."""
        if self.can_next():
            steps = self.steps
            self._current = steps[steps.index(self._current) + 1]
        return self._current

    def back(self) -> Step:
        """Move back one step, keeping every answer and typed value."""
        steps = self.steps
        i = steps.index(self._current)
        if i > 0:
            self._current = steps[i - 1]
        return self._current

    def go_to(self, key: str) -> Step:
        """Jump back to an earlier step of the path (e.g. "change this answer" on CONFIRM)."""
        steps = self.steps
        for i, s in enumerate(steps[: steps.index(self._current) + 1]):
            if s.key == key:
                self._current = steps[i]
                return self._current
        raise KeyError(f"{key!r} is not an earlier step of the current path")

    def can_submit(self) -> bool:
        steps = self.steps
        return self.outcome is None and all(self._complete(s) for s in steps[:-1])

    # ------------------------------------------------------------------ results
    def materials(self) -> list[MaterialStatus]:
        """The materials on the current path, in the bundle's order."""
        added: set[str] = set()
        for q in self._question_path()[0]:
            opt = self._chosen(q)
            if opt is not None and opt.then is not None:
                added.update(opt.then.add_materials)
        return [
            MaterialStatus(m, self._holds(m))
            for m in self.bundle.materials
            if not m.conditional or m.id in added
        ]

    def to_bring(self) -> list[Material]:
        return [s.material for s in self.materials() if not s.exempt]

    def exempt(self) -> list[Material]:
        return [s.material for s in self.materials() if s.exempt]

    def review(self, language: str) -> list[tuple[str, str]]:
        """Prefilled labels and masked values for the REVIEW step."""
        missing = NOT_AVAILABLE.get(language, NOT_AVAILABLE["zh"])
        return [(p.label.get(language), self._shown.get(p.source, missing))
                for p in self.bundle.prefilled]

    def typed_review(self, language: str) -> list[tuple[str, str]]:
        """Typed values on the path, masked like the prefilled ones, for the CONFIRM step."""
        out: list[tuple[str, str]] = []
        for f in self._active_fields():
            value = self._fields.get(f.id)
            if value is not None:
                out.append((f.label.get(language), _mask_typed(f, value)))
        return out

    def submission(self) -> dict[str, Any]:
        """What is sent to the backend. The backend knows the resident by id, so neither the
        name nor the ID number is in here; typed values are sent as typed."""
        if not self.can_submit():
            raise WizardIncomplete(f"bundle {self.bundle.id!r}: not every step is complete")
        statuses = self.materials()
        return {
            "bundle_id": self.bundle.id,
            "answers": self._path_answers(),
            "fields": {f.id: self._fields[f.id] for f in self._active_fields()
                       if f.id in self._fields},
            "materials": {
                "exempt": [s.material.id for s in statuses if s.exempt],
                "to_bring": [s.material.id for s in statuses if not s.exempt],
            },
        }
