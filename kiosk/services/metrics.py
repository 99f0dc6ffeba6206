"""The terminal's Prometheus metrics (`[metrics]` in kiosk.toml), served off the GUI thread.

A district's Prometheus scrapes every terminal (packaging/prometheus/): is the printer out of
paper, the camera down, the outbox backing up, the backend slow, the clock unsynchronised;
how many tickets, applications, ratings and help calls. The metric names are a contract with
the alert rules and the dashboard (packaging/prometheus/rules/, packaging/grafana/): a name
changed here must change there too.

Threads. The HTTP server answers on threads of its own (one per scrape, at most
MAX_CONNECTIONS at once). A scrape never waits for the GUI thread and never calls into Qt; it
reads
- what the GUI thread publishes as it happens: the printer's and the camera's state (one
  string each, replaced whole, so a scrape sees one state or the next, never a mix), the
  camera worker's restarts, and the counters (prometheus_client's, each behind a lock held
  for one addition);
- state that is safe to read from any thread where it lives: the outbox (an SQLite store
  behind its own lock), the time of the newest camera frame (a float the capture or
  supervisor thread writes), the length of the print service's list of held jobs (a list
  only the GUI thread changes or replaces; its length is read in one step);
- the kernel's clock state (adjtimex), asked at the scrape.
The services' worker threads time each backend call (`backend_call`, from FaultyLink).

The printer's state comes from the printing service (a job failed or printed, its recovery
reads) and from a status read of this module's own every PRINTER_POLL_MS while the printer
is idle: a printer that runs out of paper at 3 a.m. shows before the first resident of the
morning finds it empty. That read goes on the printer's own queue (one thread owns its I/O)
and only while nothing waits there, so it never delays a ticket.

No personal data: the labels are the center's name, the terminal's id, the version, states
and outcomes; nothing a resident showed, typed or was given.
"""

from __future__ import annotations

import ctypes
import hmac
import logging
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    make_wsgi_app,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from PySide6.QtCore import QObject, QTimer, Signal

from kiosk.backend.interface import IdCardNotAccepted
from kiosk.config.loader import resolve
from kiosk.config.schema import MetricsConfig, read_metrics_token
from kiosk.delivery.deliverer import PERMANENT
from kiosk.hardware.printer.errors import PrinterState, PrinterStatus
from kiosk.services.scanning.protocol import RESTARTING, RUNNING, STALE, STARTING, UNAVAILABLE

if TYPE_CHECKING:
    from kiosk.delivery.outbox import Outbox
    from kiosk.hardware.printer.printer import PrintReport
    from kiosk.services.delivery import DeliveryService
    from kiosk.services.printing import PrintService
    from kiosk.services.scanning.lazy import LazyScanner

log = logging.getLogger(__name__)

# No `_created` series beside each counter: nothing in the rules or the dashboard reads
# them, and they would double what every scrape carries. Process-wide, and the kiosk's
# process has no other metrics.
disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated upstream

METRICS_PATH = "/metrics"

# The label values of the contract (packaging/prometheus/README.md).
PRINTER_STATES = ("ok", "paper_near_end", "paper_out", "cover_open", "silent", "unknown")
CAMERA_STATES = (RUNNING, STARTING, UNAVAILABLE, STALE, RESTARTING)
TICKET_OUTCOMES = ("issued", "printed", "held", "failed")
APPLICATION_OUTCOMES = ("submitted", "queued_offline", "failed")
BACKEND_OUTCOMES = ("ok", "error")

# Seconds: a call to a hall on the LAN takes milliseconds; the kiosk gives up on one after
# backend.read_timeout_s (10 s by default, 120 at most).
BACKEND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)

# How often the printer's status is read while it is idle. A district scrapes every 15 to
# 60 s and alerts after minutes; a status query (DLE EOT) costs the printer nothing.
PRINTER_POLL_MS = 30_000

# Scrapes served at once. Prometheus makes one at a time per target; more come only from a
# misconfigured or hostile client, and each would be a thread of the GUI's process.
MAX_CONNECTIONS = 4
# Seconds a client may take to send its request, or to read the answer, before its
# connection is closed (a client that connects and says nothing keeps no thread).
REQUEST_TIMEOUT_S = 10.0
# How soon a stop() is noticed by the serving thread.
SHUTDOWN_POLL_S = 0.2

