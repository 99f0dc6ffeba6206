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
    # Nothing hangs off the panel.
    for w in visible_widgets(kiosk.window, QWidget):
        top_left = w.mapTo(kiosk.window, w.rect().topLeft())
        assert top_left.x() >= 0 and top_left.y() >= 0
        assert top_left.x() + w.width() <= width + 1 and top_left.y() + w.height() <= height + 1, (
            f"{orientation}: {type(w).__name__} {getattr(w, 'text', lambda: '')()!r} off screen"
        )
    print(f"{orientation}: smallest target {report['target']}px, smallest text {report['text']}px")
