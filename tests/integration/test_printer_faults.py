"""Printer faults at the kiosk: the ticket stays on screen, staff are told, no double print."""

from __future__ import annotations

import pytest

from kiosk.backend.stats import export_stats
from kiosk.common.clock import shanghai_now
from kiosk.hardware.printer.errors import PrinterState
from kiosk.ui import messages
from tests.helpers.waits import HANG_GUARD_MS


def take_anonymous_ticket(kiosk, resident) -> None:
    resident.tap(kiosk.controller.home.no_phone_button)
    resident.wait_screen("category")
    resident.tap(kiosk.controller.category.buttons["social_security"])
    resident.wait_screen("ticket")


def help_screens(kiosk, qtbot) -> dict:
    qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    today = shanghai_now().date()
    return {r["subkey"]: r["value"] for r in export_stats(kiosk.backend, today, today)
            if r["section"] == "help_calls" and r["key"] == "screen"}


@pytest.mark.parametrize(("fault", "code"), [
    (PrinterState.PAPER_OUT, "paper_out"),
    (PrinterState.COVER_OPEN, "cover_open"),
    (PrinterState.OFFLINE, "offline"),
    (PrinterState.NO_ANSWER, "offline"),  # silent on DLE EOT: a fault, never "paper OK"
], ids=["paper_out", "cover_open", "offline", "no_answer"])
def test_fault_before_the_job_holds_it_and_reprints_once(kiosk, resident, qtbot, fault, code):
    printer = kiosk.printer_transport
    kiosk.printing.poll.setInterval(100)
    printer.set_fault(fault)
    take_anonymous_ticket(kiosk, resident)
    screen = kiosk.controller.ticket
    qtbot.waitUntil(screen.print_problem.isVisible, timeout=HANG_GUARD_MS)
    assert screen.print_problem.text() == messages.printer_problem(code)
    assert screen.ticket is not None and screen.card.qr.pixmap() is not None
    assert resident.jobs() == []
    assert help_screens(kiosk, qtbot).get(f"printer:{code}") == 1  # staff called once
    printer.set_fault(None)  # paper loaded / cover closed / back online
    qtbot.waitUntil(lambda: len(resident.jobs()) == 1, timeout=HANG_GUARD_MS)
    qtbot.wait(500)
    assert len(resident.jobs()) == 1  # reprinted exactly once
    from tests.helpers.printout import read_printout

    assert screen.ticket.number in read_printout(resident.jobs()[0]).text


@pytest.mark.parametrize(("fault", "code"), [
    (PrinterState.PAPER_OUT, "paper_out"),
    (PrinterState.COVER_OPEN, "cover_open"),
    (PrinterState.OFFLINE, "offline"),
])
def test_fault_mid_job_is_told_and_not_printed_twice(kiosk, resident, qtbot, fault, code):
    printer = kiosk.printer_transport
    kiosk.printing.poll.setInterval(100)
    printer.set_fault(fault, after_bytes=120)
    take_anonymous_ticket(kiosk, resident)
    screen = kiosk.controller.ticket
    qtbot.waitUntil(screen.print_problem.isVisible, timeout=HANG_GUARD_MS)
    # Part of it went out: no promise of an automatic reprint that will not come.
    assert screen.print_problem.text() == messages.printer_problem(code, held=False)
    assert "自动补打" not in screen.print_problem.text()
    assert screen.card.qr.pixmap() is not None  # the code stays on screen to photograph
    assert help_screens(kiosk, qtbot).get(f"printer:{code}") == 1
    printer.set_fault(None)
    qtbot.wait(600)
    sent = b"".join(resident.jobs())
    assert 0 < len(sent) <= 120  # only the part the printer took before the fault
    assert kiosk.printing.held == []


def test_printer_silent_after_the_job_is_told_and_not_resent(kiosk, resident, qtbot):
    """The whole ticket went out, then the printer stopped answering (switched off, cable
    pulled): it may not have come out, so the resident is told; never sent twice."""
    printer = kiosk.printer_transport
    kiosk.printing.poll.setInterval(100)
    real_write = printer.write

    def write_then_fall_silent(data: bytes) -> None:
        real_write(data)
        printer.set_fault(PrinterState.NO_ANSWER)

    printer.write = write_then_fall_silent
    take_anonymous_ticket(kiosk, resident)
    screen = kiosk.controller.ticket
    qtbot.waitUntil(screen.print_problem.isVisible, timeout=HANG_GUARD_MS)
    assert screen.print_problem.text() == messages.printer_problem("offline", held=False)
    assert help_screens(kiosk, qtbot).get("printer:offline") == 1
    printer.write = real_write
    printer.set_fault(None)
    qtbot.wait(600)
    assert len(resident.jobs()) == 1 and kiosk.printing.held == []


def test_staff_cancel_drops_held_jobs(kiosk, resident, qtbot):
    printer = kiosk.printer_transport
    kiosk.printing.poll.setInterval(100)
    printer.set_fault(PrinterState.PAPER_OUT)
    take_anonymous_ticket(kiosk, resident)
    qtbot.waitUntil(lambda: len(kiosk.printing.held) == 1, timeout=HANG_GUARD_MS)
    assert kiosk.printing.cancel_held() == 1
    printer.set_fault(None)
    qtbot.wait(500)
    assert resident.jobs() == []


def test_paper_near_end_alerts_and_keeps_printing(kiosk, resident, qtbot):
    printer = kiosk.printer_transport
    printer.set_fault(PrinterState.PAPER_NEAR_END)
    take_anonymous_ticket(kiosk, resident)
    resident.wait_printout(0)
    assert not kiosk.controller.ticket.print_problem.isVisible()
    qtbot.waitUntil(lambda: help_screens(kiosk, qtbot).get("printer:paper_near_end") == 1,
                    timeout=HANG_GUARD_MS)


def test_unplugged_printer(kiosk, resident, qtbot):
    printer = kiosk.printer_transport
    kiosk.printing.poll.setInterval(100)
    printer.unplug()
    take_anonymous_ticket(kiosk, resident)
    screen = kiosk.controller.ticket
    qtbot.waitUntil(screen.print_problem.isVisible, timeout=HANG_GUARD_MS)
    assert screen.print_problem.text() == messages.printer_problem("unavailable")
    printer.plug()
    qtbot.waitUntil(lambda: len(resident.jobs()) == 1, timeout=HANG_GUARD_MS)
