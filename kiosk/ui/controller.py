"""The take-a-number flow: wires screens to the scanner, backend and printer services.

Screens only say what the resident chose; this controller decides what happens next and
runs every slow step on a task queue, so a hanging backend or printer never freezes the UI.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer

from kiosk.backend.interface import Backend, QueueFigures
from kiosk.domain.catalog import Catalog
from kiosk.domain.payloads import Kind, PayloadRefused, Verifier
from kiosk.domain.ticket import TicketView, ticket_document
from kiosk.services import flows
from kiosk.services.printing import PrintService
from kiosk.services.tasks import TaskQueue
from kiosk.ui import messages
from kiosk.ui.main_window import MainWindow
from kiosk.ui.screens.category import CategoryScreen
from kiosk.ui.screens.home import HomeScreen
from kiosk.ui.screens.scan import ScanScreen
from kiosk.ui.screens.ticket import TicketScreen

log = logging.getLogger(__name__)


@dataclass
class Session:
    """Everything known about the resident at the kiosk; replaced wholesale at session end."""

    context: flows.ResidentContext | None = None
    ticket: TicketView | None = None
    ticket_key: str | None = None
    language: str = "zh"


class TakeNumberController(QObject):
    def __init__(
        self,
        window: MainWindow,
        *,
        scanner: QObject,
        backend: Backend,
        backend_queue: TaskQueue,
        printing: PrintService,
        verifier: Verifier,
        catalog: Catalog,
        center_name: str,
        kiosk_id: str,
        ticket_screen_s: int,
        clock: Callable[[], dt.datetime],
    ) -> None:
        super().__init__(window)
        self.window = window
        self.scanner = scanner
        self.backend = backend
        self.backend_queue = backend_queue
        self.printing = printing
        self.verifier = verifier
        self.catalog = catalog
        self.center_name = center_name
        self.kiosk_id = kiosk_id
        self.clock = clock
        self.session = Session()
        self._identifying = False
        self._print_job: int | None = None

        theme = window.theme
        self.home = HomeScreen(theme, catalog, center_name)
        self.scan = ScanScreen(theme)
        self.category = CategoryScreen(theme, catalog)
        self.ticket = TicketScreen(theme)
        for screen in (self.home, self.scan, self.category, self.ticket):
            window.add_screen(screen)
        window.go("home", remember=False)

        self.home.scanChosen.connect(self.start_scan)
        self.home.noPhoneChosen.connect(self.choose_without_phone)
        self.scan.noPhoneChosen.connect(self.choose_without_phone)
        self.category.categoryChosen.connect(self.issue)
        self.ticket.doneChosen.connect(lambda: window.go_home("home"))
        window.screenChanged.connect(self._screen_changed)
        window.sessionEnded.connect(self._session_ended)

        scanner.frameReady.connect(self.scan.set_frame)
        scanner.codeScanned.connect(self.on_code)
        scanner.cameraStateChanged.connect(self.on_camera_state)
        printing.jobFinished.connect(self._print_done)
        printing.jobFailed.connect(self._print_failed)

        # After the ticket is out, Home comes back on its own (the idle countdown also would).
        self.ticket_timer = QTimer(self)
        self.ticket_timer.setSingleShot(True)
        self.ticket_timer.setInterval(ticket_screen_s * 1000)
        self.ticket_timer.timeout.connect(lambda: window.go_home("ticket_done"))
        self.refresh_queue()

    # --- navigation -------------------------------------------------------------------
    def start_scan(self) -> None:
        self.window.go("scan")

    def choose_without_phone(self) -> None:
        self.session.context = None
        self.category.set_resident("", "")
        self.window.go("category")

    def _screen_changed(self, name: str) -> None:
        self.scanner.set_scanning(name == "scan")
        if name == "scan":
            self.scanner.reset_dedup()
        if name in ("home", "category"):
            self.refresh_queue()
        if name != "ticket":
            self.ticket_timer.stop()

    def _session_ended(self, reason: str) -> None:
        log.info("session ended (%s)", reason)
        self.session = Session()
        self._identifying = False
        self._print_job = None
        self.ticket_timer.stop()

    # --- scanning ---------------------------------------------------------------------
    def on_code(self, text: str) -> None:
        if self.window.current().name != "scan" or self._identifying:
            return
        try:
            payload = self.verifier.verify(text, Kind.RESIDENT)
        except PayloadRefused as refused:
            log.info("code refused: %s", refused.problem.value)
            self.scan.show_problem(messages.payload_problem(refused.problem))
            return
        self._identifying = True
        self.scan.show_status(self.tr("正在查询，请稍候…"))
        now = self.clock()
        self.backend_queue.submit(
            lambda: flows.identify_resident(self.backend, payload.reference, now),
            self._identified,
            self._identify_failed,
        )

    def _identified(self, context: flows.ResidentContext | None) -> None:
        self._identifying = False
        if self.window.current().name != "scan":
            return  # the resident left (Home, idle) while we were looking them up
        self.scan.show_status("")
        if context is None:
            self.scan.show_problem(messages.unknown_resident())
            return
        self.session.context = context
        self.category.set_resident(context.masked_name, messages.priority_notice(context.priority))
        self.window.go("category")

    def _identify_failed(self, exc: BaseException) -> None:
        self._identifying = False
        log.warning("identify failed: %s", type(exc).__name__)
        self.scan.show_status("")
        self.scan.show_problem(messages.backend_unavailable())

    def on_camera_state(self, state: str) -> None:
        if state in ("unavailable", "stale"):
            self.scan.show_status(messages.camera_problem())
        elif state == "running":
            self.scan.show_status("")

    # --- the ticket -------------------------------------------------------------------
    def issue(self, category_id: str) -> None:
        # One key per tap on this screen: a repeated request (double tap, retry) returns the
        # same ticket from the backend instead of a second number.
        if self.session.ticket_key is None:
            self.session.ticket_key = uuid.uuid4().hex
        key = self.session.ticket_key
        context = self.session.context
        language = self.session.language
        self.backend_queue.submit(
            lambda: flows.issue_ticket(
                self.backend,
                self.catalog,
                context=context,
                category_id=category_id,
                kiosk_id=self.kiosk_id,
                center_name=self.center_name,
                idempotency_key=key,
                language=language,
            ),
            self._issued,
            self._issue_failed,
        )

    def _issued(self, ticket: TicketView) -> None:
        if self.window.current().name != "category":
            return
        self.session.ticket = ticket
        log.info("ticket %s issued (%s)", ticket.number, ticket.priority_reason or "ordinary")
        self.ticket.show_ticket(ticket)
        self.ticket.set_print_status(self.tr("正在打印凭条…"))
        self.ticket.show_print_problem("")
        self.window.go("ticket", remember=False)
        self._print_job = self.printing.print_document(ticket_document(ticket))
        self.ticket_timer.start()

    def _issue_failed(self, exc: BaseException) -> None:
        log.warning("ticket failed: %s", type(exc).__name__)
        self.session.ticket_key = None
        self.category.set_busy(False)
        self.category.set_resident("", messages.backend_unavailable())

    def _print_done(self, job: int, _report: object) -> None:
        if job == self._print_job:
            self.ticket.set_print_status(self.tr("请取走凭条，留意叫号。"))

    def _print_failed(self, job: int, code: str, hint: str) -> None:
        log.warning("printer problem %s (technician: %s)", code, hint)
        if job == self._print_job:
            self.ticket.set_print_status("")
            self.ticket.show_print_problem(messages.printer_problem(code))

    # --- queue figures ----------------------------------------------------------------
    def refresh_queue(self) -> None:
        self.backend_queue.submit(self.backend.queue_figures, self._figures, lambda _e: None)

    def _figures(self, figures: dict[str, QueueFigures]) -> None:
        self.home.set_queue_figures(figures)
        self.category.set_queue_figures(figures)
