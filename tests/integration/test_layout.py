"""Every screen, both panel orientations: big targets, big text, real CJK glyphs, on screen.

`walk_every_screen` is the resident's tour of every screen of every flow (taps on the real
buttons, codes shown to the emulated camera), in either language and mode; this file checks
layout with it, test_accessibility.py the MIIT 适老化 figures.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QEvent, QPoint, QRect
from PySide6.QtGui import QFontInfo, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QLabel,
    QWidget,
)

from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.ui.audio.sound import FakeSound
from kiosk.ui.audio.speech import FakeSpeech
from tests.helpers.waits import HANG_GUARD_MS

MIN_TARGET_PX = 80  # 15 mm on a 1080p panel
MIN_TEXT_PX = 28


def visible_widgets(root: QWidget, kind: type) -> list:
    return [w for w in root.findChildren(kind) if w.isVisibleTo(root) and w.isVisible()]


def settle_layouts() -> None:
    """Let layouts converge: a button that re-wraps its text at its new width asks for a new
    height, which is one more pass of the event loop (the kiosk's own loop runs it before the
    next paint; a test checking right after one processEvents() might not)."""
    for _ in range(3):
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        QApplication.processEvents()


def check_screen(window, name: str, report: dict) -> None:
    assert window.current().name == name
    settle_layouts()
    window.repaint()
    min_text = MIN_TEXT_PX * (1.5 if window.elder else 1)
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
        assert px >= min_text, f"{name}: label {label.text()!r} at {px}px"
        report["text"] = min(report.get("text", 9999), px)
        info = QFontInfo(label.font())
        assert "CJK" in info.family() or "Noto" in info.family(), info.family()
        metrics = QFontMetrics(label.font())
        for ch in label.text():
            if ch.strip() and ord(ch) > 0x2E80:
                assert metrics.inFontUcs4(ord(ch)), f"{name}: no glyph for {ch!r}"
    check_no_overlaps(window, name)
    # Nothing hangs off the panel (what scrolls inside a scroll area may).
    width, height = window.width(), window.height()
    for w in visible_widgets(window, QWidget):
        if in_scroll_area(w, window):
            continue
        top_left = w.mapTo(window, w.rect().topLeft())
        assert top_left.x() >= 0 and top_left.y() >= 0, f"{name}: {type(w).__name__} off screen"
        assert top_left.x() + w.width() <= width + 1 and top_left.y() + w.height() <= height + 1, (
            f"{name}: {type(w).__name__} {getattr(w, 'text', lambda: '')()!r} off screen"
        )


def check_no_overlaps(window, name: str) -> None:
    """No text or button lies over another: a layout given less height than its widgets'
    minimum squeezes nothing, it overlaps them (a tile's second line under the next tile).
    Under the idle overlay only the overlay's own widgets count."""
    root = window.overlay if window.overlay.isVisible() else window
    shown = list(visible_widgets(root, QAbstractButton))
    shown += [w for w in visible_widgets(root, QLabel) if w.text()]
    if root is window:
        shown = [w for w in shown if not window.overlay.isAncestorOf(w)]
    rects = [(w, QRect(w.mapTo(window, QPoint(0, 0)), w.size())) for w in shown]
    for i, (a, ra) in enumerate(rects):
        for b, rb in rects[i + 1:]:
            if a.isAncestorOf(b) or b.isAncestorOf(a):
                continue
            if in_scroll_area(a, window) or in_scroll_area(b, window):
                continue
            common = ra.intersected(rb)
            assert common.isEmpty() or min(common.width(), common.height()) <= 1, (
                f"{name}: {label_of(a)!r} and {label_of(b)!r} overlap by "
                f"{common.width()}x{common.height()}px")


def label_of(widget: QWidget) -> str:
    return (getattr(widget, "text", lambda: "")() or type(widget).__name__)[:30]


def in_scroll_area(widget: QWidget, window: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def quiet(kiosk) -> None:
    """Fakes for speech and the cue: tests never start the voice process."""
    ctx = kiosk.controller.ctx
    ctx.speech, ctx.sound = FakeSpeech(), FakeSound()


def choose(kiosk, person, language: str = "zh", elder: bool = False) -> None:
    """On Home, the resident's choices for this session, by tapping the toggles."""
    w = kiosk.window
    assert w.current().name == "home"
    if w.language != language:
        person.tap(w.language_button)
    if w.elder != elder:
        person.tap(w.elder_button)
    assert (w.language, w.elder) == (language, elder)


def open_service(kiosk, person, key: str, visit: Callable[[str], None] | None = None) -> None:
    """A service from Home: its tile, or in elder mode 更多服务 and then the tile."""
    c = kiosk.controller
    if kiosk.window.elder:
        person.tap(c.home.more_button)
        person.wait_screen("services")
        if visit is not None:
            visit("services")
        person.tap(c.services.service_buttons[key])
    else:
        person.tap(c.home.service_buttons[key])


def tap_choice(person, pages, button) -> None:
    """A choice on a paged screen (elder mode): to its page first, as a resident would."""
    while not button.isVisible() and pages.page < pages.page_of(button):
        person.tap(pages.more_button)
    while not button.isVisible() and pages.page > pages.page_of(button):
        person.tap(pages.previous_button)
    person.tap(button)


def walk_every_screen(kiosk, person, visit: Callable[[str], None], *, language: str = "zh",
                      elder: bool = False, bundles: tuple[str, ...] | None = None,
                      faults: bool = True) -> None:
    """Every screen of every flow, as a resident reaches it, in `language` and mode:
    visit(name) at each state worth checking (a refused code, a typed field, page two of a
    paged choice, every 一件事 bundle and an ineligible answer, the idle countdown, and with
    `faults` what the resident reads when the paper runs out, the network is down or the
    camera is unplugged). The session's choices are made again on Home before each flow, as
    the next resident starts in Chinese and the normal mode."""
    from kiosk.domain.wizard import StepKind
    from tests.integration.test_bundles_ui import SHIPPED_BUNDLES

    if bundles is None:
        bundles = tuple(b.id for b in SHIPPED_BUNDLES)

    w = kiosk.window
    c = kiosk.controller
    bc = kiosk.bundle_controller

    def seen(name: str) -> None:
        assert (w.language, w.elder) == (language, elder), (name, w.language, w.elder)
        visit(name)

    # 扫码取号: a refused code, an 85-year-old's priority ticket, rating and help.
    choose(kiosk, person, language, elder)
    seen("home")
    person.tap(c.home.scan_button)
    person.wait_screen("scan")
    seen("scan")
    person.show_phone(person.code(DEMO_RESIDENTS["aged_85"], "expired"))
    person.qtbot.waitUntil(c.scan.message.isVisible, timeout=HANG_GUARD_MS)
    seen("scan")
    person.show_phone(person.code(DEMO_RESIDENTS["aged_85"]))
    person.wait_screen("category", timeout=HANG_GUARD_MS)
    person.put_phone_away()
    seen("category")
    pages = c.category.pages
    if pages.pages() > 1:
        person.tap(pages.more_button)
        seen("category")
        person.tap(pages.previous_button)
    before = len(person.jobs())
    person.tap(c.category.buttons["social_security"])
    person.wait_screen("ticket")
    [ticket_code] = person.wait_printout(before).qr_texts
    # Printed: the status says so (it ends with "…" while printing).
    person.qtbot.waitUntil(lambda: c.ticket.print_status.text() != "" and
                           not c.ticket.print_status.text().endswith("…"), timeout=HANG_GUARD_MS)
    seen("ticket")
    person.tap(c.ticket.rate_button)
    person.wait_screen("rating")
    seen("rating")
    rating = w.current()
    person.tap(rating.level_buttons[4])
    seen("rating")
    person.tap(rating.submit_button)
    person.qtbot.waitUntil(rating.thanks.isVisible, timeout=HANG_GUARD_MS)
    seen("rating")
    person.tap(w.help_button)
    person.wait_screen("help")
    help_screen = w.current()
    person.qtbot.waitUntil(lambda: help_screen.status.text() != "" and
                           "…" not in help_screen.status.text(), timeout=HANG_GUARD_MS)
    seen("help")
    w.go_home("home")

    # 一件事: every step kind, a refused code and an empty field on the way; then an answer
    # that ends the bundle with an explanation.
    ineligible = next(b.id for b in SHIPPED_BUNDLES if any(
        o.then and o.then.ineligible for q in b.questions for o in q.options))
    for bundle_id, refuse in [*((b, False) for b in bundles), (ineligible, True)]:
        choose(kiosk, person, language, elder)
        open_service(kiosk, person, "bundles", seen)
        person.wait_screen("bundles")
        seen("bundles")
        pages = bc.list.pages
        if pages.pages() > 1:
            person.tap(pages.more_button)
            seen("bundles")
            person.tap(pages.previous_button)
        tap_choice(person, pages, bc.list.buttons[bundle_id])
        person.wait_screen("wizard")
        refused = emptied = False
        for _ in range(40):
            wiz = bc.wizard
            step = wiz.current
            screen = bc.wizard_screen
            seen("wizard")
            if step.kind is StepKind.IDENTIFY:
                if not refused:
                    refused = True
                    person.show_phone(person.code(DEMO_RESIDENTS["ordinary"], "expired"))
                    person.qtbot.waitUntil(screen.problem.isVisible, timeout=HANG_GUARD_MS)
                    seen("wizard")
                person.show_phone(person.code(DEMO_RESIDENTS["ordinary"]))
                person.qtbot.waitUntil(lambda: bc.wizard.current.kind is not StepKind.IDENTIFY,
                                       timeout=HANG_GUARD_MS)
                person.put_phone_away()
            elif step.kind is StepKind.QUESTION:
                q = wiz.bundle.question(step.ref)
                ends = [o for o in q.options if o.then and o.then.ineligible]
                goes_on = [o for o in q.options if o not in ends]
                pick = (ends or goes_on)[0] if refuse else goes_on[0]
                tap_choice(person, screen.option_pages, screen.option_buttons[pick.id])
            elif step.kind is StepKind.FIELD:
                from tests.integration.test_bundles_ui import valid_value

                f = wiz.bundle.form_field(step.ref)
                if not emptied:
                    person.tap(screen.keypad.clear_key)
                    person.tap(screen.next_button)
                    if bc.wizard.current.key != step.key:
                        continue  # an optional field: empty is fine
                    emptied = True
                    assert screen.problem.isVisible()
                    seen("wizard")
                for ch in valid_value(f.kind, f):
                    person.tap(screen.keypad.keys[ch])
                seen("wizard")
                person.tap(screen.next_button)
            elif step.kind is StepKind.CONFIRM:
                assert not refuse, f"{bundle_id}: the ineligible answer did not end it"
                before = len(person.jobs())
                person.tap(screen.submit_button)
                person.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
                person.wait_printout(before)
                status = bc.result.print_status
                person.qtbot.waitUntil(lambda s=status: s.text() != "" and
                                       not s.text().endswith("…"), timeout=HANG_GUARD_MS)
                seen("bundle_result")
                w.go_home("home")
                break
            elif step.kind is StepKind.INELIGIBLE:
                w.go_home("home")  # seen above: the reason and where to go instead
                break
            else:
                person.tap(screen.next_button)
        else:
            raise AssertionError("the wizard did not end")

    # 办件查询: the applications just filed; then the priority ticket's progress, from the
    # code on its paper.
    choose(kiosk, person, language, elder)
    open_service(kiosk, person, "query", seen)
    person.wait_screen("query_scan")
    seen("query_scan")
    person.show_phone(person.code(DEMO_RESIDENTS["ordinary"]))
    person.wait_screen("query_result", timeout=HANG_GUARD_MS)
    person.put_phone_away()
    seen("query_result")
    w.go_home("home")
    choose(kiosk, person, language, elder)
    open_service(kiosk, person, "query", seen)
    person.wait_screen("query_scan")
    person.show_phone(ticket_code)
    person.wait_screen("query_result", timeout=HANG_GUARD_MS)
    person.put_phone_away()
    assert w.current().ticket is not None
    seen("query_result")
    w.go_home("home")

    # 预约签到: too late, explained.
    choose(kiosk, person, language, elder)
    open_service(kiosk, person, "checkin", seen)
    person.wait_screen("checkin_scan")
    seen("checkin_scan")
    person.show_phone(person.code(DEMO_RESIDENTS["appointment_passed"]))
    person.wait_screen("checkin_result", timeout=HANG_GUARD_MS)
    person.put_phone_away()
    seen("checkin_result")
    w.go_home("home")

    if faults:
        walk_fault_screens(kiosk, person, seen, language, elder)

    # The idle countdown, over the scan screen.
    choose(kiosk, person, language, elder)
    person.tap(c.home.scan_button)
    person.wait_screen("scan")
    w.set_countdown(3)
    w.set_idle_timeout(0.2)
    w.keep_alive()
    person.qtbot.waitUntil(w.overlay.isVisible, timeout=HANG_GUARD_MS)
    seen("scan")
    person.tap(w.overlay.button)
    w.go_home("home")


def walk_fault_screens(kiosk, person, seen: Callable[[str], None], language: str,
                       elder: bool) -> None:
    """What a resident reads when something is wrong: the paper ran out (the ticket stays on
    screen), the network is down (no number now; 帮办 cannot call; a rating is kept), the
    camera is unplugged (the scan screen says so and offers the no-phone path)."""
    from kiosk.hardware.printer.errors import PrinterState

    w = kiosk.window
    c = kiosk.controller
    printer = kiosk.printer_transport
    kiosk.printing.poll.setInterval(100)

    choose(kiosk, person, language, elder)
    printer.set_fault(PrinterState.PAPER_OUT)
    person.tap(c.home.no_phone_button)
    person.wait_screen("category")
    tap_choice(person, c.category.pages, c.category.buttons["social_security"])
    person.wait_screen("ticket")
    person.qtbot.waitUntil(c.ticket.print_problem.isVisible, timeout=HANG_GUARD_MS)
    seen("ticket")  # no phone: the number to write down
    w.go_home("home")
    choose(kiosk, person, language, elder)
    assert c.home.printer_notice.isVisible()
    seen("home")  # printing is unavailable, said before anyone chooses
    person.tap(c.home.no_phone_button)
    person.wait_screen("category")
    tap_choice(person, c.category.pages, c.category.buttons["social_security"])
    person.wait_screen("ticket")
    person.qtbot.waitUntil(c.ticket.print_problem.isVisible, timeout=HANG_GUARD_MS)
    printer.set_fault(None)
    # The printer is back: the refused ticket is offered to its resident, not printed.
    person.qtbot.waitUntil(c.ticket.reprint_button.isVisible, timeout=HANG_GUARD_MS)
    seen("ticket")
    before = len(person.jobs())
    person.tap(c.ticket.reprint_button)
    person.wait_printout(before)
    w.go_home("home")

    choose(kiosk, person, language, elder)
    kiosk.link.set_mode("down")
    person.tap(c.home.no_phone_button)
    person.wait_screen("category")
    tap_choice(person, c.category.pages, c.category.buttons["social_security"])
    person.qtbot.waitUntil(c.category.problem.isVisible, timeout=HANG_GUARD_MS)
    seen("category")
    person.tap(w.help_button)
    person.wait_screen("help")
    help_screen = w.current()
    person.qtbot.waitUntil(help_screen.problem.isVisible, timeout=HANG_GUARD_MS)
    seen("help")
    w.go_home("home")
    choose(kiosk, person, language, elder)
    open_service(kiosk, person, "rating")
    person.wait_screen("rating")
    rating = w.current()
    person.tap(rating.level_buttons[1])
    person.tap(rating.submit_button)
    person.qtbot.waitUntil(rating.thanks.isVisible, timeout=HANG_GUARD_MS)
    seen("rating")
    kiosk.link.set_mode("up")
    w.go_home("home")

    choose(kiosk, person, language, elder)
    person.qtbot.waitUntil(lambda: kiosk.scanner.state == "running", timeout=HANG_GUARD_MS)
    kiosk.camera.unplug()
    person.qtbot.waitUntil(lambda: kiosk.scanner.state in ("unavailable", "stale"),
                           timeout=HANG_GUARD_MS)
    person.tap(c.home.scan_button)
    person.wait_screen("scan")
    person.qtbot.waitUntil(lambda: c.scan.status.text() != "", timeout=HANG_GUARD_MS)
    seen("scan")
    kiosk.camera.plug()
    person.qtbot.waitUntil(lambda: kiosk.scanner.state == "running", timeout=HANG_GUARD_MS)
    w.go_home("home")


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_every_screen_is_touchable_and_readable(kiosk_factory, resident_at, orientation):
    kiosk = kiosk_factory(orientation=orientation)
    width, height = kiosk.config.screen.size()
    kiosk.window.resize(width, height)
    assert kiosk.window.size().width() == width
    quiet(kiosk)
    person = resident_at(kiosk)
    report: dict = {}
    names: list[str] = []

    def visit(name: str) -> None:
        names.append(name)
        check_screen(kiosk.window, name, report)

    walk_every_screen(kiosk, person, visit)
    assert set(names) >= {"home", "scan", "category", "ticket", "rating", "help", "bundles",
                          "wizard", "bundle_result", "query_scan", "query_result",
                          "checkin_scan", "checkin_result"}, names
    print(f"{orientation}: {len(names)} screens, smallest target {report['target']}px, "
          f"smallest text {report['text']}px")
