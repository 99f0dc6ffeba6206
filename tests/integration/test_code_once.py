"""A personal code works once: not again after the kiosk restarts, within the code's minute
and a half. (Not at the neighbouring kiosk of the same hall either: that needs the hall
server, tests/integration/test_http_backend.py.)"""

from __future__ import annotations

from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain.payloads import PayloadProblem
from kiosk.ui import messages
from tests.helpers.resident import Resident
from tests.helpers.waits import HANG_GUARD_MS

ORDINARY = DEMO_RESIDENTS["ordinary"]
USED = messages.payload_problem(PayloadProblem.REPLAYED)


def shows_again(resident: Resident, code: str) -> None:
    """The same phone held to the camera again: refused as used, and no category screen."""
    resident.tap(resident.c.home.scan_button)
    resident.wait_screen("scan")
    resident.show_phone(code)
    message = resident.c.scan.message
    resident.qtbot.waitUntil(lambda: message.isVisible() and message.text() == USED,
                             timeout=HANG_GUARD_MS)
    assert resident.screen == "scan"


def test_a_code_used_before_a_restart_is_refused_after_it(kiosk_factory, tmp_path, qtbot):
    data = tmp_path / "data"
    before = kiosk_factory(data_dir=data)
    resident = Resident(before, qtbot)
    code = resident.code(ORDINARY)
    resident.tap(resident.c.home.scan_button)
    resident.wait_screen("scan")
    resident.show_phone(code)
    resident.wait_screen("category")
    before.shutdown()  # systemd restarts the kiosk: a new process on the same data folder

    after = kiosk_factory(data_dir=data)
    shows_again(Resident(after, qtbot), code)
    # A fresh code of the same resident still works.
    Resident(after, qtbot).put_phone_away()
    after.window.go_home("home")
    Resident(after, qtbot).scan_in(ORDINARY)
