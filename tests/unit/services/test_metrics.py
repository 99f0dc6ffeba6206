"""The terminal's metrics: what each collector reports, and the endpoint that serves them
(bearer token, a busy server, a port taken) without the GUI thread."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import shiboken6
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from PySide6.QtCore import QObject, Signal

from kiosk.backend.interface import AlreadyCheckedIn, BackendError, NotFound
from kiosk.config.schema import MetricsConfig, read_metrics_token
from kiosk.delivery.faults import BackendTimeout, FaultyLink
from kiosk.delivery.outbox import Outbox
from kiosk.domain.printdoc import Cut, PrintDocument, Text
from kiosk.hardware.printer.emulated import EmulatedPrinter
from kiosk.hardware.printer.errors import PrinterState, PrinterStatus
from kiosk.hardware.printer.escpos_layout import PrinterProfile
from kiosk.hardware.printer.printer import Printer
from kiosk.services.metrics import (
    MAX_CONNECTIONS,
    KioskMetrics,
    MetricsServer,
    backend_outcome,
    clock_synchronized,
    printer_state,
    serve_metrics,
)
from kiosk.services.printing import PrintService
from tests.helpers.waits import HANG_GUARD_MS, HANG_GUARD_S, poll_until

TOKEN = "0123456789abcdef-test-token"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def read(metrics: KioskMetrics) -> Samples:
    return samples(generate_latest(metrics.registry).decode())


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


class FakeScanner(QObject):
    """LazyScanner's side the metrics read: state, its signals, and peek()."""

    cameraStateChanged = Signal(str)
    stats = Signal(dict)

    def __init__(self) -> None:
        super().__init__()
        self.state = "starting"
        self.real: object | None = None

    def peek(self) -> object | None:
        return self.real


class FakeRealScanner:
    def __init__(self, at: float) -> None:
        self.at = at

    def last_frame_at(self) -> float:
        return self.at


class FakeDelivery(QObject):
    answered = Signal(str, str)


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic() -> Clock:
    return Clock()


@pytest.fixture
def metrics(qtbot, monotonic) -> Iterator[KioskMetrics]:
    m = KioskMetrics(version="9.9", center="某街道中心", kiosk_id="XH-01",
                     wall_clock=lambda: 1_700_000_000.0, monotonic=monotonic,
                     clock_state=lambda: True)
    yield m
    m.stop()


# --- the mappings --------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "state"), [
    (PrinterStatus.ok(), "ok"),
    (PrinterStatus(PrinterState.PAPER_NEAR_END), "paper_near_end"),
    (PrinterStatus(PrinterState.PAPER_OUT), "paper_out"),
    (PrinterStatus(PrinterState.COVER_OPEN), "cover_open"),
    (PrinterStatus(PrinterState.OFFLINE), "silent"),
    (PrinterStatus(PrinterState.ERROR), "silent"),
    (PrinterStatus.unknown("no answer to DLE EOT"), "silent"),
    (PrinterStatus.unreadable("realtime_status = false"), "unknown"),
])
def test_printer_states_are_the_contracts(status, state):
    assert printer_state(status) == state


@pytest.mark.parametrize(("exc", "outcome"), [
    (None, "ok"),
    (NotFound("no such ticket"), "ok"),  # the backend answered: a refusal
    (AlreadyCheckedIn("done already"), "ok"),
    (ValueError("closed today"), "ok"),
    (BackendTimeout("no answer within 10 s"), "error"),
    (BackendError("HTTP 503"), "error"),
    (OSError("network unreachable"), "error"),
    (RuntimeError("a bug"), "error"),
])
def test_a_backend_call_is_an_error_only_when_the_request_failed(exc, outcome):
    assert backend_outcome(exc) == outcome


def test_the_kernel_is_asked_whether_the_clock_is_synchronised():
    # This machine's answer may be either (a container's clock is often unsynchronised);
    # on Linux adjtimex always answers, and reading it needs no privilege.
    assert clock_synchronized() in (True, False)


