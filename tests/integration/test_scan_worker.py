"""The camera worker process dies, hangs or is shut down: the kiosk stays up and scans again.

Capture and decoding run in a worker process (`scanner.isolation = "process"`, the default)
so that a native crash in OpenCV or ZBar ends the worker, not the kiosk. These tests kill
it as such a crash would (SIGKILL, SIGSEGV, SIGABRT), freeze it (SIGSTOP, a hang), and
count what the GUI process holds afterwards.
"""

from __future__ import annotations

import gc
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QElapsedTimer, QTimer

from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.config.schema import EmulatedCameraConfig
from kiosk.services.scanning.pipeline import MAX_BACKOFF_S
from kiosk.services.scanning.protocol import WorkerSpec
from kiosk.services.scanning.supervisor import (
    HANG_TIMEOUT_S,
    RESTART_MIN_S,
    CameraProxy,
    ProcessScanner,
)
from kiosk.ui import messages
from tests.helpers.paths import REPO_ROOT
from tests.helpers.waits import HANG_GUARD_MS, HANG_GUARD_S, poll_until, settle_events


def child_pids() -> set[int]:
    """Processes whose parent is this test process (the worker, nothing else expected)."""
    me = os.getpid()
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == me:
            pids.add(int(entry.name))
    return pids


def fd_targets() -> list[str]:
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            targets.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue  # the listing's own fd, closed meanwhile
    return targets


def preview_memfds() -> int:
    return sum("kiosk-preview" in t for t in fd_targets())


def dev_shm() -> set[str]:
    # Not PostgreSQL's dynamic segments: the hall's tests' server (pg_virtualenv, or any other
    # on the machine) makes and drops them as it pleases, which says nothing of the scanner.
    return {name for name in os.listdir("/dev/shm") if not name.startswith("PostgreSQL.")}


def scanner_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("scan")]


