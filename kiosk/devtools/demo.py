"""`kiosk demo`: scripted resident sessions, offscreen, on emulated hardware.

It walks the real UI the way a resident would (taps on the real buttons, codes shown to the
emulated camera) and writes a PNG of every screen it passes, plus each printed ticket as the
raw bytes the printer received and as a paper-like PNG. Used on machines without a display
and by people reviewing the screens.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kiosk.config.schema import KioskConfig
from kiosk.ui.screen_names import ScreenName

if TYPE_CHECKING:
    from PySide6.QtCore import QCoreApplication

    from kiosk.app import Kiosk
    from kiosk.config.schema import EmulatedCameraConfig, IdCardDevice
    from kiosk.domain.wizard import StepKind, Wizard
    from kiosk.hardware.printer.emulated import EmulatedPrinter


class SceneControls(Protocol):
    """What the scripts do with the emulated camera: `EmulatedSource` under thread
    isolation, the `CameraProxy` that forwards to the worker's under process isolation."""

    def show_text(self, text: str, *, dark: bool = False) -> None: ...
    def blank(self) -> None: ...
    def unplug(self) -> None: ...
    def plug(self) -> None: ...


class Clickable(Protocol):
    def click(self) -> None: ...


def emulated_camera(kiosk: Kiosk) -> SceneControls:
    """The kiosk's camera controls; the scripts configure the emulated camera."""
    # `Kiosk.camera` is whichever camera the config chose, so it is untyped there.
    camera: SceneControls = kiosk.camera
    return camera


def emulated_printer(kiosk: Kiosk) -> EmulatedPrinter:
    """The kiosk's printer, which must be the emulated one: the scripts read its jobs."""
    from kiosk.hardware.printer.emulated import EmulatedPrinter

    transport = kiosk.printer_transport
    if not isinstance(transport, EmulatedPrinter):
        raise RuntimeError("the demo and the simulator need printer.kind = \"emulated\"")
    return transport


