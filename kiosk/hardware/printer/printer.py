"""The printer as the services see it: print a document, read the status, build a test page.

One job at a time, each after a status check: after a paper-out, whatever is still in the
printer's buffer prints when paper is loaded, so a job sent to a printer that said it cannot
print would come out much later, for nobody. The document is encoded before the printer is
touched, so an encoding bug never leaves half a ticket on paper.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from kiosk.domain.printdoc import Align, Cut, KeyValue, PrintDocument, Qr, Rule, Text
from kiosk.hardware.printer.errors import (
    PrinterStatus,
    PrinterUnavailable,
    error_for_status,
)
from kiosk.hardware.printer.escpos_layout import PrinterProfile
from kiosk.hardware.printer.escpos_writer import encode_document
from kiosk.hardware.printer.transports import PrinterTransport


@dataclass(frozen=True)
class PrintReport:
    kind: str  # the document's kind ("ticket", "receipt", "test_page")
    bytes_sent: int
    status_before: PrinterStatus
    status_after: PrinterStatus
    duration_s: float

    @property
    def ok(self) -> bool:
        """False when the printer reported trouble, or went silent, right after the job: the
        ticket may be cut short and the resident should be told. A connection that cannot
        read status at all counts as fine."""
        return self.status_after.ready

    @property
    def paper_low(self) -> bool:
        return self.status_after.paper_near_end or self.status_before.paper_near_end


class Printer:
    """Prints documents through one transport; safe to call from one worker thread at a time
    (a lock serialises callers anyway)."""

    def __init__(self, transport: PrinterTransport, profile: PrinterProfile) -> None:
        self.transport = transport
        self.profile = profile
        self._lock = threading.RLock()
        self._opened = False

    def describe(self) -> str:
        return self.transport.describe()

    def open(self) -> None:
        with self._lock:
            self.transport.open()
            self._opened = True

    def close(self) -> None:
        with self._lock:
            self._opened = False
            self.transport.close()

    def status(self) -> PrinterStatus:
        """The printer's status now; raises PrinterUnavailable when it cannot be reached."""
        with self._lock:
            return self._status_with_reconnect()

    def encode(self, doc: PrintDocument) -> bytes:
        return encode_document(doc, self.profile)

    def print_document(self, doc: PrintDocument) -> PrintReport:
        """Print `doc` as one job.

        Raises PaperOut, CoverOpen, PrinterOffline or PrinterFault (nothing sent) when the
        printer says it cannot print, and PrinterUnavailable when it cannot be reached. An
        error raised by the write itself carries `bytes_sent` when known.
        """
        data = self.encode(doc)
        with self._lock:
            started = time.monotonic()
            try:
                before = self._status_with_reconnect()
            except PrinterUnavailable as exc:
                # Nothing of this job has left yet: say so, so it may be held and reprinted.
                if exc.bytes_sent is None:
                    exc.bytes_sent = 0
                raise
            refusal = error_for_status(before, bytes_sent=0)
            if refusal is not None:
                raise refusal
            self._write(data)
            after = self._status_after_job()
            return PrintReport(doc.kind, len(data), before, after, time.monotonic() - started)

    def test_page(self, model_info: str) -> PrintDocument:
        return build_test_page(self.profile, model_info, self.describe())

    # ----------------------------------------------------------------- internals
    def _status_with_reconnect(self) -> PrinterStatus:
        # Nothing of the job has been sent yet, so reconnecting once is safe: LAN printers
        # drop idle connections and a replugged USB printer needs a new handle.
        if self._opened:
            try:
                return self.transport.read_status()
            except PrinterUnavailable:
                self._opened = False
        self._ensure_open()
        try:
            return self.transport.read_status()
        except PrinterUnavailable:
            self._opened = False
            raise

    def _ensure_open(self) -> None:
        if not self._opened:
            self.transport.open()
            self._opened = True

    def _write(self, data: bytes) -> None:
        try:
            self.transport.write(data)
        except PrinterUnavailable:
            self._opened = False
            raise

    def _status_after_job(self) -> PrinterStatus:
        # The job is out; failing to read the status now must not turn it into an error.
        try:
            return self.transport.read_status()
        except PrinterUnavailable as exc:
            self._opened = False
            return PrinterStatus.unknown(f"status unavailable after the job: {exc}")


def build_test_page(profile: PrinterProfile, model_info: str, connection: str) -> PrintDocument:
    """A page a technician checks a new printer with: settings, widths, fonts, QR, cut."""
    mm = 58 if profile.paper_dots <= 384 else 80
    ruler = "".join(str(i % 10) for i in range(1, profile.columns + 1))
    doc = PrintDocument(kind="test_page", language="zh")
    doc.add(
        Text("打印机测试页", Align.CENTER, bold=True, width=2, height=2),
        Text("Printer test page", Align.CENTER),
        Rule("="),
        KeyValue("Model", model_info or "unknown"),
        KeyValue("Connection", connection),
        KeyValue("Paper", f"{mm} mm, {profile.paper_dots} dots"),
        KeyValue("Chars per line", f"{profile.columns} ASCII / {profile.columns // 2} 汉字"),
        KeyValue("Chinese font", profile.font_charset),
        KeyValue("Native QR", "yes (GS ( k)" if profile.native_qr else "no (image)"),
        KeyValue("Cutter", "yes" if profile.cutter else "no (tear off)"),
        Rule(),
        Text(ruler),
        Text("中文：上海市一网通办自助服务终端，欢迎使用！"),
        Text("符号：￥12.50 · 第1号 —— “引号” ①②③ ℃"),
        Text("ASCII: 0123456789 AaBbCcXxYyZz !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
        Text("生僻字（以图像打印）：𠮷 䶮 堃"),
        KeyValue("粗体 Bold", "右对齐 Right", bold=True),
        Text("下划线 Underline", underline=True),
        Text("倍宽倍高 2x2", width=2, height=2),
        Rule(),
        Qr("KIOSK-TEST-PAGE " + ruler, module_size=6, ec_level="M"),
        Text("扫码应显示 KIOSK-TEST-PAGE", Align.CENTER),
        Cut(),
    )
    return doc
