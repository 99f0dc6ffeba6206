"""扫码取号 end to end: a resident at the touchscreen, the emulated camera and printer."""

from __future__ import annotations

import re

import pytest
from PySide6.QtWidgets import QLabel, QPushButton

from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain import payloads
from kiosk.domain.masking import mask_name
from kiosk.ui import messages
from tests.helpers.waits import HANG_GUARD_MS

CENTER = "徐汇区示范街道社区事务受理服务中心"


def visible_texts(widget) -> str:
    parts = [w.text() for w in widget.findChildren(QLabel) + widget.findChildren(QPushButton)]
    return "\n".join(parts)


def verify_ticket_code(kiosk, text: str) -> payloads.Payload:
    return kiosk.verifier.verify(text, payloads.Kind.TICKET)


def test_scan_pick_category_get_ticket(kiosk, resident):
    person = kiosk.backend.identify(DEMO_RESIDENTS["ordinary"])
    assert person is not None
    before = len(resident.jobs())
    resident.scan_in(person.resident_id)
    greeting = kiosk.controller.category.greeting.text()
    assert mask_name(person.name) in greeting
    assert person.name not in visible_texts(kiosk.window)
    resident.tap(kiosk.controller.category.buttons["social_security"])
    resident.wait_screen("ticket")
    shown = kiosk.controller.ticket.ticket
    assert shown is not None and re.fullmatch(r"A\d{3}", shown.number)
    printed = resident.wait_printout(before)
    # What the resident reads on paper.
    assert CENTER in printed.text
    assert shown.number in printed.text
    assert "社保" in printed.text
    assert mask_name(person.name) in printed.text
    assert person.name not in printed.text and person.id_number not in printed.text
    assert "前面等候" in printed.text and "预计等待" in printed.text
    # The QR code on paper is the ticket's signed tracking code.
    assert printed.qr_texts == [shown.tracking_code]
    assert verify_ticket_code(kiosk, printed.qr_texts[0])
    # The same ticket is on screen.
    assert shown.number in visible_texts(kiosk.controller.ticket)
    assert len(printed.data) < 1500


def test_no_phone_gives_anonymous_ticket(kiosk, resident):
    before = len(resident.jobs())
    resident.tap(kiosk.controller.home.no_phone_button)
    resident.wait_screen("category")
    resident.tap(kiosk.controller.category.buttons["household"])
    resident.wait_screen("ticket")
    printed = resident.wait_printout(before)
    number = kiosk.controller.ticket.ticket.number
    assert re.fullmatch(r"D\d{3}", number)
    assert number in printed.text and "户籍" in printed.text
    assert "取号人" not in printed.text
    assert len(printed.qr_texts) == 1 and verify_ticket_code(kiosk, printed.qr_texts[0])


@pytest.mark.parametrize(
    ("role", "reason_text"),
    [("aged_85", "80岁以上"), ("appointment_today", "预约"), ("veteran", "优抚")],
)
def test_priority_ticket(kiosk, resident, role, reason_text):
    before = len(resident.jobs())
    resident.scan_in(DEMO_RESIDENTS[role])
    assert kiosk.controller.category.priority.isVisible()
    resident.tap(kiosk.controller.category.buttons["medical_insurance"])
    resident.wait_screen("ticket")
    printed = resident.wait_printout(before)
    number = kiosk.controller.ticket.ticket.number
    assert re.fullmatch(r"YB\d{3}", number), number
    assert number in printed.text
    assert reason_text in printed.text
    assert verify_ticket_code(kiosk, printed.qr_texts[0])


def test_ordinary_adult_gets_no_priority(kiosk, resident):
    resident.scan_in(DEMO_RESIDENTS["ordinary"])
    assert not kiosk.controller.category.priority.isVisible()


@pytest.mark.parametrize(
    ("variant", "problem"),
    [
        ("expired", payloads.PayloadProblem.EXPIRED),
        ("garbage", payloads.PayloadProblem.NOT_OURS),
        ("bad-signature", payloads.PayloadProblem.BAD_SIGNATURE),
        ("wrong-kind", payloads.PayloadProblem.WRONG_KIND),
        ("future", payloads.PayloadProblem.NOT_YET_VALID),
    ],
)
def test_refused_codes_get_their_own_message(kiosk, resident, qtbot, variant, problem):
    before = len(resident.jobs())
    resident.tap(kiosk.controller.home.scan_button)
    resident.wait_screen("scan")
    resident.show_phone(resident.code(DEMO_RESIDENTS["ordinary"], variant))
    message = kiosk.controller.scan.message
    qtbot.waitUntil(message.isVisible, timeout=HANG_GUARD_MS)
    assert message.text() == messages.payload_problem(problem)
    assert resident.screen == "scan"
    assert len(resident.jobs()) == before


def test_double_tap_gives_one_ticket(kiosk, resident, qtbot):
    before = len(resident.jobs())
    resident.scan_in(DEMO_RESIDENTS["ordinary"])
    button = kiosk.controller.category.buttons["civil_affairs"]
    resident.tap(button)
    # The second tap lands while the first ticket is being issued.
    button.click()
    kiosk.controller.category.buttons["other"].click()
    resident.wait_screen("ticket")
    resident.wait_printout(before)
    # A second issue, if any, was queued behind the first on the backend queue, and its
    # print is queued from its answer: once both queues are idle it would have printed.
    qtbot.waitUntil(lambda: not kiosk.busy() and not kiosk.printing.queue.pending(),
                    timeout=HANG_GUARD_MS)
    assert len(resident.jobs()) == before + 1
    assert kiosk.backend.queue_figures()["civil_affairs"].waiting == 1
    assert kiosk.backend.queue_figures()["other"].waiting == 0


