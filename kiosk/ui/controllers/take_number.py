"""The take-a-number flow: wires screens to the scanner, backend and printer services.

Screens only say what the resident chose; this controller decides what happens next and
runs every slow step on a task queue, so a hanging backend or printer never freezes the UI.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections import deque

from PySide6.QtCore import QObject, QTimer, Signal

from kiosk.backend.interface import IssuedTicket, QueueFigures
from kiosk.delivery.deliverer import UNRESOLVED, Delivery, issued_ticket
from kiosk.delivery.leases import LeaseKeeper, OfflineNumber, OfflineRefusal
from kiosk.domain.id_card import IdCard
from kiosk.domain.payloads import Kind, PayloadRefused
from kiosk.domain.text import Bilingual
from kiosk.domain.ticket import TicketView, ticket_document
from kiosk.services import flows
from kiosk.ui import messages
from kiosk.ui.controllers.context import KioskContext, Session
from kiosk.ui.controllers.elder import ElderController
from kiosk.ui.controllers.language import LanguageController
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.category import CategoryScreen
from kiosk.ui.screens.home import HomeScreen, ServicesScreen
from kiosk.ui.screens.scan import ScanScreen
from kiosk.ui.screens.ticket import TicketScreen
from kiosk.ui.screens.ticket_refused import TicketRefusedScreen
from kiosk.ui.widgets.camera_view import CameraView
from kiosk.ui.widgets.qr import forget_qr_codes, screen_qr_matrix

log = logging.getLogger(__name__)


class TakeNumberController(QObject):
    """扫码取号 and 没有手机: identify (or not), pick a category, issue and print a ticket."""

    # A new number is on its resident's screen (offline or not; a number they already held
    # is not new): the terminal's metrics count it.
    ticketIssued = Signal()

    def __init__(self, ctx: KioskContext) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        window = ctx.window
        self.window = window
        self.scanner = ctx.scanner
        self.backend = ctx.backend
        self.backend_queue = ctx.backend_queue
        self.printing = ctx.printing
        self.verifier = ctx.verifier
        self.catalog = ctx.catalog
        self.center_name = ctx.center_name
        self.kiosk_id = ctx.kiosk_id
        self.clock = ctx.clock
        self._identifying = False
        self._print_job: int | None = None
        self._ticket_key: str | None = None
        # When this kiosk issued its recent tickets without a phone (the per-minute limit).
        self._anonymous_issued: deque[dt.datetime] = deque()

        theme = window.theme
        self.home = HomeScreen(theme, ctx.catalog, ctx.center_name,
                               center_name_en=ctx.center_name_en)
        self.scan = ScanScreen(theme)
        self.category = CategoryScreen(theme, ctx.catalog)
        self.ticket = TicketScreen(theme)
        self.refused = TicketRefusedScreen(theme)
        # Elder mode's second page of Home: the services whose tiles it leaves out.
        self.services = ServicesScreen(theme)
        for screen in (self.home, self.scan, self.category, self.ticket, self.refused,
                       self.services):
            window.add_screen(screen)
        window.go(ScreenName.HOME, remember=False)

        self.home.scanChosen.connect(self.start_scan)
        self.home.noPhoneChosen.connect(self.choose_without_phone)
        self.home.helpChosen.connect(lambda: window.helpRequested.emit(ScreenName.HOME))
        self.home.moreChosen.connect(lambda: window.go(ScreenName.SERVICES))
        self.services.serviceChosen.connect(self.home.serviceChosen)
        self.scan.noPhoneChosen.connect(self.choose_without_phone)
        self.category.categoryChosen.connect(self.issue)
        self.ticket.doneChosen.connect(lambda: window.go_home("home"))
        self.ticket.reprintChosen.connect(self._reprint)
        self.refused.doneChosen.connect(lambda: window.go_home("home"))
        ctx.delivery.ticketResolving.connect(self._resolving)
        window.screenChanged.connect(self._screen_changed)
        window.sessionEnded.connect(self._session_ended)
        # After _session_ended: the session is replaced before the language goes back.
        self.language = LanguageController(ctx)
        self.ticket_timer = QTimer(self)
        self.elder = ElderController(ctx, self.ticket_timer)

        self.scanner.frameReady.connect(self.scan.set_frame)
        self.scanner.codeScanned.connect(self.on_code)
        self.scanner.cameraStateChanged.connect(self.on_camera_state)
        if ctx.id_card is not None:
            ctx.id_card.cardRead.connect(self.on_card)
            ctx.id_card.cardUnreadable.connect(self.on_card_unreadable)
        self.printing.jobFinished.connect(self._print_done)
        self.printing.jobFailed.connect(self._print_failed)
        self.printing.printerProblemChanged.connect(self.home.set_printer_problem)
        self.printing.printerProblemChanged.connect(self._printer_changed)
        self.home.set_printer_problem(self.printing.problem)

        # After the ticket is out, Home comes back on its own (the idle countdown also would).
        # Its interval follows the mode (ElderController).
        self.ticket_timer.setSingleShot(True)
        window.closed.connect(self.ticket_timer.stop)
        self.ticket_timer.timeout.connect(lambda: window.go_home("ticket_done"))
        self.refresh_queue()

    @property
    def session(self) -> Session:
        return self.ctx.session

    # --- navigation -------------------------------------------------------------------
    def start_scan(self) -> None:
        self.ctx.start_flow("take_number")
        self.ctx.set_step(ScreenName.SCAN)
        self.window.go(ScreenName.SCAN)

    def choose_without_phone(self) -> None:
        if self.ctx.session.flow != "take_number":
            self.ctx.start_flow("take_number")
        self.ctx.set_step(ScreenName.CATEGORY)
        self.session.context = None
        self.category.set_resident("", "")
        self.window.go(ScreenName.CATEGORY)

    def _screen_changed(self, name: str) -> None:
        wants = self.window.current().wants_codes()
        self.scanner.set_scanning(wants)
        if wants:
            self.scanner.reset_dedup()
        if name in (ScreenName.HOME, ScreenName.CATEGORY):
            self.refresh_queue()
        if name != ScreenName.TICKET:
            self.ticket_timer.stop()

    def _session_ended(self, reason: str) -> None:
        self.ctx.reset_session(reason)
        forget_qr_codes()
        self._ticket_key = None
        self._identifying = False
        self._print_job = None
        self.ticket_timer.stop()

    # --- scanning ---------------------------------------------------------------------
    def on_code(self, text: str) -> None:
        if self.window.current().name != ScreenName.SCAN or self._identifying:
            return
        try:
            payload = self.verifier.check(text, Kind.RESIDENT)
        except PayloadRefused as refused:
            log.info("code refused: %s", refused.problem.value)
            self.scan.show_problem(messages.payload_problem(refused.problem))
            return
        self._identifying = True
        self.scan.show_status(self.tr("正在查询，请稍候…"))
        now = self.clock()
        verifier = self.verifier

        def lookup() -> flows.ResidentContext | None:
            # Used up first (this kiosk's file, then the hall): disk and network, so here.
            verifier.claim(payload)
            return flows.identify_resident(self.backend, payload.reference, now, code=text)

        self.backend_queue.submit(
            lookup,
            self._identified,
            self._identify_failed,
        )

    def on_card(self, card: IdCard) -> None:
        """A resident ID card on the reader: an identity, as a verified code is."""
        if self.window.current().name != ScreenName.SCAN or self._identifying:
            return
        refusal = messages.id_card_refusal(card, self.clock().date())
        if refusal:
            log.info("ID card refused: not in force today")
            self.scan.show_problem(refusal)
            return
        self._identifying = True
        self.scan.show_status(self.tr("正在查询，请稍候…"))
        now = self.clock()
        backend = self.backend
        self.backend_queue.submit(lambda: flows.identify_card_holder(backend, card, now),
                                  self._identified, self._identify_failed)

    def on_card_unreadable(self) -> None:
        if self.window.current().name == ScreenName.SCAN and not self._identifying:
            self.scan.show_problem(messages.id_card_unreadable())

    def _identified(self, context: flows.ResidentContext | None) -> None:
        self._identifying = False
        if self.window.current().name != ScreenName.SCAN:
            return  # the resident left (Home, idle) while we were looking them up
        self.scan.show_status("")
        if context is None:
            self.scan.show_problem(messages.unknown_resident())
            return
        self.ctx.scan_accepted()
        self.session.context = context
        self.category.set_resident(context.masked_name, messages.priority_notice(context.priority))
        self.ctx.set_step(ScreenName.CATEGORY)
        self.window.go(ScreenName.CATEGORY)

    def _identify_failed(self, exc: BaseException) -> None:
        self._identifying = False
        self.scan.show_status("")
        if isinstance(exc, PayloadRefused):  # used before: here, before a restart, or nearby
            log.info("code refused: %s", exc.problem.value)
            self.scan.show_problem(messages.payload_problem(exc.problem))
            return
        log.warning("identify failed: %s", type(exc).__name__)
        self.scan.show_problem(messages.identify_failed(exc, self.session.language))

    def on_camera_state(self, state: str) -> None:
        # "restarting": the camera worker process died and is being started again (~1 s).
        problem = state in ("unavailable", "stale", "restarting")
        if problem or state == "running":
            # Every scan screen (take a number, 办件查询, 预约签到) says so, and every preview
            # (those, bundle identify, maintenance) drops its picture.
            for screen in self.window.findChildren(ScanScreen):
                screen.set_camera_out(problem)
            for view in self.window.findChildren(CameraView):
                view.set_unavailable(problem)

    # --- the ticket -------------------------------------------------------------------
    def show_issued(self, issued: IssuedTicket, context: flows.ResidentContext | None) -> None:
        """A ticket another flow already has from the backend (预约签到: issued together with
        the check-in), shown and printed as this flow's own."""
        self.session.context = context
        ticket = flows.ticket_view(
            issued, self.catalog, context=context,
            center_name=self.ctx.center_name_for(self.session.language),
            language=self.session.language,
        )
        session = self.session
        # The QR modules are computed on the worker, as in _delivered.
        self.ctx.render_queue.submit(
            lambda: screen_qr_matrix(ticket.tracking_code),
            lambda _m: self._issued(ticket) if self.session is session else None,
            lambda _e: self._issued(ticket) if self.session is session else None,
        )

    def issue(self, category_id: str) -> None:
        context = self.session.context
        if context is None and self._ticket_key is None:
            wait_s = self._anonymous_wait_s()
            if wait_s > 0:
                log.info("anonymous ticket limit reached; next in %d s", wait_s)
                self.category.set_busy(False)
                self.category.show_problem(messages.anonymous_limit(wait_s))
                return
        # One key per tap on this screen: a repeated request (double tap, retry) returns the
        # same ticket from the backend instead of a second number.
        if self._ticket_key is None:
            self._ticket_key = self.ctx.new_key()
        key = self._ticket_key
        session = self.session
        request = flows.ticket_request(context, category_id=category_id, kiosk_id=self.kiosk_id)
        self.category.show_problem("")
        self.ctx.delivery.deliver(
            "ticket", key, dataclasses.asdict(request),
            lambda d: self._answered(d, context, session, category_id),
            self._issue_failed,
        )

    def _not_issued(self, delivery: Delivery) -> None:
        self.category.set_busy(False)
        self.category.show_problem(
            messages.ticket_unconfirmed(self.ctx.hotline) if delivery.error == UNRESOLVED
            else messages.ticket_unavailable(self.ctx.hotline))

    def _refused(self, closed: bool, said: Bilingual | None,
                 opens_at: dt.datetime | None) -> None:
        """Closed, or today's numbers all taken: said on a screen of its own, nothing
        printed, and Home the way on."""
        log.info("no ticket: %s", "closed" if closed else "daily cap reached")
        self.category.set_busy(False)
        self.refused.show_refusal("closed" if closed else "cap_reached", said, opens_at)
        self.window.go(ScreenName.TICKET_REFUSED, remember=False)

    def _issue_offline(self, keeper: LeaseKeeper, delivery: Delivery, category_id: str) -> None:
        session = self.session
        key = delivery.key

        def answered(found: OfflineNumber | OfflineRefusal) -> None:
            if self.session is not session:
                if isinstance(found, OfflineNumber):  # nobody to hand it to
                    self.backend_queue.submit(lambda: keeper.withdraw(found), None,
                                              lambda _e: None)
                return
            if isinstance(found, OfflineNumber):
                self._issued_offline(found)
            elif found.reason in ("closed", "cap_reached"):
                self._refused(found.reason == "closed", None, found.opens_at)
            else:
                self._not_issued(delivery)

        self.backend_queue.submit(lambda: keeper.issue(category_id, key), answered,
                                  self._issue_failed)

    def _issued_offline(self, found: OfflineNumber) -> None:
        ticket = flows.offline_ticket_view(
            found.number, found.category, found.issued_at, self.catalog,
            center_name=self.ctx.center_name_for(self.session.language),
            language=self.session.language)
        self._issued(ticket)
        if self.ctx.offline is not None:
            self.ctx.offline.refresh()  # a block to top up, or the hall back already

    def _anonymous_wait_s(self) -> int:
        """Seconds until this kiosk may issue another ticket without a phone (0: now)."""
        now = self.clock()
        window = dt.timedelta(minutes=1)
        recent = self._anonymous_issued
        while recent and now - recent[0] >= window:
            recent.popleft()
        if len(recent) < self.ctx.anonymous_tickets_per_minute:
            return 0
        return max(1, math.ceil((recent[0] + window - now).total_seconds()))

    def _resolving(self, key: str) -> None:
        if key == self._ticket_key and self.window.current().name == ScreenName.CATEGORY:
            self.category.show_problem(messages.ticket_resolving())

    def _answered(self, delivery: Delivery, context: flows.ResidentContext | None,
                  session: Session, category_id: str) -> None:
        if self.session is session:
            self._delivered(delivery, context, category_id)
        elif delivery.state == "done" and delivery.result is not None:
            self._left_before_seeing(delivery.key, delivery.result)

    def _left_before_seeing(self, key: str, result: dict[str, object]) -> None:
        # The resident left (Home, idle) before the number was on screen: nobody holds it.
        # A ticket they already held before stays theirs.
        if not result.get("already_waiting"):
            log.info("ticket issued after its resident left; withdrawn")
            self.ctx.delivery.withdraw_ticket(key, "left")

    def _delivered(self, delivery: Delivery, context: flows.ResidentContext | None,
                   category_id: str) -> None:
        if delivery.state != "done" or delivery.result is None:
            log.warning("ticket not issued: %s", delivery.error or delivery.state)
            self._ticket_key = None  # that request is dropped; a new tap is a new request
            refusal = delivery.refusal
            if refusal is not None and refusal.code in ("closed", "cap_reached"):
                self._refused(refusal.code == "closed", refusal.message, refusal.opens_at)
                return
            offline = self.ctx.offline
            if offline is not None and delivery.unreachable:
                # The hall was not reached, and the request can no longer be issued under its
                # key (never sent, or cancelled): a number of this kiosk's own block instead.
                self._issue_offline(offline.keeper, delivery, category_id)
                return
            self._not_issued(delivery)
            return
        issued = issued_ticket(delivery.result)
        ticket = flows.ticket_view(
            issued, self.catalog, context=context,
            center_name=self.ctx.center_name_for(self.session.language),
            language=self.session.language,
        )
        session = self.session
        key = delivery.key
        result = delivery.result

        def show(_matrix: object) -> None:
            if self.session is session:
                self._issued(ticket, key, already_waiting=issued.already_waiting)
            else:
                self._left_before_seeing(key, result)

        # The QR modules are computed on the worker: pure Python too slow for the GUI thread.
        self.ctx.render_queue.submit(lambda: screen_qr_matrix(ticket.tracking_code), show, show)

    def _issued(self, ticket: TicketView, key: str | None = None, *,
                already_waiting: bool = False) -> None:
        """Show (and print) a ticket; `key`: its outbox request, claimed once on screen."""
        # Only for the session that asked: a resident who left (Home, idle) gets nothing shown.
        self._ticket_key = None
        self.session.rating_target = ("ticket", ticket.number)
        self.ctx.end_flow("flow_finished")
        log.info("ticket %s %s (%s)", ticket.number,
                 "shown again" if already_waiting else
                 "issued offline" if ticket.offline else "issued",
                 ticket.priority_reason or "ordinary")
        if self.session.context is None and not already_waiting:
            self._anonymous_issued.append(self.clock())
        self.ticket.show_ticket(ticket)
        self.ticket.set_already_waiting(already_waiting)
        self.ticket.show_print_problem("")
        self.window.go(ScreenName.TICKET, remember=False)
        if key is not None:
            # On screen: the resident holds it now, and a restart never withdraws it.
            self.ctx.delivery.claim_ticket(key)
        if already_waiting:
            # Their paper may be in their pocket: printed again only if they ask.
            self.ticket.set_print_status("")
            self._print_job = None
        else:
            self.ticketIssued.emit()
            self.ticket.set_print_status(self.tr("正在打印凭条…"))
            self._print_job = self.printing.print_document(ticket_document(ticket))
        self.ticket_timer.start()

    def _reprint(self) -> None:
        ticket = self.ticket.ticket
        if ticket is None:
            return
        self.ticket.reprint_button.setEnabled(False)  # one reprint per tap, not a pile
        self.ticket.set_print_status(self.tr("正在打印凭条…"))
        self.ticket.show_print_problem("")
        job = self._print_job
        # The ticket the printer refused, asked for by its own resident: that job, once.
        if job is not None and self.printing.reprint_held(job):
            return
        self._print_job = self.printing.print_document(ticket_document(ticket))

    def _printer_changed(self, problem: str) -> None:
        """The printer prints again: the ticket it refused is offered to its resident, if
        they are still at its screen (never printed by itself for whoever stands there)."""
        job = self._print_job
        if (problem or job is None or not self.printing.is_held(job)
                or self.window.current().name != ScreenName.TICKET):
            return
        self.ticket.offer_reprint(messages.printer_back())

    def _issue_failed(self, exc: BaseException) -> None:
        log.warning("ticket failed: %s", type(exc).__name__)
        self._ticket_key = None
        self.category.set_busy(False)
        self.category.show_problem(messages.ticket_unavailable(self.ctx.hotline))

    def _print_done(self, job: int, _report: object) -> None:
        if job == self._print_job:
            self.ticket.set_print_status(self.tr("请取走凭条，留意叫号。"), announce=True)

    def _print_failed(self, job: int, code: str, hint: str) -> None:
        log.warning("printer problem %s (technician: %s)", code, hint)
        if job == self._print_job:
            self.ticket.set_print_status("")
            held = self.printing.is_held(job)  # nothing sent: printed again when asked
            context = self.session.context  # came with a phone (a scanned code), not a card
            phone = context is not None and not context.by_card
            self.ticket.show_print_problem(messages.printer_problem(code, held=held,
                                                                    phone=phone))
            if held:
                self.ticket.reprint_button.hide()  # offered again once the printer is back
            ticket = self.ticket.ticket
            if not phone and ticket is not None:
                self.ticket.show_write_down(messages.write_number_down(
                    ticket.number, ticket.issued_at.strftime("%H:%M")))
            # Home comes back by the idle countdown, which asks first, not after the
            # ticket's few seconds: copying a number down takes longer than taking paper.
            self.ticket_timer.stop()

    # --- queue figures ----------------------------------------------------------------
    def refresh_queue(self) -> None:
        # A kiosk holding offline numbers remembers the figures: the hours it keeps to.
        offline = self.ctx.offline
        fetch = offline.keeper.queue_figures if offline is not None else self.backend.queue_figures
        self.backend_queue.submit(fetch, self._figures, lambda _e: None)

    def _figures(self, figures: dict[str, QueueFigures]) -> None:
        self.home.set_queue_figures(figures)
        self.category.set_queue_figures(figures)
