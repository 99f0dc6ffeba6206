"""Printing off the GUI thread, one job at a time, with faults held and reprinted once.

A job refused before any byte left (paper out, cover open, offline, unplugged, or a printer
that does not answer its status query) is held and
printed when the printer says it is ready again, unless staff cancel it. A job that failed
after part of it was accepted is never sent again automatically: what is left in the
printer's buffer prints when paper is loaded, and a second copy would be a duplicate ticket.
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
    jobHeld = Signal(int, str)  # job id, problem code: it will print when the printer recovers
    staffAlert = Signal(str)  # problem code: paper_out, paper_near_end, cover_open, ...

    def __init__(self, printer: Printer, parent: QObject | None = None, *,
                 recovery_poll_ms: int = 3000) -> None:
        super().__init__(parent)
        self.printer = printer
        self.queue = TaskQueue("printer", self)
        self._next = 0
        self.held: list[HeldJob] = []
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
        self.poll.stop()
        log.info("staff cancelled %d held print job(s)", n)
        return n

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
            self.jobFailed.emit(job, code, hint)
            return
        if after.state is PrinterState.PAPER_NEAR_END:
            self._alert("paper_near_end")
        elif after.state is PrinterState.OK:
            self._alerted.discard("paper_near_end")
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
            self.poll.start()
            self.jobHeld.emit(job, code)
        self.jobFailed.emit(job, code, hint)

    def _alert(self, code: str) -> None:
        if code in self._alerted:
            return
        self._alerted.add(code)
        self.staffAlert.emit(code)

    def retry_held(self) -> None:
        """Staff: check the printer now and reprint held jobs if it is ready."""
        self._check_recovery()

    def _check_recovery(self) -> None:
        if not self.held:
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
        if status.ready:
            log.info("printer recovered; reprinting %d held job(s)", len(self.held))
            self._alerted -= {"paper_out", "cover_open", "offline", "unavailable", "fault"}
            held, self.held = self.held, []
            self.poll.stop()
            for h in held:
                self._submit(h.job, h.doc)

    def shutdown(self) -> None:
        self.poll.stop()
        self.queue.shutdown(wait=True)
