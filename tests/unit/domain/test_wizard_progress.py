"""What the wizard says about how far a resident is (issue 14): the step number goes up by one
with each step forward, and what is left is never more than said, exactly what is said where
the count is called certain. Checked on every answer path of every shipped bundle."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest

from kiosk.domain import idnumber
from kiosk.domain.bundles import Bundle, load_bundle, load_bundles
from kiosk.domain.wizard import (
    StepKind,
    Wizard,
    date_range,
    luhn_valid,
    prefill_values,
    question_step,
)
from tests.helpers.paths import BUNDLES_DIR

SHIPPED = load_bundles(BUNDLES_DIR, None).bundles
TODAY = dt.date(2025, 3, 15)
MAX_PATHS = 400


def answer_paths(bundle: Bundle) -> Iterator[list[tuple[str, str]]]:
    """Every sequence of answers a resident can give going forward (bounded)."""
    count = 0
    stack: list[list[tuple[str, str]]] = [[]]
    while stack and count < MAX_PATHS:
        given = stack.pop()
        wiz = Wizard(bundle, today=lambda: TODAY)
        for qid, oid in given:
            wiz.answer(qid, oid)
        ahead = [s for s in wiz.steps if s.kind is StepKind.QUESTION
                 and wiz.answer_of(s.ref) is None]
        if not ahead:
            count += 1
            yield given
            continue
        q = bundle.question(ahead[0].ref)
        stack.extend([*given, (q.id, o.id)] for o in q.options)


def forward(bundle: Bundle, answers: list[tuple[str, str]]
            ) -> list[tuple[int, int, bool, str]]:
    """(index, remaining, certain, step key) at each step, walking forward with `answers`."""
    wiz = Wizard(bundle, today=lambda: TODAY)
    chosen = dict(answers)
    seen = []
    for _ in range(60):
        step = wiz.current
        seen.append((wiz.index, wiz.remaining, wiz.remaining_certain(), step.key))
        if step.kind in (StepKind.CONFIRM, StepKind.INELIGIBLE):
            return seen
        if step.kind is StepKind.IDENTIFY:
            wiz.identify(licenses=set(), prefill_values=prefill_values(name="张三"))
        elif step.kind is StepKind.QUESTION:
            wiz.answer(step.ref, chosen[step.ref])  # the screen then moves on by itself
        elif step.kind is StepKind.FIELD:
            f = bundle.form_field(step.ref)
            if f.required:
                assert wiz.set_field(f.id, valid_value(f)) is None, f.id
        wiz.next()
        if wiz.current.key == step.key:
            raise AssertionError(f"stuck at {step.key}")
    raise AssertionError("the wizard did not end")


def valid_value(f) -> str:
    if f.kind == "phone":
        return "13912345678"
    if f.kind == "bank_card":
        return next(b for b in (f"622202020011223{d}" for d in "0123456789") if luhn_valid(b))
    if f.kind == "date":
        low, high = date_range(f, TODAY)
        day = TODAY if low is None or low <= TODAY else low
        if high is not None and day > high:
            day = high
        return day.strftime("%Y%m%d")
    if f.kind in ("id_number", "other_id_number"):
        first = "31010419800101123"
        return first + idnumber.check_digit(first)
    return "1" * (f.min_len or 6)


def steps_walked(bundle: Bundle, answers: list[tuple[str, str]]) -> list[tuple[int, int, bool]]:
    """Each step's (index, remaining, certain) as the resident meets it going forward."""
    return [(index, remaining, certain)
            for index, remaining, certain, _key in forward(bundle, answers)]


@pytest.mark.parametrize("bundle", SHIPPED, ids=lambda b: b.id)
def test_what_is_left_is_never_more_than_said(bundle):
    paths = 0
    for answers in answer_paths(bundle):
        paths += 1
        walked = steps_walked(bundle, answers)
        for i, (index, remaining, certain) in enumerate(walked):
            assert index == i, (answers, walked)  # up by one, every step
            actually = len(walked) - 1 - i
            assert actually <= remaining, (answers, i, walked)
            if certain:
                assert actually == remaining, (answers, i, walked)
        lefts = [r for _, r, _ in walked]
        assert all(b < a for a, b in itertools.pairwise(lefts)), (answers, lefts)
        assert walked[-1][1] == 0 and walked[-1][2]
    assert paths >= 2


def test_an_answer_that_can_skip_makes_the_count_a_forecast(tmp_path):
    birth = next(b for b in SHIPPED if b.id == "birth")
    wiz = Wizard(birth, today=lambda: TODAY)
    assert not wiz.remaining_certain()  # hukou "elsewhere" skips the marriage question
    before = wiz.remaining
    wiz.next()
    wiz.identify(licenses=set(), prefill_values={})
    wiz.next()
    assert wiz.current == question_step("hukou")
    wiz.answer("hukou", "elsewhere")  # skips `married`
    assert wiz.remaining == before - 3  # intro, identify and the skipped question
    wiz.next()
    wiz.answer("maternity", "yes")
    wiz.next()
    # No answer still to come changes the length of the path.
    assert wiz.current == question_step("complicated_birth") and wiz.remaining_certain()
    # Asking leaves the resident's answers as they were.
    assert [wiz.answer_of(q) for q in ("hukou", "married", "maternity")] == [
        "elsewhere", None, "yes"]


def test_the_statistics_key_of_a_step():
    assert question_step("baby_birth_date").stat_key == "question:baby-birth-date"
    assert len(question_step("q" * 40).stat_key) <= 64


def test_a_bundle_without_questions_is_certain_from_the_start(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text(
        "id: plain\ntitle: {zh: 示例, en: Sample}\nsummary: {zh: 示例, en: Sample}\n"
        "description: {zh: 示例, en: Sample}\n"
        "departments: [{name: {zh: 民政局, en: Civil}, services: [{zh: 示例, en: S}]}]\n"
        "trips_saved: 1\nticket_category: other\nprocessing_days: 1\n"
        "fields: [{id: phone, label: {zh: 电话, en: Phone}, kind: phone}]\n"
        "prefilled: [{id: name, label: {zh: 姓名, en: Name}, source: resident.name}]\n"
        "next_steps: [{zh: 等待, en: Wait}]\n", "utf-8")
    wiz = Wizard(load_bundle(path), today=lambda: TODAY)
    assert wiz.remaining_certain() and wiz.remaining == wiz.total - 1
