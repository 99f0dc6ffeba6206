"""Real transports against real endpoints: a TCP printer on 127.0.0.1, a pseudo-terminal
serial printer, a temp file, and a USB bus without the printer. No hardware needed."""

from __future__ import annotations

import errno
import os
import select
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import usb.core

from kiosk.config.schema import (
    EmulatedPrinterConfig,
    FilePrinterConfig,
    NetworkPrinterConfig,
    SerialPrinterConfig,
    UsbPrinterConfig,
)
from kiosk.domain.printdoc import PrintDocument, Text
from kiosk.hardware.printer.emulated import EmulatedPrinter
from kiosk.hardware.printer.errors import PaperOut, PrinterState, PrinterUnavailable
from kiosk.hardware.printer.escpos_layout import PrinterProfile
from kiosk.hardware.printer.escpos_writer import encode_document
from kiosk.hardware.printer.printer import Printer
from kiosk.hardware.printer.transports import (
    CANNOT_READ_STATUS,
    STATUS_NOT_ASKED,
    FileTransport,
    NetworkTransport,
    PrinterTransport,
    SerialTransport,
    UsbTransport,
    make_transport,
    status_from_replies,
    usb_hint,
)
from tests.helpers.escpos_peers import tcp_printer as silent_capable_tcp_printer
from tests.helpers.waits import poll_until

OK_REPLIES = {1: 0x12, 2: 0x12, 4: 0x12}
STATUS_TIMEOUT = 0.2


# --------------------------------------------------------------------------- status bytes


@pytest.mark.parametrize(
    ("r1", "r2", "r4", "state"),
    [
        (0x12, 0x12, 0x12, PrinterState.OK),
        (0x16, 0x12, 0x12, PrinterState.OK),  # bit 2 of n=1 is the drawer, not a fault
        (0x1A, 0x12, 0x12, PrinterState.OFFLINE),
        (0x1A, 0x16, 0x12, PrinterState.COVER_OPEN),
        (0x1A, 0x32, 0x12, PrinterState.PAPER_OUT),  # stopped by paper end
        (0x1A, 0x12, 0x72, PrinterState.PAPER_OUT),
        (0x12, 0x12, 0x1E, PrinterState.PAPER_NEAR_END),
        (0x1A, 0x52, 0x12, PrinterState.ERROR),
        (None, None, None, PrinterState.UNKNOWN),
        (0x12, 0x12, None, PrinterState.UNKNOWN),  # never "paper OK" without an answer
        (0x12, 0x16, None, PrinterState.COVER_OPEN),
        (0x10, 0x12, 0x12, PrinterState.UNKNOWN),  # an echo, not a status byte
    ],
)
def test_status_bytes(r1: int | None, r2: int | None, r4: int | None, state: PrinterState) -> None:
    assert status_from_replies(r1, r2, r4).state is state


def test_status_keeps_every_flag() -> None:
    status = status_from_replies(0x1A, 0x36, 0x7E)
    assert (status.cover_open, status.paper_out, status.paper_near_end, status.offline) == (
        True, True, True, True)
    assert status.raw == bytes([0x1A, 0x36, 0x7E]) and "cover open" in status.detail


# --------------------------------------------------------------------------- network


def _answers(pending: bytes, replies: dict[int, int]) -> tuple[bytes, bytes]:
    """Replies to the complete DLE EOT n queries in `pending`, and the bytes to keep."""
    out = b""
    while (at := pending.find(b"\x10\x04")) >= 0 and len(pending) > at + 2:
        if pending[at + 2] in replies:
            out += bytes([replies[pending[at + 2]]])
        pending = pending[at + 3 :]
    return out, pending[-2:]


class _FakePrinter(socketserver.BaseRequestHandler):
    """Records every byte; answers DLE EOT n with the server's replies (unless silent)."""

    def handle(self) -> None:
        server: _Server = self.server  # type: ignore[assignment]
        server.connections += 1
        if server.hang_up:
            return
        pending = b""
        while chunk := self.request.recv(4096):
            server.received += chunk
            answer, pending = _answers(pending + chunk, server.replies)
            self.request.sendall(answer)
        server.ended += 1  # the client closed: everything it sent is in `received`


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, replies: dict[int, int], hang_up: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _FakePrinter)
        self.replies = replies
        self.hang_up = hang_up
        self.received = b""
        self.connections = 0
        self.ended = 0


