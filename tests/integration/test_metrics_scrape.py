"""The whole kiosk (offscreen, emulated printer) with its metrics on, scraped over HTTP as a
district's Prometheus would: the printer running out of paper shows in the first scrape after
the kiosk has noticed it, a printed ticket is counted, a scrape without the token is refused.

Every scrape here is made from the GUI thread, which waits for the answer without running
its event loop: the endpoint answers without the GUI thread, or these tests would hang.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from kiosk.app import Kiosk, build
from kiosk.backend.seed import hall_hours_clock
from kiosk.common.clock import shanghai_now
from kiosk.config.schema import MetricsConfig
from kiosk.hardware.printer.errors import PrinterState
from tests.helpers.config import make_config
from tests.helpers.paths import SHIPPED_CONFIG
from tests.helpers.resident import Resident
from tests.helpers.waits import HANG_GUARD_MS, HANG_GUARD_S

TOKEN = "kiosk-metrics-test-token-0123456789"
PRINTER_STATES = ("ok", "paper_near_end", "paper_out", "cover_open", "silent", "unknown")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def kiosk(qtbot, tmp_path) -> Iterator[Kiosk]:
    token_file = tmp_path / "metrics-token"
    token_file.write_text(TOKEN + "\n", "ascii")
    base = make_config(tmp_path / "data")
    config = base.model_copy(update={"metrics": MetricsConfig(
        enabled=True, port=free_port(), token_file=str(token_file))})
    k = build(config, SHIPPED_CONFIG, kiosk_mode=False, clock=hall_hours_clock(shanghai_now))
    k.window.show()
    yield k
    k.shutdown()


def scrape(kiosk: Kiosk, token: str | None = TOKEN) -> requests.Response:
    assert kiosk.metrics_server is not None, "the metrics endpoint did not start (see the log)"
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with requests.Session() as s:
        s.trust_env = False
        return s.get(f"http://127.0.0.1:{kiosk.metrics_server.port}/metrics", headers=headers,
                     timeout=HANG_GUARD_S)


def scraped(kiosk: Kiosk) -> Samples:
    r = scrape(kiosk)
    assert r.status_code == 200, r.text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def printer_states(found: Samples) -> dict[str, float | None]:
    return {s: value(found, "kiosk_printer_state", state=s) for s in PRINTER_STATES}


def take_anonymous_ticket(kiosk: Kiosk, resident: Resident) -> None:
    resident.tap(kiosk.controller.home.no_phone_button)
    resident.wait_screen("category")
    resident.tap(kiosk.controller.category.buttons["social_security"])
    resident.wait_screen("ticket")


def test_paper_out_shows_in_the_next_scrape_and_tickets_are_counted(kiosk, qtbot):
    resident = Resident(kiosk, qtbot)
    metrics = kiosk.metrics
    assert metrics is not None
    qtbot.waitUntil(lambda: metrics.printer == "ok", timeout=HANG_GUARD_MS)
    found = scraped(kiosk)
    assert printer_states(found) == {s: float(s == "ok") for s in PRINTER_STATES}
    assert value(found, "kiosk_info", version="0.1.0", center=kiosk.config.center.name,
                 kiosk=kiosk.config.center.kiosk_id) == 1
    assert value(found, "kiosk_outbox_items") == 0
    assert value(found, "kiosk_tickets_total", outcome="printed") == 0

    # A ticket, printed.
    with qtbot.waitSignal(kiosk.printing.jobFinished, timeout=HANG_GUARD_MS):
        take_anonymous_ticket(kiosk, resident)
    found = scraped(kiosk)
    assert value(found, "kiosk_tickets_total", outcome="issued") == 1
    assert value(found, "kiosk_tickets_total", outcome="printed") == 1
    ok_calls = value(found, "kiosk_backend_request_duration_seconds_count", outcome="ok")
    assert ok_calls is not None and ok_calls >= 1  # the ticket's issue, through the link
    assert printer_states(found)["ok"] == 1

    # The paper runs out while nobody prints. Once the kiosk has noticed, the very next
    # scrape says so.
    kiosk.window.go_home()
    metrics.printer_timer.setInterval(50)  # the idle read, every 30 s on a terminal
    with qtbot.waitSignal(metrics.printerStateChanged, timeout=HANG_GUARD_MS,
                          check_params_cb=lambda state: state == "paper_out"):
        kiosk.printer_transport.set_fault(PrinterState.PAPER_OUT)
    found = scraped(kiosk)
    assert printer_states(found) == {s: float(s == "paper_out") for s in PRINTER_STATES}

    # The next resident's ticket is held for a reprint.
    with qtbot.waitSignal(kiosk.printing.jobHeld, timeout=HANG_GUARD_MS):
        take_anonymous_ticket(kiosk, resident)
    found = scraped(kiosk)
    assert value(found, "kiosk_tickets_total", outcome="issued") == 2
    assert value(found, "kiosk_tickets_total", outcome="held") == 1
    assert value(found, "kiosk_printer_jobs_held") == 1
    assert printer_states(found)["paper_out"] == 1

    # Paper loaded: back to ok in the scrape after the kiosk has seen it.
    with qtbot.waitSignal(metrics.printerStateChanged, timeout=HANG_GUARD_MS,
                          check_params_cb=lambda state: state == "ok"):
        kiosk.printer_transport.set_fault(None)
    assert printer_states(scraped(kiosk)) == {s: float(s == "ok") for s in PRINTER_STATES}


def test_a_scrape_without_the_token_is_refused_and_counted(kiosk):
    assert scrape(kiosk, token=None).status_code == 401
    wrong = scrape(kiosk, token="not-the-token-0123456789")
    assert wrong.status_code == 401
    assert "kiosk_" not in wrong.text  # nothing of the figures
    assert value(scraped(kiosk), "kiosk_metrics_unauthorized_requests_total") == 2


def test_the_endpoint_closes_with_the_kiosk(kiosk):
    assert kiosk.metrics_server is not None
    port = kiosk.metrics_server.port
    assert scrape(kiosk).status_code == 200
    kiosk.shutdown()
    with pytest.raises(requests.ConnectionError), requests.Session() as s:
        s.trust_env = False
        s.get(f"http://127.0.0.1:{port}/metrics", timeout=HANG_GUARD_S)
