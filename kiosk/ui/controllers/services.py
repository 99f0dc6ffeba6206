"""帮办 (call a person) and 好差评 (rate the service): short flows reachable from anywhere."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject

from kiosk.backend.interface import RATING_LEVELS, RATING_REASONS
from kiosk.delivery.deliverer import Delivery
from kiosk.ui import messages
from kiosk.ui.controllers.context import KioskContext
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.help import HelpScreen
from kiosk.ui.screens.rating import RatingScreen

log = logging.getLogger(__name__)


class HelpController(QObject):
    def __init__(self, ctx: KioskContext) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.screen = HelpScreen(ctx.window.theme, ctx.hotline)
        ctx.window.add_screen(self.screen)
        ctx.window.helpRequested.connect(self.call)
        self.screen.doneChosen.connect(ctx.window.go_back)

    def call(self, from_screen: str) -> None:
        window = self.ctx.window
        if window.current().name == ScreenName.HELP:
            return
        self.screen.clear()
        self.screen.calling()
        window.go(ScreenName.HELP)
        key = self.ctx.new_key()
        kiosk_id = self.ctx.kiosk_id
        log.info("help requested from screen %s", from_screen)
        self.ctx.record("flow_started", flow="help", step=from_screen)
        self.ctx.delivery.deliver(
            "help", key, {"kiosk_id": kiosk_id, "screen": from_screen},
            lambda d: self.screen.called() if d.state == "done" else self._failed(None),
            self._failed,
        )

    def _failed(self, exc: BaseException | None) -> None:
        log.warning("help call not delivered: %s", type(exc).__name__ if exc else "pending")
        self.screen.failed(messages.help_unavailable(self.ctx.hotline))


class RatingController(QObject):
    def __init__(self, ctx: KioskContext) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.screen = RatingScreen(ctx.window.theme, RATING_LEVELS, RATING_REASONS)
        ctx.window.add_screen(self.screen)
        self.screen.submitted.connect(self.submit)
        self._attempt: tuple[str, dict[str, Any]] | None = None  # this visit's key and rating
        ctx.window.sessionEnded.connect(self._forget)
        self.screen.doneChosen.connect(lambda: ctx.window.go_home("home"))

    def open(self) -> None:
        """Rate what this session did (its ticket or application), anonymously otherwise."""
        self.ctx.start_flow("rate")
        self._attempt = None
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
        self.ctx.delivery.deliver("rating", key, payload, self._delivered, self._failed)

    def _forget(self, _reason: str = "") -> None:
        self._attempt = None  # it names the session's ticket or application

    def _delivered(self, delivery: Delivery) -> None:
        if delivery.state == "failed":
            self._failed(None)
            return
        self._forget()
        self.ctx.end_flow("flow_finished")
        self.screen.show_thanks()
        if delivery.state == "pending":
            self.screen.thanks.setText(messages.rating_stored())

    def _failed(self, exc: BaseException | None) -> None:
        log.warning("rating failed: %s", type(exc).__name__ if exc else "refused")
        self.screen.show_problem(messages.backend_unavailable())
