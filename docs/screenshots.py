"""Screenshots for docs/TECHNICIAN.md: every maintenance page and the fault screens.

Builds the kiosk offscreen on emulated hardware with a throwaway PIN, opens the maintenance
screen the way a technician does (five taps on the title, then the PIN), and grabs each
page; then injects the faults a technician is called for and grabs what the resident sees.

    .venv/bin/python docs/screenshots.py            # writes docs/img/technician/*.png
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from kiosk.demo import _app, settle, wait_until  # noqa: E402

PIN = "246810"
SECTIONS = ("printer", "camera", "link", "errors", "config", "stats", "bundles", "exit")


def tap(widget) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)
    settle(0.15)


def main(out: Path) -> None:
    from kiosk.app import build
    from kiosk.config.loader import load_config
    from kiosk.config.schema import EmulatedCameraConfig
    from kiosk.domain.pin import hash_pin
    from kiosk.hardware.printer.errors import PrinterState
    from kiosk.ui.maintenance_controller import install_maintenance

    out.mkdir(parents=True, exist_ok=True)
    _app()
    work = Path(tempfile.mkdtemp(prefix="kiosk-shots-"))
    shutil.copytree(ROOT / "config", work / "config")
    toml = work / "config" / "kiosk.toml"
    toml.write_text(toml.read_text("utf-8").replace('pin_hash = ""',
                                                     f'pin_hash = "{hash_pin(PIN)}"'), "utf-8")
    base = load_config(toml)
    config = base.model_copy(update={
        "camera": EmulatedCameraConfig(source="blank"),
        "paths": base.paths.model_copy(update={"data_dir": str(work / "var")}),
        "screen": base.screen.model_copy(update={"fullscreen": False}),
    })
    kiosk = build(config, toml, kiosk_mode=False)
    window = kiosk.window
    window.show()
    settle(1.0)
    shots: list[Path] = []

    def shot(name: str) -> None:
        path = out / f"{name}.png"
        window.grab().save(str(path))
        shots.append(path)

    try:
        mc = install_maintenance(kiosk)
        mc.quit_app = lambda code: None  # the screenshots must not end the application
        # A ticket printed and a code read, so the pages have something to show.
        tap(kiosk.controller.home.no_phone_button)
        tap(next(iter(kiosk.controller.category.buttons.values())))
        wait_until(lambda: window.current().name == "ticket", 10)
        window.go_home("home")
        settle(0.3)

        for _ in range(5):
            QTest.mouseClick(window.title, Qt.MouseButton.LeftButton)
        wait_until(lambda: window.current().name == "maintenance_pin", 5)
        for ch in PIN[:3]:
            tap(mc.pin_screen.keypad.keys[ch])
        shot("maintenance-pin")
        for ch in PIN[3:]:
            tap(mc.pin_screen.keypad.keys[ch])
        tap(mc.pin_screen.confirm_button)
        wait_until(lambda: window.current().name == "maintenance", 10)
        for key in SECTIONS:
            tap(mc.screen.nav_buttons[key])
            settle(1.2)  # live values refresh once a second
            shot(f"maintenance-{key}")
        window.go_home("home")
        settle(0.3)

        # What the resident sees when a technician is needed.
        kiosk.printer_transport.set_fault(PrinterState.PAPER_OUT)  # type: ignore[attr-defined]
        settle(0.5)
        tap(kiosk.controller.home.no_phone_button)
        tap(next(iter(kiosk.controller.category.buttons.values())))
        wait_until(lambda: window.current().name == "ticket", 10)
        settle(1.5)
        shot("fault-printer-paper-out")
        kiosk.printer_transport.set_fault(None)  # type: ignore[attr-defined]
        window.go_home("home")
        settle(0.3)

        kiosk.camera.unplug()  # type: ignore[attr-defined]
        tap(kiosk.controller.home.scan_button)
        settle(3.0)  # judged stale after a second without fresh frames
        shot("fault-camera-unavailable")
        kiosk.camera.plug()  # type: ignore[attr-defined]
        window.go_home("home")
        settle(0.3)

        kiosk.link.set_mode("down")
        tap(kiosk.controller.home.no_phone_button)
        tap(next(iter(kiosk.controller.category.buttons.values())))
        settle(2.0)
        shot("fault-backend-down-ticket")
        kiosk.link.set_mode("up")
        window.go_home("home")
    finally:
        kiosk.shutdown()
    for path in shots:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img" / "technician")
