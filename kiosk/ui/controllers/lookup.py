"""办件查询 (progress by a ticket's or receipt's code, or the 随申码) and 预约签到
(appointment check-in)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject

from kiosk.backend.interface import (
    AlreadyCheckedIn,
    ApplicationSummary,
    BackendError,
    CheckIn,
    IdempotencyConflict,
    TicketProgress,
    TicketState,
)
from kiosk.domain.hall_links import LinkKind, is_web_address, parse_hall_link
from kiosk.domain.id_card import IdCard
from kiosk.domain.payloads import Kind, PayloadProblem, PayloadRefused, parse
from kiosk.domain.queue import AppointmentFit
from kiosk.domain.text import Bilingual
from kiosk.domain.ticket import TicketView, ticket_document
from kiosk.services import flows
from kiosk.ui import messages
from kiosk.ui.controllers.context import KioskContext
from kiosk.ui.controllers.take_number import TakeNumberController
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.lookup import CheckInResultScreen, QueryResultScreen, TicketShown
from kiosk.ui.screens.scan import ScanScreen

log = logging.getLogger(__name__)

# A transferred ticket is followed to the one it became, at most this many times (a ticket
# moved from counter to counter), so a loop in the data cannot keep the worker busy.
MAX_TRANSFERS_FOLLOWED = 5


class QueryController(QObject):
    """办件查询. What the camera may show, and what it shows back:

    - a receipt's code (the embedded backend's signed Kind.RECEIPT) or a hall's application
      link (<public_url>/a/<public id>): that application's timeline;
    - a ticket's code (signed Kind.TICKET) or a hall's ticket link (<public_url>/t/<id>):
      where the ticket stands now (people ahead, the counter calling it, …);
    - a 随申码: the resident's applications.

    A hall's link at a kiosk with no hall names nothing this kiosk can ask about: the
    resident is told it is for their phone. Every backend call runs on ctx.backend_queue.
    """

    def __init__(self, ctx: KioskContext, bundle_titles: dict[str, Bilingual]) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.titles = bundle_titles
        theme = ctx.window.theme
        self.scan = ScanScreen(theme, "query")
        self.result = QueryResultScreen(theme)
        ctx.window.add_screen(self.scan)
        ctx.window.add_screen(self.result)
        ctx.scanner.frameReady.connect(self.scan.set_frame)
        ctx.scanner.codeScanned.connect(self.on_code)
        if ctx.id_card is not None:
            ctx.id_card.cardRead.connect(self.on_card)
            ctx.id_card.cardUnreadable.connect(self.on_card_unreadable)
        self.scan.noPhoneChosen.connect(
            lambda: ctx.window.helpRequested.emit(ScreenName.QUERY_SCAN))
        self.result.doneChosen.connect(lambda: ctx.window.go_home("home"))
        self._busy = False

    def open(self) -> None:
        self.ctx.start_flow("query")
        self.ctx.window.go(ScreenName.QUERY_SCAN)

    def on_code(self, text: str) -> None:
        if self.ctx.window.current().name != ScreenName.QUERY_SCAN or self._busy:
            return
        if is_web_address(text):
            self._on_link(text)
            return
        try:
            payload = self.ctx.verifier.check(text, (Kind.RECEIPT, Kind.TICKET, Kind.RESIDENT))
        except PayloadRefused as refused:
            self.scan.show_problem(self._refusal(text, refused.problem))
            return
        if payload.kind is Kind.RECEIPT:
            self._ask_application(payload.reference)
            return
        if payload.kind is Kind.TICKET:
            self._ask_ticket(payload.reference)
            return
        backend = self.ctx.backend
        verifier = self.ctx.verifier
        ref = payload.reference

        def work() -> list[ApplicationSummary]:
            verifier.claim(payload)  # a personal code is used once (disk, hall)
            # A hall answers about a resident only once it has verified the code.
            if backend.identify(ref, code=text) is None:
                return []
            return backend.applications_of(ref)

        self._busy = True
        self.ctx.backend_queue.submit(work, self._found, self._failed)

    def on_card(self, card: IdCard) -> None:
        """A resident ID card on the reader: that resident's applications, as for a 随申码."""
        if self.ctx.window.current().name != ScreenName.QUERY_SCAN or self._busy:
            return
        refusal = messages.id_card_refusal(card, self.ctx.clock().date())
        if refusal:
            self.scan.show_problem(refusal)
            return
        backend = self.ctx.backend

        def work() -> list[ApplicationSummary]:
            resident = backend.identify_by_id_card(card.id_number, card.name)
            return [] if resident is None else backend.applications_of(resident.resident_id)

        self._busy = True
        self.ctx.backend_queue.submit(work, self._found, self._failed)

    def on_card_unreadable(self) -> None:
        if self.ctx.window.current().name == ScreenName.QUERY_SCAN and not self._busy:
            self.scan.show_problem(messages.id_card_unreadable())

    @staticmethod
    def _refusal(text: str, problem: PayloadProblem) -> str:
        """The words for a refused code: a ticket of an earlier day is said to be one (not
        an expired 随申码, which is what EXPIRED says elsewhere)."""
        if problem is PayloadProblem.EXPIRED:
            try:
                kind = parse(text)[0].kind
            except PayloadRefused:
                kind = None
            if kind is Kind.TICKET:
                return messages.ticket_code_expired()
        return messages.payload_problem(problem)

    def _on_link(self, text: str) -> None:
        link = parse_hall_link(text)
        if link is None:  # another site's address, or a damaged link
            self.scan.show_problem(messages.query_code_unknown())
            return
        if not self.ctx.of_hall:  # the embedded backend: no hall knows this id here
            self.scan.show_problem(messages.hall_link_here())
            return
        if link.kind is LinkKind.TICKET:
            self._ask_ticket(link.ident)
        else:  # a hall's application() takes the public id its links carry
            self._ask_application(link.ident)

    def _ask_application(self, ref: str) -> None:
        backend = self.ctx.backend
        self._busy = True
        self.ctx.backend_queue.submit(lambda: backend.application(ref),
                                      self._application_found, self._failed)

    def _ask_ticket(self, ticket_id: str) -> None:
        backend = self.ctx.backend

        def work() -> tuple[TicketProgress | None, str]:
            found = backend.ticket_progress(ticket_id)
            first = ""  # the number on the resident's paper, when it was transferred since
            for _ in range(MAX_TRANSFERS_FOLLOWED):
                if (found is None or found.state is not TicketState.TRANSFERRED
                        or not found.now_ticket_id):
                    break
                became = backend.ticket_progress(found.now_ticket_id)
                if became is None:
                    break
                first = first or found.number
                found = became
            return found, first

        self._busy = True
        self.ctx.backend_queue.submit(work, self._ticket_found, self._failed)

    def _ticket_found(self, answer: tuple[TicketProgress | None, str]) -> None:
        self._busy = False
        if self.ctx.window.current().name != ScreenName.QUERY_SCAN:
            return
        progress, transferred_from = answer
        if progress is None:
            self.scan.show_problem(messages.ticket_not_found())
            return
        self.ctx.scan_accepted()
        category = progress.category_title
        if category is None:
            try:
                category = self.ctx.catalog.get(progress.category).title
            except KeyError:  # a category staff removed since: the number says enough
                category = None
        self.result.show_ticket(TicketShown(progress, category, self.ctx.clock(),
                                            transferred_from=transferred_from))
        self.ctx.end_flow("flow_finished")
        self.ctx.window.go(ScreenName.QUERY_RESULT)

    def _application_found(self, found: ApplicationSummary | None) -> None:
        if found is None:
            self._busy = False
            if self.ctx.window.current().name == ScreenName.QUERY_SCAN:
                self.scan.show_problem(messages.application_not_found())
            return
        self._found([found])

    def _found(self, apps: list[ApplicationSummary]) -> None:
        self._busy = False
        if self.ctx.window.current().name != ScreenName.QUERY_SCAN:
            return
        self.ctx.scan_accepted()  # the cue, as for 扫码取号
        lang = self.ctx.session.language
        rows = []
        for a in apps:
            known = self.titles.get(a.bundle_id)
            title = f"{known.get(lang) if known else a.bundle_id}  {a.reference}"
            timeline = [(e.at.strftime("%m-%d %H:%M"), e.status.label(lang), e.note)
                        for e in a.timeline]
            rows.append((title, a.status.label(lang), timeline))
        self.result.show_applications(rows, messages.no_applications())
        self.ctx.end_flow("flow_finished")
        self.ctx.window.go(ScreenName.QUERY_RESULT)

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        if isinstance(exc, PayloadRefused):  # a personal code used before
            self.scan.show_problem(messages.payload_problem(exc.problem))
            return
        log.warning("query failed: %s", type(exc).__name__)
        self.scan.show_problem(messages.identify_failed(exc, self.ctx.session.language))


