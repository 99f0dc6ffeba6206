"""`kiosk simulate --sessions N`: thousands of resident sessions through the real UI.

Drives every flow offscreen on emulated hardware, with faults injected now and then, and
reports resident memory, open file descriptors, threads and live QObjects at intervals, so
leaks over weeks of unattended running show up in minutes.
"""

from __future__ import annotations

import os
import random
import tempfile
import threading
import time
from pathlib import Path

from kiosk.config.schema import EmulatedCameraConfig, KioskConfig
from kiosk.devtools.demo import (
    demo_value,
    emulated_camera,
    emulated_printer,
    offscreen_app,
    settle,
    wait_until,
)
from kiosk.services.memory import rss_mb
from kiosk.ui.screen_names import ScreenName


def counts(worker_pid: int | None = None) -> dict[str, float]:
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    objects = 0
    if app is not None:
        # Widgets and everything parented to them (the kiosk's services hang off the
        # window), plus what hangs off the application object itself.
        objects += len(app.findChildren(QObject))
        for w in QApplication.topLevelWidgets():
            objects += 1 + len(w.findChildren(QObject))
    # The camera worker is part of the kiosk's footprint: its memory is reported beside the
    # GUI process's, so a leak cannot hide on the other side of the process boundary.
    worker = rss_mb(worker_pid) if worker_pid else 0.0
    return {
        "rss_mb": round(rss_mb(), 1),
        "worker_rss_mb": round(worker, 1),
        "fds": len(os.listdir("/proc/self/fd")),
        "threads": threading.active_count(),
        "qobjects": objects,
    }


