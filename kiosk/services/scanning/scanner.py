"""The QR scanner as the UI sees it: live preview, decoded codes, camera state, figures.

`ScannerBase` holds what every scanner does on the GUI side: the signals, code
de-duplication (once per presence of a code in view), and the last checks on the GUI thread
so nothing is reported after `set_scanning(False)` or `reset_dedup()` returns. Two kinds of
scanner feed it:

- `kiosk.services.scanning.supervisor.ProcessScanner` (the kiosk's default,
  `scanner.isolation = "process"`): capture and decoding run in a worker process that is
  restarted when it dies, so a native crash in OpenCV or ZBar does not take the UI down.
- `ScannerService` here (`scanner.isolation = "thread"`): the same `ScanPipeline` in two
  threads of this process. It is what the unit tests drive with Python sources and decoders
  (which cannot cross into another process), and a fallback for a technician.

This module imports neither OpenCV nor numpy at import time: the GUI process of a kiosk in
process isolation never loads them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Signal, SignalInstance, Slot
from PySide6.QtGui import QImage

from kiosk.services.scanning.protocol import STARTING, Deduplicator

if TYPE_CHECKING:
    import numpy as np

    from kiosk.hardware.camera.decoder import Decoder
    from kiosk.hardware.camera.sources import FrameSource
    from kiosk.services.scanning.pipeline import ScanPipeline

log = logging.getLogger(__name__)

STALE_AFTER_S = 1.0  # kiosk.hardware.camera.sources.STALE_AFTER_S, without importing cv2


def emit_signal(signal: SignalInstance, *args: Any) -> None:
    """`signal.emit(*args)` from a worker thread that may outlive its QObject."""
    try:
        signal.emit(*args)
    except RuntimeError as exc:
        # The QObject was deleted (e.g. with its parent) while a worker still ran; there is
        # nobody left to tell, and the worker notices on its next loop.
        log.debug("signal not emitted: %s", exc)


class ScannerBase(QObject):
    """Signals and GUI-side logic shared by the in-process and the worker-process scanner.

    `codeScanned` fires once per presence of a code: the same text fires again only after it
    has been out of sight for `repeat_block_s` (or after `reset_dedup()`).
    Call `stop()` before the scanner is destroyed. `start()` and `stop()` belong to the
    subclasses (threads here, a worker process in scan_supervisor): not declared here as
    stubs, since Qt's metaclass rules out `abc.abstractmethod` on a QObject.
    """

    frameReady = Signal(QImage)
    codeScanned = Signal(str)
    cameraStateChanged = Signal(str)
    stats = Signal(dict)

    # Worker -> GUI thread hand-offs, so the last checks happen on the GUI thread.
    _previewOut = Signal(QImage)
    _codeOut = Signal(str, int)

    def __init__(self, repeat_block_s: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = STARTING
        self._running = False
        self._scanning = True
        self._last_error = ""
        # time.monotonic() of the newest fresh camera frame, 0.0 before the first (written by
        # the capture or supervisor thread, read by the metrics' scrape thread).
        self._last_frame_at = 0.0
        self._dedup = Deduplicator(repeat_block_s)
        # Set while a preview is on its way to the GUI thread: later frames are skipped
        # rather than queued up behind it.
        self._preview_pending = threading.Event()
        self._previewOut.connect(self._deliver_preview)
        self._codeOut.connect(self._deliver_code)

    # -- GUI thread API ---------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    @property
    def scanning(self) -> bool:
        return self._scanning

    @property
    def last_error(self) -> str:
        """The last camera error with its technician hint, "" if none yet."""
        return self._last_error

    def is_running(self) -> bool:
        return self._running

    def last_frame_at(self) -> float:
        """time.monotonic() of the newest fresh frame, 0.0 before the first; any thread."""
        return self._last_frame_at

    def set_scanning(self, enabled: bool) -> None:
        """Preview continues either way; while False, codes are not reported."""
        self._scanning = bool(enabled)

    def inject(self, text: str) -> None:
        """A code from another reader (the serial scan engine); any thread. Reported like a
        camera code, and only while scanning is on."""
        if self.scanning:
            emit_signal(self.codeScanned, text)

    def reset_dedup(self) -> None:
        """Forget the codes seen: a code still in view is reported again."""
        self._dedup.reset()

    # -- any thread -------------------------------------------------------------------------

    def _alive(self) -> bool:
        # A scanner deleted by its parent without stop() must not keep the camera open.
        return shiboken6.isValid(self)

    def _set_state(self, state: str) -> None:
        if state == self._state and state != STARTING:
            return
        self._state = state
        emit_signal(self.cameraStateChanged, state)

    def _note_codes(self, texts: list[str], seen_at: float, scanning: bool) -> None:
        to_emit, generation = self._dedup.note(texts, seen_at, scanning)
        for text in to_emit:
            emit_signal(self._codeOut, text, generation)

    def _offer_preview(self, image: QImage) -> None:
        self._preview_pending.set()
        emit_signal(self._previewOut, image)

    # -- GUI thread slots -------------------------------------------------------------------

    @Slot(QImage)
    def _deliver_preview(self, image: QImage) -> None:
        self._preview_pending.clear()
        if self._running:
            emit_signal(self.frameReady, image)

    @Slot(str, int)
    def _deliver_code(self, text: str, generation: int) -> None:
        # Checked here, not only in the worker, so nothing is reported after set_scanning(False)
        # or reset_dedup() returns, even if the worker had already sent it.
        if not self._running or generation != self._dedup.generation:
            return
        if not self._scanning:
            self._dedup.unreport(text)  # report it if still in view when scanning resumes
            return
        emit_signal(self.codeScanned, text)


def image_from_frame(frame: np.ndarray) -> QImage:
    """A QImage owning a copy of a C-contiguous BGR or grey uint8 frame."""
    h, w = frame.shape[:2]
    fmt = QImage.Format.Format_Grayscale8 if frame.ndim == 2 else QImage.Format.Format_BGR888
    # copy(): the QImage must own its pixels, not point into a numpy buffer that is freed
    # (or reused) once this function returns.
    return QImage(frame.data, w, h, frame.strides[0], fmt).copy()


class _ThreadSink:
    """Pipeline reports -> ScannerService, from the pipeline's threads."""

    def __init__(self, service: ScannerService) -> None:
        self._service = service

    def alive(self) -> bool:
        return self._service._alive()

    def state(self, state: str, error: str, camera: str) -> None:
        self._service._last_error = error
        self._service._set_state(state)

    def wants_preview(self) -> bool:
        return not self._service._preview_pending.is_set()

    def preview(self, frame: np.ndarray) -> None:
        self._service._offer_preview(image_from_frame(frame))

    def codes(self, texts: list[str], captured_at: float, scanning: bool) -> None:
        self._service._note_codes(texts, captured_at, scanning)

    def stats(self, stats: dict[str, Any]) -> None:
        emit_signal(self._service.stats, stats)


