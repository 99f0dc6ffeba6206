"""一件事 end to end: every shipped bundle walked through the UI as a resident would."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QLabel

from kiosk.backend.seed import DEMO_PERSONS, DEMO_RESIDENTS
from kiosk.common.clock import shanghai_now
from kiosk.domain import idnumber, payloads
from kiosk.domain.bundles import Bundle, load_bundles
from kiosk.domain.wizard import StepKind, date_range, luhn_valid
from tests.helpers.paths import BUNDLES_DIR, CONFIG_DIR
from tests.helpers.waits import HANG_GUARD_MS
from tests.integration.test_layout import tap_choice

CATALOG_IDS = {"social_security", "medical_insurance", "civil_affairs", "household",
               "housing_fund", "residence_permit", "other"}
SHIPPED_BUNDLES = load_bundles(BUNDLES_DIR, CATALOG_IDS).bundles


def luhn_number(prefix: str = "622202020011223", length: int = 16) -> str:
    body = prefix[: length - 1]
    for d in "0123456789":
        if luhn_valid(body + d):
            return body + d
    raise AssertionError("no Luhn digit")


def valid_value(kind: str, field) -> str:
    if kind == "phone":
        return "13912345678"
    if kind == "bank_card":
        return luhn_number()
    if kind == "date":
        if field.min_date or field.max_date:
            low, high = date_range(field, shanghai_now().date())
            day = high - dt.timedelta(days=30) if high is not None else low
            assert day is not None and (low is None or day >= low)
            return day.strftime("%Y%m%d")
        if not field.allow_past:
            return (dt.date.today() + dt.timedelta(days=7)).strftime("%Y%m%d")
        return "20200115"
    if kind == "id_number":
        first = "31010419800101123"
        return first + idnumber.check_digit(first)
    if kind == "other_id_number":
        # The ordinary resident's late father, whose licenses the demo platform holds.
        return DEMO_PERSONS["late_father_of_ordinary"]
    n = field.min_len or 6
    return "1" * n


def texts(widget) -> str:
    return "\n".join(w.text() for w in widget.findChildren(QLabel) if w.isVisible())


class Walker:
    def __init__(self, kiosk, resident) -> None:
        self.k = kiosk
        self.r = resident
        self.bc = kiosk.bundle_controller
        self.screen = self.bc.wizard_screen
        self.seen_steps: list[str] = []
        self.took_branch = False

    @property
    def wiz(self):
        return self.bc.wizard

    def open(self, bundle_id: str) -> None:
        self.r.tap(self.k.controller.home.service_buttons["bundles"])
        self.r.wait_screen("bundles")
        # Seven bundles and more take two pages of tiles: to its page, as a resident would.
        tap_choice(self.r, self.bc.list.pages, self.bc.list.buttons[bundle_id])
        self.r.wait_screen("wizard")

    def type_value(self, value: str) -> None:
        keypad = self.screen.keypad
        self.r.tap(keypad.clear_key)
        for ch in value:
            self.r.tap(keypad.keys[ch])

    def choose_option(self, bundle: Bundle, qid: str, want_ineligible: bool,
                      prefer_branch: bool = True) -> None:
        q = next(q for q in bundle.questions if q.id == qid)
        options = q.options
        if want_ineligible:
            pick = next((o for o in options if o.then and o.then.ineligible), None)
            if pick is not None:
                self.r.tap(self.screen.option_buttons[pick.id])
                return
        branching = [o for o in options if o.then and not o.then.ineligible
                     and (o.then.skip_to or o.then.add_materials)]
        plain = [o for o in options if not (o.then and o.then.ineligible)]
        pick = branching[0] if branching and prefer_branch else plain[0]
        if pick in branching:
            self.took_branch = True
        self.r.tap(self.screen.option_buttons[pick.id])

    def walk(self, bundle: Bundle, resident_id: str, *, want_ineligible: bool = False,
             max_steps: int = 40) -> None:
        for _ in range(max_steps):
            step = self.wiz.current
            self.seen_steps.append(step.key)
            count = self.screen.step_count.text()
            assert count.startswith(f"第 {self.wiz.index + 1} 步")
            if self.wiz.remaining and step.kind is not StepKind.INELIGIBLE:
                assert f" {self.wiz.remaining} 步" in count, count
            if step.kind is StepKind.INTRO:
                assert bundle.title.zh in texts(self.screen)
                self.r.tap(self.screen.next_button)
            elif step.kind is StepKind.IDENTIFY:
                self.r.show_phone(self.r.code(resident_id))
                self.r.qtbot.waitUntil(lambda: self.wiz.current.kind is not StepKind.IDENTIFY,
                                       timeout=HANG_GUARD_MS)
                self.r.put_phone_away()
            elif step.kind is StepKind.QUESTION:
                before = self.wiz.current.key
                self.choose_option(bundle, step.ref, want_ineligible)
                assert self.wiz.current.key != before
            elif step.kind is StepKind.FIELD:
                field = next(f for f in bundle.fields if f.id == step.ref)
                self.type_value(valid_value(field.kind, field))
                self.r.tap(self.screen.next_button)
                assert self.wiz.current.key != step.key, self.screen.problem.text()
            elif step.kind in (StepKind.MATERIALS, StepKind.REVIEW):
                self.r.tap(self.screen.next_button)
            elif step.kind is StepKind.CONFIRM or step.kind is StepKind.INELIGIBLE:
                return
        raise AssertionError(f"wizard did not end: {self.seen_steps}")


def test_six_bundles_ship():
    ids = {b.id for b in SHIPPED_BUNDLES}
    assert len(ids) >= 6
    assert {"retirement", "birth", "residence_permit", "social_assistance"} <= ids


@pytest.mark.parametrize("bundle", SHIPPED_BUNDLES, ids=lambda b: b.id)
def test_every_bundle_through_the_ui(kiosk, resident, bundle):
    walker = Walker(kiosk, resident)
    walker.open(bundle.id)
    person = DEMO_RESIDENTS["ordinary"]
    walker.walk(bundle, person)
    wiz = walker.wiz
    assert wiz.current.kind is StepKind.CONFIRM, walker.seen_steps
    assert walker.took_branch or not any(
        o.then and (o.then.skip_to or o.then.add_materials)
        for q in bundle.questions for o in q.options
    )
    to_bring = [m.title.zh for m in wiz.to_bring()]
    jobs = len(resident.jobs())
    resident.tap(walker.screen.submit_button)
    resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    printed = resident.wait_printout(jobs)
    reference = kiosk.bundle_controller.result.reference.text()
    assert reference.startswith("YW")
    # The receipt on paper: reference, each material still to bring, the progress QR.
    assert reference in printed.text
    for title in to_bring:
        assert title in "".join(printed.text.split()), title
    assert len(printed.qr_texts) == 1
    payload = kiosk.verifier.verify(printed.qr_texts[0], payloads.Kind.RECEIPT)
    assert payload.reference == reference
    assert len(printed.data) <= 2500
    # The stored application.
    stored = kiosk.backend.application(reference)
    assert stored is not None and stored.bundle_id == bundle.id
    # No full name, ID number or phone on paper.
    someone = kiosk.backend.identify(person)
    assert someone.name not in printed.text and someone.id_number not in printed.text
    assert someone.phone not in printed.text


def test_ineligible_path_explains_where_to_go(kiosk, resident):
    bundle = next(b for b in SHIPPED_BUNDLES
                  if any(o.then and o.then.ineligible for q in b.questions for o in q.options))
    walker = Walker(kiosk, resident)
    walker.open(bundle.id)
    walker.walk(bundle, DEMO_RESIDENTS["ordinary"], want_ineligible=True)
    assert walker.wiz.current.kind is StepKind.INELIGIBLE
    outcome = walker.wiz.outcome
    shown = texts(walker.screen)
    assert outcome.reason.zh in shown and outcome.go_instead.zh in shown
    assert not walker.screen.next_button.isVisible()


@pytest.mark.parametrize(("role", "all_exempt"), [("all_licenses", True), ("no_licenses", False)])
def test_materials_follow_the_licenses(kiosk, resident, role, all_exempt):
    bundle = next(b for b in SHIPPED_BUNDLES if b.id == "retirement")
    walker = Walker(kiosk, resident)
    walker.open(bundle.id)
    walker.walk(bundle, DEMO_RESIDENTS[role])
    wiz = walker.wiz
    licensed = [s for s in wiz.materials() if s.material.license]
    assert licensed
    assert all(s.exempt is all_exempt for s in licensed)
    jobs = len(resident.jobs())
    resident.tap(walker.screen.submit_button)
    resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    printed = resident.wait_printout(jobs)
    flat = "".join(printed.text.split())
    for s in licensed:
        title = "".join(s.material.title.zh.split())
        assert title in flat
    screen_text = "".join(texts(kiosk.bundle_controller.result).split())
    for s in licensed:
        assert "".join(s.material.title.zh.split()) in screen_text


def test_back_keeps_answers_and_typed_fields(kiosk, resident):
    bundle = next(b for b in SHIPPED_BUNDLES if b.fields)
    walker = Walker(kiosk, resident)
    walker.open(bundle.id)
    walker.walk(bundle, DEMO_RESIDENTS["ordinary"])
    wiz = walker.wiz
    answers = {q.id: wiz.answer_of(q.id) for q in bundle.questions}
    typed = {f.id: wiz.field_value(f.id) for f in bundle.fields}
    while wiz.index > 0:
        resident.tap(kiosk.window.back_button)
    assert wiz.current.kind is StepKind.INTRO
    assert {q.id: wiz.answer_of(q.id) for q in bundle.questions} == answers
    assert {f.id: wiz.field_value(f.id) for f in bundle.fields} == typed


def test_bad_field_value_gets_a_message(kiosk, resident):
    bundle = next(b for b in SHIPPED_BUNDLES if any(f.kind == "bank_card" for f in b.fields))
    walker = Walker(kiosk, resident)
    walker.open(bundle.id)
    # Walk up to the bank card field.
    for _ in range(40):
        step = walker.wiz.current
        if step.kind is StepKind.FIELD and next(
            f for f in bundle.fields if f.id == step.ref
        ).kind == "bank_card":
            break
        if step.kind is StepKind.IDENTIFY:
            resident.show_phone(resident.code(DEMO_RESIDENTS["ordinary"]))
            resident.qtbot.waitUntil(lambda: walker.wiz.current.kind is not StepKind.IDENTIFY,
                                     timeout=HANG_GUARD_MS)
            resident.put_phone_away()
        elif step.kind is StepKind.QUESTION:
            card = next(f for f in bundle.fields if f.kind == "bank_card")
            avoid = {(a.question, a.option) for a in card.skip_if}
            q = next(q for q in bundle.questions if q.id == step.ref)
            pick = next(o for o in q.options if (q.id, o.id) not in avoid
                        and not (o.then and (o.then.ineligible or o.then.skip_to)))
            resident.tap(walker.screen.option_buttons[pick.id])
        elif step.kind is StepKind.FIELD:
            f = next(f for f in bundle.fields if f.id == step.ref)
            walker.type_value(valid_value(f.kind, f))
            resident.tap(walker.screen.next_button)
        else:
            assert step.kind is not StepKind.CONFIRM, "no bank card step on this path"
            resident.tap(walker.screen.next_button)
    bad = luhn_number()[:-1] + str((int(luhn_number()[-1]) + 1) % 10)
    walker.type_value(bad)
    key = walker.wiz.current.key
    resident.tap(walker.screen.next_button)
    assert walker.wiz.current.key == key
    assert "校验" in walker.screen.problem.text()


def test_double_tap_on_submit_files_once(kiosk, resident, qtbot):
    bundle = SHIPPED_BUNDLES[0]
    walker = Walker(kiosk, resident)
    walker.open(bundle.id)
    walker.walk(bundle, DEMO_RESIDENTS["ordinary"])
    button = walker.screen.submit_button
    button.click()
    button.click()
    resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)  # a second one, if sent
    apps = kiosk.backend.applications_of(DEMO_RESIDENTS["ordinary"])
    assert len(apps) == 1


def test_new_bundle_file_needs_no_code(kiosk_factory, resident_at, tmp_path):
    import shutil

    config_dir = tmp_path / "cfg"
    shutil.copytree(CONFIG_DIR, config_dir)
    (config_dir / "bundles" / "library_card.yaml").write_text(NEW_BUNDLE, encoding="utf-8")
    k = kiosk_factory(config_file=config_dir / "kiosk.toml")
    person = resident_at(k)
    assert "library_card" in k.bundle_controller.list.buttons
    walker = Walker(k, person)
    walker.open("library_card")
    bundle = next(b for b in k.bundles.bundles if b.id == "library_card")
    walker.walk(bundle, DEMO_RESIDENTS["ordinary"])
    jobs = len(person.jobs())
    person.tap(walker.screen.submit_button)
    person.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    printed = person.wait_printout(jobs)
    assert "社区图书证" in printed.text.replace(" ", "")


NEW_BUNDLE = """
id: library_card
order: 900
title: {zh: 社区图书证办理, en: Community library card}
summary: {zh: 借书证一次办好, en: A library card in one go}
description: {zh: 为社区居民办理图书借阅证。, en: A borrowing card for residents.}
departments:
  - name: {zh: 街道文化中心, en: Street culture center}
    services:
      - {zh: 图书证办理, en: Library card}
