"""Printer status and the error each status means: a connection that cannot ask still prints,
a silent one is an error."""

from __future__ import annotations

from kiosk.hardware.printer.errors import PrinterNoAnswer, PrinterStatus, error_for_status


def test_a_connection_that_cannot_ask_still_prints() -> None:
    status = PrinterStatus.unreadable("this connection cannot read status")
    assert status.ready and not status.silent and error_for_status(status) is None
    silent = PrinterStatus.unknown("no answer")
    assert silent.silent and not silent.ready
    assert isinstance(error_for_status(silent), PrinterNoAnswer)
