"""A ticket is a promise to a person: no number for nobody, one waiting number a person."""

from __future__ import annotations

import threading
import time

from kiosk.backend.interface import TicketRequestCancelled
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.backend.stats import export_stats
from kiosk.delivery.outbox import Outbox
from kiosk.ui import messages
from tests.helpers.backend import StalledBackend
from tests.helpers.clock import FakeClock
from tests.helpers.waits import HANG_GUARD_MS

TICKET = {"category": "social_security", "priority": False, "priority_reason": "",
          "resident_id": None, "kiosk_id": "KIOSK-01", "appointment_id": None}


def test_a_ticket_request_stored_before_a_kill_is_withdrawn_at_the_next_start(
        kiosk_factory, tmp_path, qtbot):
    data = tmp_path / "data"
    # What a kill right after the outbox's put leaves (the crash tests' `after_store`): the
    # request on disk, seconds old, never sent.
    left = Outbox(data / "outbox.sqlite3")
    left.put("ticket", "tapped-before-the-kill", TICKET, ttl_s=60)
    left.close()
    kiosk = kiosk_factory(data)
    qtbot.waitUntil(lambda: kiosk.outbox.pending()[0] == 0 and not kiosk.busy(),
                    timeout=HANG_GUARD_MS)
    assert kiosk.window.current().name == "home"
    assert kiosk.outbox.get("tapped-before-the-kill").state == "expired"
    assert kiosk.backend.queue_figures()["social_security"].waiting == 0
    # Counted for the 服务指数.
    today = kiosk.controller.ctx.clock().date()
    rows = export_stats(data / "kiosk.sqlite3", today, today)
    assert {"section": "tickets_withdrawn", "key": "restart", "subkey": "not_issued",
            "value": 1} in rows


def test_after_a_timeout_the_kiosk_finds_the_ticket_and_shows_it(kiosk, resident, qtbot):
    stalled = StalledBackend(kiosk.link, threading.Event())
    kiosk.delivery.deliverer.backend = stalled  # the hall server stops (kill -STOP)
    try:
        resident.tap(kiosk.controller.home.no_phone_button)
        resident.wait_screen("category")
        resident.tap(kiosk.controller.category.buttons["social_security"])
        problem = kiosk.controller.category.problem
        # Never "no ticket" while one may exist: the screen says it is finding out.
        qtbot.waitUntil(lambda: problem.isVisible()
                        and problem.text() == messages.ticket_resolving(),
                        timeout=HANG_GUARD_MS)
        assert resident.screen == "category"
    finally:
        stalled.join()  # the server resumes
    resident.wait_screen("ticket", timeout=HANG_GUARD_MS)
    shown = kiosk.controller.ticket.ticket
    resident.wait_printout(0)
    assert kiosk.backend.queue_figures()["social_security"].waiting == 1
    assert {t.number for t in stalled.late} == {shown.number}


def test_a_ticket_request_without_an_answer_is_cancelled_before_no_is_said(
        kiosk, resident, qtbot):
    stalled = StalledBackend(kiosk.link, threading.Event())
    kiosk.delivery.deliverer.backend = stalled
    kiosk.delivery.deliverer.resolve_s = 0  # the backend stays stopped past the wait
    try:
        resident.tap(kiosk.controller.home.no_phone_button)
        resident.wait_screen("category")
        resident.tap(kiosk.controller.category.buttons["social_security"])
        problem = kiosk.controller.category.problem
        qtbot.waitUntil(lambda: problem.text() == messages.ticket_unavailable("12345"),
                        timeout=HANG_GUARD_MS)
    finally:
        stalled.join()  # it resumes: the held-up request arrives after the "no"
    assert [type(x) for x in stalled.late] == [TicketRequestCancelled]
    assert kiosk.backend.queue_figures()["social_security"].waiting == 0
    assert resident.jobs() == []


def test_scanning_again_shows_the_same_ticket_and_offers_a_reprint(kiosk, resident, qtbot):
    c = kiosk.controller
    resident.scan_in(DEMO_RESIDENTS["ordinary"])
    resident.tap(c.category.buttons["social_security"])
    resident.wait_screen("ticket")
    first = c.ticket.ticket.number
    resident.wait_printout(0)
    assert not c.ticket.reprint_button.isVisible()
    resident.tap(c.ticket.done_button)
    resident.wait_screen("home")
    resident.tap(c.home.no_phone_button)  # someone else takes a number meanwhile
    resident.tap(c.category.buttons["social_security"])
    resident.wait_screen("ticket")
    resident.wait_printout(1)
    resident.tap(c.ticket.done_button)

    resident.scan_in(DEMO_RESIDENTS["ordinary"])  # he scans again, same category
    resident.tap(c.category.buttons["social_security"])
    resident.wait_screen("ticket")
    again = c.ticket.ticket
    assert again.number == first and again.ahead == 0  # not "1 ahead": himself
    assert c.ticket.heading.text() == "您已取过号，这是您的号码"
    assert c.ticket.reprint_button.isVisible()
    assert kiosk.backend.queue_figures()["social_security"].waiting == 2
    qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    assert len(resident.jobs()) == 2  # his paper is not printed again unasked
    resident.tap(c.ticket.reprint_button)
    printed = resident.wait_printout(2)
    assert first in printed.text
    assert not c.ticket.reprint_button.isEnabled()


def test_tickets_without_a_phone_are_limited_per_minute(kiosk_factory, resident_at, qtbot):
    clock = FakeClock(time.time())
    kiosk = kiosk_factory(clock=clock)
    resident = resident_at(kiosk)
    c = kiosk.controller
    assert c.ctx.anonymous_tickets_per_minute == 6  # [queue] in the config

    def take() -> None:
        resident.tap(c.home.no_phone_button)
        resident.wait_screen("category")
        resident.tap(c.category.buttons["household"])

    for _ in range(6):
        take()
        resident.wait_screen("ticket")
        resident.tap(c.ticket.done_button)
        resident.wait_screen("home")
        clock.advance(seconds=5)
    take()
    qtbot.waitUntil(c.category.problem.isVisible, timeout=HANG_GUARD_MS)
    assert c.category.problem.text() == messages.anonymous_limit(30)
    assert "请稍候再取号" in c.category.problem.text()
    assert kiosk.backend.queue_figures()["household"].waiting == 6
    clock.advance(seconds=30)  # the first of the six is a minute old
    resident.tap(c.category.buttons["household"])
    resident.wait_screen("ticket")
    assert kiosk.backend.queue_figures()["household"].waiting == 7