# The printer's states as the contract names them. An offline or failing printer cannot
# print any more than one that does not answer: both are "silent" for whoever must go and
# look (kiosk.services.fault_reporter tells the hall the same).
_STATE_NAMES = {
    PrinterState.OK: "ok",
    PrinterState.PAPER_NEAR_END: "paper_near_end",
    PrinterState.PAPER_OUT: "paper_out",
    PrinterState.COVER_OPEN: "cover_open",
    PrinterState.OFFLINE: "silent",
    PrinterState.ERROR: "silent",
}
# The printing service's problem codes (PrintService.printerProblemChanged).
_PROBLEM_NAMES = {"paper_out": "paper_out", "cover_open": "cover_open"}
_CANNOT_PRINT = ("paper_out", "cover_open", "silent")

# Answers of the backend that are refusals, not failed requests: the backend was reached
# and said no (a code already used, a closed category, an unknown reference).
_REFUSALS = (*PERMANENT, IdCardNotAccepted, LookupError)


def printer_state(status: PrinterStatus) -> str:
    """The contract's name for a status reading: `unknown` only for a connection that cannot
    ask (a write-only device, `realtime_status = false`); a printer that was asked and did
    not answer is `silent`."""
    if status.state is PrinterState.UNKNOWN:
        return "unknown" if not status.readable else "silent"
    return _STATE_NAMES[status.state]


def backend_outcome(exc: BaseException | None) -> str:
    """`ok` for an answer, a refusal included; `error` for a request that failed (not
    reached, timed out, a 5xx, an unreadable reply)."""
    return "ok" if exc is None or isinstance(exc, _REFUSALS) else "error"


# adjtimex(2)'s return value for a clock the kernel does not count as synchronised.
TIME_ERROR = 5
# struct timex is 208 bytes on 64-bit Linux and smaller on 32-bit; the call only reads it
# (modes = 0, its first field), so a zeroed buffer larger than any layout does.
_TIMEX_BYTES = 512
_adjtimex: Any = None


def clock_synchronized() -> bool | None:
    """Whether the kernel counts its clock as synchronised, as node_exporter's timex
    collector reads it (adjtimex(2) does not return TIME_ERROR); None where it cannot be
    asked (not Linux, or the call refused).

    Through ctypes: neither the standard library (os, time) nor a package in the locks
    wraps adjtimex, and the kernel's flag is the one every time daemon (timesyncd, chrony,
    ntpd) sets, where a file such as /run/systemd/timesync/synchronized speaks for
    timesyncd alone. Asking needs no privilege.
    """
    global _adjtimex
    try:
        if _adjtimex is None:
            _adjtimex = ctypes.CDLL(None, use_errno=True).adjtimex
        buf = ctypes.create_string_buffer(_TIMEX_BYTES)
        state = int(_adjtimex(buf))
    except (AttributeError, OSError):
        return None
    if state < 0:
        return None
    return state != TIME_ERROR


class _ScrapeTime(Collector):
    """The values read when a scrape asks (see the module's docstring for why each is safe
    to read from the scrape's thread)."""

    def __init__(self, metrics: KioskMetrics) -> None:
        self._m = metrics

    def collect(self) -> Iterator[Metric]:
        yield from self._m._collect()


