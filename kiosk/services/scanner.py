"""The QR scanner: camera capture, live preview and decoding off the GUI thread.

Two plain threads do the work. The capture thread reads the camera at its own rate, sends a
downscaled preview and leaves the newest frame in a one-slot mailbox; the decode thread
takes whatever frame is newest when it is free, so a slow decode drops frames instead of
delaying the preview. Both only emit signals; Qt queues them to the GUI thread, where the
service does nothing heavier than re-emitting.

Camera health is judged by freshness: a source that raises `CameraUnavailable` is
"unavailable", one whose frames stop changing (or stop coming) for a second is "stale".
Either way the source is closed and reopened with exponential backoff, and the first fresh
frame brings the state back to "running".
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import shiboken6
from PySide6.QtCore import QObject, Signal, SignalInstance, Slot
from PySide6.QtGui import QImage

from kiosk.hardware.camera.decoder import Decoder
from kiosk.hardware.camera.sources import (
    STALE_AFTER_S,
    CameraUnavailable,
    FrameSource,
    FreshnessMonitor,
)

log = logging.getLogger(__name__)

STARTING = "starting"
RUNNING = "running"
UNAVAILABLE = "unavailable"
STALE = "stale"

MIN_BACKOFF_S = 0.2
MAX_BACKOFF_S = 2.0
# While scanning is off, frames are still decoded now and then so that a code held up
# across the switch is not taken for a new one (a second emission would be refused by the
# verifier as a replay).
IDLE_DECODE_INTERVAL_S = 0.25
# UVC cameras can take a second or two after opening to deliver their first frame; judging
# them stale by the usual one second would close and reopen them forever.
FIRST_FRAME_GRACE_S = 3.0
JOIN_TIMEOUT_S = 3.0
STATS_INTERVAL_S = 1.0


def emit_signal(signal: SignalInstance, *args: Any) -> None:
    """`signal.emit(*args)` from a worker thread that may outlive its QObject."""
    try:
        signal.emit(*args)
    except RuntimeError as exc:
        # The QObject was deleted (e.g. with its parent) while a worker still ran; there is
        # nobody left to tell, and the worker notices on its next loop.
        log.debug("signal not emitted: %s", exc)


@dataclass
class _Presence:
    last_seen: float
    emitted: bool = False


class _LatestFrame:
    """A one-slot mailbox: `put` replaces an untaken frame, `take` waits for a new one."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: tuple[np.ndarray, float] | None = None
        self._closed = False
        self.replaced = 0

    def put(self, frame: np.ndarray, captured_at: float) -> None:
        with self._cond:
            if self._item is not None:
                self.replaced += 1
            self._item = (frame, captured_at)
            self._cond.notify()

    def take(self) -> tuple[np.ndarray, float] | None:
        """The newest frame, or None once closed."""
        with self._cond:
            while self._item is None and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._item = None
            self._cond.notify_all()


