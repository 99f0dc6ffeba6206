"""The whole kiosk with `backend.kind = "http"` against a real hall backend server on this
machine: a resident gets a ticket end to end; with the server stopped an application is
已暂存 in the outbox and delivered once, when the server is back."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.app import Kiosk, build
from kiosk.backend.http_server import BackendHTTPServer, serve
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.config.schema import HttpBackendConfig
from kiosk.delivery.http_client import HttpBackend
from kiosk.domain import payloads
from kiosk.ui import messages
from tests.helpers.config import make_config
from tests.helpers.paths import SHIPPED_CONFIG
from tests.helpers.resident import Resident
from tests.helpers.waits import HANG_GUARD_MS, HANG_GUARD_S
from tests.integration.test_bundles_ui import SHIPPED_BUNDLES, Walker

ORDINARY = DEMO_RESIDENTS["ordinary"]


@pytest.fixture
def http_kiosk(qtbot, tmp_path: Path, server: BackendHTTPServer, caplog) -> Iterator[Kiosk]:
    caplog.set_level(logging.INFO)
    base = make_config(tmp_path / "kiosk-data")
    config = base.model_copy(update={"backend": HttpBackendConfig(
        # The hall server answers from a thread of this busy process: its read timeout is a
        # hang guard here, so a loaded machine's slow answer is not taken for a dead backend.
        url=server.url + "/", connect_timeout_s=0.5, read_timeout_s=HANG_GUARD_S)})
    kiosk = build(config, SHIPPED_CONFIG, kiosk_mode=False)
    kiosk.window.show()
    yield kiosk
    kiosk.shutdown()


def test_a_resident_gets_a_ticket_through_the_hall_backend(http_kiosk, hall, qtbot, caplog):
    kiosk = http_kiosk
    assert isinstance(kiosk.backend, HttpBackend)
    started = "\n".join(r.getMessage() for r in caplog.get_records("setup"))
    assert "plain http" in started  # http:// (loopback only) warns at every start
    resident = Resident(kiosk, qtbot)
    resident.scan_in(ORDINARY)  # identify() over HTTP
    resident.tap(kiosk.controller.category.buttons["social_security"])
    resident.wait_screen("ticket")
    shown = kiosk.controller.ticket.ticket
    assert shown is not None and re.fullmatch(r"A\d{3}", shown.number)
    printed = resident.wait_printout(0)
    assert shown.number in printed.text
    # Issued by the hall's database, not by a local one.
    assert hall.queue_figures()["social_security"].waiting == 1
    assert not (kiosk.paths.data_dir / "kiosk.sqlite3").exists()
    # The hall's signing key was fetched on a worker at start: its codes verify here.
    qtbot.waitUntil(lambda: set(hall.trusted_keys()) <= set(kiosk.backend.trusted_keys()),
                    timeout=HANG_GUARD_MS)
    assert kiosk.verifier.verify(printed.qr_texts[0], payloads.Kind.TICKET)
    assert "GET /v1/residents/{id} -> 200" in caplog.text
    assert ORDINARY not in caplog.text + started  # log lines name routes, not residents


def test_application_waits_in_the_outbox_while_the_server_is_down(http_kiosk, hall, server,
                                                                 qtbot):
    kiosk = http_kiosk
    resident = Resident(kiosk, qtbot)
    port = server.port
    walker = Walker(kiosk, resident)
    bundle = SHIPPED_BUNDLES[0]
    walker.open(bundle.id)
    walker.walk(bundle, ORDINARY)
    server.stop()  # the hall backend goes away (its open connections too)
    jobs = len(resident.jobs())
    resident.tap(walker.screen.submit_button)
    resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    result = kiosk.bundle_controller.result
    assert result.heading.text() == "申请已暂存"
    shown = "\n".join(w.text() for w in result.findChildren(type(result.heading)))
    assert messages.application_stored() in shown
    assert kiosk.outbox.pending()[0] == 1
    assert "BackendNotReached" in kiosk.outbox.all_items()[-1].last_error  # refused: never sent
    assert hall.applications_of(ORDINARY) == []
    assert len(resident.jobs()) == jobs  # no receipt without a reference

    back = serve(hall, "127.0.0.1", port)  # the backend returns at the same address
    try:
        kiosk.outbox._conn.execute("UPDATE outbox SET next_at = 0")
        kiosk.delivery.drain()
        qtbot.waitUntil(lambda: kiosk.outbox.pending()[0] == 0, timeout=HANG_GUARD_MS)
        kiosk.outbox._conn.execute("UPDATE outbox SET next_at = 0")
        kiosk.delivery.drain()  # a second drain sends nothing again
        qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    finally:
        back.stop()
    apps = hall.applications_of(ORDINARY)
    assert len(apps) == 1 and apps[0].bundle_id == bundle.id


def test_no_ticket_while_the_server_is_down(http_kiosk, server, qtbot):
    kiosk = http_kiosk
    resident = Resident(kiosk, qtbot)
    server.stop()
    resident.tap(kiosk.controller.home.no_phone_button)
    resident.wait_screen("category")
    resident.tap(kiosk.controller.category.buttons["social_security"])
    problem = kiosk.controller.category.problem
    qtbot.waitUntil(problem.isVisible, timeout=HANG_GUARD_MS)
    assert problem.text() == messages.ticket_unavailable("12345")
    assert resident.screen == "category" and resident.jobs() == []
