"""This kiosk's device faults, told to the hall: a printer out of paper at 3 a.m. must reach
someone.

The kiosk already notices its faults: the printing service (a job refused or cut short, the
paper running low), the camera's state, the outbox's count of what waits to be sent. The
maintenance screen shows them to a technician who is there. `FaultReporter` tells the hall
(`HttpBackend.report_fault`), so that a clerk sees them (`GET /v1/faults`):

- once per change of state: a fault opens, then clears; repeating the same state says
  nothing new (the hall keeps one open fault per kind and device anyway);
- off the GUI thread, on the queue it is given (the statistics queue: a report never
  waits in front of a resident's ticket);
- one report at a time, each under an idempotency key made when the change was noticed;
  a report the hall did not confirm (unreachable, 5xx) is sent again after `retry_ms`,
  and only the latest state of each kind is sent (a fault that opened and cleared while the
  hall was away is not reported at all once it has been told "cleared").

The first reading of each kind after a start is reported whatever it is, "cleared"
included: a fault the last run left open at the hall (the paper was loaded while the kiosk
was off) is closed that way. The reports live in memory only: after a restart the first
readings say it all again.

The embedded backend has no hall and no `report_fault`: nothing is built (app.py); faults
are counted in the statistics as before.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from kiosk.hardware.printer.errors import PrinterError, PrinterState, PrinterStatus
from kiosk.hardware.printer.printer import PrintReport
from kiosk.services.tasks import TaskQueue

log = logging.getLogger(__name__)

# The hall's fault kinds this kiosk reports (kiosk.hall's FaultKind has `other` too).
PRINTER_KINDS = ("paper_out", "paper_near_end", "cover_open", "printer_silent")
CAMERA_DOWN = "camera_down"
OUTBOX_BACKLOG = "outbox_backlog"
FAULT_KINDS = (*PRINTER_KINDS, CAMERA_DOWN, OUTBOX_BACKLOG)

# The printing service's problem codes (PrintService.staffAlert) as the hall's kinds. An
# offline, unreachable or failing printer cannot print: for the clerk, it is "silent".
ALERT_KINDS = {"paper_out": "paper_out", "paper_near_end": "paper_near_end",
               "cover_open": "cover_open", "offline": "printer_silent",
               "unavailable": "printer_silent", "fault": "printer_silent"}
_STATE_KINDS = {PrinterState.PAPER_OUT: "paper_out",
                PrinterState.PAPER_NEAR_END: "paper_near_end",
                PrinterState.COVER_OPEN: "cover_open", PrinterState.OFFLINE: "printer_silent",
                PrinterState.ERROR: "printer_silent", PrinterState.UNKNOWN: "printer_silent"}

# Camera states (kiosk.services.scanning.protocol) in which nobody can scan a code.
# "restarting" is not one: the worker comes back within a second, or ends "unavailable".
CAMERA_DOWN_STATES = ("unavailable", "stale")
CAMERA_UP_STATES = ("running",)

# Items waiting in the outbox from which the link to the hall is reported as stuck, and
# below which that report is cleared again (apart, so a count around one line does not
# report a change at every drain).
BACKLOG_OPEN_AT = 20
BACKLOG_CLEARED_BELOW = 5

RETRY_MS = 30_000
PRINTER_POLL_MS = 30_000
# The hall takes a detail of at most this many characters.
MAX_DETAIL = 200


def printer_fault(status: PrinterStatus) -> str | None:
    """The hall's fault kind a printer status stands for, None when it is fine. A status
    that says nothing (a write-only connection cannot ask) is ready, so None too."""
    if status.ready:
        return "paper_near_end" if status.state is PrinterState.PAPER_NEAR_END else None
    return _STATE_KINDS.get(status.state, "printer_silent")


@dataclass(frozen=True)
class _Wanted:
    open: bool
    detail: str
    key: str  # the idempotency key of this change's report


class FaultReporter(QObject):
    """Reports each change of a fault kind's state to the hall, retrying until confirmed."""

    # kind, "open" | "cleared": the hall confirmed the report (tests, the log).
    reported = Signal(str, str)

    def __init__(self, report: Callable[[str, str, str, str], object], queue: TaskQueue, *,
                 retry_ms: int = RETRY_MS, new_key: Callable[[], str] | None = None,
                 parent: QObject | None = None) -> None:
        """`report(kind, "open" | "cleared", detail, idempotency_key)` is the hall's
        (HttpBackend.report_fault, through the kiosk's link); it runs on `queue`."""
        super().__init__(parent)
        self._report = report
        self.queue = queue
        self._new_key = new_key or (lambda: uuid.uuid4().hex)
        self._wanted: dict[str, _Wanted] = {}
        self._told: dict[str, bool] = {}  # kind -> open, as the hall last confirmed it
        self._sending = False
        self.retry_timer = QTimer(self)
        self.retry_timer.setSingleShot(True)
        self.retry_timer.setInterval(retry_ms)
        self.retry_timer.timeout.connect(self._send_next)
        self.printer_timer = QTimer(self)
        self._printing: Any = None
        self._reading_printer = False

    # --- what the kiosk notices ----------------------------------------------------------
    def set_fault(self, kind: str, is_open: bool, detail: str = "") -> None:
        """The fault `kind` is open (or not) now; reported if that is a change."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        wanted = self._wanted.get(kind)
        if wanted is not None and wanted.open == is_open:
            return
        self._wanted[kind] = _Wanted(is_open, detail[:MAX_DETAIL], self._new_key())
        if is_open or wanted is not None:
            log.info("device fault %s %s%s", kind, "open" if is_open else "cleared",
                     f" ({detail})" if detail else "")
        self._send_next()

    def set_printer(self, kind: str | None, detail: str = "") -> None:
        """The printer's one state: `kind` open (None: fine), every other printer kind
        cleared. Paper out is not also "near end": one thing for the clerk to fix."""
        for k in PRINTER_KINDS:
            self.set_fault(k, k == kind, detail if k == kind else "")

    def printer_alert(self, code: str) -> None:
        """PrintService.staffAlert: a job failed (or the paper runs low)."""
        self.set_printer(ALERT_KINDS.get(code, "printer_silent"), f"printer: {code}")

    def printer_status(self, status: PrinterStatus) -> None:
        kind = printer_fault(status)
        self.set_printer(kind, status.detail if kind else "")

    def printer_job_finished(self, _job: int, report: PrintReport) -> None:
        """A job printed: the printer works (a job cut short comes as staffAlert instead)."""
        if report.ok:
            self.printer_status(report.status_after)

    def camera_state(self, state: str) -> None:
        if state in CAMERA_DOWN_STATES:
            self.set_fault(CAMERA_DOWN, True, f"camera {state}")
        elif state in CAMERA_UP_STATES:
            self.set_fault(CAMERA_DOWN, False)

    def outbox_pending(self, count: int) -> None:
        """DeliveryService.pendingChanged: how many items wait to be sent."""
        if count >= BACKLOG_OPEN_AT:
            self.set_fault(OUTBOX_BACKLOG, True, f"{count} items waiting in the outbox")
        elif count < BACKLOG_CLEARED_BELOW:
            self.set_fault(OUTBOX_BACKLOG, False)

    # --- the printer, read now and then --------------------------------------------------
    def watch_printer(self, printing: Any, poll_ms: int = PRINTER_POLL_MS) -> None:
        """Follow a PrintService: its alerts and finished jobs, and its status every
        `poll_ms` while it is idle (paper loaded, a cover closed: nobody prints at night)."""
        self._printing = printing
        printing.staffAlert.connect(self.printer_alert)
        printing.jobFinished.connect(self.printer_job_finished)
        self.printer_timer.setInterval(poll_ms)
        self.printer_timer.timeout.connect(self.read_printer)
        self.printer_timer.start()

    def read_printer(self) -> None:
        printing = self._printing
        if printing is None or printing.queue.closed:
            self.printer_timer.stop()
            return
        # On the printer's own queue (one thread owns its I/O), and only while it is idle:
        # a status read never delays a resident's ticket.
        if self._reading_printer or printing.queue.pending():
            return
        self._reading_printer = True
        printing.queue.submit(printing.printer.status, self._printer_read,
                              self._printer_unreadable)

    def _printer_read(self, status: PrinterStatus) -> None:
        self._reading_printer = False
        self.printer_status(status)

    def _printer_unreadable(self, exc: BaseException) -> None:
        self._reading_printer = False
        detail = exc.hint if isinstance(exc, PrinterError) and exc.hint else type(exc).__name__
        self.set_printer("printer_silent", f"printer unreachable: {detail}")

    # --- telling the hall ----------------------------------------------------------------
    def pending(self) -> list[str]:
        """Kinds whose latest state the hall has not confirmed yet."""
        return [k for k, w in self._wanted.items() if self._told.get(k) != w.open]

    def _send_next(self) -> None:
        if self._sending or self.retry_timer.isActive() or self.queue.closed:
            return
        due = self.pending()
        if not due:
            return
        kind = due[0]
        wanted = self._wanted[kind]
        state = "open" if wanted.open else "cleared"
        report = self._report
        self._sending = True
        self.queue.submit(lambda: report(kind, state, wanted.detail, wanted.key),
                          lambda _changed: self._sent(kind, wanted),
                          lambda exc: self._not_sent(kind, wanted, exc))

    def _sent(self, kind: str, wanted: _Wanted) -> None:
        self._sending = False
        self._told[kind] = wanted.open
        self.reported.emit(kind, "open" if wanted.open else "cleared")
        self._send_next()

    def _not_sent(self, kind: str, wanted: _Wanted, exc: BaseException) -> None:
        self._sending = False
        if isinstance(exc, (ValueError, TypeError, KeyError)):
            # Refused for good (a kind or detail the hall does not take): a retry would be
            # refused again. Dropped, and said so in the log.
            log.warning("device fault %s not reported: refused (%s)", kind, type(exc).__name__)
            self._told[kind] = wanted.open
            self._send_next()
            return
        log.info("device fault %s not reported yet (%s); next try in %d s", kind,
                 type(exc).__name__, self.retry_timer.interval() // 1000)
        self.retry_timer.start()

    def stop(self) -> None:
        self.retry_timer.stop()
        self.printer_timer.stop()
