"""The 一件事 pages as residents met them (issue 14): 是 before 否 on every yes/no question,
a disabled Next that looks disabled and says what it waits for, a keypad that stays where it
is, a step count that never takes back what it said, 信息有误 on the review page, the title
that matches Home, the camera message that names a button the screen has, the words of the
statistics, and a result page that holds eight long materials.

Screenshots: KIOSK_SHOTS=<folder> keeps them (else the test's tmp_path)."""

from __future__ import annotations

import itertools
import os
import re
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QPushButton

from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain.bundles import Bundle
from kiosk.domain.wizard import StepKind
from kiosk.ui.theme import NORMAL_COLOURS
from tests.helpers.paths import CONFIG_DIR
from tests.helpers.waits import HANG_GUARD_MS
from tests.integration.test_bundles_ui import SHIPPED_BUNDLES, texts, valid_value
from tests.integration.test_layout import (
    check_screen,
    choose,
    open_service,
    quiet,
    settle_layouts,
    tap_choice,
)
from tests.integration.test_maintenance import WRONG_PIN, Technician, config_with_pin

SHOTS = os.environ.get("KIOSK_SHOTS")
ORDINARY = DEMO_RESIDENTS["ordinary"]
MODES = [("landscape", False), ("landscape", True), ("portrait", False), ("portrait", True)]


def shot(kiosk, tmp_path: Path, name: str) -> Path:
    settle_layouts()
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    assert kiosk.window.grab().save(str(path))
    return path


def at(widget) -> QPoint:
    return widget.mapTo(widget.window(), QPoint(0, 0))


def bundle(bundle_id: str) -> Bundle:
    return next(b for b in SHIPPED_BUNDLES if b.id == bundle_id)


def kiosk_in(kiosk_factory, resident_at, orientation: str = "landscape", elder: bool = False,
             **factory: object):
    kiosk = kiosk_factory(orientation=orientation, **factory)
    width, height = kiosk.config.screen.size()
    kiosk.window.resize(width, height)
    quiet(kiosk)
    person = resident_at(kiosk)
    choose(kiosk, person, "zh", elder)
    return kiosk, person


def open_bundle(kiosk, person, bundle_id: str) -> None:
    bc = kiosk.bundle_controller
    open_service(kiosk, person, "bundles")
    person.wait_screen("bundles")
    tap_choice(person, bc.list.pages, bc.list.buttons[bundle_id])
    person.wait_screen("wizard")


def walk(kiosk, person, *, until: StepKind = StepKind.CONFIRM, visit=None,
         pick=None) -> None:
    """Through the wizard to the first step of kind `until`, as a resident: Next, the phone
    to the camera, a tap on an answer (`pick(question)` or the first that goes on), the
    values typed. `visit(step)` at every step before acting on it."""
    bc = kiosk.bundle_controller
    screen = bc.wizard_screen
    for _ in range(40):
        wiz = bc.wizard
        step = wiz.current
        settle_layouts()
        if visit is not None:
            visit(step)
        if step.kind is until:
            return
        if step.kind is StepKind.IDENTIFY:
            person.show_phone(person.code(ORDINARY))
            person.qtbot.waitUntil(lambda: bc.wizard.current.kind is not StepKind.IDENTIFY,
                                   timeout=HANG_GUARD_MS)
            person.put_phone_away()
        elif step.kind is StepKind.QUESTION:
            q = wiz.bundle.question(step.ref)
            option = pick(q) if pick is not None else None
            if option is None:
                option = next(o for o in q.shown_options()
                              if not (o.then and o.then.ineligible))
            tap_choice(person, screen.option_pages, screen.option_buttons[option.id])
        elif step.kind is StepKind.FIELD:
            f = wiz.bundle.form_field(step.ref)
            person.tap(screen.keypad.clear_key)
            for ch in valid_value(f.kind, f):
                person.tap(screen.keypad.keys[ch])
            person.tap(screen.next_button)
        elif step.kind in (StepKind.CONFIRM, StepKind.INELIGIBLE):
            raise AssertionError(f"the wizard ended at {step.key} before {until}")
        else:
            person.tap(screen.next_button)
    raise AssertionError("the wizard did not end")