@pytest.fixture
def tcp_printer() -> Iterator[_Server]:
    server = _Server(dict(OK_REPLIES))
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _network(server: _Server, timeout_s: float = 2.0) -> NetworkTransport:
    cfg = NetworkPrinterConfig(host="127.0.0.1", port=server.server_address[1],
                               timeout_s=timeout_s)
    return NetworkTransport(cfg, status_timeout_s=STATUS_TIMEOUT)


def _wait_for(predicate: Callable[[], object]) -> None:
    poll_until(predicate)


def test_network_opens_eagerly_writes_and_reads_status(tcp_printer: _Server) -> None:
    transport = _network(tcp_printer, timeout_s=2.5)
    transport.open()
    _wait_for(lambda: tcp_printer.connections == 1)
    assert tcp_printer.connections == 1  # connected in open(), before any write
    assert transport._device.gettimeout() == 2.5  # the config's, not python-escpos's 60 s
    transport.write(b"\x1b@hello\n")
    assert transport.read_status().state is PrinterState.OK
    transport.close()
    _wait_for(lambda: tcp_printer.received.endswith(b"\x10\x04\x04"))
    assert tcp_printer.received == b"\x1b@hello\n\x10\x04\x01\x10\x04\x02\x10\x04\x04"


def test_network_reports_paper_out(tcp_printer: _Server) -> None:
    tcp_printer.replies.update({1: 0x1A, 2: 0x32, 4: 0x72})
    transport = _network(tcp_printer)
    transport.open()
    status = transport.read_status()
    transport.close()
    assert status.state is PrinterState.PAPER_OUT and status.offline


def test_silent_printer_is_unknown_within_the_status_timeout(tcp_printer: _Server) -> None:
    tcp_printer.replies.clear()
    transport = _network(tcp_printer)
    transport.open()
    started = time.monotonic()
    status = transport.read_status()
    elapsed = time.monotonic() - started
    transport.close()
    assert status.state is PrinterState.UNKNOWN and "no answer" in status.detail
    # One timeout: no point asking 2 and 4 after silence. Counted in what the printer got,
    # not in time, which a loaded machine stretches.
    assert elapsed >= STATUS_TIMEOUT * 0.9
    _wait_for(lambda: tcp_printer.ended == 1)
    assert tcp_printer.received == b"\x10\x04\x01"


def test_printer_hanging_up_is_unavailable(tcp_printer: _Server) -> None:
    tcp_printer.hang_up = True
    transport = _network(tcp_printer)
    transport.open()
    with pytest.raises(PrinterUnavailable) as caught:
        transport.read_status()
    assert "network cable" in caught.value.hint
    with pytest.raises(PrinterUnavailable):
        transport.write(b"x")  # the broken connection was closed, not reused


def test_connection_refused_is_unavailable_with_a_hint() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nobody listens there
    transport = NetworkTransport(NetworkPrinterConfig(host="127.0.0.1", port=port, timeout_s=1))
    with pytest.raises(PrinterUnavailable) as caught:
        transport.open()
    assert "refused" in str(caught.value) and "IP address" in caught.value.hint
    with pytest.raises(PrinterUnavailable):
        transport.write(b"x")


def test_printer_facade_over_the_network(tcp_printer: _Server) -> None:
    doc = PrintDocument(kind="receipt", blocks=[Text("回执 Receipt")])
    profile = PrinterProfile(columns=32, paper_dots=384)
    printer = Printer(_network(tcp_printer), profile)
    report = printer.print_document(doc)
    printer.close()
    job = encode_document(doc, profile)
    assert report.bytes_sent == len(job) and report.ok
    _wait_for(lambda: tcp_printer.received.count(b"\x10\x04") == 6)
    queries = b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"
    assert tcp_printer.received == queries + job + queries  # status, ONE job, status


def test_printer_facade_refuses_when_the_printer_is_out_of_paper(tcp_printer: _Server) -> None:
    tcp_printer.replies.update({1: 0x1A, 2: 0x32, 4: 0x72})
    printer = Printer(_network(tcp_printer), PrinterProfile())
    with pytest.raises(PaperOut) as caught:
        printer.print_document(PrintDocument(kind="ticket", blocks=[Text("A001")]))
    printer.close()
    assert caught.value.bytes_sent == 0
    assert b"A001" not in tcp_printer.received


# --------------------------------------------------------------- realtime_status = false