class StallProbe:
    """A 10 ms timer on the GUI thread: the longest gap between its ticks."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.worst_ms = 0.0

    def start(self) -> None:
        self.clock.start()
        self.last = self.clock.nsecsElapsed()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed()
        self.worst_ms = max(self.worst_ms, (now - self.last) / 1e6 - 10)
        self.last = now


@pytest.fixture
def make_scanner(qtbot: Any) -> Iterator[Callable[..., ProcessScanner]]:
    made: list[ProcessScanner] = []

    def make(**kwargs: Any) -> ProcessScanner:
        spec = WorkerSpec(camera=EmulatedCameraConfig(source="blank", fps=30).model_dump(),
                          decoder=kwargs.pop("decoder", "zxing"))
        scanner = ProcessScanner(spec, kwargs.pop("repeat_block_s", 1.0), **kwargs)
        made.append(scanner)
        return scanner

    yield make
    for scanner in made:
        scanner.stop()


def started(qtbot: Any, scanner: ProcessScanner) -> ProcessScanner:
    scanner.start()
    qtbot.waitUntil(lambda: scanner.state == "running", timeout=HANG_GUARD_MS)
    return scanner


def restarted(qtbot: Any, scanner: ProcessScanner, old_pid: int) -> None:
    qtbot.waitUntil(lambda: scanner.worker_pid not in (None, old_pid)
                    and scanner.state == "running", timeout=HANG_GUARD_MS)


def test_sigkill_mid_scan_the_screen_stays_up_and_scans_again(
    kiosk: Any, resident: Any, qtbot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert isinstance(kiosk.camera, CameraProxy)  # the default is process isolation
    resident.tap(kiosk.controller.home.scan_button)
    resident.wait_screen("scan")
    scan = kiosk.controller.scan
    scanner = kiosk.scanner
    qtbot.waitUntil(lambda: scanner.state == "running", timeout=HANG_GUARD_MS)
    frames: list[float] = []
    scanner.frameReady.connect(lambda _image: frames.append(time.monotonic()))
    qtbot.waitUntil(lambda: len(frames) >= 5, timeout=HANG_GUARD_MS)  # frames are flowing

    states: list[tuple[str, str, bool]] = []
    # Connected after the controller's slot, so the screen has reacted when this runs.
    scanner.cameraStateChanged.connect(lambda s: states.append(
        (s, scan.status.text(), scan.no_phone_button.isVisible()
         and scan.no_phone_button.isEnabled())))
    scanned: list[float] = []
    scanner.codeScanned.connect(lambda _text: scanned.append(time.monotonic()))
    probe = StallProbe()
    probe.start()
    pid = scanner.worker_pid
    assert pid is not None
    code = resident.code(DEMO_RESIDENTS["ordinary"])
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    # The resident holds the phone up just as the worker dies.
    resident.show_phone(code)
    qtbot.waitUntil(lambda: bool(scanned), timeout=HANG_GUARD_MS)
    probe.stop()
    again_s = scanned[0] - killed
    preview_s = min((t - killed for t in frames if t > killed), default=float("nan"))
    print(f"worker SIGKILLed: code decoded again {again_s:.2f} s later (preview back after "
          f"{preview_s:.2f} s); worst GUI stall meanwhile "
          f"{probe.worst_ms:.1f} ms; states {[s[0] for s in states]}")
    # What makes it quick on any machine: the death is seen at once (not after the worker's
    # silence) and the new worker starts after the shortest backoff. The time itself is a
    # figure for docs/RELIABILITY.md; this ceiling only holds on a loaded machine too.
    lost = [r.getMessage() for r in caplog.records if "restarting it in" in r.getMessage()]
    assert "killed by SIGKILL" in lost[0], lost
    assert f"restarting it in {RESTART_MIN_S:.2f} s" in lost[0], lost
    assert again_s < HANG_TIMEOUT_S * 3
    # The screen told the resident, with the no-phone path open, while it restarted.
    assert ("restarting", messages.camera_problem(scan.no_phone_button.text()), True) in states
    assert states[-1][:2] == ("running", "")
    resident.wait_screen("category", timeout=HANG_GUARD_MS)
    assert scanner.worker_pid not in (None, pid) and not Path(f"/proc/{pid}").exists()
    # The event loop kept running: the GUI never waited on the dying worker. A ceiling a
    # loaded machine still meets; waiting on the worker's exit or a restart on the GUI
    # thread (a new interpreter importing OpenCV) would take seconds.
    assert probe.worst_ms < 1000


def test_a_code_in_view_when_the_worker_dies_is_not_reported_again(
    qtbot: Any, make_scanner: Callable[..., ProcessScanner]
) -> None:
    # A code counts as new once out of sight for repeat_block_s; the restart below must stay
    # well inside it on a loaded machine too, so it is the hang guard, not a few seconds.
    scanner = started(qtbot, make_scanner(repeat_block_s=HANG_GUARD_S))
    scanned: list[str] = []
    scanner.codeScanned.connect(scanned.append)
    with qtbot.waitSignal(scanner.codeScanned, timeout=HANG_GUARD_MS):
        scanner.camera.show_text("CODE-A-1234")
    pid = scanner.worker_pid
    assert pid is not None
    # What the workers decode reaches the GUI process's deduplicator through _note_codes
    # (on the supervisor thread), which queues whatever it reports to the GUI thread.
    noted: list[int | None] = []
    note_codes = scanner._note_codes

    def note_and_record(texts: list[str], seen_at: float, scanning: bool) -> None:
        note_codes(texts, seen_at, scanning)
        if "CODE-A-1234" in texts:
            noted.append(scanner.worker_pid)

    scanner._note_codes = note_and_record  # type: ignore[method-assign]
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    restarted(qtbot, scanner, pid)
    new_pid = scanner.worker_pid
    # The new worker decodes A still in view; it was reported once and stays so (the
    # verifier would refuse a second report as a replay). Waited for: the new worker's
    # decoding of A has been judged, and a report it made is delivered (settle_events).
    qtbot.waitUntil(lambda: new_pid in noted, timeout=HANG_GUARD_MS)
    settle_events(qtbot)
    assert scanned == ["CODE-A-1234"]
    # ...and it is in view: forgetting it makes it reported at once.
    with qtbot.waitSignal(scanner.codeScanned, timeout=HANG_GUARD_MS):
        scanner.reset_dedup()
    with qtbot.waitSignal(scanner.codeScanned, timeout=HANG_GUARD_MS,
                          check_params_cb=lambda t: t == "CODE-B-5678"):
        scanner.camera.show_text("CODE-B-5678")
    print(f"new code reported {time.monotonic() - killed:.2f} s after the kill")
    assert scanned == ["CODE-A-1234", "CODE-A-1234", "CODE-B-5678"]


def test_preview_frames_come_through_shared_memory_at_camera_rate(
    qtbot: Any, make_scanner: Callable[..., ProcessScanner]
) -> None:
    scanner = started(qtbot, make_scanner())
    images: list[tuple[float, Any]] = []
    scanner.frameReady.connect(lambda image: images.append((time.monotonic(), image)))
    qtbot.waitUntil(lambda: len(images) >= 2, timeout=HANG_GUARD_MS)
    worker_fps: list[float] = []
    scanner.stats.connect(lambda s: worker_fps.append(s["fps"]) if s["fps"] else None)
    t0 = images[-1][0]
    n0 = len(images)
    # A measuring window of 40 previewed frames (1.3 s at the camera's 30 fps), however long
    # a loaded machine takes to show them, and the worker's own capture rate meanwhile.
    qtbot.waitUntil(lambda: len(images) >= n0 + 40 and bool(worker_fps), timeout=HANG_GUARD_MS)
    fps = (len(images) - n0) / (images[-1][0] - t0)
    image = images[-1][1]
    print(f"preview through the worker's ring: {fps:.1f} fps, {image.width()}x{image.height()}")
    assert (image.width(), image.height()) == (960, 540) and not image.isNull()
    # The emulated hall, not an empty buffer: pixels differ across the frame. (A grid over
    # the whole frame: one row of 16 samples once found only 3 colours, a flat wall.)
    colours = {image.pixel(x, y) for x in range(0, 960, 60) for y in range(0, 540, 60)}
    assert len(colours) > 8, len(colours)
    # Against the same run's capture rate in the worker, not a fixed figure: a loaded
    # machine captures fewer frames, and the preview must still show most of those it
    # captures (one frame in a few would mean the ring or its reader fell behind).
    print(f"worker captured {statistics.median(worker_fps):.1f} fps meanwhile")
    assert fps > statistics.median(worker_fps) / 2
    with qtbot.waitSignal(scanner.stats, timeout=HANG_GUARD_MS) as blocker:
        pass
    stats = blocker.args[0]
    assert stats["state"] == "running" and stats["worker_pid"] == scanner.worker_pid
    assert "emulated camera" in stats["camera"] and stats["fps"] > 0


def test_shutdown_leaves_no_worker_and_no_shared_memory(kiosk_factory: Any, qtbot: Any) -> None:
    shm_before = dev_shm()
    assert preview_memfds() == 0
    k = kiosk_factory()
    qtbot.waitUntil(lambda: k.scanner.state == "running", timeout=HANG_GUARD_MS)
    pid = k.scanner.worker_pid
    assert pid in child_pids()
    # The ring's memfd (and mmap's own duplicate of it), the supervisor and sender threads.
    assert preview_memfds() > 0 and len(scanner_threads()) == 2
    k.shutdown()
    assert not Path(f"/proc/{pid}").exists()  # ended and waited for, not a zombie
    assert child_pids() == set()
    assert preview_memfds() == 0
    assert dev_shm() == shm_before
    assert scanner_threads() == []


def test_twenty_crashes_leak_no_threads_fds_or_memory_segments(
    qtbot: Any, make_scanner: Callable[..., ProcessScanner], caplog: pytest.LogCaptureFixture
) -> None:
    # Every worker counts as healthy, so each restart is immediate: 20 in a few seconds.
    scanner = started(qtbot, make_scanner(healthy_after_s=0.0))
    pid = scanner.worker_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # warm-up: the first restart's one-time costs
    restarted(qtbot, scanner, pid)
    gc.collect()  # only what is really held counts, not what waits for the collector
    fds, threads, shm = len(fd_targets()), threading.active_count(), dev_shm()
    signals = [signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGKILL]
    times: list[float] = []
    for i in range(20):
        pid = scanner.worker_pid
        assert pid is not None
        killed = time.monotonic()
        os.kill(pid, signals[i % len(signals)])
        restarted(qtbot, scanner, pid)
        times.append(time.monotonic() - killed)
        assert child_pids() == {scanner.worker_pid}
    gc.collect()
    print(f"20 crashes: running again after median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s; fds {fds} -> {len(fd_targets())}, threads {threads} -> "
          f"{threading.active_count()}")
    assert scanner.restarts == 21
    # No more than before: a leak adds; one fewer is another test's leftover closing
    # meanwhile (in any test order), which says nothing about this scanner.
    assert len(fd_targets()) <= fds
    assert threading.active_count() <= threads
    assert dev_shm() == shm and preview_memfds() == 2
    # Each restart after the shortest backoff (no backoff growing while workers die young,
    # as they count as healthy here): the schedule, not a machine-dependent time.
    lost = [r.getMessage() for r in caplog.records if "restarting it in" in r.getMessage()]
    assert len(lost) == 21 and all(f"restarting it in {RESTART_MIN_S:.2f} s" in m
                                   for m in lost), lost


def test_a_hung_worker_is_killed_and_replaced(
    qtbot: Any, make_scanner: Callable[..., ProcessScanner]
) -> None:
    scanner = started(qtbot, make_scanner(hang_timeout_s=1.0))
    pid = scanner.worker_pid
    assert pid is not None
    states: list[str] = []
    scanner.cameraStateChanged.connect(states.append)
    stopped = time.monotonic()
    os.kill(pid, signal.SIGSTOP)  # alive but silent, as a worker wedged in native code
    restarted(qtbot, scanner, pid)
    print(f"hung worker replaced, running again {time.monotonic() - stopped:.2f} s later")
    assert states[:2] == ["restarting", "running"]
    assert "silent" in scanner.last_error or states[-1] == "running"
    assert not Path(f"/proc/{pid}").exists()
    with qtbot.waitSignal(scanner.codeScanned, timeout=HANG_GUARD_MS):
        scanner.camera.show_text("AFTER-THE-HANG")


def test_the_camera_scene_survives_a_restart_and_replug_recovers(
    qtbot: Any, make_scanner: Callable[..., ProcessScanner]
) -> None:
    scanner = started(qtbot, make_scanner())
    with qtbot.waitSignal(scanner.cameraStateChanged, timeout=HANG_GUARD_MS,
                          check_params_cb=lambda s: s == "unavailable"):
        scanner.camera.unplug()
    assert "unplugged" in scanner.last_error
    pid = scanner.worker_pid
    assert pid is not None
    states: list[str] = []
    scanner.cameraStateChanged.connect(states.append)
    os.kill(pid, signal.SIGKILL)
    # Still unplugged in the new worker: it must not claim the camera is running.
    qtbot.waitUntil(lambda: scanner.worker_pid not in (None, pid) and states[-1:] == [
        "unavailable"], timeout=HANG_GUARD_MS)
    assert states == ["restarting", "unavailable"]
    back = time.monotonic()
    scanner.camera.plug()
    qtbot.waitUntil(lambda: scanner.state == "running", timeout=HANG_GUARD_MS)
    recovered_s = time.monotonic() - back
    print(f"replugged after a worker restart: running again {recovered_s:.2f} s later")
    # The reopen backoff is capped at MAX_BACKOFF_S; a ceiling a loaded machine still meets
    # (the figure is in docs/RELIABILITY.md), while a backoff growing past its cap fails.
    assert recovered_s < MAX_BACKOFF_S * 4


GUI_CHILD = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from kiosk.config.schema import EmulatedCameraConfig
from kiosk.services.scanning.protocol import WorkerSpec
from kiosk.services.scanning.supervisor import ProcessScanner

app = QApplication([])
scanner = ProcessScanner(WorkerSpec(camera=EmulatedCameraConfig(source="blank").model_dump(),
                                    decoder="zxing"), 1.0)
told = []

def tell(state=None):
    # The parent waits on this line: the worker's pid once the camera runs (or, as a hang
    # guard only, whatever it is after 60 s).
    if not told and (state is None or state == "running"):
        told.append(True)
        print(scanner.worker_pid, flush=True)

scanner.cameraStateChanged.connect(tell)
QTimer.singleShot(60_000, tell)
scanner.start()
app.exec()  # a kiosk's event loop, until the parent kills this process
"""


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie may wait for a reaper that never comes)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_killed_kiosk_leaves_no_worker_holding_the_camera() -> None:
    gui = subprocess.Popen([sys.executable, "-c", GUI_CHILD], stdout=subprocess.PIPE,
                           text=True, cwd=REPO_ROOT)
    try:
        assert gui.stdout is not None
        worker = int(gui.stdout.readline())
        assert running(worker)
        gui.kill()  # a power cut of the GUI process alone: no shutdown, no atexit
        gui.wait(10)
        killed = time.monotonic()
        assert poll_until(lambda: not running(worker), interval_s=0.05)
        print(f"worker gone {time.monotonic() - killed:.2f} s after the GUI process")
    finally:
        if gui.poll() is None:
            gui.kill()
            gui.wait(10)
        if gui.stdout is not None:
            gui.stdout.close()
