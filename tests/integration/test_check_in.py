"""预约签到 as one backend operation: the check-in and its priority ticket are committed
together under one key per scan, so a lost reply, a retry or a second scan never loses the
appointment, and every outcome is read on the screen the resident is looking at."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from kiosk.backend.interface import IssuedTicket
from kiosk.backend.seed import DEMO_RESIDENTS, hall_hours_clock
from kiosk.common.clock import shanghai_now
from kiosk.delivery.faults import BackendUnreachable
from tests.helpers.waits import HANG_GUARD_MS

ON_TIME = DEMO_RESIDENTS["appointment_today"]


def visible_text(screen: QWidget) -> str:
    """What the resident can read on a screen: its visible labels and buttons."""
    parts = [w.text() for w in screen.findChildren(QLabel) if w.isVisible()]
    parts += [b.text() for b in screen.findChildren(QAbstractButton) if b.isVisible()]
    return "\n".join(parts)


def start_check_in(kiosk, person, resident_id: str = ON_TIME) -> None:
    person.tap(kiosk.controller.home.service_buttons["checkin"])
    person.wait_screen("checkin_scan")
    person.show_phone(person.code(resident_id))


def today_appointment(kiosk) -> str:
    [appt] = kiosk.backend.appointments_on(ON_TIME, kiosk.controller.ctx.clock().date())
    return appt.appointment_id


def tickets_of(kiosk, appointment_id: str) -> list[str]:
    """The numbers the backend issued for an appointment (one, or none)."""
    conn = kiosk.backend._conn()
    rows = conn.execute("SELECT number FROM tickets WHERE appointment_id = ?",
                        (appointment_id,)).fetchall()
    return [r["number"] for r in rows]


class Recorder:
    """Wraps one backend method: records each call's idempotency key and, while
    `fail_after_commit` / `fail_before` are set, drops the connection after the backend
    committed (the reply is lost) or before it was reached."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.keys: list[str] = []
        self.fail_after_commit = 0
        self.fail_before = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.keys.append(kwargs.get("idempotency_key", args[-1] if args else ""))
        if self.fail_before:
            self.fail_before -= 1
            raise BackendUnreachable("connection refused")
        result = self.real(*args, **kwargs)
        if self.fail_after_commit:
            self.fail_after_commit -= 1
            raise BackendUnreachable("connection reset: the reply was lost after the commit")
        return result


@pytest.fixture
def check_in_calls(kiosk, monkeypatch) -> Recorder:
    # On the embedded backend itself, behind the link: every path to it (the task queue,
    # the outbox) goes through here.
    recorder = Recorder(kiosk.backend.check_in)
    monkeypatch.setattr(kiosk.backend, "check_in", recorder)
    return recorder


@pytest.fixture
def issue_calls(kiosk, monkeypatch) -> Recorder:
    recorder = Recorder(kiosk.backend.issue_ticket)
    monkeypatch.setattr(kiosk.backend, "issue_ticket", recorder)
    return recorder


def test_check_in_and_its_ticket_are_one_backend_call(kiosk, resident, check_in_calls,
                                                      issue_calls):
    """No step between check-in and ticket where the backend can go away: one call."""
    before = len(resident.jobs())
    start_check_in(kiosk, resident)
    resident.wait_screen("ticket")
    printed = resident.wait_printout(before)
    number = kiosk.controller.ticket.ticket.number
    assert re.fullmatch(r"Y[A-G]\d{3}", number), number
    assert number in printed.text and "预约" in printed.text
    assert len(check_in_calls.keys) == 1
    assert issue_calls.keys == []
    assert tickets_of(kiosk, today_appointment(kiosk)) == [number]


def test_reply_lost_after_the_commit_then_retry_gives_that_ticket(kiosk, resident,
                                                                  check_in_calls):
    check_in_calls.fail_after_commit = 1
    start_check_in(kiosk, resident)
    resident.wait_screen("checkin_result")
    resident.put_phone_away()
    screen = kiosk.window.current()
    shown = visible_text(screen)
    assert "无法连接" in shown and "再试一次" in shown, shown
    assert "已经签到过了" not in shown
    before = len(resident.jobs())
    resident.tap(screen.retry_button)
    resident.wait_screen("ticket")
    printed = resident.wait_printout(before)
    number = kiosk.controller.ticket.ticket.number
    assert number in printed.text
    # The retry asked with the scan's key and got the ticket committed the first time.
    assert len(check_in_calls.keys) == 2 and len(set(check_in_calls.keys)) == 1
    assert tickets_of(kiosk, today_appointment(kiosk)) == [number]


