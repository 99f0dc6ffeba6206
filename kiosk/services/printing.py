"""Printing off the GUI thread, one job at a time, reported back as signals."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from kiosk.domain.printdoc import PrintDocument
from kiosk.hardware.printer.errors import (
    CoverOpen,
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrinterUnavailable,
)
from kiosk.hardware.printer.printer import Printer
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


class PrintService(QObject):
    """Owns the printer: jobs go through one queue, so only one thread ever talks to it."""

    jobFinished = Signal(int, object)  # job id, PrintReport
    jobFailed = Signal(int, str, str)  # job id, problem code, technician hint

    def __init__(self, printer: Printer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.printer = printer
        self.queue = TaskQueue("printer", self)
        self._next = 0

    def print_document(self, doc: PrintDocument) -> int:
        self._next += 1
        job = self._next
        log.info("print job %d: %s queued", job, doc.kind)
        self.queue.submit(
            lambda: self.printer.print_document(doc),
            lambda report, j=job: self._done(j, report),
            lambda exc, j=job: self._failed(j, exc),
        )
        return job

    def _done(self, job: int, report: object) -> None:
        log.info("print job %d done: %s", job, report)
        self.jobFinished.emit(job, report)

    def _failed(self, job: int, exc: BaseException) -> None:
        hint = exc.hint if isinstance(exc, PrinterError) else ""
        log.warning("print job %d failed: %s: %s", job, type(exc).__name__, exc)
        self.jobFailed.emit(job, problem_code(exc), hint)

    def shutdown(self) -> None:
        self.queue.shutdown(wait=True)