class KioskMetrics(QObject):
    """The terminal's metrics, in `registry`; fed by the services it is told to watch."""

    # The printer's state as now reported (tests wait for it before they scrape).
    printerStateChanged = Signal(str)

    def __init__(self, *, version: str, center: str, kiosk_id: str,
                 parent: QObject | None = None,
                 wall_clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic,
                 clock_state: Callable[[], bool | None] = clock_synchronized) -> None:
        super().__init__(parent)
        self._monotonic = monotonic
        self._clock_state = clock_state
        self._started = monotonic()
        self.registry = registry = CollectorRegistry()
        Gauge("kiosk_info", "This terminal: its software version, center and id (always 1).",
              ["version", "center", "kiosk"], registry=registry
              ).labels(version, center, kiosk_id).set(1)
        Gauge("kiosk_start_time_seconds", "When the kiosk started, in seconds since the epoch.",
              registry=registry).set(wall_clock())
        self.tickets = Counter(
            "kiosk_tickets", "Queue tickets: issued = a new number on its resident's screen"
            " (offline ones too); printed, held (refused before printing, kept for a reprint)"
            " and failed (broken off or failed otherwise) = ticket print jobs.",
            ["outcome"], registry=registry)
        self.applications = Counter(
            "kiosk_applications", "一件事 applications filed: submitted (the backend confirmed),"
            " queued_offline (stored, sent when the backend answers), failed (refused).",
            ["outcome"], registry=registry)
        self.ratings = Counter("kiosk_ratings", "Ratings (好差评) given.", registry=registry)
        self.help_calls = Counter("kiosk_help_calls", "Residents' calls for staff (帮办).",
                                  registry=registry)
        self.backend = Histogram(
            "kiosk_backend_request_duration_seconds", "Calls to the backend: ok = answered"
            " (refusals too), error = not reached, timed out, 5xx or an unreadable reply.",
            ["outcome"], buckets=BACKEND_BUCKETS, registry=registry)
        self.unauthorized = Counter(
            "kiosk_metrics_unauthorized_requests", "Scrapes refused 401: no bearer token or"
            " a wrong one.", registry=registry)
        for outcome in TICKET_OUTCOMES:
            self.tickets.labels(outcome)
        for outcome in APPLICATION_OUTCOMES:
            self.applications.labels(outcome)
        for outcome in BACKEND_OUTCOMES:
            self.backend.labels(outcome)
        # The process's memory, CPU and files: a leak shows weeks before it stops a kiosk.
        ProcessCollector(registry=registry)
        registry.register(_ScrapeTime(self))

        # Published by the GUI thread, read by the scrape thread.
        self.printer = ""  # one of PRINTER_STATES; "" until the first reading
        self.camera = STARTING
        self.decoder_restarts = 0
        self._printing: PrintService | None = None
        self._scanner: LazyScanner | None = None
        self._outbox: Outbox | None = None

        self._readable = True  # the printer's connection can ask for its status
        self._reading_printer = False
        self.printer_timer = QTimer(self)
        self.printer_timer.setInterval(PRINTER_POLL_MS)
        self.printer_timer.timeout.connect(self.read_printer)

    # --- what to follow (the composition root wires these) ---------------------------------
    def watch_printing(self, printing: PrintService) -> None:
        self._printing = printing
        printing.printerProblemChanged.connect(self._printer_problem)
        printing.jobFinished.connect(self._job_finished)
        printing.jobOutcome.connect(self._job_outcome)
        self.printer_timer.start()
        self.read_printer(at_start=True)

    def watch_scanner(self, scanner: LazyScanner) -> None:
        self._scanner = scanner
        self.camera = scanner.state
        scanner.cameraStateChanged.connect(self._camera_changed)
        scanner.stats.connect(self._camera_stats)

    def watch_delivery(self, delivery: DeliveryService) -> None:
        delivery.answered.connect(self._answered)

    def watch_outbox(self, outbox: Outbox) -> None:
        self._outbox = outbox

    def stop(self) -> None:
        self.printer_timer.stop()

    # --- events (GUI thread unless said otherwise) ------------------------------------------
    def ticket_issued(self) -> None:
        self.tickets.labels("issued").inc()

    def help_requested(self, _screen: str = "") -> None:
        self.help_calls.inc()

    def backend_call(self, seconds: float, exc: BaseException | None) -> None:
        """FaultyLink.on_call: any thread."""
        self.backend.labels(backend_outcome(exc)).observe(seconds)

    def _answered(self, kind: str, state: str) -> None:
        if kind == "application":
            outcome = {"done": "submitted", "pending": "queued_offline"}.get(state, "failed")
            self.applications.labels(outcome).inc()
        elif kind == "rating" and state != "failed":
            self.ratings.inc()  # stored counts: the outbox sends it

    def _job_outcome(self, kind: str, outcome: str) -> None:
        if kind == "ticket":
            self.tickets.labels(outcome).inc()

    def _camera_changed(self, state: str) -> None:
        self.camera = state

    def _camera_stats(self, stats: dict[str, Any]) -> None:
        restarts = stats.get("worker_restarts")
        if isinstance(restarts, int) and restarts > self.decoder_restarts:
            self.decoder_restarts = restarts

    # --- the printer's state ----------------------------------------------------------------
    def read_printer(self, *, at_start: bool = False) -> None:
        """Read the printer's status on its queue, unless something waits there (a job's or
        a read's outcome says the state then, and a read must not delay a ticket) or at
        start (where only the service's own first read can wait there, and it tells
        nothing when the printer is fine)."""
        printing = self._printing
        if printing is None or printing.queue.closed:
            self.printer_timer.stop()
            return
        if self._reading_printer or (printing.queue.pending() and not at_start):
            return
        self._reading_printer = True
        printing.queue.submit(printing.printer.status, self._printer_read,
                              self._printer_unreadable)

    def _printer_read(self, status: PrinterStatus) -> None:
        self._reading_printer = False
        self._readable = status.readable
        self._set_printer(printer_state(status))

    def _printer_unreadable(self, _exc: BaseException) -> None:
        self._reading_printer = False
        self._set_printer("silent")

    def _printer_problem(self, code: str) -> None:
        if code:
            self._set_printer(_PROBLEM_NAMES.get(code, "silent"))
        elif self.printer in ("", *_CANNOT_PRINT):
            # Printing again; whether the roll runs low, the next reading says.
            self._set_printer("ok" if self._readable else "unknown")

    def _job_finished(self, _job: int, report: PrintReport) -> None:
        self._readable = report.status_after.readable
        self._set_printer(printer_state(report.status_after))

    def _set_printer(self, state: str) -> None:
        if state == self.printer:
            return
        self.printer = state
        self.printerStateChanged.emit(state)

    # --- the scrape (its own thread) --------------------------------------------------------
    def _collect(self) -> Iterator[Metric]:
        yield _one_of("kiosk_printer_state", "The printer's state: 1 for the current one"
                      " (silent = does not answer, or offline; unknown = its status cannot be"
                      " asked, realtime_status = false).", PRINTER_STATES, self.printer)
        yield _one_of("kiosk_camera_state", "The camera's state: 1 for the current one.",
                      CAMERA_STATES, self.camera)
        restarts = CounterMetricFamily("kiosk_decoder_restarts", "Restarts of the camera"
                                       " worker process (it died or hung).")
        restarts.add_metric([], self.decoder_restarts)
        yield restarts
        yield from self._read("kiosk_printer_jobs_held", self._held_jobs,
                              "Print jobs held for a reprint or a retry.")
        yield from self._read("kiosk_camera_last_frame_age_seconds", self._frame_age,
                              "Seconds since the camera's newest fresh frame (since the start"
                              " before the first).")
        yield from self._outbox_metrics()
        synced = self._clock_state()
        if synced is not None:
            clock = GaugeMetricFamily("kiosk_clock_synchronized", "1 while the kernel counts"
                                      " the clock as synchronised (adjtimex), else 0.")
            clock.add_metric([], 1.0 if synced else 0.0)
            yield clock

    def _read(self, name: str, read: Callable[[], float | None], doc: str) -> Iterable[Metric]:
        try:
            value = read()
        except Exception as exc:  # a service shutting down under a last scrape
            log.debug("metric %s not read: %s", name, type(exc).__name__)
            return ()
        if value is None:
            return ()
        gauge = GaugeMetricFamily(name, doc)
        gauge.add_metric([], value)
        return (gauge,)

    def _held_jobs(self) -> float | None:
        printing = self._printing
        return None if printing is None else float(len(printing.held))

    def _frame_age(self) -> float | None:
        scanner = self._scanner
        if scanner is None:
            return None
        real = scanner.peek()
        last = real.last_frame_at() if real is not None else 0.0
        return max(0.0, self._monotonic() - (last or self._started))

    def _outbox_metrics(self) -> Iterable[Metric]:
        outbox = self._outbox
        if outbox is None:
            return ()
        try:
            count, oldest = outbox.pending()
            now = outbox.now()
        except Exception as exc:  # closed under a last scrape at shutdown
            log.debug("outbox not read for metrics: %s", type(exc).__name__)
            return ()
        items = GaugeMetricFamily("kiosk_outbox_items", "Items in the outbox waiting to be"
                                  " sent to the backend.")
        items.add_metric([], count)
        age = GaugeMetricFamily("kiosk_outbox_oldest_age_seconds", "Seconds the oldest"
                                " waiting item has waited (0 when none waits).")
        age.add_metric([], max(0.0, now - oldest) if count and oldest is not None else 0.0)
        return (items, age)