class ScannerService(ScannerBase):
    """Capture and decoding in two threads of this process (`scanner.isolation = "thread"`).

    `source_factory` is called each time the camera is (re)opened.
    """

    def __init__(
        self,
        source_factory: Callable[[], FrameSource],
        decoder: Decoder,
        repeat_block_s: float,
        preview_max_width: int = 960,
        parent: QObject | None = None,
        *,
        stale_after_s: float = STALE_AFTER_S,
    ) -> None:
        super().__init__(repeat_block_s, parent)
        from kiosk.services.scanning.pipeline import ScanPipeline

        side = max(16, preview_max_width)
        self._pipeline: ScanPipeline = ScanPipeline(
            source_factory, decoder, _ThreadSink(self),
            preview_max_width=side, preview_max_height=side, stale_after_s=stale_after_s,
        )

    @property
    def last_error(self) -> str:
        return self._pipeline.last_error

    def last_frame_at(self) -> float:
        return self._pipeline.last_frame_at

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._preview_pending.clear()
        self._pipeline.set_scanning(self._scanning)
        self._pipeline.start()

    def stop(self) -> None:
        """Stop both threads and close the camera; returns when they have ended."""
        if not self._running:
            return
        self._running = False
        self._pipeline.stop()

    def set_scanning(self, enabled: bool) -> None:
        super().set_scanning(enabled)
        self._pipeline.set_scanning(enabled)
