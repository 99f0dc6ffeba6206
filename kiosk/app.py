"""The composition root: builds devices, services and windows from the config and wires them.

Everything else receives its dependencies through its constructor; this is the only module
that knows which concrete camera, printer and backend a terminal has.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer

import kiosk
from kiosk.backend.embedded import EmbeddedBackend
from kiosk.common.clock import shanghai_now
from kiosk.config.devices import resolved_camera
from kiosk.config.loader import resolve
from kiosk.config.schema import KioskConfig
from kiosk.delivery.deliverer import Deliverer
from kiosk.delivery.faults import FaultyLink
from kiosk.delivery.http_factory import load_or_create_key as load_or_create_key
from kiosk.delivery.http_factory import make_embedded, make_http
from kiosk.delivery.leases import FILE_NAME as OFFLINE_LEASES_FILE
from kiosk.delivery.leases import LeaseKeeper, LeaseStore
from kiosk.delivery.nonces import FILE_NAME as USED_NONCES_FILE
from kiosk.delivery.nonces import KioskNonces, UsedNonces
from kiosk.delivery.outbox import Outbox
from kiosk.domain import payloads
from kiosk.domain.bundles import BundleSet, load_bundles
from kiosk.domain.catalog import Catalog, load_catalog
from kiosk.hardware.printer.escpos_layout import PrinterProfile
from kiosk.hardware.printer.printer import Printer
from kiosk.hardware.printer.transports import PrinterTransport, make_transport
from kiosk.hardware.scan_engine import SerialScanEngine
from kiosk.services.delivery import DeliveryService
from kiosk.services.fault_reporter import FaultReporter
from kiosk.services.id_card import UNAVAILABLE as ID_CARD_UNAVAILABLE
from kiosk.services.id_card import IdCardService
from kiosk.services.leases import OfflineService
from kiosk.services.printing import PrintService
from kiosk.services.scanning.lazy import LazyBox, LazyScanner
from kiosk.services.tasks import TaskQueue
from kiosk.ui.audio.speech import make_voice
from kiosk.ui.controllers.bundle import BundleController
from kiosk.ui.controllers.context import KioskContext, ModeSettings
from kiosk.ui.controllers.lookup import CheckInController, QueryController
from kiosk.ui.controllers.maintenance import MaintenanceController, MaintenanceDeps
from kiosk.ui.controllers.services import HelpController, RatingController
from kiosk.ui.controllers.take_number import TakeNumberController
from kiosk.ui.log_buffer import install_log_buffer
from kiosk.ui.main_window import MainWindow
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.scan import ScanScreen
from kiosk.ui.theme import Theme

if TYPE_CHECKING:
    from kiosk.delivery.http_client import HttpBackend
    from kiosk.hardware.id_card.emulated import EmulatedIdCardDevice
    from kiosk.services.metrics import KioskMetrics, MetricsServer

log = logging.getLogger(__name__)

# Seconds between attempts to fetch a hall backend's code-signing keys until it answers.
BACKEND_KEYS_RETRY_S = 60
# Seconds between readings of a hall's queue figures while Home shows: other kiosks take
# numbers, and opening hours begin and end while nobody touches the screen.
QUEUE_REFRESH_S = 60


@dataclass
class Paths:
    config_file: Path
    config_dir: Path
    data_dir: Path

    @classmethod
    def from_config(cls, config: KioskConfig, config_file: Path) -> Paths:
        config_dir = config_file.resolve().parent
        return cls(config_file, config_dir, resolve(config_dir, config.paths.data_dir))


def make_backend(
    config: KioskConfig, paths: Paths, catalog: Catalog,
    clock: Callable[[], dt.datetime] = shanghai_now,
) -> EmbeddedBackend | HttpBackend:
    if config.backend.kind == "http":
        # No network at start-up: Home must not wait for the hall backend. Its signing
        # keys come from the last run's cache now and from the backend later (below).
        return make_http(config.backend, paths.config_dir, paths.data_dir,
                         fetch_keys_on_demand=False)
    return make_embedded(config.backend, paths.data_dir, catalog, clock=clock)


def fetch_backend_keys(backend: HttpBackend, verifier: payloads.Verifier,
                       queue: TaskQueue) -> None:
    """Trust the hall backend's code-signing keys (tickets, receipts) once it answers.

    Runs on the backend worker, never the GUI thread; retried every BACKEND_KEYS_RETRY_S
    until the backend answers, because a kiosk may well start before its backend.
    """

    def done(keys: dict[str, str]) -> None:
        verifier.add_keys(payloads.load_public_keys(keys))
        log.info("backend signing keys: %s", ", ".join(sorted(keys)) or "none")

    def failed(exc: BaseException) -> None:
        log.warning("backend signing keys not fetched (%s); next try in %d s", exc,
                    BACKEND_KEYS_RETRY_S)
        QTimer.singleShot(BACKEND_KEYS_RETRY_S * 1000, queue, lambda: again())

    def again() -> None:
        with contextlib.suppress(RuntimeError):  # the kiosk shut down meanwhile
            queue.submit(backend.fetch_trusted_keys, done, failed)

    again()


def mode_settings(config: KioskConfig) -> ModeSettings:
    s = config.session
    return ModeSettings(
        idle_timeout_s=s.idle_timeout_s, idle_countdown_s=s.idle_countdown_s,
        ticket_screen_s=s.ticket_screen_s, elder_idle_timeout_s=s.elder_idle_timeout_s,
        elder_idle_countdown_s=s.elder_idle_countdown_s,
        elder_ticket_screen_s=s.elder_ticket_screen_s, speak_when=config.speech.when)


def _make_camera(config: KioskConfig, paths: Paths,
                 code_factory: Callable[[], str] | None) -> Any:
    from kiosk.hardware.camera.sources import make_source

    return make_source(resolved_camera(config, paths.config_dir), code_factory)


def _make_scanner(config: KioskConfig, camera_box: LazyBox) -> Any:
    """The in-process scanner (`scanner.isolation = "thread"`)."""
    from kiosk.hardware.camera.decoder import make_decoder
    from kiosk.services.scanning.scanner import ScannerService

    return ScannerService(camera_box.get, make_decoder(config.scanner.decoder),
                          repeat_block_s=config.scanner.repeat_block_s)


def _make_process_scanner(config: KioskConfig, paths: Paths,
                          code_factory: Callable[[], str] | None) -> Any:
    """The scanner whose capture and decoding run in a restartable worker process
    (`scanner.isolation = "process"`). Neither OpenCV nor the decoders are imported here:
    the worker builds its camera and decoder from this spec."""
    from kiosk.services.scanning.protocol import WorkerSpec
    from kiosk.services.scanning.supervisor import ProcessScanner

    camera = resolved_camera(config, paths.config_dir)
    spec = WorkerSpec(camera=camera.model_dump(), decoder=config.scanner.decoder,
                      code_factory=code_factory)
    return ProcessScanner(spec, repeat_block_s=config.scanner.repeat_block_s)


def demo_code_factory(config: KioskConfig, paths: Paths) -> Callable[[], str] | None:
    """Signs fresh personal codes for the emulated camera's demo resident, if configured.

    A picklable `DemoCodes`, so that the camera worker process can sign them too."""
    if not config.qr.demo_signing_key:
        return None
    from kiosk.hardware.camera.demo_codes import DemoCodes

    resident = config.camera.resident if config.camera.kind == "emulated" else "R0001"
    return DemoCodes(resolve(paths.config_dir, config.qr.demo_signing_key),
                     config.qr.demo_key_id, resident).load()


def make_id_card(config: KioskConfig, scanner: LazyScanner, window: MainWindow
                 ) -> tuple[IdCardService | None, EmulatedIdCardDevice | None]:
    """The ID card reader's service (and the emulated reader's card slot), or none. With a
    hall too: the hall takes the card of a kiosk it was told has a reader, and tells the
    resident at any other to show the 随申码 (kiosk.hall.api.residents)."""
    settings = config.id_card
    if settings.kind == "none":
        return None, None
    device = None
    if settings.kind == "emulated":
        from kiosk.hardware.id_card.emulated import EmulatedIdCardDevice, emulated_reader

        device = EmulatedIdCardDevice()
        reader = emulated_reader(device)
    else:
        from kiosk.hardware.id_card.serial_link import serial_reader

        reader = serial_reader(settings.port, settings.baudrate)
    # A screen that takes a scanned code takes a card: the scanner knows which screens.
    return IdCardService(reader, lambda: scanner.scanning, parent=window), device


def follow_id_card(window: MainWindow, service: IdCardService) -> None:
    """Every scan screen tells of the reader while it answers; a session's end leaves a card
    still lying there unread for the next one."""

    def show(state: str) -> None:
        for screen in window.findChildren(ScanScreen):
            screen.set_card_reader(state != ID_CARD_UNAVAILABLE)

    service.stateChanged.connect(show)
    show(service.state)
    window.sessionEnded.connect(lambda _reason: service.session_ended())
    window.closed.connect(service.stop)


def follow_hall(ctx: KioskContext, controller: TakeNumberController, link: FaultyLink,
                printing: PrintService, scanner: LazyScanner,
                delivery: DeliveryService) -> FaultReporter:
    """What a kiosk of a hall does besides its residents' requests: read the queue figures
    again while Home shows (hours and daily caps change with the clock and other kiosks),
    and tell the hall of its device faults (services/fault_reporter.py)."""
    window = ctx.window
    timer = QTimer(window)
    timer.setInterval(QUEUE_REFRESH_S * 1000)

    def refresh() -> None:
        if window.current().name == ScreenName.HOME and not ctx.backend_queue.closed:
            controller.refresh_queue()

    timer.timeout.connect(refresh)
    window.closed.connect(timer.stop)
    timer.start()
    # On the statistics queue: a report never waits in front of a resident's ticket.
    reporter = FaultReporter(link.report_fault, ctx.stats_queue, parent=window)
    reporter.watch_printer(printing)
    scanner.cameraStateChanged.connect(reporter.camera_state)
    delivery.pendingChanged.connect(reporter.outbox_pending)
    window.closed.connect(reporter.stop)
    return reporter


def start_metrics(config: KioskConfig, paths: Paths, ctx: KioskContext,
                  controller: TakeNumberController, link: FaultyLink,
                  outbox: Outbox) -> tuple[KioskMetrics, MetricsServer | None]:
    """The terminal's metrics (`[metrics] enabled`), following its services, and their
    endpoint (None when it cannot listen: kiosk.services.metrics.serve_metrics says why)."""
    # Imported only when on: a terminal without metrics never loads prometheus_client.
    from kiosk.services.metrics import KioskMetrics, serve_metrics

    window = ctx.window
    metrics = KioskMetrics(version=kiosk.__version__, center=config.center.name,
                           kiosk_id=config.center.kiosk_id, parent=window)
    metrics.watch_printing(ctx.printing)
    metrics.watch_scanner(ctx.scanner)
    metrics.watch_delivery(ctx.delivery)
    metrics.watch_outbox(outbox)
    link.on_call = metrics.backend_call
    window.helpRequested.connect(metrics.help_requested)
    controller.ticketIssued.connect(metrics.ticket_issued)
    window.closed.connect(metrics.stop)
    return metrics, serve_metrics(config.metrics, paths.config_dir, metrics)


def alert_staff(ctx: KioskContext, code: str, *, call_help: bool = True) -> None:
    """A hardware fault calls a staff member through the same channel as 帮办. A kiosk of a
    hall (`call_help` False) reports it as a device fault instead (follow_hall), which
    is what a clerk's console lists: not also as a help call nobody at the kiosk made."""
    log.error("staff alert: printer %s", code)
    ctx.record("fault", flow="printer", step=code)
    if not call_help:
        return
    ctx.delivery.deliver("help", ctx.new_key(), {"kiosk_id": ctx.kiosk_id,
                                                 "screen": f"printer:{code}"},
                         lambda _d: None, lambda _e: None)


