"""Yes/no questions show 是 before 否 whatever order the bundle file lists them in (issue 14:
a file lists only the options that do something, so 否 came first on some questions and an
older resident who learned "left is yes" answered wrongly)."""

from __future__ import annotations

from pathlib import Path

from kiosk.domain.bundles import load_bundle, load_bundles
from tests.helpers.paths import BUNDLES_DIR

SHIPPED = load_bundles(BUNDLES_DIR, None).bundles

QUESTION_FILE = """\
id: sample
title: {zh: 示例, en: Sample}
summary: {zh: 示例, en: Sample}
description: {zh: 示例, en: Sample}
departments: [{name: {zh: 民政局, en: Civil}, services: [{zh: 示例, en: S}]}]
trips_saved: 1
ticket_category: other
processing_days: 1
questions:
  - id: only_no
    kind: yes_no
    text: {zh: 问题一, en: One}
    options:
      - id: "no"
        then: {skip_to: materials}
  - id: no_then_yes
    kind: yes_no
    text: {zh: 问题二, en: Two}
    options:
      - {id: "no", label: {zh: 不需要, en: Not needed}}
      - {id: "yes", label: {zh: 需要, en: Needed}}
  - id: pick
    kind: choice
    text: {zh: 问题三, en: Three}
    options:
      - {id: b, label: {zh: 乙, en: B}}
      - {id: a, label: {zh: 甲, en: A}}
prefilled: [{id: name, label: {zh: 姓名, en: Name}, source: resident.name}]
next_steps: [{zh: 等待, en: Wait}]
"""


def test_every_shipped_yes_no_question_shows_yes_first():
    for bundle in SHIPPED:
        for q in bundle.questions:
            if q.kind == "yes_no":
                assert [o.id for o in q.shown_options()] == ["yes", "no"], (bundle.id, q.id)


def test_yes_first_whatever_the_file_lists_and_choices_as_written(tmp_path: Path):
    path = tmp_path / "sample.yaml"
    path.write_text(QUESTION_FILE, "utf-8")
    b = load_bundle(path)
    shown = {q.id: [(o.id, o.label.zh) for o in q.shown_options()] for q in b.questions}
    assert shown["only_no"] == [("yes", "是"), ("no", "否")]
    assert shown["no_then_yes"] == [("yes", "需要"), ("no", "不需要")]
    assert shown["pick"] == [("b", "乙"), ("a", "甲")]  # a choice keeps the author's order
    # The file's order stays in `options`: problems name options by their place in the file.
    assert [o.id for o in b.question("no_then_yes").options] == ["no", "yes"]
