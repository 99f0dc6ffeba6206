"""FaultReporter: each change of a device fault told to the hall once, off the GUI thread,
and again later when the hall did not confirm it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest

from kiosk.backend.interface import BackendError
from kiosk.hardware.printer.errors import PrinterState, PrinterStatus
from kiosk.services.fault_reporter import FaultReporter, printer_fault
from kiosk.services.tasks import TaskQueue
from tests.helpers.waits import HANG_GUARD_MS


class FakeHall:
    """report_fault as the hall takes it: (kind, state, detail, key), on the worker thread;
    `down` makes it fail as an unreachable hall does."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, str, str, str]] = []
        self.down = False
        self.threads: set[str] = set()

    def report(self, kind: str, state: str, detail: str, key: str) -> bool:
        self.threads.add(threading.current_thread().name)
        if self.down:
            raise BackendError("connection refused")
        self.reports.append((kind, state, detail, key))
        return True

    def told(self) -> list[tuple[str, str]]:
        return [(k, s) for k, s, _d, _key in self.reports]


@pytest.fixture
def hall() -> FakeHall:
    return FakeHall()


@pytest.fixture
def reporter(qtbot, hall: FakeHall) -> Iterator[FaultReporter]:
    queue = TaskQueue("faults")
    keys = (f"key-{n}" for n in itertools.count(1))
    r = FaultReporter(hall.report, queue, retry_ms=20, new_key=lambda: next(keys))
    yield r
    r.stop()
    queue.shutdown()


def settled(qtbot, reporter: FaultReporter) -> None:
    qtbot.waitUntil(lambda: not reporter.pending() and not reporter.queue.pending(),
                    timeout=HANG_GUARD_MS)


def test_each_change_is_reported_once_off_the_gui_thread(qtbot, reporter, hall):
    reporter.printer_alert("paper_out")
    settled(qtbot, reporter)
    reporter.printer_alert("paper_out")  # the same fault again: nothing new to tell
    reporter.printer_status(PrinterStatus(PrinterState.PAPER_OUT, paper_out=True))
    settled(qtbot, reporter)
    # The first word on each printer kind goes out, "cleared" ones included: a fault the last
    # run left open at the hall is closed that way.
    assert sorted(hall.told()) == sorted([("paper_out", "open"), ("paper_near_end", "cleared"),
                                          ("cover_open", "cleared"),
                                          ("printer_silent", "cleared")])
    assert hall.threads and all(t.startswith("faults") for t in hall.threads)  # its queue
    del hall.reports[:]
    reporter.printer_status(PrinterStatus.ok())  # paper loaded
    settled(qtbot, reporter)
    assert hall.told() == [("paper_out", "cleared")]


def test_an_unreachable_hall_gets_the_latest_state_later_under_one_key(qtbot, reporter, hall):
    hall.down = True
    with qtbot.waitSignal(reporter.retry_timer.timeout, timeout=HANG_GUARD_MS):
        reporter.camera_state("unavailable")
    reporter.camera_state("running")  # back before the hall heard of it
    reporter.camera_state("unavailable")  # and down again
    hall.down = False
    settled(qtbot, reporter)
    assert [(k, s) for k, s, _d, _key in hall.reports] == [("camera_down", "open")]
    assert hall.reports[0][2] == "camera unavailable"
    key = hall.reports[0][3]
    reporter.camera_state("restarting")  # a worker restart: no change for the clerk
    reporter.camera_state("running")
    settled(qtbot, reporter)
    assert hall.told()[1:] == [("camera_down", "cleared")]
    assert hall.reports[1][3] != key  # a new change, a new key


def test_an_outbox_backlog_opens_and_clears_with_some_room_between(qtbot, reporter, hall):
    for count in (0, 3, 25, 30, 12, 6):
        reporter.outbox_pending(count)
    settled(qtbot, reporter)
    assert hall.told() == [("outbox_backlog", "cleared"), ("outbox_backlog", "open")]
    reporter.outbox_pending(4)
    settled(qtbot, reporter)
    assert hall.told()[-1] == ("outbox_backlog", "cleared")


def test_a_refusal_is_not_retried(qtbot, hall):
    queue = TaskQueue("faults")

    def refuse(kind: str, state: str, detail: str, key: str) -> bool:
        raise ValueError("the hall refused the request as malformed")

    r = FaultReporter(refuse, queue, retry_ms=20)
    try:
        r.set_fault("camera_down", True)
        settled(qtbot, r)
        assert not r.retry_timer.isActive()
    finally:
        r.stop()
        queue.shutdown()


def test_printer_states_as_the_halls_kinds(reporter):
    assert printer_fault(PrinterStatus.ok()) is None
    assert printer_fault(PrinterStatus.unreadable("file")) is None  # cannot ask: no word
    assert printer_fault(PrinterStatus(PrinterState.PAPER_NEAR_END)) == "paper_near_end"
    assert printer_fault(PrinterStatus(PrinterState.PAPER_OUT)) == "paper_out"
    assert printer_fault(PrinterStatus(PrinterState.COVER_OPEN)) == "cover_open"
    assert printer_fault(PrinterStatus(PrinterState.OFFLINE)) == "printer_silent"
    assert printer_fault(PrinterStatus.unknown("no answer")) == "printer_silent"
    with pytest.raises(ValueError):
        reporter.set_fault("coffee_cold", True)
