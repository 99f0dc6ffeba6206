"""办件查询 (progress by receipt code or 随申码) and 预约签到 (appointment check-in)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject

from kiosk.backend.interface import AlreadyCheckedIn, ApplicationSummary
from kiosk.domain.payloads import Kind, PayloadRefused
from kiosk.domain.queue import AppointmentFit
from kiosk.domain.text import Bilingual
from kiosk.services import flows
from kiosk.ui import messages
from kiosk.ui.controllers.context import KioskContext
from kiosk.ui.controllers.take_number import TakeNumberController
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.lookup import CheckInResultScreen, QueryResultScreen
from kiosk.ui.screens.scan import ScanScreen

log = logging.getLogger(__name__)


class QueryController(QObject):
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
        try:
            payload = self.ctx.verifier.verify(text, (Kind.RECEIPT, Kind.RESIDENT))
        except PayloadRefused as refused:
            self.scan.show_problem(messages.payload_problem(refused.problem))
            return
        backend = self.ctx.backend
        ref = payload.reference
        if payload.kind is Kind.RECEIPT:
            def work() -> list[ApplicationSummary]:
                found = backend.application(ref)
                return [found] if found is not None else []
        else:
            def work() -> list[ApplicationSummary]:
                return backend.applications_of(ref)
        self._busy = True
        self.ctx.backend_queue.submit(work, self._found, self._failed)

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
        log.warning("query failed: %s", type(exc).__name__)
        self.scan.show_problem(messages.backend_unavailable())


class CheckInController(QObject):
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
        self.scan.noPhoneChosen.connect(self.ordinary)
        self.result.ordinaryChosen.connect(self.ordinary)
        self.result.doneChosen.connect(lambda: ctx.window.go_home("home"))
        self._busy = False

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

    def on_code(self, text: str) -> None:
        if self.ctx.window.current().name != ScreenName.CHECKIN_SCAN or self._busy:
            return
        try:
            payload = self.ctx.verifier.verify(text, Kind.RESIDENT)
        except PayloadRefused as refused:
            self.scan.show_problem(messages.payload_problem(refused.problem))
            return
        backend = self.ctx.backend
        now = self.ctx.clock()
        rid = payload.reference
        self._busy = True
        self.ctx.backend_queue.submit(
            lambda: flows.identify_resident(backend, rid, now), self._identified, self._failed
        )

    def _identified(self, context: flows.ResidentContext | None) -> None:
        self._busy = False
        if self.ctx.window.current().name != ScreenName.CHECKIN_SCAN:
            return
        if context is None:
            self.scan.show_problem(messages.unknown_resident())
            return
        self.ctx.scan_accepted()  # the cue, as for 扫码取号
        self.ctx.session.context = context
        appt = context.appointment
        if appt is not None and context.appointment_fit is AppointmentFit.ON_TIME:
            key = self.ctx.new_key()
            backend = self.ctx.backend
            self._busy = True
            self.ctx.backend_queue.submit(
                lambda: backend.check_in(appt.appointment_id, key),
                lambda _r: self._checked_in(context),
                lambda exc: self._check_in_failed(context, exc),
            )
            return
        self.ctx.end_flow("flow_finished")
        self.result.show_explanation(messages.appointment_explanation(context))
        self.ctx.window.go(ScreenName.CHECKIN_RESULT)

    def _checked_in(self, context: flows.ResidentContext) -> None:
        self._busy = False
        assert context.appointment is not None
        self.ctx.end_flow("flow_finished")
        self.tickets.issue_for(context, context.appointment.category)

    def _check_in_failed(self, context: flows.ResidentContext, exc: BaseException) -> None:
        self._busy = False
        if isinstance(exc, AlreadyCheckedIn):
            self.result.show_explanation(messages.already_checked_in())
        else:
            log.warning("check-in failed: %s", type(exc).__name__)
            self.result.show_explanation(messages.backend_unavailable())
        self.ctx.window.go(ScreenName.CHECKIN_RESULT)

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        log.warning("check-in lookup failed: %s", type(exc).__name__)
        self.scan.show_problem(messages.backend_unavailable())