def offscreen_app() -> QCoreApplication:
    """The process's QApplication, made offscreen unless a display is there to show it."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication(["kiosk-demo"])


def wait_until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    # A hang guard, never a deadline: the demo, the simulator and the tests that drive them
    # share loaded machines, where a step that works may take many times its usual time.
    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop

    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("demo: the kiosk did not reach the expected state in time")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        # Outside app.exec() Qt runs no deferred deletions by itself; the kiosk's real event
        # loop does, so do it here too or every rebuilt page would pile up.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        time.sleep(0.01)


def settle(seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    wait_until(lambda: time.monotonic() > end, seconds + 5)


class DemoRun:
    def __init__(self, config: KioskConfig, config_file: Path, out: Path, tag: str) -> None:
        from kiosk.app import build
        from kiosk.backend.seed import hall_hours_clock
        from kiosk.common.clock import shanghai_now
        from kiosk.devtools.codes import code_text
        from kiosk.domain import payloads

        self.out = out
        self.tag = tag
        self.written: list[Path] = []
        # The hall's day, whatever the hour: the scripted check-in must find an appointment
        # that is over even when the demo runs just after midnight.
        self.kiosk = build(config, config_file, kiosk_mode=False,
                           clock=hall_hours_clock(shanghai_now))
        key_file = self.kiosk.paths.config_dir / config.qr.demo_signing_key
        self._key = payloads.load_private_key(key_file.read_bytes())
        self._key_id = config.qr.demo_key_id
        self._code_text = code_text
        self.kiosk.window.show()
        settle(0.5)

    @property
    def camera(self) -> SceneControls:
        return emulated_camera(self.kiosk)

    @property
    def printer(self) -> EmulatedPrinter:
        return emulated_printer(self.kiosk)

    def code(self, resident: str, variant: str = "valid") -> str:
        # Signed at the kiosk's time, which the hall clock sets apart from the wall clock.
        now = self.kiosk.controller.ctx.clock().timestamp()
        return self._code_text(self._key, self._key_id, resident, variant, now=now)

    def shot(self, name: str) -> None:
        settle(0.4)
        path = self.out / f"{self.tag}-{len(self.written):02d}-{name}.png"
        self.kiosk.window.grab().save(str(path))
        self.written.append(path)

    def current(self) -> ScreenName:
        return self.kiosk.window.current().name

    def wait_printed(self, before: int) -> None:
        """Wait until the printer has more than `before` jobs."""
        wait_until(lambda: len(self.printer.jobs) > before)

    def tap(self, button: Clickable) -> None:
        button.click()

    def save_ticket(self, name: str, data: bytes) -> None:
        from kiosk.devtools.escpos_render import render_png

        bin_path = self.out / f"{self.tag}-{name}.bin"
        bin_path.write_bytes(data)
        png_path = self.out / f"{self.tag}-{name}-paper.png"
        render_png(data, paper_dots=self.kiosk.config.printer.paper_dots()).save(png_path)
        self.written += [bin_path, png_path]

    def session_scan(self, resident: str, category: str, name: str) -> None:
        c = self.kiosk.controller
        jobs = len(self.printer.jobs)
        self.tap(c.home.scan_button)
        wait_until(lambda: self.current() == ScreenName.SCAN)
        self.shot(f"{name}-scan")
        self.camera.show_text(self.code(resident))
        wait_until(lambda: self.current() == ScreenName.CATEGORY)
        self.camera.blank()
        self.shot(f"{name}-category")
        self.tap(c.category.buttons[category])
        wait_until(lambda: self.current() == ScreenName.TICKET)
        self.wait_printed(jobs)
        self.shot(f"{name}-ticket")
        self.save_ticket(f"{name}-ticket", self.printer.jobs[-1])
        self.tap(c.ticket.done_button)
        wait_until(lambda: self.current() == ScreenName.HOME)

    def session_card(self, resident: str, category: str, name: str) -> None:
        """A resident without a phone places their ID card on the (emulated) reader."""
        from kiosk.hardware.id_card.emulated import demo_card

        device = self.kiosk.id_card_device
        person = self.kiosk.backend.identify(resident)
        if device is None or person is None:
            return
        c = self.kiosk.controller
        jobs = len(self.printer.jobs)
        self.tap(c.home.scan_button)
        wait_until(lambda: self.current() == ScreenName.SCAN)
        wait_until(lambda: c.scan.card_hint.isVisible())
        self.shot(f"{name}-scan")
        device.place(demo_card(person.name, person.id_number,
                               self.kiosk.controller.ctx.clock().date()))
        wait_until(lambda: self.current() == ScreenName.CATEGORY)
        self.shot(f"{name}-category")
        self.tap(c.category.buttons[category])
        wait_until(lambda: self.current() == ScreenName.TICKET)
        self.wait_printed(jobs)
        self.shot(f"{name}-ticket")
        self.save_ticket(f"{name}-ticket", self.printer.jobs[-1])
        self.tap(c.ticket.done_button)
        wait_until(lambda: self.current() == ScreenName.HOME)
        device.remove()

    def bundle_session(self, bundle_id: str, resident: str) -> None:
        """Every wizard step of one bundle, as a resident answers it."""
        from kiosk.domain.wizard import StepKind
        from kiosk.ui.screens.rating import RatingScreen

        c = self.kiosk.controller
        bc = self.kiosk.bundle_controller
        w = bc.wizard_screen
        self.tap(c.home.service_buttons["bundles"])
        wait_until(lambda: self.current() == ScreenName.BUNDLES)
        self.shot("bundle-list")
        self.tap(bc.list.buttons[bundle_id])
        wait_until(lambda: self.current() == ScreenName.WIZARD)
        for _ in range(40):
            wiz = bc.wizard
            assert wiz is not None
            step = wiz.current
            self.shot(f"bundle-{wiz.index + 1:02d}-{step.kind.value}")
            if step.kind is StepKind.IDENTIFY:
                self.camera.show_text(self.code(resident))
                wait_until(lambda: _step_kind(bc.wizard) is not StepKind.IDENTIFY)
                self.camera.blank()
            elif step.kind is StepKind.QUESTION:
                q = wiz.bundle.question(step.ref)
                pick = next(o for o in q.options if not (o.then and o.then.ineligible))
                self.tap(w.option_buttons[pick.id])
            elif step.kind is StepKind.FIELD:
                value = demo_value(wiz, step.ref)
                for ch in value:
                    self.tap(w.keypad.keys[ch])
                self.shot(f"bundle-{wiz.index + 1:02d}-field-typed")
                self.tap(w.next_button)
            elif step.kind is StepKind.CONFIRM:
                jobs = len(self.printer.jobs)
                # The confirm step is on screen, and with it its submit button.
                assert w.submit_button is not None
                self.tap(w.submit_button)
                wait_until(lambda: self.current() == ScreenName.BUNDLE_RESULT)
                self.wait_printed(jobs)
                self.shot("bundle-result")
                self.save_ticket("bundle-receipt", self.printer.jobs[-1])
                self.tap(bc.result.rate_button)
                wait_until(lambda: self.current() == ScreenName.RATING)
                rating = self.kiosk.window.current()
                assert isinstance(rating, RatingScreen)  # the wait above saw its name
                self.tap(rating.level_buttons[5])
                self.tap(rating.reason_buttons["clear_guidance"])
                self.shot("rating")
                self.tap(rating.submit_button)
                wait_until(rating.thanks.isVisible)
                self.shot("rating-thanks")
                self.tap(rating.done_button)
                wait_until(lambda: self.current() == ScreenName.HOME)
                return
            else:
                self.tap(w.next_button)
        raise RuntimeError("demo: the wizard did not reach its end")

    def other_services(self, residents: dict[str, str]) -> None:
        c = self.kiosk.controller
        # 办件查询 with the resident's personal code.
        self.tap(c.home.service_buttons["query"])
        wait_until(lambda: self.current() == ScreenName.QUERY_SCAN)
        self.camera.show_text(self.code(residents["ordinary"]))
        wait_until(lambda: self.current() == ScreenName.QUERY_RESULT)
        self.camera.blank()
        self.shot("query-result")
        self.kiosk.window.go_home("home")
        # 预约签到, too late: the explanation.
        self.tap(c.home.service_buttons["checkin"])
        wait_until(lambda: self.current() == ScreenName.CHECKIN_SCAN)
        self.camera.show_text(self.code(residents["appointment_passed"]))
        wait_until(lambda: self.current() == ScreenName.CHECKIN_RESULT)
        self.camera.blank()
        self.shot("checkin-too-late")
        # 帮办 from there.
        self.tap(self.kiosk.window.help_button)
        wait_until(lambda: self.current() == ScreenName.HELP)
        settle(0.3)
        self.shot("help")
        self.kiosk.window.go_home("home")

    def run(self) -> list[Path]:
        from kiosk.backend.seed import DEMO_RESIDENTS

        c = self.kiosk.controller
        try:
            self.shot("home")
            self.session_scan(DEMO_RESIDENTS["ordinary"], "social_security", "resident")
            self.session_scan(DEMO_RESIDENTS["aged_85"], "medical_insurance", "aged85")
            # No phone, the ID card: the same priority as the code gives.
            self.session_card(DEMO_RESIDENTS["aged_80_birthday_today"], "social_security",
                              "idcard")
            # No phone: anonymous ticket.
            jobs = len(self.printer.jobs)
            self.tap(c.home.no_phone_button)
            wait_until(lambda: self.current() == ScreenName.CATEGORY)
            self.shot("nophone-category")
            self.tap(c.category.buttons["household"])
            self.wait_printed(jobs)
            self.shot("nophone-ticket")
            self.save_ticket("nophone-ticket", self.printer.jobs[-1])
            self.tap(c.ticket.done_button)
            wait_until(lambda: self.current() == ScreenName.HOME)
            # A screenshot replayed after expiry: refused with its own message.
            self.tap(c.home.scan_button)
            wait_until(lambda: self.current() == ScreenName.SCAN)
            self.camera.show_text(self.code(DEMO_RESIDENTS["ordinary"], "expired"))
            wait_until(lambda: c.scan.message.isVisible())
            self.shot("expired-code")
            self.camera.blank()
            # The idle countdown.
            self.kiosk.window.set_idle_timeout(0.2)
            self.kiosk.window.keep_alive()
            wait_until(lambda: self.kiosk.window.countdown_active())
            self.shot("idle-countdown")
            self.kiosk.window.go_home("idle")
            session = self.kiosk.config.session
            self.kiosk.window.set_idle_timeout(session.idle_timeout_s - session.idle_countdown_s)
            self.bundle_session("retirement", DEMO_RESIDENTS["ordinary"])
            self.other_services(DEMO_RESIDENTS)
        finally:
            self.kiosk.shutdown()
        return self.written


def _step_kind(wizard: Wizard | None) -> StepKind:
    # The wizard lives as long as its screen, which the scripts do not leave mid-step.
    assert wizard is not None
    return wizard.current.kind


# What the demo resident types on the keypad, by field kind (valid, fictional values).
DEMO_VALUES = {
    "phone": "13900001234",
    "bank_card": "6222020200112233446",
    "date": "20200115",
    "id_number": "310104198001011239",
    # The ordinary demo resident's late father (kiosk.backend.seed.DEMO_PERSONS).
    "other_id_number": "310104195003081173",
    "digits": "123456",
}


def demo_value(wizard: Wizard, field_id: str) -> str:
    """What the demo resident types in a field: DEMO_VALUES by kind, and for a date a day
    the field accepts today (a week after its earliest day, when it has one)."""
    field = wizard.bundle.form_field(field_id)
    if field.kind != "date":
        return DEMO_VALUES[field.kind]
    low, high = wizard.date_range(field_id)
    day = dt.date.fromisoformat("2020-01-15") if low is None else low + dt.timedelta(days=7)
    if high is not None and day > high:
        day = high
    return day.strftime("%Y%m%d")


def run_demo(config: KioskConfig, config_file: Path, out: Path,
             orientation: str = "both") -> list[Path]:
    app = offscreen_app()
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    orientations = ["landscape", "portrait"] if orientation == "both" else [orientation]
    for o in orientations:
        data = Path(tempfile.mkdtemp(prefix="kiosk-demo-"))
        try:
            cfg = config.model_copy(
                update={
                    "screen": config.screen.model_copy(update={"orientation": o,
                                                               "width": 0, "height": 0}),
                    "camera": _blank_camera(config),
                    "paths": config.paths.model_copy(update={"data_dir": str(data)}),
                    "id_card": _demo_id_card(config),
                }
            )
            written += DemoRun(cfg, config_file, out, o).run()
        finally:
            shutil.rmtree(data, ignore_errors=True)
    app.processEvents()
    return written


def _demo_id_card(config: KioskConfig) -> IdCardDevice:
    """The emulated ID card reader, where the config has no reader and the backend is the
    embedded one: the demo shows a resident without a phone using their card, made from the
    backend's own record of them (a hall never sends the number and the full name)."""
    from kiosk.config.schema import EmulatedIdCardConfig

    if config.id_card.kind == "none" and config.backend.kind == "embedded":
        return EmulatedIdCardConfig()
    return config.id_card


