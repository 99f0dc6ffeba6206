"""Camera capture and QR decoding in two plain threads, without Qt.

The same pipeline runs inside the camera worker process (the kiosk's default, see
`scan_worker`) and inside the GUI process (`scanner.isolation = "thread"`, and the unit
tests, which hand it Python sources and decoders that cannot cross a process boundary).
It reports through a `PipelineSink`; what a report becomes (a Qt signal, a pipe message)
is the sink's business.

The capture thread reads the camera at its own rate, hands a downscaled preview to the
sink and leaves the newest frame in a one-slot mailbox; the decode thread takes whatever
frame is newest when it is free, so a slow decode drops frames instead of delaying the
preview.

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
from typing import Any, Protocol

import cv2
import numpy as np

from kiosk.hardware.camera.decoder import Decoder
from kiosk.hardware.camera.sources import (
    STALE_AFTER_S,
    CameraUnavailable,
    FrameSource,
    FreshnessMonitor,
)
from kiosk.services.scanning.protocol import RUNNING, STALE, STARTING, UNAVAILABLE

log = logging.getLogger("kiosk.services.scanning.scanner")

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


class PipelineSink(Protocol):
    """Where the pipeline reports; called from its threads, so each call must be quick."""

    def alive(self) -> bool:
        """False once nobody listens any more (the pipeline then ends by itself)."""
        ...

    def state(self, state: str, error: str, camera: str) -> None: ...

    def wants_preview(self) -> bool:
        """False to skip this frame's preview (the last one is not shown yet)."""
        ...

    def preview(self, frame: np.ndarray) -> None:
        """A downscaled, C-contiguous BGR (or grey) frame; valid during the call only."""
        ...

    def codes(self, texts: list[str], captured_at: float, scanning: bool) -> None:
        """Texts decoded from a frame captured at `captured_at` (time.monotonic, the same
        clock in every process of the machine). Not called for frames without codes."""
        ...

    def stats(self, stats: dict[str, Any]) -> None: ...


def downscale(frame: np.ndarray, max_width: int, max_height: int) -> np.ndarray:
    """`frame` shrunk to fit `max_width` x `max_height`, C-contiguous.

    Bilinear, not INTER_AREA: at the preview's 0.75 scale (1280x720 -> 960x540) INTER_AREA
    took 10 ms a frame here against 1.7 ms, which at 30 fps was a quarter of a core spent
    on a picture residents only aim with (the screen scales it again anyway).
    """
    h, w = frame.shape[:2]
    scale = min(max_width / w, max_height / h)
    if scale < 1.0:
        nw, nh = max(1, int(w * scale)), max(1, int(h * scale))
        frame = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(frame)


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