class CheckInController(QObject):
    """预约签到: scan, then, on time, one backend call that checks in and issues the priority
    ticket together. The call's idempotency key is made when the code is accepted and
    reused by every retry of that scan, so a reply lost after the backend committed is
    answered, on retry, with the ticket it committed."""

    def __init__(self, ctx: KioskContext, tickets: TakeNumberController) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.tickets = tickets
        theme = ctx.window.theme
        self.scan = ScanScreen(theme, "checkin")
        self.result = CheckInResultScreen(theme)
        ctx.window.add_screen(self.scan)
        ctx.window.add_screen(self.result)
        ctx.scanner.frameReady.connect(self.scan.set_frame)
        ctx.scanner.codeScanned.connect(self.on_code)
        if ctx.id_card is not None:
            ctx.id_card.cardRead.connect(self.on_card)
            ctx.id_card.cardUnreadable.connect(self.on_card_unreadable)
        self.scan.noPhoneChosen.connect(self.ordinary)
        self.result.ordinaryChosen.connect(self.ordinary)
        self.result.retryChosen.connect(self.retry)
        self.result.printChosen.connect(self.reprint)
        self.result.doneChosen.connect(lambda: ctx.window.go_home("home"))
        ctx.printing.jobFinished.connect(self._print_done)
        ctx.printing.jobFailed.connect(self._print_failed)
        ctx.window.sessionEnded.connect(self._session_ended)
        self._busy = False
        # The scan being checked in (its resident) and its key, until it has an answer.
        self._attempt: tuple[flows.ResidentContext, str] | None = None
        self._earlier: TicketView | None = None  # an earlier check-in's ticket, to reprint
        self._print_job: int | None = None
        self._held_job: int | None = None  # refused by the printer, kept for this resident

    def open(self) -> None:
        self.ctx.start_flow("check_in")
        self.ctx.window.go(ScreenName.CHECKIN_SCAN)

    def ordinary(self) -> None:
        """An ordinary ticket: the category screen, knowing who the resident is (if known)."""
        context = self.ctx.session.context
        self.tickets.category.set_resident(context.masked_name if context else "",
                                           messages.priority_notice(context.priority)
                                           if context else "")
        self.ctx.window.go(ScreenName.CATEGORY)

    def _session_ended(self, _reason: str) -> None:
        # A call still on its way answers a session that is gone: it is dropped (the
        # backend has the ticket; the resident's next scan is shown it).
        self._attempt = None
        self._earlier = None
        self._print_job = None
        self._held_job = None

    def on_code(self, text: str) -> None:
        if self.ctx.window.current().name != ScreenName.CHECKIN_SCAN or self._busy:
            return
        try:
            payload = self.ctx.verifier.check(text, Kind.RESIDENT)
        except PayloadRefused as refused:
            self.scan.show_problem(messages.payload_problem(refused.problem))
            return
        backend = self.ctx.backend
        verifier = self.ctx.verifier
        now = self.ctx.clock()
        rid = payload.reference

        def lookup() -> flows.ResidentContext | None:
            verifier.claim(payload)  # a personal code is used once (disk, hall)
            return flows.identify_resident(backend, rid, now, code=text)

        self._busy = True
        self.ctx.backend_queue.submit(lookup, self._identified, self._failed)

    def on_card(self, card: IdCard) -> None:
        """A resident ID card on the reader: identified as by a 随申码."""
        if self.ctx.window.current().name != ScreenName.CHECKIN_SCAN or self._busy:
            return
        refusal = messages.id_card_refusal(card, self.ctx.clock().date())
        if refusal:
            self.scan.show_problem(refusal)
            return
        backend = self.ctx.backend
        now = self.ctx.clock()
        self._busy = True
        self.ctx.backend_queue.submit(lambda: flows.identify_card_holder(backend, card, now),
                                      self._identified, self._failed)

    def on_card_unreadable(self) -> None:
        if self.ctx.window.current().name == ScreenName.CHECKIN_SCAN and not self._busy:
            self.scan.show_problem(messages.id_card_unreadable())

    def _identified(self, context: flows.ResidentContext | None) -> None:
        self._busy = False
        if self.ctx.window.current().name != ScreenName.CHECKIN_SCAN:
            return
        if context is None:
            self.scan.show_problem(messages.unknown_resident())
            return
        self.ctx.scan_accepted()  # the cue, as for 扫码取号
        self.ctx.session.context = context
        if context.appointment is not None and context.appointment_fit is AppointmentFit.ON_TIME:
            self._attempt = (context, self.ctx.new_key())
            self._check_in()
            return
        self.ctx.end_flow("flow_finished")
        self.result.show_explanation(messages.appointment_explanation(context))
        self.ctx.window.go(ScreenName.CHECKIN_RESULT)

    def retry(self) -> None:
        """再试一次 after an unanswered check-in: the same scan, so the same key."""
        self._check_in()

    def _check_in(self) -> None:
        if self._attempt is None or self._busy:
            return
        context, key = self._attempt
        assert context.appointment is not None
        appointment_id = context.appointment.appointment_id
        backend = self.ctx.backend
        kiosk_id = self.ctx.kiosk_id
        session = self.ctx.session
        self._busy = True
        self.result.set_busy(True)

        def answered(result: CheckIn) -> None:
            self._settled()
            if self.ctx.session is session:
                self._checked_in(result, context)

        def failed(exc: BaseException) -> None:
            self._settled()
            if self.ctx.session is session:
                self._check_in_failed(exc)

        self.ctx.backend_queue.submit(
            lambda: backend.check_in(appointment_id, kiosk_id, key), answered, failed)

    def _settled(self) -> None:
        self._busy = False
        self.result.set_busy(False)

    def _checked_in(self, result: CheckIn, context: flows.ResidentContext) -> None:
        self._attempt = None
        self.ctx.end_flow("flow_finished")
        if not result.earlier:
            self.tickets.show_issued(result.ticket, context)
            return
        # Checked in before (another scan, another kiosk): its ticket, not "already".
        lang = self.ctx.session.language
        view = flows.ticket_view(result.ticket, self.ctx.catalog, context=context,
                                 center_name=self.ctx.center_name_for(lang), language=lang)
        self._earlier = view
        self.ctx.session.rating_target = ("ticket", view.number)
        self.result.show_earlier(messages.checked_in_earlier(
            view.number, view.category_title, f"{view.issued_at:%H:%M}"))
        self.ctx.window.go(ScreenName.CHECKIN_RESULT)

    def _check_in_failed(self, exc: BaseException) -> None:
        log.warning("check-in failed: %s", type(exc).__name__)
        if isinstance(exc, AlreadyCheckedIn):  # a hall server of the previous API
            self._attempt = None
            self.result.show_refused(messages.already_checked_in())
        elif isinstance(exc, BackendError) and not isinstance(exc, IdempotencyConflict):
            # Unreachable, timed out, or the reply lost: the check-in may have been
            # committed. The attempt is kept, so 再试一次 asks again with the same key.
            self.result.show_unreachable(messages.check_in_unreachable(self.ctx.hotline))
        else:  # unknown appointment, a refused request: no retry can fix it
            self._attempt = None
            self.result.show_refused(messages.check_in_refused(self.ctx.hotline))
        self.ctx.window.go(ScreenName.CHECKIN_RESULT)

    def reprint(self) -> None:
        """重新打印凭条 for an earlier check-in's ticket."""
        if self._earlier is None or self._print_job is not None:
            return
        self.result.show_status(self.tr("正在打印凭条…"))
        held, self._held_job = self._held_job, None
        # The copy the printer refused, asked for again: that job, never a second one.
        if held is not None and self.ctx.printing.reprint_held(held):
            self._print_job = held
            return
        self._print_job = self.ctx.printing.print_document(ticket_document(self._earlier))

    def _print_done(self, job: int, _report: object) -> None:
        if job == self._print_job:
            self._print_job = None
            self.result.show_status(self.tr("请取走凭条，留意叫号。"))

    def _print_failed(self, job: int, code: str, _hint: str) -> None:
        if job == self._print_job:
            held = self.ctx.printing.is_held(job)
            self._print_job = None
            # Held, it prints only when asked again (重新打印凭条) or by staff.
            self._held_job = job if held else None
            self.result.show_status(messages.printer_problem(code, held=held))

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        if isinstance(exc, PayloadRefused):  # a personal code used before
            self.scan.show_problem(messages.payload_problem(exc.problem))
            return
        log.warning("check-in lookup failed: %s", type(exc).__name__)
        self.scan.show_problem(messages.identify_failed(exc, self.ctx.session.language))