def _blank_camera(config: KioskConfig) -> EmulatedCameraConfig:
    from kiosk.config.schema import EmulatedCameraConfig

    # The demo shows codes itself, at the moments the script chooses.
    return EmulatedCameraConfig(source="blank")



# --- 长辈模式 screenshots: Home, a bundle step and a ticket, in each language and mode --------

MODE_SHOTS = [("zh", False), ("zh", True), ("en", False), ("en", True)]


class ModeShots(DemoRun):
    """One resident's session in a language and mode, chosen on Home with the real toggles:
    Home, the first question of 退休一件事, and an 85-year-old's ticket."""

    def choose(self, language: str, elder: bool) -> None:
        w = self.kiosk.window
        if language != w.language:
            self.tap(w.language_button)
        if elder != w.elder:
            self.tap(w.elder_button)

    def save(self, name: str) -> None:
        from PIL import Image

        settle(0.4)
        path = self.out / f"{self.tag}-{name}.png"
        self.kiosk.window.grab().save(str(path))
        # For the docs: 128 colours look the same on a UI of flat colours, at a third of
        # the bytes in the repository.
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(128, method=Image.Quantize.MEDIANCUT,
                                                  dither=Image.Dither.NONE)
        small.save(path, optimize=True)
        self.written.append(path)

    def run_modes(self, language: str, elder: bool) -> list[Path]:
        from kiosk.backend.seed import DEMO_RESIDENTS
        from kiosk.domain.wizard import StepKind

        k = self.kiosk
        c = k.controller
        bc = k.bundle_controller
        camera = emulated_camera(k)
        try:
            self.choose(language, elder)
            self.save("home")
            if elder:  # the services are on Home's second page
                self.tap(c.home.more_button)
                wait_until(lambda: self.current() == ScreenName.SERVICES)
                self.tap(c.services.service_buttons["bundles"])
            else:
                self.tap(c.home.service_buttons["bundles"])
            wait_until(lambda: self.current() == ScreenName.BUNDLES)
            self.tap(bc.list.buttons["retirement"])
            wait_until(lambda: self.current() == ScreenName.WIZARD)
            self.tap(bc.wizard_screen.next_button)
            wait_until(lambda: bc.wizard is not None
                       and bc.wizard.current.kind is StepKind.IDENTIFY)
            camera.show_text(self.code(DEMO_RESIDENTS["ordinary"]))
            wait_until(lambda: bc.wizard is not None
                       and bc.wizard.current.kind is StepKind.QUESTION)
            camera.blank()
            self.save("bundle")
            k.window.go_home("home")
            self.choose(language, elder)
            jobs = len(emulated_printer(k).jobs)
            self.tap(c.home.scan_button)
            wait_until(lambda: self.current() == ScreenName.SCAN)
            camera.show_text(self.code(DEMO_RESIDENTS["aged_85"]))
            wait_until(lambda: self.current() == ScreenName.CATEGORY)
            camera.blank()
            self.tap(c.category.buttons["social_security"])
            wait_until(lambda: self.current() == ScreenName.TICKET)
            wait_until(lambda: len(emulated_printer(k).jobs) > jobs)
            wait_until(lambda: not c.ticket.print_status.text().endswith("…"))
            self.save("ticket")
        finally:
            k.shutdown()
        return self.written


def mode_screenshots(config: KioskConfig, config_file: Path, out: Path,
                     orientation: str = "landscape") -> list[Path]:
    """{zh,en}-{normal,elder}-{home,bundle,ticket}.png in `out` (docs/img/elder)."""
    app = offscreen_app()
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for language, elder in MODE_SHOTS:
        data = Path(tempfile.mkdtemp(prefix="kiosk-shots-"))
        try:
            cfg = config.model_copy(update={
                "screen": config.screen.model_copy(update={"orientation": orientation,
                                                           "width": 0, "height": 0}),
                "camera": _blank_camera(config),
                "paths": config.paths.model_copy(update={"data_dir": str(data)}),
                # Nobody listens offscreen: no speech process, no cue.
                "speech": config.speech.model_copy(update={"engine": "none",
                                                           "scan_cue": False}),
            })
            tag = f"{language}-{'elder' if elder else 'normal'}"
            written += ModeShots(cfg, config_file, out, tag).run_modes(language, elder)
        finally:
            shutil.rmtree(data, ignore_errors=True)
    app.processEvents()
    return written