class Simulator:
    def __init__(self, config: KioskConfig, config_file: Path, seed: int) -> None:
        from kiosk.app import build
        from kiosk.devtools.codes import code_text
        from kiosk.domain import payloads

        self.rng = random.Random(seed)
        self.kiosk = build(config, config_file, kiosk_mode=False, freeze_heap_after_ms=4000)
        self.kiosk.window.show()
        key_file = self.kiosk.paths.config_dir / config.qr.demo_signing_key
        self._key = payloads.load_private_key(key_file.read_bytes())
        self._code_text = code_text
        self.kiosk.printing.poll.setInterval(200)

    def code(self, resident: str) -> str:
        return self._code_text(self._key, "demo", resident, "valid",
                               now=self.kiosk.controller.ctx.clock().timestamp())

    def current(self) -> ScreenName:
        return self.kiosk.window.current().name

    def scan(self, resident: str, screen: ScreenName) -> None:
        cam = emulated_camera(self.kiosk)
        cam.show_text(self.code(resident))
        page = self.kiosk.window.current()
        refused = getattr(page, "message", None)  # e.g. the backend is down: a message
        try:
            wait_until(lambda: self.current() != screen
                       or (refused is not None and refused.isVisible()))
        finally:
            cam.blank()

    def session(self) -> str:
        from kiosk.backend.seed import DEMO_RESIDENTS
        from kiosk.hardware.printer.errors import PrinterState
        from kiosk.ui.screens.rating import RatingScreen

        c = self.kiosk.controller
        rng = self.rng
        printer = emulated_printer(self.kiosk)
        # Faults now and then, as on a real night: paper out 5%, network down 3%, a printer
        # that stops answering 2%, the camera unplugged for the session 2%.
        fault = rng.random()
        printer_fault = (PrinterState.PAPER_OUT if fault < 0.05 else
                         PrinterState.NO_ANSWER if 0.08 <= fault < 0.10 else None)
        printer.set_fault(printer_fault)
        self.kiosk.link.set_mode("down" if 0.05 <= fault < 0.08 else "up")
        camera_out = 0.10 <= fault < 0.12
        if camera_out:
            emulated_camera(self.kiosk).unplug()
        flow = rng.choice(["scan", "nophone", "bundle", "query", "checkin", "rating", "help"])
        resident = rng.choice(list(DEMO_RESIDENTS.values()))
        if camera_out and flow in ("scan", "query", "checkin", "bundle"):
            # What a resident does when the camera is out: the scan screen says so and
            # offers the no-phone path.
            flow = "camera_out"
            c.home.scan_button.click()
            wait_until(lambda: bool(c.scan.status.text()))
            c.scan.no_phone_button.click()
            rng.choice(list(c.category.buttons.values())).click()
            wait_until(lambda: self.current() == ScreenName.TICKET
                       or c.category.problem.isVisible())
        elif flow == "scan":
            c.home.scan_button.click()
            self.scan(resident, ScreenName.SCAN)
            if self.current() == ScreenName.CATEGORY:
                rng.choice(list(c.category.buttons.values())).click()
                wait_until(lambda: self.current() == ScreenName.TICKET
                           or c.category.problem.isVisible())
        elif flow == "nophone":
            c.home.no_phone_button.click()
            rng.choice(list(c.category.buttons.values())).click()
            wait_until(lambda: self.current() == ScreenName.TICKET
                       or c.category.problem.isVisible())
        elif flow == "bundle":
            self.bundle(resident)
        elif flow == "query":
            c.home.service_buttons["query"].click()
            self.scan(resident, ScreenName.QUERY_SCAN)
        elif flow == "checkin":
            c.home.service_buttons["checkin"].click()
            self.scan(resident, ScreenName.CHECKIN_SCAN)
        elif flow == "rating":
            c.home.service_buttons["rating"].click()
            screen = self.kiosk.window.current()
            assert isinstance(screen, RatingScreen)  # the rating button opens it at once
            screen.level_buttons[rng.randint(1, 5)].click()
            screen.submit_button.click()
            wait_until(screen.thanks.isVisible)
        else:
            self.kiosk.window.help_button.click()
            settle(0.05)
        self.kiosk.window.go_home("idle" if rng.random() < 0.2 else "home")
        printer.set_fault(None)
        self.kiosk.link.set_mode("up")
        if camera_out:
            emulated_camera(self.kiosk).plug()
        return flow

    def bundle(self, resident: str) -> None:
        from kiosk.domain.wizard import StepKind

        c = self.kiosk.controller
        bc = self.kiosk.bundle_controller
        c.home.service_buttons["bundles"].click()
        self.rng.choice(list(bc.list.buttons.values())).click()
        abandon_at = self.rng.randint(1, 14)
        for i in range(40):
            wiz = bc.wizard
            if wiz is None or i == abandon_at:
                return
            step = wiz.current
            w = bc.wizard_screen
            if step.kind is StepKind.IDENTIFY:
                emulated_camera(self.kiosk).show_text(self.code(resident))
                wait_until(lambda: bc.wizard is None or bc.wizard.current.kind
                           is not StepKind.IDENTIFY or bc.wizard_screen.problem.isVisible(), 8)
                emulated_camera(self.kiosk).blank()
                if w.problem.isVisible():
                    return
            elif step.kind is StepKind.QUESTION:
                q = wiz.bundle.question(step.ref)
                w.option_buttons[self.rng.choice(q.options).id].click()
            elif step.kind is StepKind.FIELD:
                for ch in demo_value(wiz, step.ref):
                    w.keypad.keys[ch].click()
                w.next_button.click()
            elif step.kind is StepKind.CONFIRM:
                # The confirm step is on screen, and with it its submit button.
                assert w.submit_button is not None
                w.submit_button.click()
                wait_until(lambda: self.current() == ScreenName.BUNDLE_RESULT)
                return
            elif step.kind is StepKind.INELIGIBLE:
                return
            else:
                w.next_button.click()

    def close(self) -> None:
        self.kiosk.shutdown()


def run_simulation(config: KioskConfig, config_file: Path, sessions: int, every: int,
                   seed: int) -> list[dict[str, float]]:
    app = offscreen_app()
    data = Path(tempfile.mkdtemp(prefix="kiosk-sim-"))
    cfg = config.model_copy(update={
        "camera": EmulatedCameraConfig(source="blank"),
        "paths": config.paths.model_copy(update={"data_dir": str(data)}),
        "screen": config.screen.model_copy(update={"fullscreen": False}),
    })
    sim = Simulator(cfg, config_file, seed)
    rows: list[dict[str, float]] = []
    started = time.monotonic()
    try:
        from PySide6.QtCore import QCoreApplication, QEvent

        for n in range(1, sessions + 1):
            sim.session()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            if n % every == 0 or n == sessions:
                app.processEvents()
                pid = getattr(sim.kiosk.scanner, "worker_pid", None)
                row = {"sessions": n, **counts(pid if isinstance(pid, int) else None),
                       "s": round(time.monotonic() - started, 1)}
                rows.append(row)
                print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    finally:
        sim.close()
    return rows