def test_reply_lost_then_a_new_scan_shows_the_ticket_it_got(kiosk, resident, check_in_calls):
    """The resident gives up after the lost reply and scans again later (a new session,
    a new key): the ticket committed the first time, shown, and printed on request."""
    check_in_calls.fail_after_commit = 1
    start_check_in(kiosk, resident)
    resident.wait_screen("checkin_result")
    resident.put_phone_away()
    resident.tap(kiosk.window.current().done_button)
    resident.wait_screen("home")
    [number] = tickets_of(kiosk, today_appointment(kiosk))

    start_check_in(kiosk, resident)
    resident.wait_screen("checkin_result")
    resident.put_phone_away()
    screen = kiosk.window.current()
    shown = visible_text(screen)
    assert number in shown and "已经签到" in shown, shown
    before = len(resident.jobs())
    resident.tap(screen.print_button)
    printed = resident.wait_printout(before)
    assert number in printed.text and "预约" in printed.text
    assert len(set(check_in_calls.keys)) == 2  # one key per scan
    assert tickets_of(kiosk, today_appointment(kiosk)) == [number]


def test_a_repeated_scan_shows_the_same_ticket_again(kiosk, resident):
    before = len(resident.jobs())
    start_check_in(kiosk, resident)
    resident.wait_screen("ticket")
    resident.wait_printout(before)
    resident.put_phone_away()
    number = kiosk.controller.ticket.ticket.number
    resident.tap(kiosk.controller.ticket.done_button)
    resident.wait_screen("home")

    start_check_in(kiosk, resident)
    resident.wait_screen("checkin_result")
    resident.put_phone_away()
    screen = kiosk.window.current()
    assert number in visible_text(screen)
    assert screen.print_button.isVisible()
    assert not screen.ordinary_button.isVisible()  # the appointment gave its number
    assert tickets_of(kiosk, today_appointment(kiosk)) == [number]


def test_an_earlier_ticket_the_printer_refused_prints_when_asked_again(kiosk, resident,
                                                                        qtbot):
    """重新打印凭条 with the paper out: held, never printed by itself once paper is loaded,
    and printed once when the resident asks again."""
    from kiosk.hardware.printer.errors import PrinterState

    start_check_in(kiosk, resident)
    resident.wait_screen("ticket")
    resident.wait_printout(0)
    resident.put_phone_away()
    number = kiosk.controller.ticket.ticket.number
    resident.tap(kiosk.controller.ticket.done_button)
    resident.wait_screen("home")
    kiosk.printing.poll.setInterval(50)
    kiosk.printer_transport.set_fault(PrinterState.PAPER_OUT)
    start_check_in(kiosk, resident)
    resident.wait_screen("checkin_result")
    resident.put_phone_away()
    screen = kiosk.window.current()
    resident.tap(screen.print_button)
    qtbot.waitUntil(lambda: len(kiosk.printing.held) == 1, timeout=HANG_GUARD_MS)
    assert "缺纸" in visible_text(screen)
    kiosk.printer_transport.set_fault(None)
    qtbot.waitUntil(lambda: kiosk.printing.problem == "" and not kiosk.printing.queue.pending(),
                    timeout=HANG_GUARD_MS)
    assert len(resident.jobs()) == 1  # the held copy waits for the resident
    resident.tap(screen.print_button)
    printed = resident.wait_printout(1)
    assert number in printed.text and kiosk.printing.held == []


