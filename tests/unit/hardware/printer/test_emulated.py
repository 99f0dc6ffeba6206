"""The emulated printer: recording, saved jobs, injected faults, threads."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from kiosk.domain.printdoc import PrintDocument, Text
from kiosk.hardware.printer.emulated import EmulatedPrinter
from kiosk.hardware.printer.errors import (
    CoverOpen,
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrinterState,
    PrinterUnavailable,
)
from kiosk.hardware.printer.transports import PrinterTransport
from tests.helpers.waits import HANG_GUARD_S, poll_until

FIXED = dt.datetime(2024, 5, 6, 9, 30, 15)


def opened(**kw: object) -> EmulatedPrinter:
    printer = EmulatedPrinter(**kw)  # type: ignore[arg-type]
    printer.open()
    return printer


def doc(text: str = "A001") -> PrintDocument:
    return PrintDocument(kind="ticket", blocks=[Text(text)])


# --------------------------------------------------------------------------- recording


def test_is_a_printer_transport() -> None:
    assert isinstance(EmulatedPrinter(), PrinterTransport)


def test_each_write_is_a_job_and_is_saved(tmp_path: Path) -> None:
    printer = opened(output_dir=tmp_path / "printed", clock=lambda: FIXED)
    printer.write(b"one")
    printer.write(b"two")
    assert printer.received == b"onetwo" and printer.jobs == [b"one", b"two"]
    names = sorted(p.name for p in (tmp_path / "printed").iterdir())
    assert names == ["job-20240506-093015-0001.bin", "job-20240506-093015-0002.bin"]
    assert (tmp_path / "printed" / names[1]).read_bytes() == b"two"


def test_saved_jobs_never_overwrite_older_ones(tmp_path: Path) -> None:
    (tmp_path / "job-20240506-093015-0001.bin").write_bytes(b"old")
    printer = opened(output_dir=tmp_path, clock=lambda: FIXED)
    printer.write(b"new")
    assert (tmp_path / "job-20240506-093015-0001.bin").read_bytes() == b"old"
    assert printer.files == [tmp_path / "job-20240506-093015-0002.bin"]


def test_begin_and_end_job_group_writes() -> None:
    printer = opened()
    printer.begin_job()
    printer.write(b"a")
    printer.write(b"b")
    printer.end_job()
    printer.write(b"c")
    assert printer.jobs == [b"ab", b"c"]


def test_memory_can_be_bounded() -> None:
    printer = opened(max_kept_bytes=10)
    for _ in range(5):
        printer.write(b"12345")
    assert printer.jobs == [b"12345", b"12345"] and printer.received == b"1234512345"


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("state", "error"),
    [(PrinterState.PAPER_OUT, PaperOut), (PrinterState.COVER_OPEN, CoverOpen),
     (PrinterState.OFFLINE, PrinterOffline)],
)
def test_blocking_faults_make_write_raise(state: PrinterState, error: type) -> None:
    printer = opened()
    printer.set_fault(state)
    with pytest.raises(error) as caught:
        printer.write(b"ticket")
    assert caught.value.bytes_sent == 0 and printer.received == b""
    assert printer.read_status().state is state
    printer.set_fault(None)
    printer.write(b"ticket")
    assert printer.jobs == [b"ticket"]


def test_paper_runs_out_mid_job(tmp_path: Path) -> None:
    printer = opened(output_dir=tmp_path)
    printer.set_fault(PrinterState.PAPER_OUT, after_bytes=3000)
    assert printer.read_status().state is PrinterState.OK  # not yet
    with pytest.raises(PaperOut) as caught:
        printer.write(bytes(5000))
    assert caught.value.bytes_sent == 3000 and len(printer.received) == 3000
    assert printer.jobs == [bytes(3000)]  # what came out on paper
    assert len(list(tmp_path.iterdir())) == 1
    assert printer.read_status().state is PrinterState.PAPER_OUT
    with pytest.raises(PaperOut):
        printer.write(b"next")


def test_a_job_that_fits_before_the_paper_ends_prints_whole() -> None:
    printer = opened()
    printer.set_fault(PrinterState.PAPER_OUT, after_bytes=10)
    printer.write(bytes(10))
    assert printer.read_status().state is PrinterState.PAPER_OUT
    with pytest.raises(PaperOut):
        printer.write(b"x")


def test_near_end_prints_but_reports_it() -> None:
    printer = opened()
    printer.set_fault(PrinterState.PAPER_NEAR_END)
    printer.write(b"ok")
    status = printer.read_status()
    assert printer.jobs == [b"ok"] and status.state is PrinterState.PAPER_NEAR_END
    assert status.paper_near_end and status.can_print


def test_no_answer_is_unknown_not_ok() -> None:
    printer = opened()
    printer.set_fault(PrinterState.NO_ANSWER)
    assert printer.read_status().state is PrinterState.UNKNOWN
    printer.write(b"still prints")


def test_unplug_and_plug() -> None:
    printer = opened()
    printer.unplug()
    for action in (printer.open, printer.read_status, lambda: printer.write(b"x")):
        with pytest.raises(PrinterUnavailable) as caught:
            action()
        assert "plug" in caught.value.hint
    printer.plug()
    with pytest.raises(PrinterUnavailable, match="not open"):
        printer.write(b"x")  # a replugged device needs opening again
    printer.open()
    printer.write(b"x")
    assert printer.received == b"x"


def test_fault_injected_from_another_thread_stops_a_slow_write() -> None:
    printer = opened(write_delay_s=0.005)  # 5 ms per KB
    errors: list[PrinterError] = []

    def worker() -> None:
        try:
            printer.write(bytes(100 * 1024))
        except PrinterError as exc:
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    assert poll_until(lambda: len(printer.received) >= 4096, interval_s=0.001)
    printer.set_fault(PrinterState.COVER_OPEN)
    thread.join(timeout=HANG_GUARD_S)
    assert len(errors) == 1 and isinstance(errors[0], CoverOpen)
    sent = errors[0].bytes_sent
    assert sent is not None and 4096 <= sent < 100 * 1024 and sent == len(printer.received)
