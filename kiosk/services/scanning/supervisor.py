"""The scanner with capture and decoding in a worker process that is restarted when it dies.

A native crash in OpenCV or ZBar (ZBar has crashed on crafted codes) must not take the UI
down. `ProcessScanner` has the signals and methods of the in-process scanner; the work is
done by `kiosk.workers.scan_worker` in a child process, and a supervisor thread here:

- starts the worker as a fresh interpreter (`python -m kiosk.workers.scan_worker`, fork
  and exec: a Qt process is never forked without exec), handing it two pipes and the
  preview ring's memfd; its settings and the emulated camera's scene go as the first
  message. Not `multiprocessing.Process(spawn)`: that runs the parent's `__main__` again in
  the child (a benchmark script would import Qt and the whole kiosk into the worker) and
  starts multiprocessing's resource tracker, a third process, for nothing; the pipe ends
  and the memfd are all the worker needs.
- reads the worker's events and only emits Qt signals: preview frames are copied from
  shared memory straight into a QImage (one memcpy), decoded texts are de-duplicated here
  (so a restarted worker does not report again a code already reported while in view),
  states and figures are passed on.
- notices the worker's death at once (a pidfd becomes readable) and its hangs (no
  heartbeat for `hang_timeout_s`, or a camera read or decode running too long), reports
  the camera as "restarting", and starts a new worker with backoff.

Commands (scanning on/off, the emulated camera's scene and faults, exposure) go through a
queue to a sender thread, so the GUI thread never waits on a pipe, even to a hung worker.

Resources per start(): one memfd (the preview ring, reused by every worker), a wake-up
pipe and two threads. Per worker: two pipes and a pidfd, all closed when it is reaped, so
restarts leak nothing (tests/integration/test_scan_worker.py counts them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from multiprocessing import Pipe
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QImage

import kiosk
from kiosk.services.scanning.protocol import (
    FMT_GRAY8,
    RESTARTING,
    STARTING,
    PreviewRing,
    WorkerSpec,
)
from kiosk.services.scanning.scanner import ScannerBase, emit_signal

log = logging.getLogger(__name__)

WORKER_MODULE = "kiosk.workers.scan_worker"
# Restart backoff: the first restart at once (a crash on one crafted code should cost the
# resident about a second), doubling while the worker keeps dying young, reset once one
# has lived HEALTHY_AFTER_S.
RESTART_MIN_S = 0.05
RESTART_MAX_S = 10.0
HEALTHY_AFTER_S = 30.0
# A worker is killed and replaced when it stays silent this long (it beats twice a
# second), when it has not said hello this long after being started (an interpreter
# importing OpenCV and the decoders on a busy 2-core machine), or when one camera read or
# one decode has run this long (far beyond the decoder's BUDGET_MS and OpenCV's own read
# timeout).
HANG_TIMEOUT_S = 5.0
START_TIMEOUT_S = 30.0
DECODE_HANG_S = 10.0
CAPTURE_HANG_S = 15.0
# How long a worker told to quit may take to close its camera before it is killed.
QUIT_TIMEOUT_S = 3.0
EXIT_GRACE_S = 1.0
POLL_S = 0.25


class CameraProxy:
    """`kiosk.camera` under process isolation: the emulated camera's controls, forwarded
    to the source in the worker.

    It also remembers the scene (what is shown, which faults are on, the exposure), which
    is physical for a real camera: a phone held up stays held up, an unplugged camera stays
    unplugged, when the worker is restarted. Each new worker starts from it.
    """

    def __init__(self, scanner: ProcessScanner) -> None:
        self._scanner = scanner
        self._view: tuple[str, tuple[Any, ...], dict[str, Any]] | None = None
        self._unplugged = False
        self._frozen = False
        self._no_frames = False
        self._exposure: tuple[float | None] | None = None
        # time.monotonic() when the first frame of the latest show_*/blank/resume was read
        # by the worker's camera (see EmulatedSource.override_shown_at).
        self.override_shown_at = 0.0

    # -- the emulated camera's controls (see EmulatedSource) -------------------------------

    def show_text(self, text: str, *, dark: bool = False) -> None:
        self._command("show_text", (text,), {"dark": dark})

    def show_image(self, frame: Any) -> None:
        self._command("show_image", (frame,))

    def blank(self) -> None:
        self._command("blank")

    def resume(self) -> None:
        self._command("resume")

    def freeze(self) -> None:
        self._command("freeze")

    def stop_frames(self) -> None:
        self._command("stop_frames")

    def unplug(self) -> None:
        self._command("unplug")

    def plug(self) -> None:
        self._command("plug")

    def set_exposure(self, value: float | None) -> None:
        """A fixed exposure in the driver's units, or None for automatic."""
        self._command("set_exposure", (value,))

    # -- the scene ----------------------------------------------------------------------------

    def _command(self, method: str, args: tuple[Any, ...] = (),
                 kwargs: dict[str, Any] | None = None) -> None:
        self._scanner._camera_command(self, method, args, kwargs or {})

    def _record(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Under the scanner's lock."""
        if method in ("show_text", "show_image", "blank"):
            self._view = (method, args, kwargs)
        elif method == "resume":
            self._view = None
        elif method == "freeze":
            self._frozen = True
        elif method == "stop_frames":
            self._no_frames = True
        elif method == "unplug":
            self._unplugged = True
        elif method == "plug":
            self._unplugged = self._frozen = self._no_frames = False
        elif method == "set_exposure":
            self._exposure = (args[0],)

    def _scene(self) -> tuple[tuple[Any, ...], ...]:
        """Under the scanner's lock: commands that put a new worker's camera in this state."""
        scene: list[tuple[Any, ...]] = []
        if self._view is not None:
            scene.append(("camera", *self._view))
        for on, method in ((self._unplugged, "unplug"), (self._frozen, "freeze"),
                           (self._no_frames, "stop_frames")):
            if on:
                scene.append(("camera", method, (), {}))
        if self._exposure is not None:
            scene.append(("camera", "set_exposure", self._exposure, {}))
        return tuple(scene)


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class _Worker:
    """One worker process and the GUI side's ends of its pipes."""

    def __init__(self, proc: subprocess.Popen[bytes], events: Connection,
                 commands: Connection, pidfd: int | None) -> None:
        self.proc = proc
        self.events = events
        self.commands = commands
        self.pidfd = pidfd
        self.started = time.monotonic()
        self.last_heard = self.started
        self.hello = False
        self.capture_busy_s = 0.0
        self.decode_busy_s = 0.0

    @property
    def pid(self) -> int:
        return self.proc.pid


class _Supervisor:
    """Runs workers for one start() ... stop() of a ProcessScanner, on its own thread."""

    def __init__(self, scanner: ProcessScanner) -> None:
        self.scanner = scanner
        self.ring = PreviewRing.create(scanner.spec.preview_max_side)
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self._wake_lock = threading.Lock()
        self.stopping = threading.Event()
        self.worker: _Worker | None = None
        # Commands: (generation, message). The generation names the worker they are for;
        # a command for a worker that has died is dropped (the next worker gets the scene).
        self.generation = 0
        self.commands: queue.SimpleQueue[tuple[int, tuple[Any, ...] | None]] = (
            queue.SimpleQueue())
        self._send_lock = threading.Lock()  # held while sending, and to close the pipe
        self.thread = threading.Thread(target=self._run, name="scan-supervisor", daemon=True)
        self.sender = threading.Thread(target=self._send_loop, name="scan-commands",
                                       daemon=True)

    def start(self) -> None:
        self.sender.start()
        self.thread.start()

    def stop(self) -> bool:
        """Stop the worker and both threads; False if they did not end in time."""
        self.stopping.set()
        self._wake()
        self.thread.join(QUIT_TIMEOUT_S + 5.0)
        ended = not self.thread.is_alive()
        if not ended:
            log.error("camera worker supervisor did not stop in time")
        return ended

    def _wake(self) -> None:
        with self._wake_lock:
            if self.wake_w >= 0:
                with contextlib.suppress(BlockingIOError):  # already woken
                    os.write(self.wake_w, b"\0")

    # -- commands (any thread -> sender thread -> worker) -----------------------------------

    def enqueue(self, message: tuple[Any, ...]) -> None:
        """Under the scanner's lock (so the generation and the scene agree)."""
        self.commands.put((self.generation, message))

    def _send_loop(self) -> None:
        while True:
            generation, message = self.commands.get()
            if message is None:
                return
            with self._send_lock:
                with self.scanner._lock:
                    worker = self.worker if generation == self.generation else None
                if worker is None:
                    continue
                try:
                    worker.commands.send(message)
                except (OSError, ValueError) as exc:
                    # The worker is gone; the supervisor sees it and starts the next one.
                    log.debug("command %s not sent: %s", message[0], exc)

    # -- the supervisor thread --------------------------------------------------------------

    def _run(self) -> None:
        scanner = self.scanner
        backoff = scanner.restart_min_s
        try:
            while not self._stopping():
                started = time.monotonic()
                reason: str | None  # None: the worker ended because it was asked to
                try:
                    self._spawn()
                except OSError as exc:
                    log.error("camera worker could not be started: %s", exc)
                    reason = f"camera worker could not be started ({exc})"
                else:
                    reason = self._serve()
                    reason = self._reap(reason)
                if self._stopping():
                    break
                if time.monotonic() - started >= scanner.healthy_after_s:
                    backoff = scanner.restart_min_s
                scanner._worker_lost(reason, backoff)
                if self._sleep(backoff):
                    break
                backoff = min(max(backoff, 0.1) * 2, scanner.restart_max_s)
        except Exception:
            log.exception("camera worker supervisor failed")
        finally:
            self._reap(None)
            self.commands.put((0, None))
            self.sender.join(QUIT_TIMEOUT_S)
            self.ring.close()
            with self._wake_lock:
                os.close(self.wake_r)
                os.close(self.wake_w)
                self.wake_r = self.wake_w = -1

    def _stopping(self) -> bool:
        return self.stopping.is_set() or not self.scanner._alive()

    def _sleep(self, seconds: float) -> bool:
        """Wait `seconds` or until woken; True when stopping."""
        if seconds > 0:
            wait([self.wake_r], seconds)
            self._drain_wake()
        return self._stopping()

    def _drain_wake(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self.wake_r, 64):
                pass

    def _spawn(self) -> None:
        scanner = self.scanner
        events_r, events_w = Pipe(duplex=False)
        commands_r, commands_w = Pipe(duplex=False)
        ring = self.ring
        argv = [scanner.python, "-m", WORKER_MODULE, str(events_w.fileno()),
                str(commands_r.fileno()), str(ring.fd), str(ring.slots), str(ring.slot_bytes)]
        env = dict(os.environ)
        # The worker imports the same kiosk package as this process, installed or not.
        root = str(Path(kiosk.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        try:
            proc = subprocess.Popen(
                argv, pass_fds=(events_w.fileno(), commands_r.fileno(), ring.fd),
                stdin=subprocess.DEVNULL, env=env, close_fds=True,
            )
        except BaseException:
            for conn in (events_r, commands_w):
                conn.close()
            raise
        finally:
            # The worker's ends: closed here so that its death reads as end of file.
            events_w.close()
            commands_r.close()
        pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):  # Linux >= 5.3 has pidfds
            pidfd = os.pidfd_open(proc.pid)
        worker = _Worker(proc, events_r, commands_w, pidfd)
        with scanner._lock:
            self.generation += 1
            self.worker = worker
            spec = dataclasses.replace(
                scanner.spec, scene=scanner.camera._scene(),
                log_level=logging.getLogger("kiosk").getEffectiveLevel(),
            )
            self.enqueue(("spec", spec))
            self.enqueue(("scanning", scanner._scanning))
        log.info("camera worker started (pid %d)", proc.pid)

    def _serve(self) -> str | None:
        """Pass the worker's events on until it ends; the reason it ended, None if asked."""
        worker = self.worker
        assert worker is not None
        waitables: list[Any] = [worker.events, self.wake_r]
        if worker.pidfd is not None:
            waitables.append(worker.pidfd)
        quit_at = 0.0
        while True:
            if quit_at == 0.0 and self._stopping():
                if not worker.hello:
                    # The camera is opened after hello: killing it is the quickest stop.
                    return None
                with self.scanner._lock:
                    self.enqueue(("quit",))
                quit_at = time.monotonic()
            ready = wait(waitables, POLL_S)
            now = time.monotonic()
            if self.wake_r in ready:
                self._drain_wake()
            if worker.events in ready and not self._read_events(worker, now):
                return None if quit_at else f"camera worker ended ({self._exit_of(worker)})"
            if worker.pidfd is not None and worker.pidfd in ready:
                # Dead. What it sent before dying is still worth reading (a code decoded
                # just before a crash is a real code).
                self._read_events(worker, now)
                return None if quit_at else f"camera worker ended ({self._exit_of(worker)})"
            if quit_at:
                if now - quit_at > QUIT_TIMEOUT_S:
                    log.warning("camera worker did not quit within %.0f s", QUIT_TIMEOUT_S)
                    return None
                continue
            silent = now - worker.last_heard
            if silent > (self.scanner.hang_timeout_s if worker.hello else START_TIMEOUT_S):
                return self._kill(worker, f"camera worker silent for {silent:.1f} s")
            if worker.decode_busy_s > DECODE_HANG_S:
                return self._kill(worker, f"decoder stuck for {worker.decode_busy_s:.0f} s")
            if worker.capture_busy_s > CAPTURE_HANG_S:
                return self._kill(worker, f"camera read stuck for {worker.capture_busy_s:.0f} s")

    def _read_events(self, worker: _Worker, now: float) -> bool:
        """Handle every event waiting; False at end of file (the worker is gone)."""
        events = worker.events
        try:
            # Bounded, so a flood cannot keep this thread from its other checks.
            for _ in range(256):
                if not events.poll():
                    break
                self._dispatch(worker, events.recv())
                worker.last_heard = now
        except (EOFError, OSError):
            return False
        return True

    def _dispatch(self, worker: _Worker, event: tuple[Any, ...]) -> None:
        scanner = self.scanner
        tag = event[0]
        if tag == "frame":
            scanner._worker_frame(self.ring, *event[1:])
        elif tag == "codes":
            scanner._note_codes(event[1], event[2], scanner._scanning)
        elif tag == "beat":
            worker.capture_busy_s, worker.decode_busy_s = event[1], event[2]
        elif tag == "state":
            scanner._worker_state(event[1], event[2], event[3])
        elif tag == "stats":
            scanner._worker_stats(event[1], worker.pid)
        elif tag == "shown":
            scanner.camera.override_shown_at = event[1]
        elif tag == "log":
            logging.getLogger(event[2]).log(event[1], "[camera worker %d] %s", worker.pid,
                                            event[3])
        elif tag == "hello":
            worker.hello = True

    def _kill(self, worker: _Worker, reason: str) -> str:
        log.error("%s: killing it (pid %d)", reason, worker.pid)
        with contextlib.suppress(ProcessLookupError):
            worker.proc.kill()
        return reason

    def _exit_of(self, worker: _Worker) -> str:
        try:
            code = worker.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            code = None
        return _exit_reason(code)

    def _reap(self, reason: str | None) -> str | None:
        """Make sure the worker is dead and waited for, and close its pipes."""
        worker = self.worker
        if worker is None:
            return reason
        proc = worker.proc
        # A worker that quit (or was killed) closes its pipes a moment before it can be
        # waited for: give it that moment before killing it. One that never said hello has
        # opened nothing and is killed at once.
        try:
            proc.wait(timeout=EXIT_GRACE_S if worker.hello else 0.0)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            try:
                proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                # Stuck in the kernel (a USB driver in D state): nothing more to do here.
                log.error("camera worker %d did not die", proc.pid)
        with self.scanner._lock:
            self.worker = None
            self.generation += 1
        # The sender may be inside a send to this worker; its pipe breaks with the worker's
        # death. Only a worker the kernel cannot kill keeps it blocked: then the pipe is
        # left open rather than this thread stuck.
        if self._send_lock.acquire(timeout=2.0):
            try:
                worker.commands.close()
            finally:
                self._send_lock.release()
        else:
            log.error("command pipe of camera worker %d left open (sender blocked)", proc.pid)
        worker.events.close()
        if worker.pidfd is not None:
            os.close(worker.pidfd)
        if reason is None:
            log.info("camera worker %d stopped (%s)", proc.pid, _exit_reason(proc.returncode))
        return reason


class ProcessScanner(ScannerBase):
    """Reads QR codes from a camera in a restartable worker process (the default,
    `scanner.isolation = "process"`). Same signals and methods as `ScannerService`;
    `camera` forwards the emulated camera's controls to the worker.
    """

    def __init__(
        self,
        spec: WorkerSpec,
        repeat_block_s: float,
        parent: QObject | None = None,
        *,
        python: str = sys.executable,
        restart_min_s: float = RESTART_MIN_S,
        restart_max_s: float = RESTART_MAX_S,
        healthy_after_s: float = HEALTHY_AFTER_S,
        hang_timeout_s: float = HANG_TIMEOUT_S,
    ) -> None:
        super().__init__(repeat_block_s, parent)
        self.spec = spec
        self.python = python
        # Restart backoff and hang detection (module constants; tests shorten them).
        self.restart_min_s = restart_min_s
        self.restart_max_s = restart_max_s
        self.healthy_after_s = healthy_after_s
        self.hang_timeout_s = hang_timeout_s
        self.camera = CameraProxy(self)
        # Guards the supervisor's worker and generation, the camera's scene and scanning,
        # so a new worker gets a scene that no later command contradicts.
        self._lock = threading.Lock()
        self._sup: _Supervisor | None = None
        self._pid: int | None = None
        self._camera_desc = ""
        self.restarts = 0

    # -- GUI thread API ---------------------------------------------------------------------

    @property
    def worker_pid(self) -> int | None:
        """The running worker's process id (None between workers)."""
        sup = self._sup
        worker = sup.worker if sup is not None else None
        return worker.pid if worker is not None else None

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._preview_pending.clear()
        self._set_state(STARTING)
        self._sup = _Supervisor(self)
        self._sup.start()

    def stop(self) -> None:
        """Stop the worker (it closes the camera) and the threads; returns when they ended."""
        if not self._running:
            return
        self._running = False
        sup, self._sup = self._sup, None
        if sup is not None:
            sup.stop()

    def set_scanning(self, enabled: bool) -> None:
        with self._lock:
            super().set_scanning(enabled)
            if self._sup is not None:
                self._sup.enqueue(("scanning", bool(enabled)))

    def _camera_command(self, proxy: CameraProxy, method: str, args: tuple[Any, ...],
                        kwargs: dict[str, Any]) -> None:
        with self._lock:
            proxy._record(method, args, kwargs)
            if self._sup is not None:
                self._sup.enqueue(("camera", method, args, kwargs))

    # -- the supervisor thread --------------------------------------------------------------

    def _worker_frame(self, ring: PreviewRing, slot: int, seq: int, w: int, h: int,
                      stride: int, fmt: int) -> None:
        self._last_frame_at = time.monotonic()  # the worker announces fresh frames only
        if self._preview_pending.is_set() or not self._running:
            return  # the last one is not shown yet: skip rather than queue up
        qfmt = (QImage.Format.Format_Grayscale8 if fmt == FMT_GRAY8
                else QImage.Format.Format_BGR888)
        image = QImage(w, h, qfmt)
        if image.bytesPerLine() != stride:
            log.error("preview layout mismatch (%d != %d bytes per line)",
                      image.bytesPerLine(), stride)
            return
        bits = image.bits()
        # A writable view of the image's pixels; PySide6's stubs also allow bytes here.
        assert isinstance(bits, memoryview)
        try:
            ok = ring.read_into(slot, seq, stride * h, bits)
        finally:
            del bits
        if ok:
            self._offer_preview(image)

    def _worker_state(self, state: str, error: str, camera: str) -> None:
        self._last_error = error
        self._camera_desc = camera
        if state == STARTING and self._state in (STARTING, RESTARTING):
            # Said once by start(); and a restart lasts until the new worker's camera
            # delivers (or fails).
            return
        self._set_state(state)

    def _worker_stats(self, stats: dict[str, Any], pid: int) -> None:
        emit_signal(self.stats, {**stats, "state": self._state, "worker_pid": pid,
                                 "worker_restarts": self.restarts})

    def _worker_lost(self, reason: str | None, backoff: float) -> None:
        self.restarts += 1
        self._last_error = reason or "camera worker ended"
        log.warning("%s; restarting it in %.2f s (restart %d)", self._last_error, backoff,
                    self.restarts)
        self._set_state(RESTARTING)
        emit_signal(self.stats, {
            "fps": 0.0, "decode_ms_median": 0.0, "frames_decoded": 0, "frames_dropped": 0,
            "state": RESTARTING, "camera": self._camera_desc, "error": self._last_error,
            "decoder": self.spec.decoder, "worker_pid": None,
            "worker_restarts": self.restarts,
        })