class ScannerService(QObject):
    """Reads QR codes from a camera and shows its preview.

    `codeScanned` fires once per presence of a code: the same text fires again only after it
    has been out of sight for `repeat_block_s` (or after `reset_dedup()`).
    Call `stop()` before the service is destroyed.
    """

    frameReady = Signal(QImage)
    codeScanned = Signal(str)
    cameraStateChanged = Signal(str)
    stats = Signal(dict)

    # Worker -> GUI thread hand-offs, so the last checks happen on the GUI thread.
    _previewOut = Signal(QImage)
    _codeOut = Signal(str, int)

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
        super().__init__(parent)
        self._source_factory = source_factory
        self._decoder = decoder
        self._repeat_block_s = repeat_block_s
        self._preview_max_width = max(16, preview_max_width)
        self._stale_after_s = stale_after_s

        self._state = STARTING
        self._running = False
        self._scanning = True
        self._stop = threading.Event()
        self._mailbox = _LatestFrame()
        self._preview_pending = threading.Event()
        self._capture_thread: threading.Thread | None = None
        self._decode_thread: threading.Thread | None = None

        self._dedup_lock = threading.Lock()
        self._presence: dict[str, _Presence] = {}
        self._generation = 0

        self._stats_lock = threading.Lock()
        self._frames = 0
        self._decode_ms: list[float] = []
        self._frames_total = 0
        self._decoded_total = 0
        self._last_error = ""
        self._camera = ""
        self._stats_at = time.monotonic()

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

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._stop = threading.Event()
        self._mailbox = _LatestFrame()
        self._preview_pending.clear()
        with self._stats_lock:
            self._frames = 0
            self._decode_ms = []
        self._stats_at = time.monotonic()
        self._set_state(STARTING)
        self._capture_thread = threading.Thread(
            target=self._capture_loop, args=(self._stop, self._mailbox),
            name="scanner-capture", daemon=True,
        )
        self._decode_thread = threading.Thread(
            target=self._decode_loop, args=(self._mailbox,), name="scanner-decode", daemon=True
        )
        self._decode_thread.start()
        self._capture_thread.start()

    def stop(self) -> None:
        """Stop both threads and close the camera; returns when they have ended."""
        if not self._running:
            return
        self._running = False
        self._stop.set()
        self._mailbox.close()
        for thread in (self._capture_thread, self._decode_thread):
            if thread is None:
                continue
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                # Only a native call stuck in a driver gets here; the thread is a daemon, so
                # it cannot keep the process alive.
                log.error("%s did not stop within %.0f s", thread.name, JOIN_TIMEOUT_S)
        self._capture_thread = self._decode_thread = None

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
        with self._dedup_lock:
            self._presence.clear()
            self._generation += 1

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
        if not self._running or generation != self._generation:
            return
        if not self._scanning:
            with self._dedup_lock:
                presence = self._presence.get(text)
                if presence is not None:
                    presence.emitted = False  # report it if still in view when scanning resumes
            return
        emit_signal(self.codeScanned, text)

    # -- capture thread ---------------------------------------------------------------------

    def _publish_stats(self, now: float) -> None:
        # From the capture thread, so stats need no timer on the GUI thread.
        if now - self._stats_at < STATS_INTERVAL_S:
            return
        with self._stats_lock:
            frames, decode_ms = self._frames, self._decode_ms
            self._frames, self._decode_ms = 0, []
            frames_total, decoded_total = self._frames_total, self._decoded_total
        elapsed = max(now - self._stats_at, 1e-3)
        self._stats_at = now
        emit_signal(
            self.stats,
            {
                "fps": round(frames / elapsed, 1),
                "decode_ms_median": round(statistics.median(decode_ms), 2) if decode_ms else 0.0,
                "frames_decoded": len(decode_ms),
                "frames_total": frames_total,
                "decoded_total": decoded_total,
                "frames_dropped": self._mailbox.replaced,
                "state": self._state,
                "camera": self._camera,
                "error": self._last_error,
                "decoder": getattr(self._decoder, "name", type(self._decoder).__name__),
            },
        )

    def _wait(self, stop: threading.Event, seconds: float) -> bool:
        """Sleep `seconds`, publishing stats meanwhile; True when asked to stop."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if stop.wait(min(remaining, STATS_INTERVAL_S)):
                return True
            self._publish_stats(time.monotonic())
        return stop.is_set()

    def _set_state(self, state: str, stop: threading.Event | None = None) -> None:
        if state == self._state and state != STARTING:
            return
        if stop is not None and stop.is_set():
            return
        self._state = state
        if state in (UNAVAILABLE, STALE):
            log.warning("camera %s: %s", state, self._last_error)
        else:
            log.info("camera %s", state)
        emit_signal(self.cameraStateChanged, state)

    def _capture_loop(self, stop: threading.Event, mailbox: _LatestFrame) -> None:
        source: FrameSource | None = None
        backoff = MIN_BACKOFF_S
        opened_at = 0.0
        fresh_since_open = False
        # Kept across reopens: a frozen frame served again after a reopen is not fresh.
        monitor = FreshnessMonitor(self._stale_after_s)

        def give_up(state: str) -> bool:
            """Close the source, report `state`, wait the backoff; True when stopping."""
            nonlocal source, backoff
            _close_quietly(source)
            source = None
            self._set_state(state, stop)
            stopping = self._wait(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
            return stopping

        try:
            # isValid: a service deleted by its parent without stop() must not keep the
            # camera open.
            while not stop.is_set() and shiboken6.isValid(self):
                if source is None:
                    try:
                        source = self._source_factory()
                        source.open()
                    except CameraUnavailable as exc:
                        self._last_error = str(exc)
                        if give_up(UNAVAILABLE):
                            break
                        continue
                    except Exception as exc:
                        log.exception("opening the camera failed")
                        self._last_error = f"{type(exc).__name__}: {exc}"
                        if give_up(UNAVAILABLE):
                            break
                        continue
                    opened_at = time.monotonic()
                    fresh_since_open = False
                    self._camera = source.describe()
                try:
                    frame = source.read()
                except CameraUnavailable as exc:
                    self._last_error = str(exc)
                    if give_up(UNAVAILABLE):
                        break
                    continue
                except Exception as exc:
                    log.exception("reading the camera failed")
                    self._last_error = f"{type(exc).__name__}: {exc}"
                    if give_up(UNAVAILABLE):
                        break
                    continue
                now = time.monotonic()
                self._publish_stats(now)
                if frame is not None and monitor.observe(frame, now):
                    fresh_since_open = True
                    if self._state != RUNNING:
                        backoff = MIN_BACKOFF_S
                        self._set_state(RUNNING, stop)
                    with self._stats_lock:
                        self._frames += 1
                        self._frames_total += 1
                    mailbox.put(frame, now)
                    self._send_preview(frame)
                    continue
                limit = (
                    self._stale_after_s
                    if fresh_since_open
                    else max(self._stale_after_s, FIRST_FRAME_GRACE_S)
                )
                if now - max(monitor.last_fresh_at, opened_at) > limit:
                    self._last_error = f"no new camera frames for {limit:g} s"
                    if give_up(STALE):
                        break
                elif frame is None:
                    # A source that fails fast must not make this loop spin.
                    stop.wait(0.005)
        finally:
            _close_quietly(source)
            mailbox.close()  # ends the decode thread too, also when the service was deleted

    def _send_preview(self, frame: np.ndarray) -> None:
        if self._preview_pending.is_set():
            return  # the GUI has not taken the last one: skip rather than queue up
        h, w = frame.shape[:2]
        if w > self._preview_max_width:
            nh = max(1, round(h * self._preview_max_width / w))
            frame = cv2.resize(frame, (self._preview_max_width, nh), interpolation=cv2.INTER_AREA)
            h, w = frame.shape[:2]
        frame = np.ascontiguousarray(frame)
        fmt = QImage.Format.Format_Grayscale8 if frame.ndim == 2 else QImage.Format.Format_BGR888
        # copy(): the QImage must own its pixels, not point into a numpy buffer that is
        # freed (or reused) once this function returns.
        image = QImage(frame.data, w, h, frame.strides[0], fmt).copy()
        self._preview_pending.set()
        emit_signal(self._previewOut, image)

    # -- decode thread ----------------------------------------------------------------------

    def _decode_loop(self, mailbox: _LatestFrame) -> None:
        last_decode = 0.0
        while True:
            item = mailbox.take()
            if item is None:
                return
            frame, captured_at = item
            scanning = self._scanning
            started = time.monotonic()
            if not scanning and started - last_decode < IDLE_DECODE_INTERVAL_S:
                continue
            last_decode = started
            try:
                texts = self._decoder.decode(frame)
            except Exception:
                # Decoders already map their library errors to []; this is a bug, but one
                # that must not end scanning on an unattended kiosk.
                log.exception("decoder %s failed", getattr(self._decoder, "name", "?"))
                texts = []
            elapsed_ms = (time.monotonic() - started) * 1000.0
            with self._stats_lock:
                self._decode_ms.append(elapsed_ms)
                self._decoded_total += 1
            self._note_codes(texts, captured_at, scanning)

    def _note_codes(self, texts: list[str], seen_at: float, scanning: bool) -> None:
        to_emit: list[str] = []
        with self._dedup_lock:
            generation = self._generation
            for text in texts:
                presence = self._presence.get(text)
                if presence is None or seen_at - presence.last_seen > self._repeat_block_s:
                    presence = self._presence[text] = _Presence(seen_at)
                presence.last_seen = seen_at
                if scanning and not presence.emitted:
                    presence.emitted = True
                    to_emit.append(text)
            for text in [
                t for t, p in self._presence.items()
                if seen_at - p.last_seen > self._repeat_block_s
            ]:
                del self._presence[text]
        for text in to_emit:
            emit_signal(self._codeOut, text, generation)


def _close_quietly(source: FrameSource | None) -> None:
    if source is None:
        return
    try:
        source.close()
    except Exception:
        log.exception("closing the camera failed")