@dataclass
class Kiosk:
    config: KioskConfig
    paths: Paths
    catalog: Catalog
    window: MainWindow
    controller: TakeNumberController
    backend: EmbeddedBackend | HttpBackend
    backend_queue: TaskQueue
    camera_box: LazyBox
    scanner: LazyScanner
    printer_transport: PrinterTransport
    printing: PrintService
    verifier: payloads.Verifier
    bundles: BundleSet
    bundle_controller: BundleController
    link: FaultyLink
    outbox: Outbox
    delivery: DeliveryService
    used_nonces: UsedNonces | None = None
    scan_engine: SerialScanEngine | None = None
    # The resident ID card reader, and the emulated reader's card slot (tests, demo).
    id_card: IdCardService | None = None
    id_card_device: EmulatedIdCardDevice | None = None
    # A kiosk of a hall: the numbers it holds for an outage.
    offline: OfflineService | None = None
    # `[metrics] enabled`: the metrics, and their endpoint if it could listen.
    metrics: KioskMetrics | None = None
    metrics_server: MetricsServer | None = None
    _closed: bool = False

    @property
    def camera(self) -> Any:
        """The camera's controls (the emulated one takes show_text, unplug etc.): the frame
        source itself in thread isolation, a proxy to the worker's in process isolation."""
        return self.camera_box.get()

    @property
    def closed(self) -> bool:
        """Whether shutdown() has run: the services' queues and devices are closed."""
        return self._closed

    def busy(self) -> bool:
        """Whether backend, statistics or rendering work is still queued (tests, demo)."""
        ctx = self.controller.ctx
        return bool(self.backend_queue.pending() or ctx.stats_queue.pending()
                    or ctx.render_queue.pending()
                    or (self.offline is not None and self.offline.queue.pending()))

    def present(self, *, kiosk_mode: bool) -> None:
        """Show the window: in kiosk mode full screen over everything, with the mouse
        cursor blanked on touch panels (`screen.hide_cursor`); else an ordinary window."""
        if kiosk_mode:
            if self.config.screen.hide_cursor:
                from PySide6.QtCore import Qt
                from PySide6.QtGui import QCursor, QGuiApplication

                QGuiApplication.setOverrideCursor(QCursor(Qt.CursorShape.BlankCursor))
            self.window.showFullScreen()
        else:
            self.window.show()

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.metrics_server is not None:
            self.metrics_server.stop()  # first: no scrape reads a service being closed
        self.delivery.stop()
        if self.offline is not None:
            self.offline.stop()
        if self.scan_engine is not None:
            self.scan_engine.stop()
        if self.id_card is not None:
            self.id_card.stop()
        self.scanner.stop()
        self.printing.shutdown()
        self.backend_queue.shutdown(wait=True)
        self.controller.ctx.render_queue.shutdown(wait=True)
        self.controller.ctx.stats_queue.shutdown(wait=True)
        self.controller.ctx.close_voice()
        if self.offline is not None:
            self.offline.queue.shutdown(wait=True)
            self.offline.keeper.store.close()
        self.outbox.close()
        if self.used_nonces is not None:
            self.used_nonces.close()
        self.backend.close()
        try:
            self.printer_transport.close()
        except Exception:
            log.warning("printer close failed", exc_info=True)
        self.window.allow_close = True
        self.window.close()
        self.window.deleteLater()