def test_backend_unreachable_at_check_in_says_what_to_do_on_the_current_screen(
        kiosk, resident, check_in_calls):
    check_in_calls.fail_before = 2
    start_check_in(kiosk, resident)
    resident.wait_screen("checkin_result")
    resident.put_phone_away()
    screen = kiosk.window.current()
    assert screen.explanation.isVisible()
    assert "无法连接" in screen.explanation.text()
    resident.tap(screen.retry_button)  # still down: said again, on the same screen
    resident.qtbot.waitUntil(lambda: len(check_in_calls.keys) == 2, timeout=HANG_GUARD_MS)
    resident.qtbot.waitUntil(lambda: screen.retry_button.isEnabled(), timeout=HANG_GUARD_MS)
    assert resident.screen == "checkin_result" and "无法连接" in screen.explanation.text()
    assert tickets_of(kiosk, today_appointment(kiosk)) == []
    resident.tap(screen.retry_button)  # the link is back
    resident.wait_screen("ticket")
    assert len(set(check_in_calls.keys)) == 1
    assert tickets_of(kiosk, today_appointment(kiosk)) == [
        kiosk.controller.ticket.ticket.number]


@pytest.mark.parametrize(("role", "minutes", "expected"), [
    ("ordinary", 0, "没有查到您今天的预约"),
    ("appointment_passed", 0, "已超过签到时间"),
    ("appointment_today", -90, "现在还早"),
])
def test_each_explained_outcome_is_on_the_current_screen(kiosk_factory, resident_at, role,
                                                         minutes, expected):
    offset = {"minutes": 0}
    hall = hall_hours_clock(shanghai_now)

    def clock() -> dt.datetime:
        return hall() + dt.timedelta(minutes=offset["minutes"])

    k = kiosk_factory(clock=clock)  # seeds the appointment at now+10 min
    person = resident_at(k)
    offset["minutes"] = minutes
    start_check_in(k, person, DEMO_RESIDENTS[role])
    person.wait_screen("checkin_result")
    person.put_phone_away()
    screen = k.window.current()
    assert expected in visible_text(screen)
    assert screen.ordinary_button.isVisible()  # an ordinary number is offered
    assert not screen.retry_button.isVisible() and not screen.print_button.isVisible()


def test_the_check_in_ticket_is_the_backends(kiosk, resident):
    """The priority ticket on screen is exactly the one the backend committed."""
    start_check_in(kiosk, resident)
    resident.wait_screen("ticket")
    resident.put_phone_away()
    appointment_id = today_appointment(kiosk)
    again = kiosk.backend.check_in(appointment_id, kiosk.config.center.kiosk_id, "other-key")
    assert isinstance(again.ticket, IssuedTicket) and again.earlier
    assert again.ticket.number == kiosk.controller.ticket.ticket.number


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
@pytest.mark.parametrize(("language", "elder"), [("zh", False), ("zh", True), ("en", False),
                                                 ("en", True)])
def test_the_new_outcomes_fit_and_read_in_the_residents_language(
        kiosk_factory, resident_at, monkeypatch, orientation, language, elder):
    """The unanswered check-in and the earlier ticket (with its reprint) in both languages,
    both modes and both panel orientations: nothing clipped or squeezed, no Chinese left in
    English."""
    from tests.integration.test_layout import check_screen, choose, open_service
    from tests.integration.test_translations import chinese_in

    k = kiosk_factory(orientation=orientation)
    person = resident_at(k)
    calls = Recorder(k.backend.check_in)
    monkeypatch.setattr(k.backend, "check_in", calls)
    w = k.window

    def check() -> None:
        check_screen(w, "checkin_result", {})
        if language == "en":
            shown = visible_text(w.current())
            assert not chinese_in(shown), shown

    def scan_in() -> None:
        choose(k, person, language, elder)
        open_service(k, person, "checkin")
        person.wait_screen("checkin_scan")
        person.show_phone(person.code(ON_TIME))

    calls.fail_before = 1
    scan_in()
    person.wait_screen("checkin_result")
    person.put_phone_away()
    screen = w.current()
    assert screen.retry_button.isVisible()
    check()
    before = len(person.jobs())
    person.tap(screen.retry_button)
    person.wait_screen("ticket")
    person.wait_printout(before)
    w.go_home("home")

    scan_in()
    person.wait_screen("checkin_result")
    person.put_phone_away()
    assert screen.print_button.isVisible()
    check()
    before = len(person.jobs())
    person.tap(screen.print_button)
    person.wait_printout(before)
    person.qtbot.waitUntil(lambda: screen.status.isVisible()
                           and not screen.status.text().endswith("…"), timeout=HANG_GUARD_MS)
    check()