def inside_colour(button: QPushButton) -> QColor:
    """The button's fill, beside its text: what tells a resident whether it is active."""
    settle_layouts()
    image = button.grab().toImage()
    return image.pixelColor(12, image.height() // 2)


# ------------------------------------------------------------------ 1: 是 before 否
@pytest.mark.parametrize("bundle_id", ["birth", "retirement", "social_assistance"])
def test_yes_is_always_before_no(kiosk_factory, resident_at, tmp_path, bundle_id):
    """The files list 否 first where only 否 does something (birth's maternity question):
    on screen 是 is always first, left of 否 (above it in a single column)."""
    kiosk, person = kiosk_in(kiosk_factory, resident_at)
    open_bundle(kiosk, person, bundle_id)
    seen: list[str] = []

    def visit(step) -> None:
        if step.kind is not StepKind.QUESTION:
            return
        q = kiosk.bundle_controller.wizard.bundle.question(step.ref)
        if q.kind != "yes_no":
            return
        buttons = kiosk.bundle_controller.wizard_screen.option_buttons
        yes, no = at(buttons["yes"]), at(buttons["no"])
        assert buttons["yes"].text() == "是" and buttons["no"].text() == "否"
        assert (yes.y(), yes.x()) < (no.y(), no.x()), (q.id, yes, no)
        seen.append(q.id)
        if len(seen) == 1:
            shot(kiosk, tmp_path, f"yes-no-{bundle_id}")

    # Answers that skip nothing, so that every question is asked.
    walk(kiosk, person, visit=visit,
         pick=lambda q: next((o for o in q.shown_options() if o.then is None), None))
    listed_no_first = [q.id for q in bundle(bundle_id).questions
                       if q.kind == "yes_no" and q.options[0].id == "no"]
    assert listed_no_first and set(listed_no_first) <= set(seen)


# ------------------------------------------------------------------ 3: disabled looks disabled
def test_a_disabled_next_looks_disabled_and_the_page_says_what_it_waits_for(
        kiosk_factory, resident_at, tmp_path):
    kiosk, person = kiosk_in(kiosk_factory, resident_at)
    screen = kiosk.bundle_controller.wizard_screen
    open_bundle(kiosk, person, "birth")
    enabled = inside_colour(screen.next_button)  # the intro: Next goes on
    assert screen.next_button.isEnabled() and not screen.next_hint.isVisible()
    person.tap(screen.next_button)
    # The camera page waits for a code.
    assert kiosk.bundle_controller.wizard.current.kind is StepKind.IDENTIFY
    assert not screen.next_button.isEnabled()
    assert screen.next_hint.isVisible() and "随申码" in screen.next_hint.text()
    walk(kiosk, person, until=StepKind.QUESTION)
    assert not screen.next_button.isEnabled()  # nothing chosen yet
    disabled = inside_colour(screen.next_button)
    assert enabled == QColor(NORMAL_COLOURS.blue)
    assert disabled == QColor(NORMAL_COLOURS.disabled_bg), disabled.name()
    assert screen.next_hint.isVisible() and screen.next_hint.text() == "请先选择一项"
    shot(kiosk, tmp_path, "next-disabled-question")
    # A keypad page waits for what is typed.
    walk(kiosk, person, until=StepKind.FIELD)
    assert not screen.next_button.isEnabled() and screen.next_hint.text() == "请先输入"
    person.tap(screen.keypad.keys["1"])
    assert screen.next_button.isEnabled() and not screen.next_hint.isVisible()
    assert inside_colour(screen.next_button) == enabled


def test_a_locked_pin_screen_shows_its_confirm_as_disabled(kiosk_factory, qtbot, tmp_path):
    k = kiosk_factory(config_file=config_with_pin(tmp_path / "config"))
    t = Technician(k, qtbot)
    t.gesture()
    pin = t.mc.pin_screen
    t.tap(pin.keypad.keys["1"])
    enabled = inside_colour(pin.confirm_button)
    assert enabled == QColor(NORMAL_COLOURS.blue)
    t.tap(pin.keypad.clear_key)
    for _ in range(5):
        t.enter_pin(WRONG_PIN)
    assert "已锁定" in pin.message.text() and pin.message.isVisible()
    assert not pin.confirm_button.isEnabled()
    assert inside_colour(pin.confirm_button) == QColor(NORMAL_COLOURS.disabled_bg)
    shot(k, tmp_path, "pin-locked")


# ------------------------------------------------------------------ 7: the keypad stays put
@pytest.mark.parametrize(("orientation", "elder"), MODES)
def test_the_keypad_stays_in_one_place_and_errors_say_what_is_expected(
        kiosk_factory, resident_at, tmp_path, orientation, elder):
    """Every keypad step of three bundles (phone, date, ID number, bank card, digits with
    and without a fixed length): the keypad where it was on the first, before typing, with a
    message under the entry, and after."""
    kiosk, person = kiosk_in(kiosk_factory, resident_at, orientation, elder)
    screen = kiosk.bundle_controller.wizard_screen
    keypad = screen.keypad
    places: list[tuple[str, QPoint]] = []
    errors: dict[str, str] = {}

    def visit(step) -> None:
        if step.kind is not StepKind.FIELD:
            return
        f = kiosk.bundle_controller.wizard.bundle.form_field(step.ref)
        places.append((f"{step.key} arrived", at(keypad)))
        person.tap(keypad.clear_key)
        # One digit is too few for every field here but one of one or two digits.
        for _ in range(3 if f.kind == "digits" and f.min_len == 1 else 1):
            person.tap(keypad.keys["1"])
        person.tap(screen.next_button)
        settle_layouts()
        assert screen.problem.isVisible(), step.key
        errors[f.kind if f.kind != "digits" else f"digits{f.min_len}-{f.max_len}"] = (
            screen.problem.text())
        places.append((f"{step.key} refused", at(keypad)))
        if f.kind == "phone":
            shot(kiosk, tmp_path, f"keypad-error-{orientation}{'-elder' if elder else ''}")
        # The message is under the entry, not across the page from it.
        entry = screen.problem.parentWidget().findChildren(type(screen.problem), "entry")
        assert entry and at(screen.problem).y() > at(entry[0]).y()

    for bundle_id in ("birth", "social_assistance", "residence_permit"):
        choose(kiosk, person, "zh", elder)
        open_bundle(kiosk, person, bundle_id)
        walk(kiosk, person, visit=visit)
        kiosk.window.go_home("home")
    first = places[0][1]
    moved = [(what, p) for what, p in places if p != first]
    assert not moved, (first, moved)
    assert errors["phone"] == "您输入了 1 位。请输入 11 位手机号码。"
    assert "18 位身份证号码" in errors["id_number"]
    assert "12 至 19 位" in errors["bank_card"]
    assert "8 位数字的日期" in errors["date"]
    assert errors["digits6-6"] == "您输入了 1 位。请输入 6 位数字。"
    assert errors["digits1-2"] == "您输入了 3 位。请输入 1 至 2 位数字。"
    assert "位数不对" not in "".join(errors.values())


# ------------------------------------------------------------------ 8: the step count
def test_the_step_count_goes_up_by_one_and_never_takes_back_what_it_said(
        kiosk_factory, resident_at, tmp_path):
    """出生一件事, hukou elsewhere (which skips the marriage question): "第 k 步" goes up one
    at a time, what is left only shrinks, and where it is said exactly it is exact."""
    kiosk, person = kiosk_in(kiosk_factory, resident_at)
    screen = kiosk.bundle_controller.wizard_screen
    open_bundle(kiosk, person, "birth")
    said: list[str] = []
    walk(kiosk, person, visit=lambda _step: said.append(screen.step_count.text()),
         pick=lambda q: q.option("elsewhere") if q.id == "hukou" else None)
    shot(kiosk, tmp_path, "step-count-confirm")
    parsed = []
    for text in said:
        m = re.fullmatch(r"第 (\d+) 步，(?:还有(约)? ?(\d+) 步|最后一步)", text)
        assert m, text
        parsed.append((int(m.group(1)), m.group(2) == "约",
                       int(m.group(3)) if m.group(3) else 0))
    assert [k for k, _, _ in parsed] == list(range(1, len(said) + 1))
    for i, (_k, about, left) in enumerate(parsed):
        actually = len(said) - 1 - i
        assert left >= actually, (said[i], actually)
        if not about:
            assert left == actually, (said[i], actually)
    lefts = [left for _, _, left in parsed]
    assert all(b < a for a, b in itertools.pairwise(lefts)), said
    assert said[-1].endswith("最后一步")
    assert any(about for _, about, _ in parsed) and not parsed[-2][1]


# ------------------------------------------------------------------ 8: 信息有误
@pytest.mark.parametrize(("orientation", "elder"), [("landscape", False), ("portrait", True),
                                                    ("landscape", True)])
def test_the_review_page_says_what_to_do_when_something_is_wrong(
        kiosk_factory, resident_at, tmp_path, orientation, elder):
    kiosk, person = kiosk_in(kiosk_factory, resident_at, orientation, elder)
    bc = kiosk.bundle_controller
    screen = bc.wizard_screen
    open_bundle(kiosk, person, "retirement")
    walk(kiosk, person, until=StepKind.REVIEW)
    assert screen.heading.text() == "请核对您的信息"
    mode = f"{orientation}{'-elder' if elder else ''}"
    shot(kiosk, tmp_path, f"review-{mode}")
    check_screen(kiosk.window, "wizard", {})
    wrong = next(b for b in screen.findChildren(QPushButton)
                 if b.isVisible() and b.text() == "信息有误？")
    person.tap(wrong)
    shown = texts(screen)
    assert "本机不能修改" in shown and "请先不要提交" in shown
    call = next(b for b in screen.findChildren(QPushButton)
                if b.isVisible() and b.text() == "请工作人员帮您核实")
    shot(kiosk, tmp_path, f"review-wrong-{mode}")
    check_screen(kiosk.window, "wizard", {})
    person.tap(call)
    person.wait_screen("help")
    kiosk.window.go_back()  # 返回 on the help page
    person.wait_screen("wizard")
    assert bc.wizard.current.kind is StepKind.REVIEW


# ------------------------------------------------------------------ 8: Home's words
def test_the_bundle_pages_carry_the_name_of_the_home_tile(kiosk_factory, resident_at):
    kiosk, person = kiosk_in(kiosk_factory, resident_at)
    tile = kiosk.controller.home.service_buttons["bundles"].text()
    assert tile.replace("\n", "") == "一件事一次办成"
    open_bundle(kiosk, person, "birth")
    assert kiosk.window.title.text() == "一件事一次办成"
    kiosk.window.go_back()
    person.wait_screen("bundles")
    assert kiosk.window.title.text() == "一件事一次办成"


def test_the_intro_reads_without_spaces_between_chinese_words(kiosk_factory, resident_at):
    kiosk, person = kiosk_in(kiosk_factory, resident_at)
    open_bundle(kiosk, person, "birth")
    assert "医保参保登记和社会保障卡申领" in texts(kiosk.bundle_controller.wizard_screen)


# ------------------------------------------------------------------ 8: camera out
def test_the_camera_message_names_a_button_each_scan_screen_has(
        kiosk_factory, resident_at, tmp_path):
    kiosk, person = kiosk_in(kiosk_factory, resident_at)
    person.qtbot.waitUntil(lambda: kiosk.scanner.state == "running", timeout=HANG_GUARD_MS)
    kiosk.camera.unplug()
    person.qtbot.waitUntil(lambda: kiosk.scanner.state in ("unavailable", "stale"),
                           timeout=HANG_GUARD_MS)
    c = kiosk.controller
    for open_it, name in ((lambda: person.tap(c.home.scan_button), "scan"),
                          (lambda: open_service(kiosk, person, "query"), "query_scan"),
                          (lambda: open_service(kiosk, person, "checkin"), "checkin_scan")):
        open_it()
        person.wait_screen(name)
        scan = kiosk.window.current()
        buttons = [b.text() for b in scan.findChildren(QPushButton) if b.isVisible()]
        buttons += [b.text() for b in kiosk.window.findChildren(QPushButton)
                    if b.isVisible() and not scan.isAncestorOf(b)]
        named = re.findall(r"“([^”]+)”", scan.status.text())
        assert named and all(n in buttons for n in named), (name, scan.status.text(), buttons)
        if name == "query_scan":
            assert "没有回执和手机？呼叫帮办" in named
            shot(kiosk, tmp_path, "query-scan-camera-out")
        kiosk.window.go_home("home")
    kiosk.camera.plug()


# ------------------------------------------------------------------ 8: statistics
def test_statistics_name_the_step_where_residents_gave_up(
        kiosk_factory, resident_at, qtbot, tmp_path):
    k = kiosk_factory(config_file=config_with_pin(tmp_path / "config"))
    person = resident_at(k)
    quiet(k)
    open_bundle(k, person, "birth")  # gives up on the intro
    k.window.go_home("home")
    open_bundle(k, person, "birth")
    walk(k, person, until=StepKind.QUESTION)  # gives up on the first question
    k.window.go_home("home")
    qtbot.waitUntil(lambda: not k.busy(), timeout=HANG_GUARD_MS)
    t = Technician(k, qtbot)
    t.log_in()
    t.section("stats")
    body = t.mc.screen.stats_body
    qtbot.waitUntil(lambda: "放弃于" in body.text(), timeout=HANG_GUARD_MS)
    text = body.text()
    assert "放弃于 事项介绍" in text
    assert "放弃于 问题“宝宝的户口登记在哪里？”" in text
    assert "intro" not in text and "question:" not in text
    shot(k, tmp_path, "stats-abandoned")


# ------------------------------------------------------------------ 9: eight long materials
LONG_BUNDLE = """
id: long_list
order: 1
title: {zh: 材料很多的一件事, en: A bundle with many materials}
summary: {zh: 八项材料的测试事项, en: Eight materials}
description: {zh: 用于检查结果页能否完整显示八项较长的材料。, en: Checks the result page.}
departments:
  - name: {zh: 市民政局, en: Civil Affairs Bureau}
    services:
      - {zh: 示例事项, en: Sample service}
trips_saved: 3
ticket_category: other
processing_days: 15
materials:
%s
prefilled:
  - id: name
    label: {zh: 申请人姓名, en: Applicant's name}
    source: resident.name
next_steps:
  - zh: 各部门在线审核申请材料，审核结果以短信方式通知申请人
    en: The departments check the application online and send the result by text message
  - zh: 审核通过后，相关证件可选择邮寄到家或到受理窗口领取
    en: Once approved, the documents are posted to you or collected at the window
"""
LONG_MATERIALS = [
    ("申请人及配偶双方的居民身份证原件及复印件", "原件核验后退还，复印件需正反面印在同一页上"),
    ("本市常住户口居民户口簿（户主页和本人页）", "户口不在本市的，请另附居住证及居住登记信息"),
    ("申请人近三个月的银行流水或工资收入证明", "由工作单位或开户银行出具并加盖公章"),
    ("医院出具的诊断证明书和近期的病历资料", "需为二级及以上医院出具，复印件加盖医院印章"),
    ("房屋产权证明或租赁合同（含租赁备案证明）", "租赁合同须在有效期内，且已在街道办理备案"),
    ("申请人本人名下的借记卡或存折复印件", "用于发放补贴，须为本市银行开立的一类账户"),
    ("近期免冠彩色证件照片两张（白色背景）", "照片尺寸为二寸，请勿使用翻拍或打印的照片"),
    ("其他能够证明家庭经济状况的相关材料", "如残疾证、退役军人证、低保证等，有则提供"),
]


def long_bundle_config(folder: Path) -> Path:
    shutil.copytree(CONFIG_DIR, folder)
    items = "\n".join(
        f"  - id: m{i}\n    title: {{zh: {title}, en: Material number {i} with a long name}}\n"
        f"    note: {{zh: {note}, en: A note of some length about material {i}}}"
        for i, (title, note) in enumerate(LONG_MATERIALS))
    (folder / "bundles" / "long_list.yaml").write_text(LONG_BUNDLE % items, "utf-8")
    return folder / "kiosk.toml"


@pytest.mark.parametrize(("orientation", "elder"), MODES)
def test_the_result_page_holds_eight_long_materials(kiosk_factory, resident_at, tmp_path,
                                                    orientation, elder):
    kiosk, person = kiosk_in(kiosk_factory, resident_at, orientation, elder,
                             config_file=long_bundle_config(tmp_path / "cfg"))
    bc = kiosk.bundle_controller
    open_bundle(kiosk, person, "long_list")
    walk(kiosk, person)
    assert len(bc.wizard.to_bring()) == 8
    person.tap(bc.wizard_screen.submit_button)
    person.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    status = bc.result.print_status
    person.qtbot.waitUntil(lambda: status.text() != "" and not status.text().endswith("…"),
                           timeout=HANG_GUARD_MS)
    shot(kiosk, tmp_path, f"result-eight-{orientation}{'-elder' if elder else ''}")
    check_screen(kiosk.window, "bundle_result", {})  # no text over another, none squeezed
    shown = "".join(texts(bc.result).split())
    if not elder:  # elder mode lists the first ones and "另有 n 项，详见回执"
        for title, _note in LONG_MATERIALS:
            assert title in shown, title