def maintenance_deps(kiosk: Kiosk) -> MaintenanceDeps:
    """What the maintenance screens use of a built kiosk."""
    return MaintenanceDeps(
        window=kiosk.window,
        config=kiosk.config,
        config_file=kiosk.paths.config_file,
        data_dir=kiosk.paths.data_dir,
        scanner=kiosk.scanner,
        printing=kiosk.printing,
        link=kiosk.link,
        outbox=kiosk.outbox,
        backend=kiosk.backend,
        catalog=kiosk.catalog,
        bundles=kiosk.bundles,
        now=kiosk.controller.ctx.clock,
        closed=lambda: kiosk.closed,
    )


def install_maintenance(kiosk: Kiosk, **kwargs: Any) -> MaintenanceController:
    """Add the maintenance screens to a built kiosk; the same controller if called again."""
    return MaintenanceController.install(maintenance_deps(kiosk), **kwargs)


GIL_SWITCH_INTERVAL_S = 0.001


def _preload_ticket_libraries() -> None:
    import qrcode  # noqa: F401  (import only: the module cache keeps it)


def build(
    config: KioskConfig,
    config_file: Path,
    *,
    kiosk_mode: bool | None = None,
    clock: Callable[[], dt.datetime] = shanghai_now,
    start_camera: bool = True,
    defer_camera_ms: int = 0,
    freeze_heap_after_ms: int = 0,
) -> Kiosk:
    """The whole kiosk, wired. `freeze_heap_after_ms` (for a kiosk that runs on: `kiosk run`,
    `simulate`, the benchmarks; not tests, which build many kiosks in one process) hides the
    start-up heap from the cyclic collector once start-up work is done, see
    `services.memory.freeze_startup_heap`."""
    # The GUI thread shares the GIL with the printing, backend, rendering and statistics
    # workers, and every Qt-to-Python crossing (a slot, a paint) has to take it back. At
    # CPython's default 5 ms switch interval a busy worker kept the screen waiting markedly
    # longer than at 1 ms (docs/PERFORMANCE.md, "Measured choices in the code"). Process-wide,
    # and only the GUI process builds a kiosk.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    paths = Paths.from_config(config, config_file)
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    catalog = load_catalog(resolve(paths.config_dir, config.paths.catalog))

    backend = make_backend(config, paths, catalog, clock)
    # The link stands where a network would: it forwards every call while "up", and tests
    # and the maintenance screen can make it refuse, hang or lose replies. A hall backend
    # over HTTP sits behind it too, so those switches work the same for either kind.
    link = FaultyLink(backend, timeout_s=(config.backend.read_timeout_s
                                          if config.backend.kind == "http" else 5.0))
    outbox = Outbox(paths.data_dir / "outbox.sqlite3")
    # A personal code is used once: this kiosk's file (across restarts), then the hall
    # (across kiosks). The controllers claim codes on the backend queue, never the GUI thread.
    used_nonces = UsedNonces(paths.data_dir / USED_NONCES_FILE,
                             clock=lambda: clock().timestamp())
    verifier = payloads.Verifier(
        payloads.load_public_keys({**config.qr.public_keys, **backend.trusted_keys()}),
        max_age_s=config.qr.max_age_s,
        clock_skew_s=config.qr.clock_skew_s,
        clock=lambda: clock().timestamp(),
        seen=KioskNonces(used_nonces, link),
    )

    code_factory = demo_code_factory(config, paths)
    # The camera stack (OpenCV, zxing-cpp, ZBar) is made when the camera starts, after Home;
    # with process isolation (the default) it is made in the camera worker process only.
    if config.scanner.isolation == "process":
        scanner = LazyScanner(lambda: _make_process_scanner(config, paths, code_factory))
        # kiosk.camera: the worker's camera controls (the emulated camera's scene and faults).
        camera_box = LazyBox(lambda: scanner.real().camera)
    else:
        camera_box = LazyBox(lambda: _make_camera(config, paths, code_factory))
        scanner = LazyScanner(lambda: _make_scanner(config, camera_box))

    transport = make_transport(config.printer, paths.data_dir)
    printer = Printer(transport, PrinterProfile.from_config(config.printer))

    width, height = config.screen.size()
    theme = Theme(width, height)
    mode = config.screen.fullscreen if kiosk_mode is None else kiosk_mode
    window = MainWindow(
        theme,
        idle_timeout_s=config.session.idle_timeout_s - config.session.idle_countdown_s,
        idle_countdown_s=config.session.idle_countdown_s,
        kiosk_mode=mode,
    )
    if mode:
        window.resize(width, height)
    else:
        # A window (demo, tests, --windowed) is the panel's exact size, so what we check and
        # screenshot is what the panel shows; full screen takes the real screen's size.
        window.setFixedSize(width, height)
    backend_queue = TaskQueue("backend", window)
    printing = PrintService(printer, window)
    delivery = DeliveryService(Deliverer(outbox, link), backend_queue, parent=window)
    offline = None
    if not isinstance(backend, EmbeddedBackend):
        fetch_backend_keys(backend, verifier, backend_queue)
        # Numbers held for an outage (docs/HALL.md 5.5), through the link like every call.
        keeper = LeaseKeeper(LeaseStore(paths.data_dir / OFFLINE_LEASES_FILE), link, outbox,
                             [c.id for c in catalog.categories], clock=clock)
        offline = OfflineService(keeper, TaskQueue("leases", window), delivery, parent=window)
    id_card, id_card_device = make_id_card(config, scanner, window)
    ctx = KioskContext(
        window=window,
        scanner=scanner,
        backend=link,
        backend_queue=backend_queue,
        printing=printing,
        verifier=verifier,
        catalog=catalog,
        center_name=config.center.name,
        center_name_en=config.center.name_en,
        anonymous_tickets_per_minute=config.queue.anonymous_tickets_per_minute,
        kiosk_id=config.center.kiosk_id,
        hotline=config.center.hotline,
        ticket_screen_s=config.session.ticket_screen_s,
        clock=clock,
        delivery=delivery,
        render_queue=TaskQueue("render", window),
        stats_queue=TaskQueue("stats", window),
        modes=mode_settings(config),
        offline=offline,
        of_hall=not isinstance(backend, EmbeddedBackend),
        id_card=id_card,
    )
    # Speech and the scan cue: a worker process started on first use (nothing of Qt's
    # speech or multimedia modules is loaded in this process).
    ctx.speech, ctx.sound = make_voice(config.speech, window)
    controller = TakeNumberController(ctx)
    embedded = isinstance(backend, EmbeddedBackend)
    printing.staffAlert.connect(lambda code: alert_staff(ctx, code, call_help=embedded))
    # Home says so before the first resident is refused a ticket by an empty printer.
    printing.read_status()
    bundles = load_bundles(resolve(paths.config_dir, config.paths.bundles),
                           {c.id for c in catalog.categories})
    bundle_controller = BundleController(ctx, bundles)
    titles = {b.id: b.title for b in bundles.bundles}
    query = QueryController(ctx, titles)
    checkin = CheckInController(ctx, controller)
    rating = RatingController(ctx)
    HelpController(ctx)
    # "Today" and "tomorrow" of a hall's opening times, as the kiosk's clock has them.
    controller.home.clock = controller.category.clock = clock
    if not isinstance(backend, EmbeddedBackend):
        follow_hall(ctx, controller, link, printing, scanner, delivery)
    routes = {
        "bundles": bundle_controller.open_list,
        "query": query.open,
        "checkin": checkin.open,
        "rating": rating.open,
    }
    controller.home.serviceChosen.connect(lambda key: routes[key]())
    controller.ticket.rateChosen.connect(rating.open)
    bundle_controller.result.rateChosen.connect(rating.open)
    # A 一件事's follow-up number: on the ticket screen, printed, as any number.
    bundle_controller.followUpIssued.connect(controller.show_issued)
    if id_card is not None:
        follow_id_card(window, id_card)
        id_card.start()
    engine = None
    if config.scan_engine.port:
        engine = SerialScanEngine(config.scan_engine.port, config.scan_engine.baudrate,
                                  scanner.inject)
        engine.start()
    if start_camera:
        scanner.start()
    elif defer_camera_ms:
        QTimer.singleShot(defer_camera_ms, scanner.start)
        # A real run: the voice process too, a little later, so that the first spoken
        # prompt does not wait for the speech engine to start (seconds).
        voice = getattr(ctx.speech, "voice", None) or getattr(ctx.sound, "voice", None)
        if voice is not None:
            QTimer.singleShot(defer_camera_ms + 2000, voice.start)
    window.warm_up()
    from kiosk.services.memory import trim_heap

    # Once the resident has gone (the session's screens are cleared a moment later).
    window.sessionEnded.connect(lambda _reason: QTimer.singleShot(500, window, trim_heap))
    if freeze_heap_after_ms:
        from kiosk.services.memory import freeze_startup_heap

        QTimer.singleShot(freeze_heap_after_ms, window, freeze_startup_heap)
    # Home needs no QR library; the first ticket does. Load it on a worker after Home is up
    # so the first resident does not wait for the import (PIL with it).
    QTimer.singleShot(500, window, lambda: ctx.render_queue.closed
                      or ctx.render_queue.submit(_preload_ticket_libraries))
    metrics, metrics_server = (start_metrics(config, paths, ctx, controller, link, outbox)
                               if config.metrics.enabled else (None, None))
    kiosk = Kiosk(
        config=config,
        paths=paths,
        catalog=catalog,
        window=window,
        controller=controller,
        backend=backend,
        backend_queue=backend_queue,
        camera_box=camera_box,
        scanner=scanner,
        printer_transport=transport,
        printing=printing,
        verifier=verifier,
        bundles=bundles,
        bundle_controller=bundle_controller,
        link=link,
        outbox=outbox,
        delivery=delivery,
        scan_engine=engine,
        id_card=id_card,
        id_card_device=id_card_device,
        used_nonces=used_nonces,
        offline=offline,
        metrics=metrics,
        metrics_server=metrics_server,
    )
    install_log_buffer()
    install_maintenance(kiosk)
    return kiosk
