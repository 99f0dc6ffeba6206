"""Screenshots for docs/TECHNICIAN.md: every maintenance page and the fault screens.

Regenerate them (from the repository root; about 40 s, no display needed):

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots.py   # docs/img/technician/*.png

An optional argument names another output folder.

Builds the kiosk offscreen on emulated hardware (the demo config, a throwaway PIN, its own
data directory in /tmp), serves a few residents, then injects the faults a technician is
called for and grabs what the resident sees: printer out of paper, camera unplugged,
backend unreachable (no ticket; a 一件事 application stored on the kiosk). It opens the
maintenance screen the way a technician does (five taps on the title, then the PIN) while
the paper is out, and again while the backend is down, and grabs each page. The 配置 page
shows the installed path (/opt/kiosk/config/kiosk.toml), not this run's temporary copy.
Pictures are scaled to WIDTH pixels and stored with few colours (the UI is flat colours)
so that the folder stays small (about 1 MB for all of them).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Log lines on the 最近错误 page carry local time; a terminal runs on Shanghai time.
os.environ["TZ"] = "Asia/Shanghai"
if hasattr(time, "tzset"):
    time.tzset()

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from kiosk.devtools.demo import DEMO_VALUES, DemoRun, offscreen_app, settle, wait_until  # noqa: E402
from kiosk.ui.screen_names import ScreenName  # noqa: E402

PIN = "2468013579"
WIDTH = 1280  # the kiosk is 1920×1080; 1280 keeps the smallest text readable
COLOURS = 128  # per picture; the camera page keeps full colour (a photo-like preview)
# The path the technician sees on a terminal installed as TECHNICIAN.md says.
SHOWN_CONFIG_FILE = "/opt/kiosk/config/kiosk.toml"


def tap(widget) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)
    settle(0.15)


def main(out: Path) -> list[Path]:
    from PIL import Image

    from kiosk.app import install_maintenance
    from kiosk.backend.seed import DEMO_RESIDENTS
    from kiosk.config.loader import load_config
    from kiosk.config.schema import EmulatedCameraConfig
    from kiosk.domain.pin import hash_pin
    from kiosk.domain.wizard import StepKind
    from kiosk.hardware.printer.errors import PrinterState
    from kiosk.ui.controllers.maintenance import config_text

    out.mkdir(parents=True, exist_ok=True)
    offscreen_app()
    work = Path(tempfile.mkdtemp(prefix="kiosk-shots-"))
    shutil.copytree(ROOT / "config", work / "config")
    toml = work / "config" / "kiosk.toml"
    toml.write_text(toml.read_text("utf-8").replace('pin_hash = ""',
                                                     f'pin_hash = "{hash_pin(PIN)}"'), "utf-8")
    base = load_config(toml)
    config = base.model_copy(update={
        "camera": EmulatedCameraConfig(source="blank"),
        "paths": base.paths.model_copy(update={"data_dir": str(work / "var")}),
        "screen": base.screen.model_copy(update={"orientation": "landscape", "width": 0,
                                                 "height": 0, "fullscreen": False}),
        # Nobody listens offscreen: no speech process, no cue.
        "speech": base.speech.model_copy(update={"engine": "none", "scan_cue": False}),
    })
    # DemoRun builds the kiosk on the hall's clock (today's demo data fits the hour) and
    # signs resident codes at the kiosk's time.
    run = DemoRun(config, toml, out, "technician")
    kiosk = run.kiosk
    window = kiosk.window
    c = kiosk.controller
    bc = kiosk.bundle_controller
    camera = kiosk.camera
    printer = kiosk.printer_transport
    shots: list[Path] = []

    def shot(name: str, colours: int | None = COLOURS) -> None:
        settle(0.3)
        path = out / f"{name}.png"
        window.grab().save(str(path))
        with Image.open(path) as image:
            image = image.convert("RGB")
            if image.width > WIDTH:
                image = image.resize((WIDTH, round(image.height * WIDTH / image.width)),
                                     Image.Resampling.LANCZOS)
            if colours:
                image = image.quantize(colours, method=Image.Quantize.MEDIANCUT,
                                       dither=Image.Dither.NONE)
        image.save(path, optimize=True)
        shots.append(path)

    def jobs() -> int:
        return len(printer.jobs)  # type: ignore[attr-defined]

    def home() -> None:
        window.go_home("home")
        wait_until(lambda: window.current().name == ScreenName.HOME, 5)
        settle(0.3)

    def no_phone_ticket() -> None:
        tap(c.home.no_phone_button)
        wait_until(lambda: window.current().name == ScreenName.CATEGORY, 5)
        tap(c.category.buttons["social_security"])

    mc = install_maintenance(kiosk)
    mc.quit_app = lambda code: None  # the screenshots must not end the application
    mc.guard.reset()  # as `kiosk hash-pin` leaves a terminal: no state would read as locked

    def open_maintenance(pin_shot: str | None = None) -> None:
        for _ in range(5):
            QTest.mouseClick(window.title, Qt.MouseButton.LeftButton)
        wait_until(lambda: window.current().name == ScreenName.MAINTENANCE_PIN, 5)
        for ch in PIN[:3]:
            tap(mc.pin_screen.keypad.keys[ch])
        if pin_shot:
            shot(pin_shot)
        for ch in PIN[3:]:
            tap(mc.pin_screen.keypad.keys[ch])
        tap(mc.pin_screen.confirm_button)
        wait_until(lambda: window.current().name == ScreenName.MAINTENANCE, 10)
        # The real path is this run's temporary copy; show where an installed terminal has it.
        mc.screen.config_page.set_config(SHOWN_CONFIG_FILE, config_text(kiosk.config))

    def page(key: str) -> None:
        tap(mc.screen.nav_buttons[key])
        settle(1.2)  # live values refresh once a second

    try:
        # An ordinary morning: a resident scans a personal code, another has no phone.
        n = jobs()
        tap(c.home.scan_button)
        wait_until(lambda: window.current().name == ScreenName.SCAN, 5)
        camera.show_text(run.code(DEMO_RESIDENTS["ordinary"]))  # type: ignore[attr-defined]
        wait_until(lambda: window.current().name == ScreenName.CATEGORY, 10)
        camera.blank()  # type: ignore[attr-defined]
        tap(c.category.buttons["social_security"])
        wait_until(lambda: jobs() > n, 10)
        home()
        n = jobs()
        no_phone_ticket()
        wait_until(lambda: jobs() > n, 10)
        home()

        # 1. Printer out of paper: the resident's ticket is on screen only; the job is held.
        printer.set_fault(PrinterState.PAPER_OUT)  # type: ignore[attr-defined]
        settle(0.5)
        no_phone_ticket()
        wait_until(lambda: window.current().name == ScreenName.TICKET, 10)
        wait_until(c.ticket.print_problem.isVisible, 10)
        shot("fault-printer-paper-out")
        home()
        # The technician arrives: the printer page shows the fault and the held ticket.
        open_maintenance(pin_shot="maintenance-pin")
        page("printer")
        wait_until(lambda: len(kiosk.printing.held) > 0, 5)
        settle(1.2)
        shot("maintenance-printer-paper-out")
        # Before the camera fault below: the page would keep showing that fault's error.
        page("camera")
        # Holding a code in front of the camera: the page names its kind, never its content.
        camera.show_text(run.code(DEMO_RESIDENTS["aged_85"]))  # type: ignore[attr-defined]
        settle(2.0)
        shot("maintenance-camera", colours=None)
        camera.blank()  # type: ignore[attr-defined]
        page("printer")
        # Paper loaded: the held ticket waits for 补打暂停的凭条 (never prints by itself).
        printer.set_fault(None)  # type: ignore[attr-defined]
        tap(mc.screen.retry_button)
        wait_until(lambda: not kiosk.printing.held, 15)
        settle(1.5)
        shot("maintenance-printer")
        home()

        # 2. Camera unplugged: the scan screen says so and offers a ticket without a phone.
        camera.unplug()  # type: ignore[attr-defined]
        tap(c.home.scan_button)
        settle(3.0)  # judged stale after a second without fresh frames
        shot("fault-camera-unavailable")
        camera.plug()  # type: ignore[attr-defined]
        home()

        # 3. Backend unreachable: no ticket (never a duplicate) ...
        kiosk.link.set_mode("down")
        no_phone_ticket()
        wait_until(c.category.problem.isVisible, 15)
        shot("fault-backend-down-ticket")
        kiosk.link.set_mode("up")
        home()
        # ... and a 一件事 application filled in while it is up, submitted while it is down:
        # stored on the kiosk (outbox) and sent when the backend answers again.
        tap(c.home.service_buttons["bundles"])
        wait_until(lambda: window.current().name == ScreenName.BUNDLES, 5)
        tap(bc.list.buttons["retirement"])
        wait_until(lambda: window.current().name == ScreenName.WIZARD, 5)
        w = bc.wizard_screen
        for _ in range(40):
            wiz = bc.wizard
            assert wiz is not None
            step = wiz.current
            if step.kind is StepKind.IDENTIFY:
                camera.show_text(run.code(DEMO_RESIDENTS["ordinary"]))  # type: ignore[attr-defined]
                wait_until(lambda: bc.wizard.current.kind is not StepKind.IDENTIFY, 10)  # type: ignore[union-attr]
                camera.blank()  # type: ignore[attr-defined]
            elif step.kind is StepKind.QUESTION:
                q = wiz.bundle.question(step.ref)
                pick = next(o for o in q.options if not (o.then and o.then.ineligible))
                tap(w.option_buttons[pick.id])
            elif step.kind is StepKind.FIELD:
                field = wiz.bundle.form_field(step.ref)
                value = DEMO_VALUES[field.kind]
                if field.kind == "date" and not field.allow_past:
                    value = (c.ctx.clock().date() + dt.timedelta(days=7)).strftime("%Y%m%d")
                for ch in value:
                    w.keypad.keys[ch].click()
                tap(w.next_button)
            elif step.kind is StepKind.CONFIRM:
                kiosk.link.set_mode("down")
                tap(w.submit_button)
                wait_until(lambda: window.current().name == ScreenName.BUNDLE_RESULT, 30)
                break
            else:
                tap(w.next_button)
        else:
            raise RuntimeError("screenshots: the wizard did not reach its end")
        shot("fault-application-stored")
        home()

        # The technician, backend still down: the other pages of the maintenance screen.
        open_maintenance()
        page("link")
        tap(mc.screen.check_link_button)
        settle(3.0)  # the check's answer (here: a failure) and the outbox count
        shot("maintenance-link")
        page("errors")
        shot("maintenance-errors")
        for key in ("config", "stats", "bundles", "exit"):
            page(key)
            shot(f"maintenance-{key}")
        kiosk.link.set_mode("up")
        home()
    finally:
        kiosk.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    return shots


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img" / "technician"
    for path in main(target):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
