"""The `Printer` facade on the emulated printer: one job per document, refusals before
sending, faults mid-job reported with the bytes sent, reconnects, the test page."""

from __future__ import annotations

import re

import pytest
from pyzbar import pyzbar

from kiosk.devtools.escpos_render import render_png, render_text
from kiosk.domain.printdoc import PrintDocument, Text
from kiosk.hardware.printer.emulated import EmulatedPrinter
from kiosk.hardware.printer.errors import (
    CoverOpen,
    PaperOut,
    PrinterNoAnswer,
    PrinterOffline,
    PrinterState,
    PrinterStatus,
    PrinterUnavailable,
)
from kiosk.hardware.printer.escpos_layout import PrinterProfile
from kiosk.hardware.printer.escpos_writer import encode_document
from kiosk.hardware.printer.printer import Printer


def doc(text: str = "A001") -> PrintDocument:
    return PrintDocument(kind="ticket", blocks=[Text(text)])


def test_print_document_sends_one_job_and_reports() -> None:
    transport = EmulatedPrinter()
    profile = PrinterProfile()
    report = Printer(transport, profile).print_document(doc())
    assert transport.jobs == [encode_document(doc(), profile)]
    assert report.bytes_sent == len(transport.jobs[0]) and report.kind == "ticket"
    assert report.status_before.state is report.status_after.state is PrinterState.OK
    assert report.ok and report.duration_s >= 0


@pytest.mark.parametrize(
    ("state", "error"),
    [(PrinterState.PAPER_OUT, PaperOut), (PrinterState.COVER_OPEN, CoverOpen),
     (PrinterState.OFFLINE, PrinterOffline)],
)
def test_print_document_refuses_before_sending(state: PrinterState, error: type) -> None:
    transport = EmulatedPrinter()
    transport.set_fault(state)
    with pytest.raises(error):
        Printer(transport, PrinterProfile()).print_document(doc())
    assert transport.received == b""


def test_paper_out_mid_ticket_reaches_the_caller_with_bytes_sent() -> None:
    transport = EmulatedPrinter()
    transport.set_fault(PrinterState.PAPER_OUT, after_bytes=5)
    with pytest.raises(PaperOut) as caught:
        Printer(transport, PrinterProfile()).print_document(doc())
    assert caught.value.bytes_sent == 5


def test_near_end_after_the_job_is_reported() -> None:
    transport = EmulatedPrinter()
    transport.set_fault(PrinterState.PAPER_NEAR_END, after_bytes=5)
    report = Printer(transport, PrinterProfile()).print_document(doc())
    assert report.ok and report.paper_low
    assert report.status_after.state is PrinterState.PAPER_NEAR_END


def test_printer_reconnects_after_a_replug() -> None:
    transport = EmulatedPrinter()
    printer = Printer(transport, PrinterProfile())
    printer.print_document(doc("A001"))
    transport.unplug()
    with pytest.raises(PrinterUnavailable):
        printer.print_document(doc("A002"))
    transport.plug()
    printer.print_document(doc("A003"))
    assert len(transport.jobs) == 2 and b"A003" in transport.jobs[1]


def test_a_silent_printer_gets_no_job() -> None:
    # python-escpos would read this silence as "paper adequate"; a job sent into it would
    # print (if ever) whenever the printer wakes up, for nobody.
    transport = EmulatedPrinter()
    transport.set_fault(PrinterState.NO_ANSWER)
    with pytest.raises(PrinterNoAnswer) as raised:
        Printer(transport, PrinterProfile()).print_document(doc())
    assert raised.value.bytes_sent == 0 and transport.jobs == []
    assert isinstance(raised.value, PrinterOffline)  # the resident reads the offline message
    transport.set_fault(None)
    assert Printer(transport, PrinterProfile()).print_document(doc()).ok


def test_a_printer_that_falls_silent_after_the_job_is_not_ok() -> None:
    transport = EmulatedPrinter()
    printer = Printer(transport, PrinterProfile())
    real = transport.read_status
    calls = {"n": 0}

    def status() -> PrinterStatus:
        calls["n"] += 1
        return real() if calls["n"] == 1 else PrinterStatus.unknown("no answer")

    transport.read_status = status  # type: ignore[method-assign]
    report = printer.print_document(doc())
    assert not report.ok and len(transport.jobs) == 1


@pytest.mark.parametrize("profile", [PrinterProfile(columns=32, paper_dots=384),
                                     PrinterProfile(font_charset="GBK", native_qr=False)])
def test_test_page_reads_back(profile: PrinterProfile) -> None:
    transport = EmulatedPrinter()
    printer = Printer(transport, profile)
    page = printer.test_page("XP-58IIH")
    printer.print_document(page)
    data = transport.jobs[0]
    rendered = render_text(data, columns=profile.columns)
    assert rendered.warnings == [] and rendered.cuts == 1
    text = rendered.text
    assert "XP-58IIH" in text and "emulated printer" in text and profile.font_charset in text
    assert re.search(rf"^{''.join(str(i % 10) for i in range(1, profile.columns + 1))}$", text,
                     re.MULTILINE)
    assert "中文：上海市" in text and "符号：￥12.50 · 第1号" in text
    assert "生僻字" not in text and len(rendered.images) >= 1  # that line is an image
    png = render_png(data, paper_dots=profile.paper_dots).convert("L")
    assert [c.data.decode() for c in pyzbar.decode(png)] == [page.blocks[-3].data]  # type: ignore[union-attr]