trips_saved: 1
ticket_category: other
processing_days: 1
questions:
  - id: resident
    kind: yes_no
    text: {zh: 您是否居住在本街道？, en: "Do you live in this street?"}
    options:
      - id: "yes"
        label: {zh: 是, en: "Yes"}
      - id: "no"
        label: {zh: 否, en: "No"}
        then:
          add_materials: [address_proof]
materials:
  - id: id_card
    title: {zh: 居民身份证, en: ID card}
    license: id_card
  - id: address_proof
    title: {zh: 居住证明, en: Proof of address}
    conditional: true
fields:
  - id: phone
    label: {zh: 联系电话, en: Phone}
    kind: phone
prefilled:
  - id: name
    label: {zh: 姓名, en: Name}
    source: resident.name
next_steps:
  - {zh: 社区图书证 三个工作日内可到街道文化中心领取。, en: Collect the card within three days.}
"""


def test_query_shows_the_timeline(kiosk, resident):
    bundle = SHIPPED_BUNDLES[0]
    walker = Walker(kiosk, resident)
    walker.open(bundle.id)
    walker.walk(bundle, DEMO_RESIDENTS["ordinary"])
    printed_before = len(resident.jobs())
    resident.tap(walker.screen.submit_button)
    resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    reference = kiosk.bundle_controller.result.reference.text()
    # The receipt comes out after the result is on screen: the resident takes it first.
    resident.wait_printout(printed_before)
    from kiosk.backend.interface import ApplicationStatus

    kiosk.backend.advance_application(reference, ApplicationStatus.ACCEPTED)
    kiosk.backend.advance_application(reference, ApplicationStatus.NEEDS_MORE,
                                      "请补交 近期一寸照片")
    resident.tap(kiosk.bundle_controller.result.done_button)
    resident.wait_screen("home")
    # Scan the receipt's QR code.
    stored = kiosk.backend.application(reference)
    assert stored is not None
    resident.tap(kiosk.controller.home.service_buttons["query"])
    resident.wait_screen("query_scan")
    code = next(iter(r for r in [resident_code_for_receipt(kiosk, reference)]))
    resident.show_phone(code)
    resident.wait_screen("query_result", timeout=HANG_GUARD_MS)
    shown = texts(kiosk.window)
    for label in ("已提交", "受理中", "需补正", "请补交 近期一寸照片", reference):
        assert label in shown, label


def resident_code_for_receipt(kiosk, reference: str) -> str:
    jobs = kiosk.printer_transport.jobs
    from tests.helpers.printout import read_printout

    for data in reversed(jobs):
        printed = read_printout(data)
        if reference in printed.text:
            return printed.qr_texts[0]
    raise AssertionError("receipt not printed")


def test_stats_know_the_bundle_was_finished(kiosk, resident, qtbot):
    from kiosk.backend.stats import export_stats

    bundle = SHIPPED_BUNDLES[0]
    walker = Walker(kiosk, resident)
    walker.open(bundle.id)
    walker.walk(bundle, DEMO_RESIDENTS["ordinary"])
    resident.tap(walker.screen.submit_button)
    resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    today = dt.datetime.now(dt.UTC).astimezone().date()
    rows = export_stats(kiosk.backend, today - dt.timedelta(days=1), today + dt.timedelta(days=1))
    assert any(r["section"] == "bundles" and r["key"] == bundle.id for r in rows), rows


def test_broken_bundle_file_is_reported_and_the_rest_still_work(kiosk_factory, tmp_path):
    import shutil

    config_dir = tmp_path / "cfg"
    shutil.copytree(CONFIG_DIR, config_dir)
    (config_dir / "bundles" / "broken.yaml").write_text("id: broken\nfoo: [\n", "utf-8")
    k = kiosk_factory(config_file=config_dir / "kiosk.toml")
    assert len(k.bundles.bundles) == len(SHIPPED_BUNDLES)
    [error] = k.bundles.errors
    assert "broken.yaml" in error.message() and "YAML syntax error" in error.message()
    assert set(k.bundle_controller.list.buttons) == {b.id for b in SHIPPED_BUNDLES}


def test_abandoned_bundle_is_counted_at_its_step(kiosk, resident, qtbot):
    from kiosk.backend.stats import export_stats
    from kiosk.common.clock import shanghai_now

    walker = Walker(kiosk, resident)
    walker.open("birth")
    resident.tap(walker.screen.next_button)  # intro -> identify
    assert walker.wiz.current.kind is StepKind.IDENTIFY
    resident.tap(kiosk.window.home_button)  # the resident gives up
    resident.wait_screen("home")
    qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    today = shanghai_now().date()
    rows = {(r["section"], r["key"], r["subkey"]): r["value"]
            for r in export_stats(kiosk.backend, today, today)}
    assert rows.get(("bundles", "birth", "started")) == 1, rows
    assert rows.get(("bundles", "birth", "abandoned_at:identify")) == 1, rows


# ------------------------------------------------------------------ 身后一件事: another person
def _visible_texts(widget) -> str:
    return "".join(texts(widget).split())


def _shot(kiosk, tmp_path, name: str) -> None:
    import os
    from pathlib import Path

    from tests.integration.test_layout import settle_layouts

    settle_layouts()
    folder = Path(os.environ.get("KIOSK_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    assert kiosk.window.grab().save(str(folder / f"{name}.png"))


def test_after_death_another_persons_number_licenses_and_dates(kiosk, resident, caplog,
                                                               tmp_path):
    """身后一件事 as the late father's son does it: the deceased's ID number (his own is
    refused), the deceased's licenses exempting their materials, a date of death within the
    last 12 months; the deceased's number is masked on screen, and on no paper, no log."""
    import logging

    from kiosk.domain.masking import mask_id_number

    caplog.set_level(logging.DEBUG)
    father = DEMO_PERSONS["late_father_of_ordinary"]
    me = kiosk.backend.identify(DEMO_RESIDENTS["ordinary"])
    bundle = next(b for b in SHIPPED_BUNDLES if b.id == "after_death")
    walker = Walker(kiosk, resident)
    screen = walker.screen
    walker.open("after_death")
    resident.tap(screen.next_button)
    resident.show_phone(resident.code(DEMO_RESIDENTS["ordinary"]))
    resident.qtbot.waitUntil(lambda: walker.wiz.current.kind is not StepKind.IDENTIFY,
                             timeout=HANG_GUARD_MS)
    resident.put_phone_away()
    for qid, oid in (("relation", "spouse"), ("died_in_shanghai", "yes"), ("pension", "yes"),
                     ("housing_fund", "no")):
        assert walker.wiz.current.key == f"question:{qid}"
        resident.tap(screen.option_buttons[oid])

    # The deceased's ID number, before the materials list; the screen says whose.
    assert walker.wiz.current.key == "field:deceased_id_number"
    shown = _visible_texts(screen)
    assert "请输入逝者的身份证号码（18位，末位可能是X）。" in shown
    assert screen.keypad.keys["X"].isVisible()
    walker.type_value(me.id_number)
    resident.tap(screen.next_button)
    assert walker.wiz.current.key == "field:deceased_id_number"
    assert screen.problem.text() == "这是您本人的身份证号码。这里请输入逝者的身份证号码。"
    _shot(kiosk, tmp_path, "after-death-own-number-refused")
    walker.type_value(father[:-1] + ("1" if father[-1] != "1" else "2"))
    resident.tap(screen.next_button)
    assert "身份证号码有误" in screen.problem.text()
    walker.type_value(father)
    _shot(kiosk, tmp_path, "after-death-deceased-number")
    resident.tap(screen.next_button)

    # The materials: the deceased's three licenses are found and exempt them.
    assert walker.wiz.current.kind is StepKind.MATERIALS
    resident.qtbot.waitUntil(
        lambda: "✓免于提交（已调取逝者的电子证照）" in _visible_texts(screen),
        timeout=HANG_GUARD_MS)
    shown = _visible_texts(screen)
    found, _, to_bring = shown.partition("需要您携带的材料")
    for mid in ("death_certificate", "deceased_id_card", "deceased_household_register"):
        title = "".join(bundle.material(mid).title.zh.split())
        assert title in found and title not in to_bring, title
    assert "结婚证" in shown  # the applicant's own license (the demo resident holds one)
    _shot(kiosk, tmp_path, "after-death-materials")
    resident.tap(screen.next_button)  # review
    assert walker.wiz.current.kind is StepKind.REVIEW
    resident.tap(screen.next_button)

    # The date of death: within the last 12 months, and the screen says which days.
    assert walker.wiz.current.key == "field:date_of_death"
    today = kiosk.controller.ctx.clock().date()
    low, high = walker.wiz.date_range("date_of_death")
    assert high == today and low is not None and 365 <= (today - low).days <= 366
    expected = f"请输入{low.year}年{low.month}月{low.day}日至今天之间的日期。"
    assert expected in _visible_texts(screen)
    walker.type_value("19500101")
    resident.tap(screen.next_button)
    assert walker.wiz.current.key == "field:date_of_death"
    assert screen.problem.text() == (f"日期不能早于 {low.year}年{low.month}月{low.day}日，"
                                     "请核对后重新输入。")
    _shot(kiosk, tmp_path, "after-death-date-too-early")
    walker.type_value((today + dt.timedelta(days=1)).strftime("%Y%m%d"))
    resident.tap(screen.next_button)
    assert screen.problem.text() == "日期不能晚于 今天，请核对后重新输入。"
    walker.type_value((today - dt.timedelta(days=20)).strftime("%Y%m%d"))
    resident.tap(screen.next_button)
    for kind in ("phone", "bank_card"):
        field = bundle.form_field(walker.wiz.current.ref)
        assert field.kind == kind
        walker.type_value(valid_value(kind, field))
        resident.tap(screen.next_button)

    # Confirm: the deceased's number masked; then the receipt.
    assert walker.wiz.current.kind is StepKind.CONFIRM
    shown = _visible_texts(screen)
    assert mask_id_number(father) in shown and father not in shown
    _shot(kiosk, tmp_path, "after-death-confirm")
    jobs = len(resident.jobs())
    resident.tap(screen.submit_button)
    resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    printed = resident.wait_printout(jobs)
    flat = "".join(printed.text.split())
    assert "居民死亡医学证明（推断）书" in flat  # under 已免于提交
    assert father not in flat and father[6:14] not in flat and father[-4:] not in flat
    stored = kiosk.backend.application(kiosk.bundle_controller.result.reference.text())
    assert stored is not None and stored.bundle_id == "after_death"
    resident.qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert father not in logged and father[6:14] not in logged
    assert mask_id_number(father) not in logged
    # The session over, no widget holds it, whole or masked.
    resident.tap(kiosk.bundle_controller.result.done_button)
    resident.wait_screen("home")
    held = "\n".join(w.text() for w in kiosk.window.findChildren(QLabel))
    assert father not in held and mask_id_number(father) not in held
    assert kiosk.bundle_controller.wizard is None


