"""Event-loop stalls, preview frame rate and tap-to-printer time during a scripted session.

A 10 ms QTimer records how late it fires (the stall probe) while the kiosk runs a 30 fps
camera preview, decodes, issues tickets, prints them and talks to a slow backend (each call
0.3 s late). Alongside, with the same kiosk, it measures from the tap that issues a ticket
to the last byte handed to the printer transport. The anchor, measured in the same run, is
the same probe on an idle Home screen with the camera stopped.

    python benchmarks/responsiveness.py --tickets 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEvent, QTimer
from PySide6.QtWidgets import QApplication

from kiosk.app import build
from kiosk.config.checked import DEFAULT_CONFIG, load_checked_config
from kiosk.config.schema import EmulatedCameraConfig
from kiosk.ui.screen_names import ScreenName


def pump(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QCoreApplication.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        time.sleep(0.001)


class Probe:
    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.late: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.late.clear()
        self.clock.start()
        self.last = self.clock.nsecsElapsed()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed()
        self.late.append(max(0.0, (now - self.last) / 1e6 - 10))
        self.last = now


FREEZE_MS = 4000  # as kiosk/cli.py


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=30)
    ap.add_argument("--isolation", choices=("process", "thread"), default="process",
                    help="scanner.isolation: the camera worker process (shipped) or threads")
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    base = load_checked_config(DEFAULT_CONFIG)
    cfg = base.model_copy(update={
        "camera": EmulatedCameraConfig(source="generated", interval_s=1.0, fps=30),
        "paths": base.paths.model_copy(update={"data_dir": tempfile.mkdtemp()}),
        "screen": base.screen.model_copy(update={"fullscreen": False}),
        "scanner": base.scanner.model_copy(update={"isolation": args.isolation}),
    })
    # As `kiosk run` does: the start-up heap is frozen once start-up work is done.
    kiosk = build(cfg, DEFAULT_CONFIG, kiosk_mode=False, start_camera=False,
                  freeze_heap_after_ms=FREEZE_MS)
    kiosk.window.show()
    probe = Probe()
    # Anchor: idle Home, no camera, once start-up work is over.
    pump(FREEZE_MS / 1000 + 0.5)
    probe.start()
    pump(3.0)
    probe.stop()
    anchor = list(probe.late)

    kiosk.scanner.start()
    kiosk.link.slow_s = 0.3
    kiosk.link.set_mode("slow")
    c = kiosk.controller
    frames: list[float] = []
    kiosk.scanner.frameReady.connect(lambda _img: frames.append(time.monotonic()))
    printed: list[float] = []
    transport = kiosk.printer_transport
    original_write = transport.write

    def write(data: bytes) -> None:
        original_write(data)
        printed.append(time.monotonic())

    transport.write = write  # the last byte handed to the transport
    tap_to_print: list[float] = []
    probe.start()
    for _ in range(args.tickets):
        c.home.scan_button.click()
        pump(1.2)  # the preview runs; the generated phone shows a code every second
        if kiosk.window.current().name != ScreenName.CATEGORY:
            c.scan.no_phone_button.click()
            pump(0.05)
        n = len(printed)
        tapped = time.monotonic()
        c.category.buttons["social_security"].click()
        while len(printed) == n and time.monotonic() - tapped < 5:
            pump(0.002)
        if len(printed) > n:
            tap_to_print.append((printed[-1] - tapped) * 1000)
        kiosk.window.go_home("home")
        pump(0.1)
    probe.stop()
    busy = list(probe.late)
    kiosk.link.set_mode("up")
    # Tap to printer with the backend answering at once (the printing figure).
    fast: list[float] = []
    for _ in range(args.tickets):
        c.home.no_phone_button.click()
        pump(0.05)
        n = len(printed)
        tapped = time.monotonic()
        c.category.buttons["household"].click()
        while len(printed) == n and time.monotonic() - tapped < 5:
            pump(0.001)
        if len(printed) > n:
            fast.append((printed[-1] - tapped) * 1000)
        kiosk.window.go_home("home")
        pump(0.05)
    # Preview rate on the scan screen while decoding.
    c.home.scan_button.click()
    frames.clear()
    pump(3.0)
    fps = (len(frames) - 1) / (frames[-1] - frames[0]) if len(frames) > 1 else 0.0
    kiosk.shutdown()
    print(f"stall probe, busy session: worst {max(busy):.1f} ms, p99 {pct(busy, 99):.1f} ms "
          f"over {len(busy)} ticks (anchor idle Home: worst {max(anchor):.1f} ms, "
          f"p99 {pct(anchor, 99):.1f} ms)")
    print(f"preview while decoding: {fps:.1f} fps (camera 30 fps)")
    print(f"tap to last byte at the printer (slow backend, 0.3 s per call): median "
          f"{statistics.median(tap_to_print):.0f} ms, p95 {pct(tap_to_print, 95):.0f} ms "
          f"over {len(tap_to_print)} tickets")
    print(f"tap to last byte at the printer (backend answering): median "
          f"{statistics.median(fast):.0f} ms, p95 {pct(fast, 95):.0f} ms over {len(fast)}")
    print(f"reproduce: python benchmarks/responsiveness.py --tickets {args.tickets}"
          f" --isolation {args.isolation}")
    del app


if __name__ == "__main__":
    main()
