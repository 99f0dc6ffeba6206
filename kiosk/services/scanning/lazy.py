"""Start-up without the camera stack: Home first, OpenCV and the decoders a moment later.

OpenCV, zxing-cpp and ZBar take a third of the kiosk's start-up to import, and Home does not
need them. `LazyScanner` stands in for the scanner with the same signals and methods;
screens connect to it at once, and the real scanner is created when the camera starts, after
Home is on screen. Until then scanning state is remembered and applied. With process
isolation (`ProcessScanner`, the default) the real scanner is light and the camera stack is
only ever imported by the camera worker process; with thread isolation (`ScannerService`)
it is imported here, when the camera starts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage


class LazyBox:
    """A value made on first use, once, from any thread (the emulated camera)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._value: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        with self._lock:
            if self._value is None:
                self._value = self._make()
            return self._value

    @property
    def made(self) -> bool:
        return self._value is not None


class LazyScanner(QObject):
    frameReady = Signal(QImage)
    codeScanned = Signal(str)
    cameraStateChanged = Signal(str)
    stats = Signal(dict)

    def __init__(self, make: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._make = make
        self._real: Any = None
        self._scanning = False

    def real(self) -> Any:
        if self._real is None:
            real = self._make()
            real.frameReady.connect(self.frameReady)
            real.codeScanned.connect(self.codeScanned)
            real.cameraStateChanged.connect(self.cameraStateChanged)
            real.stats.connect(self.stats)
            real.set_scanning(self._scanning)
            self._real = real
        return self._real

    def peek(self) -> Any:
        """The real scanner if it has been made, else None; never makes it (any thread)."""
        return self._real

    def start(self) -> None:
        self.real().start()

    def stop(self) -> None:
        if self._real is not None:
            self._real.stop()

    def set_scanning(self, enabled: bool) -> None:
        self._scanning = enabled
        if self._real is not None:
            self._real.set_scanning(enabled)

    def reset_dedup(self) -> None:
        if self._real is not None:
            self._real.reset_dedup()

    def inject(self, text: str) -> None:
        if self._scanning:
            self.codeScanned.emit(text)

    @property
    def scanning(self) -> bool:
        return self._scanning

    @property
    def state(self) -> str:
        return "starting" if self._real is None else self._real.state

    def is_running(self) -> bool:
        return self._real is not None and self._real.is_running()

    def __getattr__(self, name: str) -> Any:
        # Anything else (last_error, the maintenance screen's figures) from the real service.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.real(), name)