def test_a_printer_without_realtime_status_is_never_asked_and_gets_one_job_at_a_time() -> None:
    """A LAN printer that never answers DLE EOT: held forever before; now each job is sent,
    one after the other, and the status says it cannot be known (never "OK")."""
    profile = PrinterProfile(columns=32, paper_dots=384)
    docs = [PrintDocument(kind="ticket", blocks=[Text(f"A00{i}")]) for i in (1, 2)]
    with silent_capable_tcp_printer(answers=False) as peer:
        cfg = NetworkPrinterConfig(host="127.0.0.1", port=peer.port, timeout_s=2,
                                   realtime_status=False)
        printer = Printer(NetworkTransport(cfg, status_timeout_s=STATUS_TIMEOUT), profile)
        reports = [printer.print_document(doc) for doc in docs]
        printer.close()
        jobs = b"".join(encode_document(doc, profile) for doc in docs)
        assert poll_until(lambda: len(peer.data()) == len(jobs))
        assert peer.data() == jobs  # no DLE EOT: nothing but the tickets
    for report in reports:
        assert report.ok and not report.status_after.readable
        assert report.status_before.state is PrinterState.UNKNOWN
        assert report.status_before.detail == STATUS_NOT_ASKED


def test_a_dropped_connection_is_found_before_the_job_without_asking_the_printer() -> None:
    profile = PrinterProfile(columns=32, paper_dots=384)
    doc = PrintDocument(kind="ticket", blocks=[Text("B007")])
    with silent_capable_tcp_printer(answers=False) as peer:
        cfg = NetworkPrinterConfig(host="127.0.0.1", port=peer.port, timeout_s=2,
                                   realtime_status=False)
        transport = NetworkTransport(cfg, status_timeout_s=STATUS_TIMEOUT)
        printer = Printer(transport, profile)
        printer.open()
        assert poll_until(lambda: peer.connections == 1)
        peer.hang_up()
        # Event, not time: the printer's end of the connection has reached the kiosk.
        assert poll_until(lambda: select.select([transport._device], [], [], 0)[0])
        report = printer.print_document(doc)
        printer.close()
        job = encode_document(doc, profile)
        assert poll_until(lambda: peer.data() == job)  # on a new connection, whole
        assert peer.connections == 2 and report.ok


# --------------------------------------------------------------------------- serial


@pytest.fixture
def pty_printer() -> Iterator[tuple[str, bytearray, dict[int, int]]]:
    """A pseudo-terminal: the kiosk opens the slave like /dev/ttyUSB0, a thread plays the
    printer on the master side."""
    master, slave = os.openpty()
    received = bytearray()
    replies = dict(OK_REPLIES)
    stop = threading.Event()

    def printer() -> None:
        pending = b""
        while not stop.is_set():
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            received.extend(chunk)
            answer, pending = _answers(pending + chunk, replies)
            os.write(master, answer)

    thread = threading.Thread(target=printer, daemon=True)
    thread.start()
    yield os.ttyname(slave), received, replies
    stop.set()
    os.close(slave)
    os.close(master)


def test_serial_printer_on_a_pty(pty_printer: tuple[str, bytearray, dict[int, int]]) -> None:
    port, received, replies = pty_printer
    cfg = SerialPrinterConfig(port=port, baudrate=115200, timeout_s=2)
    transport = SerialTransport(cfg, status_timeout_s=STATUS_TIMEOUT)
    transport.open()
    assert transport._device.write_timeout == 2  # pyserial's default blocks forever
    transport.write(b"\x1b@serial\n")
    assert transport.read_status().state is PrinterState.OK
    replies[2] = 0x16
    assert transport.read_status().state is PrinterState.COVER_OPEN
    transport.close()
    assert bytes(received).startswith(b"\x1b@serial\n\x10\x04\x01")


def test_serial_port_url_is_accepted() -> None:
    transport = SerialTransport(SerialPrinterConfig(port="loop://", timeout_s=1),
                                status_timeout_s=STATUS_TIMEOUT)
    transport.open()
    transport.write(b"\x1b@")
    status = transport.read_status()  # loop:// echoes the query: not a status byte
    transport.close()
    assert status.state is PrinterState.UNKNOWN and "unexpected reply" in status.detail


def test_missing_serial_port_is_unavailable_with_a_hint(tmp_path: Path) -> None:
    transport = SerialTransport(SerialPrinterConfig(port=str(tmp_path / "ttyUSB9")))
    with pytest.raises(PrinterUnavailable) as caught:
        transport.open()
    assert "/dev/serial/by-id" in caught.value.hint


