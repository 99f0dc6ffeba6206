"""Every screen, both panel orientations: big targets, big text, real CJK glyphs, on screen."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QFontInfo, QFontMetrics
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from kiosk.backend.seed import DEMO_RESIDENTS

MIN_TARGET_PX = 80  # 15 mm on a 1080p panel
MIN_TEXT_PX = 28


def visible_widgets(root: QWidget, kind: type) -> list:
    return [w for w in root.findChildren(kind) if w.isVisibleTo(root) and w.isVisible()]


def check_screen(window, name: str, report: dict) -> None:
    assert window.current().name == name
    window.repaint()
    for button in visible_widgets(window, QAbstractButton):
        size = button.size()
        assert size.width() >= MIN_TARGET_PX and size.height() >= MIN_TARGET_PX, (
            f"{name}: button {button.text()!r} is {size.width()}x{size.height()}"
        )
        report["target"] = min(report.get("target", 9999), size.width(), size.height())
        geo = button.geometry()
        parent = button.parentWidget()
        assert parent is None or parent.rect().contains(geo), f"{name}: {button.text()!r} clipped"
    for label in visible_widgets(window, QLabel):
        if not label.text():
            continue
        # Squeezed text: a label shorter than its text needs overlaps its neighbours.
        need = (label.heightForWidth(label.width()) if label.wordWrap()
                else label.sizeHint().height())
        assert label.height() >= need - 2, (
            f"{name}: label {label.text()[:30]!r} is {label.height()}px high, needs {need}px"
        )
        px = QFontInfo(label.font()).pixelSize()
        assert px >= MIN_TEXT_PX, f"{name}: label {label.text()!r} at {px}px"
        report["text"] = min(report.get("text", 9999), px)
        info = QFontInfo(label.font())
        assert "CJK" in info.family() or "Noto" in info.family(), info.family()
        metrics = QFontMetrics(label.font())
        for ch in label.text():
            if ch.strip() and ord(ch) > 0x2E80:
                assert metrics.inFontUcs4(ord(ch)), f"{name}: no glyph for {ch!r}"


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_every_screen_is_touchable_and_readable(kiosk_factory, resident_at, orientation):
    kiosk = kiosk_factory(orientation=orientation)
    width, height = kiosk.config.screen.size()
    kiosk.window.resize(width, height)
    assert kiosk.window.size().width() == width
    person = resident_at(kiosk)
    report: dict = {}
    c = kiosk.controller
    check_screen(kiosk.window, "home", report)
    person.tap(c.home.scan_button)
    person.wait_screen("scan")
    check_screen(kiosk.window, "scan", report)
    person.show_phone(person.code(DEMO_RESIDENTS["aged_85"]))
    person.wait_screen("category", timeout=8000)
    person.put_phone_away()
    check_screen(kiosk.window, "category", report)
    before = len(person.jobs())
    person.tap(c.category.buttons["residence_permit"])
    person.wait_screen("ticket")
    person.wait_printout(before)
    check_screen(kiosk.window, "ticket", report)
    walk_other_screens(kiosk, person, report)
    # Nothing hangs off the panel.
    for w in visible_widgets(kiosk.window, QWidget):
        top_left = w.mapTo(kiosk.window, w.rect().topLeft())
        assert top_left.x() >= 0 and top_left.y() >= 0
        assert top_left.x() + w.width() <= width + 1 and top_left.y() + w.height() <= height + 1, (
            f"{orientation}: {type(w).__name__} {getattr(w, 'text', lambda: '')()!r} off screen"
        )
    print(f"{orientation}: smallest target {report['target']}px, smallest text {report['text']}px")


def walk_other_screens(kiosk, person, report: dict) -> None:
    """一件事 wizard pages, result, rating, help, query and check-in screens."""
    from kiosk.domain.wizard import StepKind

    w = kiosk.window
    c = kiosk.controller
    person.tap(c.ticket.done_button)
    person.wait_screen("home")
    bc = kiosk.bundle_controller
    for bundle_id in ("retirement", "birth"):
        person.tap(c.home.service_buttons["bundles"])
        person.wait_screen("bundles")
        check_screen(w, "bundles", report)
        person.tap(bc.list.buttons[bundle_id])
        person.wait_screen("wizard")
        for _ in range(40):
            wiz = bc.wizard
            step = wiz.current
            check_screen(w, "wizard", report)
            if step.kind is StepKind.IDENTIFY:
                person.show_phone(person.code(DEMO_RESIDENTS["ordinary"]))
                person.qtbot.waitUntil(lambda: bc.wizard.current.kind is not StepKind.IDENTIFY,
                                       timeout=8000)
                person.put_phone_away()
            elif step.kind is StepKind.QUESTION:
                q = wiz.bundle.question(step.ref)
                pick = next(o for o in q.options if not (o.then and o.then.ineligible))
                person.tap(bc.wizard_screen.option_buttons[pick.id])
            elif step.kind is StepKind.FIELD:
                from kiosk.demo import DEMO_VALUES

                f = wiz.bundle.form_field(step.ref)
                value = DEMO_VALUES[f.kind]
                if f.kind == "date" and not f.allow_past:
                    value = "20991231"
                for ch in value:
                    person.tap(bc.wizard_screen.keypad.keys[ch])
                check_screen(w, "wizard", report)
                person.tap(bc.wizard_screen.next_button)
            elif step.kind is StepKind.CONFIRM:
                person.tap(bc.wizard_screen.submit_button)
                person.wait_screen("bundle_result", timeout=8000)
                check_screen(w, "bundle_result", report)
                person.tap(bc.result.rate_button)
                person.wait_screen("rating")
                person.tap(w.current().level_buttons[4])
                check_screen(w, "rating", report)
                person.tap(w.help_button)
                person.wait_screen("help")
                person.qtbot.waitUntil(lambda: "马上" in w.current().heading.text(),
                                       timeout=5000)
                check_screen(w, "help", report)
                w.go_home("home")
                break
            else:
                person.tap(bc.wizard_screen.next_button)
    person.tap(c.home.service_buttons["query"])
    person.wait_screen("query_scan")
    check_screen(w, "query_scan", report)
    person.show_phone(person.code(DEMO_RESIDENTS["ordinary"]))
    person.wait_screen("query_result", timeout=8000)
    person.put_phone_away()
    check_screen(w, "query_result", report)
    w.go_home("home")
    person.tap(c.home.service_buttons["checkin"])
    person.wait_screen("checkin_scan")
    person.show_phone(person.code(DEMO_RESIDENTS["appointment_passed"]))
    person.wait_screen("checkin_result", timeout=8000)
    person.put_phone_away()
    check_screen(w, "checkin_result", report)
