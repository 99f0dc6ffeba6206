"""The camera worker process: capture and QR decoding away from the kiosk's UI.

OpenCV and ZBar are native code, and ZBar has crashed on crafted codes (zbar #61, a double
free on a QR code with ECI); a USB camera's driver can also wedge the process that reads it
(opencv #27294). Here, such a crash or hang ends this process only: the GUI process's
`ProcessScanner` notices, tells the screen, and starts a new worker.

Started by `ProcessScanner` as

    python -m kiosk.workers.scan_worker EVENTS_FD COMMANDS_FD RING_FD SLOTS SLOT_BYTES

with the ends of two pipes and the preview ring's memfd inherited (see `scan_protocol` for
what travels on them). It imports no Qt. It ends when told to ("quit"), and by itself when
the GUI process goes away (the command pipe reaches end of file), so a killed kiosk leaves
no worker holding the camera.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_OK
from kiosk.services.scanning.protocol import (
    FMT_BGR888,
    FMT_GRAY8,
    PreviewRing,
    WorkerSpec,
    preview_stride,
)

if TYPE_CHECKING:
    import numpy as np

    from kiosk.hardware.camera.sources import FrameSource
    from kiosk.services.scanning.pipeline import ScanPipeline

log = logging.getLogger("kiosk.workers.scan_worker")

# How often the worker says it is alive, with how long its current camera read and decode
# have been running; the supervisor restarts a worker that falls silent or is stuck.
BEAT_INTERVAL_S = 0.5
WORKER_NICE = 5
# What the GUI may ask of the camera: the emulated camera's scene and faults, and exposure.
CAMERA_METHODS = frozenset({
    "show_text", "show_image", "blank", "resume", "freeze", "stop_frames", "unplug", "plug",
    "set_exposure",
})


class Events:
    """The event pipe to the GUI process, shared by the worker's threads."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.RLock()  # re-entrant: a log record may be sent while sending

    def send(self, message: tuple[Any, ...]) -> None:
        try:
            with self._lock:
                self._conn.send(message)
        except (OSError, ValueError):
            # The GUI process is gone (or closed its end): there is nobody to work for, and
            # the camera must be let go at once rather than after a graceful stop.
            os._exit(EXIT_OK)


class ForwardLogs(logging.Handler):
    """Log records to the GUI process, which logs them again under the same logger name:
    the worker's camera warnings reach the journal and the maintenance screen's error page
    like the rest of the kiosk's."""

    def __init__(self, events: Events) -> None:
        super().__init__()
        self._events = events

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a broken log call must not end the worker
            self.handleError(record)
            return
        self._events.send(("log", record.levelno, record.name, text))