# --- the registry --------------------------------------------------------------------------
def test_a_fresh_terminal_reports_every_series_of_the_contract(metrics):
    found = read(metrics)
    assert value(found, "kiosk_info", version="9.9", center="某街道中心", kiosk="XH-01") == 1
    assert value(found, "kiosk_start_time_seconds") == 1_700_000_000.0
    for outcome in ("issued", "printed", "held", "failed"):
        assert value(found, "kiosk_tickets_total", outcome=outcome) == 0
    for outcome in ("submitted", "queued_offline", "failed"):
        assert value(found, "kiosk_applications_total", outcome=outcome) == 0
    assert value(found, "kiosk_ratings_total") == 0
    assert value(found, "kiosk_help_calls_total") == 0
    assert value(found, "kiosk_decoder_restarts_total") == 0
    assert value(found, "kiosk_clock_synchronized") == 1
    for outcome in ("ok", "error"):
        assert value(found, "kiosk_backend_request_duration_seconds_count", outcome=outcome) == 0
    # No printer reading yet: no state is 1, every state is there.
    assert [value(found, "kiosk_printer_state", state=s) for s in
            ("ok", "paper_near_end", "paper_out", "cover_open", "silent", "unknown")] == [0] * 6
    assert value(found, "kiosk_camera_state", state="starting") == 1  # as a scanner begins
    assert value(found, "kiosk_printer_jobs_held") is None  # nothing watched yet
    assert not any(name.endswith("_created") for name, _ in found)


def test_an_unsynchronised_clock_is_0_and_an_unknown_one_is_left_out(qtbot):
    found = read(KioskMetrics(version="1", center="c", kiosk_id="k", clock_state=lambda: False))
    assert value(found, "kiosk_clock_synchronized") == 0
    found = read(KioskMetrics(version="1", center="c", kiosk_id="k", clock_state=lambda: None))
    assert not any(name == "kiosk_clock_synchronized" for name, _ in found)


def test_camera_state_frame_age_and_worker_restarts(metrics, monotonic):
    scanner = FakeScanner()
    metrics.watch_scanner(scanner)
    monotonic.now += 7.5  # no frame yet: the age counts from the start
    found = read(metrics)
    assert value(found, "kiosk_camera_state", state="starting") == 1
    assert value(found, "kiosk_camera_last_frame_age_seconds") == 7.5
    scanner.cameraStateChanged.emit("running")
    scanner.real = FakeRealScanner(at=monotonic.now - 0.25)
    scanner.stats.emit({"fps": 30.0, "worker_restarts": 2})
    scanner.stats.emit({"fps": 30.0})  # the thread scanner's figures have no restarts
    found = read(metrics)
    assert [value(found, "kiosk_camera_state", state=s)
            for s in ("running", "starting", "unavailable", "stale", "restarting")] == [
        1, 0, 0, 0, 0]
    assert value(found, "kiosk_camera_last_frame_age_seconds") == 0.25
    assert value(found, "kiosk_decoder_restarts_total") == 2


def test_applications_ratings_help_and_issued_tickets_are_counted(metrics):
    delivery = FakeDelivery()
    metrics.watch_delivery(delivery)
    for kind, state in [("application", "done"), ("application", "pending"),
                        ("application", "failed"), ("application", "done"),
                        ("rating", "done"), ("rating", "pending"), ("rating", "failed"),
                        ("ticket", "done"), ("help", "done")]:
        delivery.answered.emit(kind, state)
    metrics.help_requested("home")
    metrics.ticket_issued()
    found = read(metrics)
    assert value(found, "kiosk_applications_total", outcome="submitted") == 2
    assert value(found, "kiosk_applications_total", outcome="queued_offline") == 1
    assert value(found, "kiosk_applications_total", outcome="failed") == 1
    assert value(found, "kiosk_ratings_total") == 2  # a refused rating was not given
    assert value(found, "kiosk_help_calls_total") == 1  # the resident's, from the window
    assert value(found, "kiosk_tickets_total", outcome="issued") == 1


def test_backend_calls_are_timed_through_the_link_on_the_calling_thread(metrics):
    class Backend:
        def figures(self) -> int:
            return 3

        def missing(self) -> None:
            raise NotFound("no such ticket")

    link = FaultyLink(Backend())
    link.on_call = metrics.backend_call
    threads: list[str] = []

    def calls() -> None:
        threads.append(threading.current_thread().name)
        assert link.figures() == 3
        with pytest.raises(NotFound):
            link.missing()
        link.set_mode("down")
        with pytest.raises(BackendError):
            link.figures()

    worker = threading.Thread(target=calls, name="backend-worker")
    worker.start()
    worker.join(HANG_GUARD_S)
    assert threads == ["backend-worker"]
    found = read(metrics)
    assert value(found, "kiosk_backend_request_duration_seconds_count", outcome="ok") == 2
    assert value(found, "kiosk_backend_request_duration_seconds_count", outcome="error") == 1


