"""Printing off the GUI thread, one job at a time, with faults held for a person to reprint.

A job refused before any byte left (paper out, cover open, offline, unplugged, or a printer
that does not answer its status query) is held. It is never printed by itself when the
printer recovers: a ticket or receipt that comes out 20 s after the paper is loaded lands in
the tray for whoever stands there, with a number (and on a receipt, a name) that is not
theirs. It is printed again only when its resident asks (`reprint_held`, while their
session shows it) or staff do (`retry_held`, the maintenance screen), or dropped
(`cancel_held`). A job that failed after part of it was accepted is never sent again: what
is left in the printer's buffer prints when paper is loaded, and a second copy would be a
duplicate ticket.

The service also knows whether the printer can print (`problem`, `printerProblemChanged`):
from a failed job, from a status read at start, and, while a problem is known, from a
status read every `recovery_poll_ms`, so that Home can say printing is unavailable and a
resident's screen can offer the reprint once it is back.
Staff are alerted through `staffAlert` once per fault, not once per job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

from kiosk.domain.printdoc import PrintDocument
from kiosk.hardware.printer.errors import (
    CoverOpen,
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrinterState,
    PrinterStatus,
    PrinterUnavailable,
    error_for_status,
)
from kiosk.hardware.printer.printer import Printer, PrintReport
from kiosk.services.tasks import TaskQueue

log = logging.getLogger(__name__)

# Held jobs kept for staff at most; the oldest go first (their residents left long ago).
MAX_HELD = 50


def problem_code(exc: BaseException) -> str:
    """The message code (see ui.messages.printer_problem) for a printing failure."""
    for kind, code in (
        (PaperOut, "paper_out"),
        (CoverOpen, "cover_open"),
        (PrinterOffline, "offline"),
        (PrinterUnavailable, "unavailable"),
    ):
        if isinstance(exc, kind):
            return code
    return "fault"


@dataclass
class HeldJob:
    job: int
    doc: PrintDocument
    code: str


class PrintService(QObject):
    """Owns the printer: jobs go through one queue, so only one thread ever talks to it."""

    jobFinished = Signal(int, object)  # job id, PrintReport
    jobFailed = Signal(int, str, str)  # job id, problem code, technician hint
    jobHeld = Signal(int, str)  # job id, problem code: kept until its resident or staff ask
    staffAlert = Signal(str)  # problem code: paper_out, paper_near_end, cover_open, ...
    # The printer's problem code ("paper_out", "cover_open", "offline", "unavailable",
    # "fault") when it is known not to print, "" when it is known to print again.
    printerProblemChanged = Signal(str)
    # document kind ("ticket", "receipt", ...), "printed" | "held" | "failed": how each job
    # ended, for the terminal's metrics (kiosk.services.metrics).
    jobOutcome = Signal(str, str)

    def __init__(self, printer: Printer, parent: QObject | None = None, *,
                 recovery_poll_ms: int = 3000) -> None:
        super().__init__(parent)
        self.printer = printer
        self.queue = TaskQueue("printer", self)
        self._next = 0
        self.held: list[HeldJob] = []
        self.problem = ""  # why the printer cannot print, as last known; "" if it can
        self._release_on_ready = False  # staff asked for the held jobs: printed once ready
        self._alerted: set[str] = set()
        self.poll = QTimer(self)
        self.poll.setInterval(recovery_poll_ms)
        self.poll.timeout.connect(self._check_recovery)

    def print_document(self, doc: PrintDocument) -> int:
        self._next += 1
        job = self._next
        log.info("print job %d: %s queued", job, doc.kind)
        self._submit(job, doc)
        return job

    def is_held(self, job: int) -> bool:
        """Whether `job` waits, unsent, to be printed when the printer recovers."""
        return any(h.job == job for h in self.held)

    def cancel_held(self) -> int:
        """Staff: drop every held job (the residents have their tickets on screen or left)."""
        n = len(self.held)
        self.held.clear()
        self._release_on_ready = False
        log.info("staff cancelled %d held print job(s)", n)
        return n

    def reprint_held(self, job: int) -> bool:
        """Its resident asks for `job` again: sent now under its own id (refused and held
        again if the printer still cannot print). False if it is not held."""
        found = next((h for h in self.held if h.job == job), None)
        if found is None:
            return False
        self.held.remove(found)
        log.info("print job %d: reprint asked by its resident", job)
        self._submit(found.job, found.doc)
        return True

    def read_status(self) -> None:
        """Read the printer's status now (at start): a printer known to be out of paper is
        said so on Home before the first resident is refused a ticket."""
        if self.queue.closed:
            return
        self.queue.submit(self.printer.status, self._status_read,
                          lambda exc: self._set_problem(problem_code(exc)))

    def _set_problem(self, code: str) -> None:
        if code:
            self.poll.start()  # until the printer says it prints again
        if code == self.problem:
            return
        self.problem = code
        log.info("printer %s", f"cannot print ({code})" if code else "prints again")
        self.printerProblemChanged.emit(code)

    def _submit(self, job: int, doc: PrintDocument) -> None:
        printer = self.printer
        self.queue.submit(
            lambda: printer.print_document(doc),
            lambda report: self._done(job, report),
            lambda exc: self._failed(job, doc, exc),
        )

    def _done(self, job: int, report: PrintReport) -> None:
        log.info("print job %d done: %s", job, report)
        after = report.status_after
        if not report.ok:
            # The bytes went out but the printer then reported trouble or fell silent: the
            # ticket may be cut short. Never resent (a second copy would duplicate it); the
            # resident keeps it on screen and staff are called.
            trouble = error_for_status(after, bytes_sent=report.bytes_sent)
            code = problem_code(trouble) if trouble is not None else "fault"
            hint = trouble.hint if trouble is not None else ""
            log.warning("print job %d sent, then the printer reported %s", job, after.state.value)
            self._alert(code)
            self._set_problem(code)
            self.jobOutcome.emit(report.kind, "failed")
            self.jobFailed.emit(job, code, hint)
            return
        self._set_problem("")
        if after.state is PrinterState.PAPER_NEAR_END:
            self._alert("paper_near_end")
        elif after.state is PrinterState.OK:
            self._alerted.discard("paper_near_end")
        self.jobOutcome.emit(report.kind, "printed")
        self.jobFinished.emit(job, report)

    def _failed(self, job: int, doc: PrintDocument, exc: BaseException) -> None:
        hint = exc.hint if isinstance(exc, PrinterError) else ""
        code = problem_code(exc)
        sent = exc.bytes_sent if isinstance(exc, PrinterError) else None
        log.warning("print job %d failed: %s (%s bytes sent): %s", job, type(exc).__name__,
                    sent, hint)
        self._alert(code)
        if isinstance(exc, PrinterError) and sent == 0:
            self.held.append(HeldJob(job, doc, code))
            if len(self.held) > MAX_HELD:
                dropped = self.held.pop(0)
                log.warning("print job %d dropped: %d jobs held already", dropped.job,
                            MAX_HELD)
            self.jobHeld.emit(job, code)
        self._set_problem(code)
        self.jobOutcome.emit(doc.kind, "held" if self.is_held(job) else "failed")
        self.jobFailed.emit(job, code, hint)

    def _alert(self, code: str) -> None:
        if code in self._alerted:
            return
        self._alerted.add(code)
        self.staffAlert.emit(code)

    def retry_held(self) -> None:
        """Staff: check the printer now and reprint the held jobs as soon as it is ready."""
        self._release_on_ready = bool(self.held)
        self.poll.start()  # read again until it is ready, should the queue be busy now
        self._check_recovery()

    def _check_recovery(self) -> None:
        if not self.problem and not self._release_on_ready:
            self.poll.stop()
            return
        if self.queue.pending():
            return
        printer = self.printer
        self.queue.submit(printer.status, self._status_read,
                          lambda exc: log.info("printer still unavailable: %s",
                                               type(exc).__name__))

    def _status_read(self, status: PrinterStatus) -> None:
        # A connection that cannot read status is tried too: nothing of a held job was sent,
        # so a failed retry only holds it again. A silent printer has not recovered.
        if not status.ready:
            trouble = error_for_status(status)
            self._set_problem(problem_code(trouble) if trouble is not None else "fault")
            return
        self._alerted -= {"paper_out", "cover_open", "offline", "unavailable", "fault"}
        self.poll.stop()
        self._set_problem("")
        if self._release_on_ready:
            self._release_on_ready = False
            log.info("printer ready; reprinting %d held job(s) for staff", len(self.held))
            held, self.held = self.held, []
            for h in held:
                self._submit(h.job, h.doc)
        elif self.held:
            log.info("printer ready; %d held job(s) wait for their resident or staff",
                     len(self.held))

    def shutdown(self) -> None:
        self.poll.stop()
        self.queue.shutdown(wait=True)