def test_another_persons_licenses_are_not_shown_to_a_stranger(kiosk, resident):
    """The late father's number typed by someone the platform does not know as his relative:
    nothing is exempt, and the materials list says nothing about him."""
    walker = Walker(kiosk, resident)
    screen = walker.screen
    walker.open("after_death")
    resident.tap(screen.next_button)
    resident.show_phone(resident.code(DEMO_RESIDENTS["aged_85"]))
    resident.qtbot.waitUntil(lambda: walker.wiz.current.kind is not StepKind.IDENTIFY,
                             timeout=HANG_GUARD_MS)
    resident.put_phone_away()
    for oid in ("relative", "yes", "no", "no"):
        resident.tap(screen.option_buttons[oid])
    walker.type_value(DEMO_PERSONS["late_father_of_ordinary"])
    resident.tap(screen.next_button)
    assert walker.wiz.current.kind is StepKind.MATERIALS
    resident.qtbot.waitUntil(lambda: "正在调取" not in _visible_texts(screen),
                             timeout=HANG_GUARD_MS)
    resident.qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    shown = _visible_texts(screen)
    assert "逝者的电子证照" not in shown
    assert "居民死亡医学证明（推断）书" in shown.partition("需要您携带的材料")[2]
    assert [m.id for m in walker.wiz.exempt()] == ["applicant_id_card"]


