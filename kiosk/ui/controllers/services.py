"""帮办 (call a person) and 好差评 (rate the service): short flows reachable from anywhere."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer

from kiosk.backend.interface import RATING_LEVELS, RATING_REASONS, reasons_for_level
from kiosk.delivery.deliverer import Delivery
from kiosk.ui import messages
from kiosk.ui.controllers.context import KioskContext
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.help import HelpScreen
from kiosk.ui.screens.rating import RatingScreen

log = logging.getLogger(__name__)


# How often the help screen asks the hall whether someone has answered the call.
HELP_POLL_MS = 3000
# What a hall says of a call someone has answered (resolving one also acknowledges it).
ANSWERED = ("acknowledged", "resolved")


class HelpController(QObject):
    """帮办: the call goes through the outbox (stored first, then sent). With a hall, the
    screen then asks it every `poll_ms` whether a person acknowledged the call, and says
    "工作人员正在赶来" only once one has. The embedded backend has nobody to answer: the
    screen stays at "正在通知工作人员" with the hotline."""

    def __init__(self, ctx: KioskContext, *, poll_ms: int = HELP_POLL_MS) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.screen = HelpScreen(ctx.window.theme, ctx.hotline)
        ctx.window.add_screen(self.screen)
        ctx.window.helpRequested.connect(self.call)
        ctx.window.screenChanged.connect(self._screen_changed)
        self.screen.doneChosen.connect(ctx.window.go_back)
        self._attempt = 0  # one per call raised, so a late answer finds its own call
        self._call_id: str | None = None  # the call being followed, while the screen shows
        self._reading = False  # a state read is on its way
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(poll_ms)
        self.poll_timer.timeout.connect(self._poll)
        ctx.window.closed.connect(self.poll_timer.stop)

    def call(self, from_screen: str) -> None:
        window = self.ctx.window
        if window.current().name == ScreenName.HELP:
            return
        self._forget()
        self._attempt += 1
        attempt = self._attempt
        self.screen.clear()
        self.screen.calling()
        window.go(ScreenName.HELP)
        key = self.ctx.new_key()
        kiosk_id = self.ctx.kiosk_id
        log.info("help requested from screen %s", from_screen)
        self.ctx.record("flow_started", flow="help", step=from_screen)
        self.ctx.delivery.deliver(
            "help", key, {"kiosk_id": kiosk_id, "screen": from_screen},
            lambda d: self._delivered(d, attempt),
            lambda exc: self._failed(exc) if attempt == self._attempt else None,
        )

    def _delivered(self, delivery: Delivery, attempt: int) -> None:
        if attempt != self._attempt:
            return  # a call raised before the one on screen now
        if delivery.state != "done":
            self._failed(None)
            return
        self.screen.notifying()
        call_id = (delivery.result or {}).get("call_id")
        if not isinstance(call_id, str) or not call_id or self._state_reader() is None:
            return  # the embedded backend: nobody can answer, so nobody is said to come
        if self.ctx.window.current().name != ScreenName.HELP:
            return  # the resident went back before the hall confirmed the call
        self._call_id = call_id
        self.poll_timer.start()

    def _state_reader(self) -> Any:
        """The backend's `help_call_state` (a hall's), or None (the embedded backend)."""
        return getattr(self.ctx.backend, "help_call_state", None)

    def _poll(self) -> None:
        call_id = self._call_id
        read = self._state_reader()
        if call_id is None or read is None or self.ctx.stats_queue.closed:
            self.poll_timer.stop()
            return
        if self._reading:
            return  # the last read has not come back: one at a time
        self._reading = True
        # On the statistics queue, not the backend's: a hall slow to answer must never hold
        # up a resident's ticket behind this question.
        self.ctx.stats_queue.submit(lambda: read(call_id),
                                    lambda state: self._state_read(call_id, state),
                                    lambda exc: self._read_failed(call_id, exc))

    def _state_read(self, call_id: str, state: object) -> None:
        self._reading = False
        if call_id != self._call_id:
            return  # the resident left, or called again, meanwhile
        if state in ANSWERED:
            log.info("help call answered by staff (%s)", state)
            self._forget()
            self.screen.coming()
        elif state is None:
            # The hall does not know the call (any more): nothing to wait for.
            log.warning("help call unknown to the hall; no longer followed")
            self._forget()

    def _read_failed(self, call_id: str, exc: BaseException) -> None:
        self._reading = False
        if call_id == self._call_id:
            # The screen keeps saying "notifying", with the hotline; asked again next time.
            log.info("help call state not read: %s", type(exc).__name__)

    def _screen_changed(self, name: str) -> None:
        if name != ScreenName.HELP:
            self._forget()

    def _forget(self) -> None:
        self._call_id = None
        self.poll_timer.stop()

    def _failed(self, exc: BaseException | None) -> None:
        log.warning("help call not delivered: %s", type(exc).__name__ if exc else "pending")
        self.screen.failed(messages.help_unavailable(self.ctx.hotline))


class RatingController(QObject):
    """好差评. A chosen level is the resident's rating, also when they leave with 完成
    without 提交评价: the outbox stores it first and sends it, so it is counted even once
    they have gone."""

    def __init__(self, ctx: KioskContext) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.screen = RatingScreen(ctx.window.theme, RATING_LEVELS, RATING_REASONS,
                                   {lv: reasons_for_level(lv) for lv in RATING_LEVELS})
        ctx.window.add_screen(self.screen)
        self.screen.submitted.connect(self.submit)
        self._attempt: tuple[str, dict[str, Any]] | None = None  # this visit's key and rating
        # One per visit to the screen: an answer that comes back after the resident left
        # must not end (or thank) the next resident's flow.
        self._visit = 0
        ctx.window.sessionEnded.connect(self._forget)
        self.screen.doneChosen.connect(self.leave)

    def open(self) -> None:
        """Rate what this session did (its ticket or application), anonymously otherwise."""
        self.ctx.start_flow("rate")
        self._attempt = None
        self._visit += 1
        self.screen.clear()
        target = self.ctx.session.rating_target
        if target is not None:
            kind, ident = target
            label = messages.rating_target(kind, ident)
            self.screen.set_target(label)
        self.ctx.window.go(ScreenName.RATING)

    def submit(self, level: int, reasons: tuple[str, ...]) -> None:
        if self._attempt is None:
            target = self.ctx.session.rating_target
            kind, ident = target if target is not None else ("none", None)
            payload = {"level": level, "reasons": list(reasons), "target_kind": kind,
                       "target_id": ident, "kiosk_id": self.ctx.kiosk_id}
            self._attempt = (self.ctx.new_key(), payload)
        # A tap after a failure is the same rating again: its key and payload, so that one
        # the outbox kept before the failure is applied once (the screen froze the choice).
        key, payload = self._attempt
        visit = self._visit
        self.ctx.delivery.deliver("rating", key, payload,
                                  lambda d: self._delivered(d, visit),
                                  lambda exc: self._failed(exc, visit))

    def leave(self) -> None:
        """完成: a level chosen and not sent yet is sent now, then Home."""
        choice = self.screen.unsent_choice()
        if choice is not None:
            self.submit(*choice)
        if self._attempt is not None:
            # The rating is the outbox's now (sent, or kept and retried): the resident's
            # part is done, whatever the backend answers after they have gone.
            self.ctx.end_flow("flow_finished")
        self.ctx.window.go_home("home")

    def _forget(self, _reason: str = "") -> None:
        self._attempt = None  # it names the session's ticket or application
        self._visit += 1

    def _delivered(self, delivery: Delivery, visit: int) -> None:
        if visit != self._visit:
            if delivery.state == "failed":
                log.warning("rating refused after the resident left")
            return
        if delivery.state == "failed":
            self._failed(None, visit)
            return
        self._forget()
        self.ctx.end_flow("flow_finished")
        self.screen.show_thanks()
        if delivery.state == "pending":
            self.screen.thanks.setText(messages.rating_stored())

    def _failed(self, exc: BaseException | None, visit: int) -> None:
        log.warning("rating failed: %s", type(exc).__name__ if exc else "refused")
        if visit == self._visit:
            self.screen.show_problem(messages.backend_unavailable())
