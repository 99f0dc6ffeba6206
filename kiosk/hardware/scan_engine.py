"""A dedicated 2D scan engine read in its serial mode (never as a keyboard).

Many terminals carry a scan engine besides the camera. In keyboard-emulation mode a crafted
code can type hotkeys into the kiosk ("BadBarcode"), so the kiosk reads engines only as a
serial port: every byte is data, a code ends at CR or LF, and anything non-printable makes
the payload check refuse it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import serial

log = logging.getLogger(__name__)

MAX_CODE_BYTES = 512  # far above our 200-character payloads; more is noise or an attack


class SerialScanEngine:
    def __init__(self, port: str, baudrate: int, on_code: Callable[[str], None]) -> None:
        self.port = port
        self.baudrate = baudrate
        self.on_code = on_code
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._serial: serial.SerialBase | None = None

    def start(self) -> None:
        self._serial = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.2)
        self._thread = threading.Thread(target=self._run, name="scan-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._serial is not None:
            self._serial.close()

    def _run(self) -> None:
        assert self._serial is not None
        buffer = bytearray()
        while not self._stop.is_set():
            try:
                chunk = self._serial.read(256)
            except serial.SerialException as exc:
                log.warning("scan engine read failed: %s", exc)
                self._stop.wait(1.0)
                continue
            for byte in chunk:
                if byte in (0x0D, 0x0A):
                    if buffer:
                        self._emit(bytes(buffer))
                    buffer.clear()
                elif len(buffer) < MAX_CODE_BYTES:
                    buffer.append(byte)

    def _emit(self, raw: bytes) -> None:
        # Decoded loosely on purpose: control characters survive as data and the payload
        # check refuses them with its own message; they are never interpreted as keys.
        self.on_code(raw.decode("latin-1"))