def test_idle_countdown_returns_home_and_clears(kiosk, resident, qtbot):
    person = kiosk.backend.identify(DEMO_RESIDENTS["aged_85"])
    resident.scan_in(person.resident_id)
    masked = mask_name(person.name)
    assert masked in visible_texts(kiosk.window)
    kiosk.window._countdown_total = 2  # a short countdown keeps the test quick
    kiosk.window.set_idle_timeout(0.3)
    kiosk.window.keep_alive()
    qtbot.waitUntil(kiosk.window.overlay.isVisible, timeout=HANG_GUARD_MS)
    assert kiosk.window.overlay.count.text() in {"1", "2"}
    resident.wait_screen("home", timeout=HANG_GUARD_MS)
    assert not kiosk.window.overlay.isVisible()
    assert masked not in visible_texts(kiosk.window)
    assert kiosk.controller.session.context is None


def test_touch_during_countdown_continues(kiosk, resident, qtbot):
    resident.scan_in(DEMO_RESIDENTS["ordinary"])
    kiosk.window._countdown_total = 3
    kiosk.window.set_idle_timeout(0.2)
    kiosk.window.keep_alive()
    qtbot.waitUntil(kiosk.window.overlay.isVisible, timeout=HANG_GUARD_MS)
    resident.tap(kiosk.window.overlay.button)
    assert not kiosk.window.overlay.isVisible()
    assert resident.screen == "category"


def test_back_and_home_everywhere(kiosk, resident):
    w = kiosk.window
    resident.tap(kiosk.controller.home.scan_button)
    resident.wait_screen("scan")
    assert w.back_button.isVisible() and w.home_button.isVisible()
    resident.tap(kiosk.controller.scan.no_phone_button)
    resident.wait_screen("category")
    resident.tap(w.back_button)
    resident.wait_screen("scan")
    resident.tap(w.home_button)
    resident.wait_screen("home")
    assert not w.back_button.isVisible()


def test_restarts_never_reuse_a_number(kiosk_factory, resident_at, tmp_path):
    data = tmp_path / "shared-data"
    numbers: list[str] = []
    for _ in range(4):
        k = kiosk_factory(data)
        person = resident_at(k)
        for _ in range(2):
            person.tap(k.controller.home.no_phone_button)
            person.wait_screen("category")
            person.tap(k.controller.category.buttons["social_security"])
            person.wait_screen("ticket")
            numbers.append(k.controller.ticket.ticket.number)
            person.tap(k.controller.ticket.done_button)
            person.wait_screen("home")
        k.shutdown()
    assert len(set(numbers)) == len(numbers) == 8
    assert numbers == sorted(numbers)


def test_rare_surname_prints_as_an_image_never_garbled(kiosk, resident):
    person = kiosk.backend.identify(DEMO_RESIDENTS["rare_name"])
    assert person is not None and "𠮷" in mask_name(person.name)
    before = len(resident.jobs())
    resident.scan_in(person.resident_id)
    resident.tap(kiosk.controller.category.buttons["other"])
    resident.wait_screen("ticket")
    printed = resident.wait_printout(before)
    from kiosk.devtools.escpos_render import render_text

    rendered = render_text(printed.data)
    assert rendered.images, "the name line should be a raster image"
    assert "?" not in rendered.text and "\ufffd" not in rendered.text
    assert not rendered.warnings
    assert "𠮷" in visible_texts(kiosk.controller.ticket)  # the screen has the real glyph
    assert printed.qr_texts == [kiosk.controller.ticket.ticket.tracking_code]


def test_58mm_paper_wraps_at_32_columns(kiosk_factory, resident_at):
    from kiosk.hardware.printer.escpos_layout import display_cells
    from tests.helpers.printout import read_printout

    k = kiosk_factory(printer={"paper_width_mm": 58})
    person = resident_at(k)
    before = len(person.jobs())
    person.tap(k.controller.home.no_phone_button)
    person.wait_screen("category")
    person.tap(k.controller.category.buttons["housing_fund"])
    person.wait_screen("ticket")
    person.qtbot.waitUntil(lambda: len(person.jobs()) > before, timeout=HANG_GUARD_MS)
    printed = read_printout(person.jobs()[-1], paper_dots=384, columns=32)
    number = k.controller.ticket.ticket.number
    assert number in printed.text and "公积金" in printed.text
    # The 17-character center name does not fit 16 CJK cells: it wraps, it is not cut.
    assert CENTER not in printed.text
    assert CENTER in "".join(printed.text.split())
    paper_lines = [ln for ln in printed.text.splitlines()
                   if not ln.startswith("[QR]") and "✂" not in ln]
    assert all(display_cells(ln) <= 32 for ln in paper_lines), paper_lines
    assert printed.qr_texts == [k.controller.ticket.ticket.tracking_code]