def test_the_outbox_backlog_and_its_oldest_item(metrics, tmp_path):
    clock = Clock(5000.0)
    outbox = Outbox(tmp_path / "outbox.sqlite3", clock=clock)
    try:
        metrics.watch_outbox(outbox)
        found = read(metrics)
        assert value(found, "kiosk_outbox_items") == 0
        assert value(found, "kiosk_outbox_oldest_age_seconds") == 0
        outbox.put("rating", "key-1", {"level": 5})
        clock.now += 40
        outbox.put("rating", "key-2", {"level": 4})
        clock.now += 20
        found = read(metrics)
        assert value(found, "kiosk_outbox_items") == 2
        assert value(found, "kiosk_outbox_oldest_age_seconds") == 60
    finally:
        outbox.close()
    # A scrape racing the kiosk's shutdown leaves the outbox out rather than failing.
    found = read(metrics)
    assert value(found, "kiosk_outbox_items") is None
    assert value(found, "kiosk_info", version="9.9", center="某街道中心", kiosk="XH-01") == 1


# --- the printer ---------------------------------------------------------------------------
@pytest.fixture
def printing(qtbot) -> Iterator[tuple[PrintService, EmulatedPrinter]]:
    transport = EmulatedPrinter()
    service = PrintService(Printer(transport, PrinterProfile()), recovery_poll_ms=20)
    yield service, transport
    service.shutdown()
    # Now, not when Python lets go of it: a reply queued before the shutdown would start
    # its recovery poll again, which would then fire into the next test (a kiosk's service
    # goes with its window).
    shiboken6.delete(service)


def ticket_doc() -> PrintDocument:
    # Long enough that "out of paper after 10 bytes" strikes inside it.
    return PrintDocument(kind="ticket").add(Text("A001 " * 20), Cut())


def wait_state(qtbot, metrics: KioskMetrics, state: str) -> None:
    qtbot.waitUntil(lambda: metrics.printer == state, timeout=HANG_GUARD_MS)


def test_the_printer_is_read_at_start_and_while_idle(qtbot, metrics, printing):
    service, transport = printing
    metrics.printer_timer.setInterval(20)
    metrics.watch_printing(service)
    wait_state(qtbot, metrics, "ok")
    found = read(metrics)
    assert value(found, "kiosk_printer_state", state="ok") == 1
    assert sum(value(found, "kiosk_printer_state", state=s) or 0 for s in
               ("paper_near_end", "paper_out", "cover_open", "silent", "unknown")) == 0
    # Nobody prints: the paper runs out all the same, and the idle read finds it.
    for fault, state in [(PrinterState.PAPER_NEAR_END, "paper_near_end"),
                         (PrinterState.PAPER_OUT, "paper_out"),
                         (PrinterState.COVER_OPEN, "cover_open"),
                         (PrinterState.NO_ANSWER, "silent"), (None, "ok")]:
        transport.set_fault(fault)
        wait_state(qtbot, metrics, state)
        assert value(read(metrics), "kiosk_printer_state", state=state) == 1
    transport.unplug()
    wait_state(qtbot, metrics, "silent")  # a status read that raises: nobody answers


def test_ticket_jobs_printed_held_and_failed(qtbot, metrics, printing):
    service, transport = printing
    metrics.watch_printing(service)
    wait_state(qtbot, metrics, "ok")
    with qtbot.waitSignal(service.jobFinished, timeout=HANG_GUARD_MS):
        service.print_document(ticket_doc())
    transport.set_fault(PrinterState.PAPER_OUT)
    with qtbot.waitSignal(service.jobHeld, timeout=HANG_GUARD_MS):
        service.print_document(ticket_doc())
    assert metrics.printer == "paper_out"  # from the service's problem, before any poll
    found = read(metrics)
    assert value(found, "kiosk_tickets_total", outcome="printed") == 1
    assert value(found, "kiosk_tickets_total", outcome="held") == 1
    assert value(found, "kiosk_printer_jobs_held") == 1
    assert value(found, "kiosk_printer_state", state="paper_out") == 1
    # The paper runs out part-way through the next one: broken off, never sent again.
    transport.set_fault(None)
    qtbot.waitUntil(lambda: service.problem == "", timeout=HANG_GUARD_MS)
    transport.set_fault(PrinterState.PAPER_OUT, after_bytes=10)
    with qtbot.waitSignal(service.jobFailed, timeout=HANG_GUARD_MS):
        service.print_document(ticket_doc())
    assert value(read(metrics), "kiosk_tickets_total", outcome="failed") == 1
    service.cancel_held()
    assert value(read(metrics), "kiosk_printer_jobs_held") == 0


def test_a_printer_that_cannot_be_asked_is_unknown(qtbot, metrics, printing):
    service, _transport = printing
    service.printer.status = lambda: PrinterStatus.unreadable("realtime_status = false")
    metrics.watch_printing(service)
    wait_state(qtbot, metrics, "unknown")
    assert value(read(metrics), "kiosk_printer_state", state="unknown") == 1


