"""A personal code works once: not again after the kiosk restarts, and not at the
neighbouring kiosk of the same hall, within the code's minute and a half."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.app import Kiosk, build
from kiosk.backend.http_server import BackendHTTPServer
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.config.schema import HttpBackendConfig
from kiosk.domain.payloads import PayloadProblem
from kiosk.ui import messages
from tests.helpers.config import make_config
from tests.helpers.paths import SHIPPED_CONFIG
from tests.helpers.resident import Resident
from tests.helpers.waits import HANG_GUARD_MS, HANG_GUARD_S

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


@pytest.fixture
def hall_kiosks(qtbot, tmp_path: Path, server: BackendHTTPServer) -> Iterator[list[Kiosk]]:
    kiosks: list[Kiosk] = []
    for name in ("XH-01", "XH-02"):
        base = make_config(tmp_path / name)
        config = base.model_copy(update={
            "center": base.center.model_copy(update={"kiosk_id": name}),
            # A hang guard, not a limit: the server answers from a thread of this process.
            "backend": HttpBackendConfig(url=server.url + "/", connect_timeout_s=0.5,
                                         read_timeout_s=HANG_GUARD_S)})
        k = build(config, SHIPPED_CONFIG, kiosk_mode=False)
        k.window.show()
        kiosks.append(k)
    yield kiosks
    for k in kiosks:
        k.shutdown()


def test_a_code_used_at_one_kiosk_is_refused_at_the_next(hall_kiosks, qtbot):
    first, second = (Resident(k, qtbot) for k in hall_kiosks)
    code = first.code(ORDINARY)
    first.tap(first.c.home.scan_button)
    first.wait_screen("scan")
    first.show_phone(code)
    first.wait_screen("category")
    # The same phone (or a photo of it) at the neighbouring kiosk, within the code's life.
    shows_again(second, code)