class ScanPipeline:
    """Capture and decode threads around one frame source factory and one decoder.

    `start()` / `stop()` from one controlling thread; `set_scanning` from any thread.
    """

    def __init__(
        self,
        source_factory: Callable[[], FrameSource],
        decoder: Decoder,
        sink: PipelineSink,
        *,
        preview_max_width: int = 960,
        preview_max_height: int = 960,
        stale_after_s: float = STALE_AFTER_S,
    ) -> None:
        self._source_factory = source_factory
        self._decoder = decoder
        self._sink = sink
        self._preview_max = (max(16, preview_max_width), max(16, preview_max_height))
        self._stale_after_s = stale_after_s

        self.state = STARTING
        self.last_error = ""
        self.camera = ""
        self.scanning = True
        self._running = False
        self._stop = threading.Event()
        self._mailbox = _LatestFrame()
        self._capture_thread: threading.Thread | None = None
        self._decode_thread: threading.Thread | None = None
        self._source: FrameSource | None = None

        self._stats_lock = threading.Lock()
        self._frames = 0
        self._decode_ms: list[float] = []
        self._frames_total = 0
        self._decoded_total = 0
        self._stats_at = time.monotonic()
        # When the current read / decode started (0 while none runs): the worker's
        # heartbeat reports how long they have been busy, so that a decoder or driver stuck
        # in native code gets its process restarted.
        self._read_started = 0.0
        self._decode_started = 0.0
        # time.monotonic() of the newest fresh frame (the terminal's metrics read its age).
        self.last_frame_at = 0.0

    def is_running(self) -> bool:
        return self._running

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._stop = threading.Event()
        self._mailbox = _LatestFrame()
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
        """While False, frames are decoded only now and then (see IDLE_DECODE_INTERVAL_S)."""
        self.scanning = bool(enabled)

    def busy_s(self, now: float | None = None) -> tuple[float, float]:
        """How long the current camera read and decode have run (0 when none runs)."""
        now = time.monotonic() if now is None else now
        read, decode = self._read_started, self._decode_started
        return (now - read if read else 0.0, now - decode if decode else 0.0)

    @property
    def source(self) -> FrameSource | None:
        """The open source, if any (for exposure control)."""
        return self._source

    # -- capture thread ---------------------------------------------------------------------

    def _publish_stats(self, now: float) -> None:
        # From the capture thread, so stats need no timer anywhere else.
        if now - self._stats_at < STATS_INTERVAL_S:
            return
        with self._stats_lock:
            frames, decode_ms = self._frames, self._decode_ms
            self._frames, self._decode_ms = 0, []
            frames_total, decoded_total = self._frames_total, self._decoded_total
        elapsed = max(now - self._stats_at, 1e-3)
        self._stats_at = now
        exposure: Any = None
        source = self._source
        if source is not None:
            try:
                exposure = getattr(source, "exposure", None)
            except Exception as exc:  # a driver query; never worth ending the capture for
                log.debug("exposure not readable: %s", exc)
        self._sink.stats({
            "fps": round(frames / elapsed, 1),
            "decode_ms_median": round(statistics.median(decode_ms), 2) if decode_ms else 0.0,
            "frames_decoded": len(decode_ms),
            "frames_total": frames_total,
            "decoded_total": decoded_total,
            "frames_dropped": self._mailbox.replaced,
            "state": self.state,
            "camera": self.camera,
            "error": self.last_error,
            "exposure": exposure,
            "decoder": getattr(self._decoder, "name", type(self._decoder).__name__),
        })

    def _wait(self, stop: threading.Event, seconds: float) -> bool:
        """Sleep `seconds`, publishing stats meanwhile; True when asked to stop."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if stop.wait(min(remaining, STATS_INTERVAL_S)):
                return True
            self._publish_stats(time.monotonic())
        return stop.is_set()

    def _set_state(self, state: str, stop: threading.Event | None = None) -> None:
        if state == self.state and state != STARTING:
            return
        if stop is not None and stop.is_set():
            return
        self.state = state
        if state == RUNNING:
            # Frames flow again: the fault is over, and a technician must not read it as
            # current on the maintenance screen (the log keeps it).
            self.last_error = ""
        if state in (UNAVAILABLE, STALE):
            log.warning("camera %s: %s", state, self.last_error)
        else:
            log.info("camera %s", state)
        self._sink.state(state, self.last_error, self.camera)

    def _capture_loop(self, stop: threading.Event, mailbox: _LatestFrame) -> None:
        source: FrameSource | None = None
        backoff = MIN_BACKOFF_S
        opened_at = 0.0
        fresh_since_open = False
        # Kept across reopens: a frozen frame served again after a reopen is not fresh.
        monitor = FreshnessMonitor(self._stale_after_s)
        sink = self._sink

        def give_up(state: str) -> bool:
            """Close the source, report `state`, wait the backoff; True when stopping."""
            nonlocal source, backoff
            self._source = None
            _close_quietly(source)
            source = None
            self._set_state(state, stop)
            stopping = self._wait(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
            return stopping

        try:
            while not stop.is_set() and sink.alive():
                if source is None:
                    self._read_started = time.monotonic()
                    try:
                        source = self._source_factory()
                        source.open()
                    except CameraUnavailable as exc:
                        self._read_started = 0.0
                        self.last_error = str(exc)
                        if give_up(UNAVAILABLE):
                            break
                        continue
                    except Exception as exc:
                        self._read_started = 0.0
                        log.exception("opening the camera failed")
                        self.last_error = f"{type(exc).__name__}: {exc}"
                        if give_up(UNAVAILABLE):
                            break
                        continue
                    self._source = source
                    opened_at = time.monotonic()
                    fresh_since_open = False
                    self.camera = source.describe()
                self._read_started = time.monotonic()
                try:
                    frame = source.read()
                except CameraUnavailable as exc:
                    self._read_started = 0.0
                    self.last_error = str(exc)
                    if give_up(UNAVAILABLE):
                        break
                    continue
                except Exception as exc:
                    self._read_started = 0.0
                    log.exception("reading the camera failed")
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    if give_up(UNAVAILABLE):
                        break
                    continue
                now = time.monotonic()
                self._read_started = 0.0
                self._publish_stats(now)
                if frame is not None and monitor.observe(frame, now):
                    fresh_since_open = True
                    if self.state != RUNNING:
                        backoff = MIN_BACKOFF_S
                        self._set_state(RUNNING, stop)
                    with self._stats_lock:
                        self._frames += 1
                        self._frames_total += 1
                    mailbox.put(frame, now)
                    self.last_frame_at = now
                    if sink.wants_preview():
                        sink.preview(downscale(frame, *self._preview_max))
                    continue
                limit = (
                    self._stale_after_s
                    if fresh_since_open
                    else max(self._stale_after_s, FIRST_FRAME_GRACE_S)
                )
                if now - max(monitor.last_fresh_at, opened_at) > limit:
                    self.last_error = f"no new camera frames for {limit:g} s"
                    if give_up(STALE):
                        break
                elif frame is None:
                    # A source that fails fast must not make this loop spin.
                    stop.wait(0.005)
        finally:
            self._source = None
            self._read_started = 0.0
            _close_quietly(source)
            mailbox.close()  # ends the decode thread too, also when the sink went away

    # -- decode thread ----------------------------------------------------------------------

    def _decode_loop(self, mailbox: _LatestFrame) -> None:
        last_decode = 0.0
        while True:
            item = mailbox.take()
            if item is None:
                return
            frame, captured_at = item
            scanning = self.scanning
            started = time.monotonic()
            if not scanning and started - last_decode < IDLE_DECODE_INTERVAL_S:
                continue
            last_decode = started
            self._decode_started = started
            try:
                texts = self._decoder.decode(frame)
            except Exception:
                # Decoders already map their library errors to []; this is a bug, but one
                # that must not end scanning on an unattended kiosk.
                log.exception("decoder %s failed", getattr(self._decoder, "name", "?"))
                texts = []
            finally:
                self._decode_started = 0.0
            elapsed_ms = (time.monotonic() - started) * 1000.0
            with self._stats_lock:
                self._decode_ms.append(elapsed_ms)
                self._decoded_total += 1
            if texts:
                self._sink.codes(texts, captured_at, scanning)


def _close_quietly(source: FrameSource | None) -> None:
    if source is None:
        return
    try:
        source.close()
    except Exception:
        log.exception("closing the camera failed")