def test_a_slow_lookup_is_shown_and_the_application_waits_for_it(kiosk, resident, tmp_path,
                                                                 monkeypatch):
    """While the platform is slow to answer for the deceased's licenses, the materials list
    says so (and lists their materials under it, not as to bring); 确认提交 pressed before
    the answer files the application once it comes, with what it exempts."""
    import threading

    backend = kiosk.bundle_controller.ctx.backend
    real = backend.person_licenses
    answer = threading.Event()
    asked = threading.Event()

    def slow(resident_id: str, id_number: str):
        asked.set()
        answer.wait(HANG_GUARD_MS / 1000)
        return real(resident_id, id_number)

    monkeypatch.setattr(backend, "person_licenses", slow)
    try:
        walker = Walker(kiosk, resident)
        screen = walker.screen
        walker.open("after_death")
        resident.tap(screen.next_button)
        resident.show_phone(resident.code(DEMO_RESIDENTS["ordinary"]))
        resident.qtbot.waitUntil(lambda: walker.wiz.current.kind is not StepKind.IDENTIFY,
                                 timeout=HANG_GUARD_MS)
        resident.put_phone_away()
        for oid in ("relative", "yes", "no", "no"):
            resident.tap(screen.option_buttons[oid])
        walker.type_value(DEMO_PERSONS["late_father_of_ordinary"])
        resident.tap(screen.next_button)
        resident.qtbot.waitUntil(asked.is_set, timeout=HANG_GUARD_MS)
        shown = _visible_texts(screen)
        pending, _, to_bring = shown.partition("需要您携带的材料")
        assert "正在调取逝者的电子证照…" in pending
        assert "居民死亡医学证明（推断）书" in pending
        assert "居民死亡医学证明（推断）书" not in to_bring
        _shot(kiosk, tmp_path, "after-death-materials-looking-up")
        while walker.wiz.current.kind is not StepKind.CONFIRM:
            step = walker.wiz.current
            if step.kind is StepKind.FIELD:
                field = walker.wiz.bundle.form_field(step.ref)
                walker.type_value(valid_value(field.kind, field))
            resident.tap(screen.next_button)
        jobs = len(resident.jobs())
        resident.tap(screen.submit_button)
        screen.submit_button.click()  # a second press while it waits files nothing more
        assert kiosk.window.current().name == "wizard"  # waiting for the answer
        assert "正在提交，请稍候" in _visible_texts(screen)
    finally:
        answer.set()
    resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    printed = "".join(resident.wait_printout(jobs).text.split())
    _, _, exempt = printed.partition("已免于提交")
    assert "居民死亡医学证明（推断）书" in exempt
    apps = kiosk.backend.applications_of(DEMO_RESIDENTS["ordinary"])
    assert len(apps) == 1