def _one_of(name: str, doc: str, states: tuple[str, ...], current: str) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=["state"])
    for state in states:
        family.add_metric([state], 1.0 if state == current else 0.0)
    return family


# --- serving ----------------------------------------------------------------------------------
class _Handler(WSGIRequestHandler):
    timeout = REQUEST_TIMEOUT_S

    def log_message(self, format: str, *args: Any) -> None:
        # A scrape every 15 s would fill the journal; refused scrapes are counted instead.
        pass


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # A kiosk restarted at once must not wait for its old socket's TIME_WAIT to pass.
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily,
                 max_connections: int) -> None:
        self.address_family = family
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # Not HTTPServer.server_bind: it looks the address up in DNS (socket.getfqdn), which
        # on a terminal whose DNS server is unreachable waits seconds, on the GUI thread.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # busy: closed rather than a thread started
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class MetricsServer:
    """GET /metrics over HTTP on threads of its own, with a bearer token when given one.

    prometheus_client's own `start_http_server` has no way to require a token, and binds
    through HTTPServer's DNS lookup; its WSGI app (`make_wsgi_app`) does the rest here.
    """

    def __init__(self, registry: CollectorRegistry, listen: str, port: int, *,
                 token: str = "", on_refused: Callable[[], None] | None = None,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        self.listen = listen
        self._port = port
        self._token = token.encode()
        self._on_refused = on_refused
        self._max_connections = max_connections
        self._metrics_app = make_wsgi_app(registry)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one chosen, when started with port 0)."""
        return self._port

    def start(self) -> None:
        """Listen (OSError if the address is taken or not this machine's) and serve."""
        family = socket.AF_INET6 if ":" in self.listen else socket.AF_INET
        server = _Server((self.listen, self._port), family, self._max_connections)
        server.set_app(self._app)
        self._port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(SHUTDOWN_POLL_S,),
                                        name="metrics-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening; a scrape being answered finishes on its own daemon thread."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join()

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO") != METRICS_PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"The metrics are at /metrics.\n"]
        if self._token and not self._authorized(environ.get("HTTP_AUTHORIZATION", "")):
            if self._on_refused is not None:
                self._on_refused()
            start_response("401 Unauthorized", [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("WWW-Authenticate", 'Bearer realm="kiosk metrics"')])
            return [b"Send the token of metrics.token_file: Authorization: Bearer <token>\n"]
        body: list[bytes] = self._metrics_app(environ, start_response)
        return body

    def _authorized(self, header: str) -> bool:
        scheme, _, value = header.strip().partition(" ")
        # compare_digest: as long for a near guess as for a far one.
        return scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode("utf-8", "replace"), self._token)


def serve_metrics(config: MetricsConfig, config_dir: Path,
                  metrics: KioskMetrics) -> MetricsServer | None:
    """The endpoint `config` asks for, serving `metrics`; None, with the reason logged, when
    it cannot serve. A terminal with an unreadable token file or a port taken still serves
    its residents; the district sees it unscraped and the log says why."""
    token = ""
    if config.token_file:
        try:
            token = read_metrics_token(resolve(config_dir, config.token_file))
        except ValueError as exc:
            log.error("metrics not served: metrics.token_file: %s", exc)
            return None
    server = MetricsServer(metrics.registry, config.listen, config.port, token=token,
                           on_refused=metrics.unauthorized.inc)
    try:
        server.start()
    except OSError as exc:
        log.error("metrics not served: cannot listen on %s port %d (metrics.listen,"
                  " metrics.port): %s", config.listen, config.port, exc.strerror or exc)
        return None
    host = f"[{config.listen}]" if ":" in config.listen else config.listen
    log.info("metrics served at http://%s:%d%s%s", host, server.port, METRICS_PATH,
             " (bearer token required)" if token else " (no token: this machine only)")
    return server