class WorkerSink:
    """Pipeline reports -> events; preview pixels -> the shared ring."""

    def __init__(self, events: Events, ring: PreviewRing) -> None:
        import numpy as np

        self._events = events
        self._ring = ring
        self._pixels = np.frombuffer(ring.buffer, dtype=np.uint8)

    def alive(self) -> bool:
        return True

    def state(self, state: str, error: str, camera: str) -> None:
        self._events.send(("state", state, error, camera))

    def wants_preview(self) -> bool:
        # Always: the GUI side drops what it cannot show yet, and writing a frame costs one
        # copy into the ring.
        return True

    def preview(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        channels = 1 if frame.ndim == 2 else frame.shape[2]
        stride = preview_stride(w, channels)
        if stride * h > self._ring.slot_bytes:
            return  # cannot happen with the pipeline's downscale to the ring's bound
        slot, seq, offset = self._ring.begin()
        rows = self._pixels[offset:offset + stride * h].reshape(h, stride)
        rows[:, :w * channels] = frame.reshape(h, w * channels)
        self._ring.commit(slot, seq)
        fmt = FMT_GRAY8 if channels == 1 else FMT_BGR888
        self._events.send(("frame", slot, seq, w, h, stride, fmt))

    def codes(self, texts: list[str], captured_at: float, scanning: bool) -> None:
        self._events.send(("codes", list(texts), captured_at))

    def stats(self, stats: dict[str, Any]) -> None:
        self._events.send(("stats", stats))


class Worker:
    def __init__(self, spec: WorkerSpec, events: Events, ring: PreviewRing) -> None:
        # The heavy imports (numpy, OpenCV, zxing-cpp, ZBar: a noticeable fraction of a
        # second, seconds on a busy machine) come before "hello", within the supervisor's
        # start-up allowance; after it, the heartbeat must keep coming.
        import cv2

        from kiosk.hardware.camera.decoder import make_decoder
        from kiosk.hardware.camera.sources import camera_settings, make_source
        from kiosk.services.scanning.pipeline import ScanPipeline

        # One OpenCV thread: the decoder's budget is counted in this thread's CPU time,
        # which work farmed out to OpenCV's pool would escape, and on a 2-core kiosk that
        # pool's second thread takes the GUI's core (docs/PERFORMANCE.md, "Measured choices
        # in the code").
        cv2.setNumThreads(1)

        self.events = events
        self.source: FrameSource | None = None
        self.source_error: Exception | None = None
        try:
            self.source = make_source(camera_settings(spec.camera), spec.code_factory)
        except Exception as exc:  # reported as "unavailable" by the pipeline, with backoff
            self.source_error = exc
        if self.source is not None and hasattr(self.source, "on_shown"):
            self.source.on_shown = lambda t: events.send(("shown", t))
        for command in spec.scene:
            self.handle(command)
        side = spec.preview_max_side
        self.pipeline: ScanPipeline = ScanPipeline(
            self._source, make_decoder(spec.decoder), WorkerSink(events, ring),
            preview_max_width=side, preview_max_height=side, stale_after_s=spec.stale_after_s,
        )

    def _source(self) -> FrameSource:
        if self.source is None:
            assert self.source_error is not None
            raise self.source_error
        return self.source

    def handle(self, command: tuple[Any, ...]) -> None:
        tag = command[0]
        if tag == "scanning":
            self.pipeline.set_scanning(bool(command[1]))
        elif tag == "camera":
            method, args, kwargs = command[1], command[2], command[3]
            target = getattr(self.source, method, None) if method in CAMERA_METHODS else None
            if target is None:
                log.warning("camera command %r not supported by %s", method,
                            type(self.source).__name__)
                return
            try:
                target(*args, **kwargs)
            except Exception:
                log.exception("camera command %s failed", method)
        else:
            log.warning("unknown command %r", tag)

    def run(self, commands: Connection) -> None:
        self.pipeline.start()
        last_beat = 0.0
        try:
            while True:
                if commands.poll(BEAT_INTERVAL_S):
                    try:
                        command = commands.recv()
                    except (EOFError, OSError):
                        return  # the GUI process is gone
                    if command[0] == "quit":
                        return
                    self.handle(command)
                now = time.monotonic()
                if now - last_beat >= BEAT_INTERVAL_S:
                    last_beat = now
                    capture_busy, decode_busy = self.pipeline.busy_s(now)
                    self.events.send(("beat", capture_busy, decode_busy))
        finally:
            self.pipeline.stop()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    events_fd, commands_fd, ring_fd, slots, slot_bytes = (int(a) for a in args)
    # This process allocates a camera frame 30 times a second for weeks: the same glibc
    # settings as the GUI process, or its resident set wanders upwards (see memory.py).
    from kiosk.services.memory import tune_allocator

    tune_allocator()
    # The screen first: when the 2 cores are contended, the worker yields to the GUI
    # process (camera frames are dropped, not touches). Set here, before any thread starts,
    # so every thread of the worker inherits both: nice 5, and SCHED_BATCH so that its
    # wakeups do not preempt the GUI. Both halved the GUI's stalls on a loaded machine
    # (docs/PERFORMANCE.md, "Measured choices in the code").
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICE)
    with contextlib.suppress(AttributeError, OSError):  # Linux only
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    # Ctrl-C in a terminal reaches the whole process group; the GUI process decides when the
    # worker ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A native crash writes the Python stack of every thread to stderr (the journal).
    faulthandler.enable()
    events = Events(Connection(events_fd, readable=False))
    commands = Connection(commands_fd, writable=False)
    try:
        tag, spec = commands.recv()
    except (EOFError, OSError):
        return EXIT_OK
    if tag != "spec" or not isinstance(spec, WorkerSpec):
        return EXIT_BAD_INPUT
    root = logging.getLogger()
    root.handlers[:] = [ForwardLogs(events)]
    root.setLevel(spec.log_level)
    ring = PreviewRing.attach(ring_fd, slots, slot_bytes)
    worker = Worker(spec, events, ring)
    events.send(("hello", os.getpid()))
    worker.run(commands)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
