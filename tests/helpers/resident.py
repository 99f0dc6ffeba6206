"""A resident at the kiosk, for integration tests: taps, shows a phone code, takes the printout."""

from __future__ import annotations

from kiosk.app import Kiosk
from kiosk.devtools.codes import code_text
from kiosk.domain import payloads
from tests.helpers.printout import Printed, read_printout
from tests.helpers.waits import HANG_GUARD_MS


class Resident:
    """A person at the kiosk: taps buttons and holds a phone to the emulated camera."""

    def __init__(self, kiosk: Kiosk, qtbot) -> None:
        self.kiosk = kiosk
        self.qtbot = qtbot
        self.c = kiosk.controller
        key_file = kiosk.paths.config_dir / kiosk.config.qr.demo_signing_key
        self.key = payloads.load_private_key(key_file.read_bytes())

    @property
    def screen(self) -> str:
        return self.kiosk.window.current().name

    def wait_screen(self, name: str, timeout: int = HANG_GUARD_MS) -> None:
        self.qtbot.waitUntil(lambda: self.screen == name, timeout=timeout)

    def tap(self, button) -> None:
        from PySide6.QtCore import Qt

        assert button.isVisible() and button.isEnabled(), button.text()
        self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def code(self, resident_id: str, variant: str = "valid") -> str:
        # Signed at the kiosk's own time, so tests that move the kiosk's clock stay valid.
        now = self.kiosk.controller.ctx.clock().timestamp()
        return code_text(self.key, "demo", resident_id, variant, now=now)

    def show_phone(self, text: str) -> None:
        self.kiosk.camera.show_text(text)

    def put_phone_away(self) -> None:
        self.kiosk.camera.blank()

    def jobs(self) -> list[bytes]:
        return list(self.kiosk.printer_transport.jobs)

    def wait_printout(self, count_before: int, timeout: int = HANG_GUARD_MS) -> Printed:
        self.qtbot.waitUntil(lambda: len(self.jobs()) > count_before, timeout=timeout)
        return read_printout(self.jobs()[-1])

    def scan_in(self, resident_id: str) -> None:
        self.tap(self.c.home.scan_button)
        self.wait_screen("scan")
        self.show_phone(self.code(resident_id))
        self.wait_screen("category", timeout=HANG_GUARD_MS)
        self.put_phone_away()