# --- the endpoint --------------------------------------------------------------------------
def get(port: int, token: str | None = None, path: str = "/metrics") -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    with requests.Session() as s:
        s.trust_env = False
        return s.get(f"http://127.0.0.1:{port}{path}", headers=headers, timeout=HANG_GUARD_S)


@pytest.fixture
def server(metrics) -> Iterator[MetricsServer]:
    s = MetricsServer(metrics.registry, "127.0.0.1", 0, token=TOKEN,
                      on_refused=metrics.unauthorized.inc)
    s.start()
    yield s
    s.stop()


def test_a_scrape_needs_the_token_and_a_refusal_is_counted(server, metrics):
    for token in (None, "wrong-token-0123456789", TOKEN[:-1], TOKEN + "x"):
        r = get(server.port, token)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert TOKEN not in r.text
    r = get(server.port, TOKEN)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    assert value(samples(r.text), "kiosk_metrics_unauthorized_requests_total") == 4
    assert get(server.port, TOKEN, "/").status_code == 404


def test_no_token_configured_serves_anyone_on_this_machine(metrics):
    s = MetricsServer(metrics.registry, "127.0.0.1", 0)
    s.start()
    try:
        assert get(s.port).status_code == 200
    finally:
        s.stop()


def test_a_busy_server_closes_more_connections_than_it_serves(server):
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(MAX_CONNECTIONS)]
    try:
        # Each of these holds a serving thread (it sends nothing); the next is closed at once.
        extra = socket.create_connection(("127.0.0.1", server.port))
        extra.settimeout(HANG_GUARD_S)
        assert extra.recv(1) == b""
        extra.close()
    finally:
        for s in idle:
            s.close()

    def served() -> bool:
        try:
            return get(server.port, TOKEN).status_code == 200
        except requests.ConnectionError:
            return False  # a slot not yet given back by an ending thread

    assert poll_until(served)


def test_stop_frees_the_port(metrics):
    s = MetricsServer(metrics.registry, "127.0.0.1", 0)
    s.start()
    port = s.port
    s.stop()
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))


def test_a_taken_port_or_a_bad_token_file_leaves_the_kiosk_without_metrics(
        metrics, tmp_path, caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.ERROR, "kiosk.services.metrics"):
            assert serve_metrics(MetricsConfig(enabled=True, port=port), tmp_path,
                                 metrics) is None
        assert "metrics.listen, metrics.port" in caplog.text
    caplog.clear()
    (tmp_path / "short").write_text("abc\n")
    with caplog.at_level(logging.ERROR, "kiosk.services.metrics"):
        assert serve_metrics(MetricsConfig(enabled=True, token_file="short"), tmp_path,
                             metrics) is None
    assert "metrics.token_file" in caplog.text and "short" in caplog.text


def test_serve_metrics_reads_the_token_relative_to_the_config(metrics, tmp_path):
    (tmp_path / "metrics-token").write_text(TOKEN + "\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = serve_metrics(MetricsConfig(enabled=True, port=port, token_file="metrics-token"),
                           tmp_path, metrics)
    assert server is not None
    try:
        assert get(server.port).status_code == 401
        assert get(server.port, TOKEN).status_code == 200
    finally:
        server.stop()


# --- the config ----------------------------------------------------------------------------
def test_metrics_are_off_by_default_on_this_machine_only():
    config = MetricsConfig()
    assert (config.enabled, config.listen, config.port, config.token_file) == (
        False, "127.0.0.1", 9464, "")


def test_listening_on_the_network_needs_a_token():
    with pytest.raises(ValidationError, match="token_file: expected a token file"):
        MetricsConfig(enabled=True, listen="0.0.0.0")
    MetricsConfig(enabled=True, listen="0.0.0.0", token_file="/etc/kiosk/metrics-token")
    MetricsConfig(enabled=True, listen="::1")
    MetricsConfig(enabled=False, listen="0.0.0.0")  # off: nothing listens
    with pytest.raises(ValidationError, match="expected an IP address"):
        MetricsConfig(listen="kiosk.local")


def test_a_token_file_is_checked_without_quoting_it(tmp_path: Path):
    assert read_metrics_token(_write(tmp_path / "ok", TOKEN + "\n")) == TOKEN
    for text in ("", "short", "has a space in it, long enough\n", "令牌" * 10):
        with pytest.raises(ValueError) as caught:
            read_metrics_token(_write(tmp_path / "bad", text))
        assert text.strip() == "" or text.strip() not in str(caught.value)
    with pytest.raises(ValueError, match="does not exist"):
        read_metrics_token(tmp_path / "missing")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path