# --------------------------------------------------------------------------- file


def test_file_transport_writes_but_cannot_read_status(tmp_path: Path) -> None:
    path = tmp_path / "lp0"
    transport = FileTransport(FilePrinterConfig(path=str(path)))
    transport.open()
    transport.write(b"\x1b@file\n")
    status = transport.read_status()
    transport.close()
    assert path.read_bytes() == b"\x1b@file\n"
    assert status.state is PrinterState.UNKNOWN and status.detail == CANNOT_READ_STATUS
    # It cannot ask, so that is no fault: a device file still prints.
    assert status.ready and not status.silent


@pytest.mark.parametrize(("name", "hint"), [("missing/lp0", "usblp"), (".", "Check the printer")])
def test_file_transport_open_errors(tmp_path: Path, name: str, hint: str) -> None:
    transport = FileTransport(FilePrinterConfig(path=str(tmp_path / name)))
    with pytest.raises(PrinterUnavailable) as caught:
        transport.open()
    assert hint in caught.value.hint


def test_closed_transport_does_not_reopen_lazily(tmp_path: Path) -> None:
    transport = FileTransport(FilePrinterConfig(path=str(tmp_path / "lp0")))
    with pytest.raises(PrinterUnavailable, match="not open"):
        transport.write(b"x")  # python-escpos would open the file on first use
    assert not (tmp_path / "lp0").exists()


# --------------------------------------------------------------------------- USB


def test_missing_usb_printer_is_unavailable_with_a_hint() -> None:
    cfg = UsbPrinterConfig(vendor_id=0xF00D, product_id=0xBEEF, timeout_ms=1500)
    transport = UsbTransport(cfg)
    assert transport._printer.timeout == 1500  # python-escpos's default 0 blocks forever
    assert transport.describe() == "USB f00d:beef"
    with pytest.raises(PrinterUnavailable) as caught:
        transport.open()
    assert "f00d:beef" in caught.value.hint or "libusb" in caught.value.hint


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (usb.core.USBError("Access denied (insufficient permissions)", errno=errno.EACCES),
         ("udev", 'ATTRS{idVendor}=="0416"', "GROUP")),
        (usb.core.USBError("Resource busy", errno=errno.EBUSY), ("usblp", "CUPS")),
        (usb.core.USBTimeoutError("Operation timed out", errno=errno.ETIMEDOUT),
         ("3000 ms", "paper")),
        (usb.core.NoBackendError("No backend available"), ("libusb-1.0",)),
    ],
)
def test_usb_hints(error: Exception, words: tuple[str, ...]) -> None:
    hint = usb_hint(error, 0x0416, 0x5011, 3000)
    assert all(word in hint for word in words), hint


def test_usb_hint_looks_through_python_escpos_wrapping() -> None:
    from escpos.exceptions import DeviceNotFoundError

    wrapped = DeviceNotFoundError("Unable to open USB printer")
    wrapped.__context__ = usb.core.USBError("Access denied", errno=errno.EACCES)
    assert "udev" in usb_hint(wrapped, 0x0416, 0x5011, 3000)


# --------------------------------------------------------------------------- factory


@pytest.mark.parametrize(
    ("cfg", "kind"),
    [
        (UsbPrinterConfig(vendor_id=0x0416, product_id=0x5011), UsbTransport),
        (SerialPrinterConfig(port="/dev/ttyUSB0"), SerialTransport),
        (NetworkPrinterConfig(host="192.0.2.10"), NetworkTransport),
        (FilePrinterConfig(path="/dev/usb/lp0"), FileTransport),
        (EmulatedPrinterConfig(), EmulatedPrinter),
    ],
)
def test_make_transport_picks_by_kind(cfg: object, kind: type, tmp_path: Path) -> None:
    transport = make_transport(cfg, tmp_path)  # type: ignore[arg-type]
    assert isinstance(transport, kind) and isinstance(transport, PrinterTransport)
    assert transport.describe()


def test_emulated_output_dir_is_under_the_data_dir(tmp_path: Path) -> None:
    transport = make_transport(EmulatedPrinterConfig(output_dir="printed"), tmp_path)
    assert isinstance(transport, EmulatedPrinter)
    assert transport.output_dir == tmp_path / "printed"
