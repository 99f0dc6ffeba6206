"""长辈模式 (elder mode): the resident's choice on Home, kept for their session only, and the
spoken prompts.

Choosing it re-styles the whole window at once (type x1.5, contrast >= 7:1, larger targets),
shows fewer and larger choices on each screen, lengthens the idle countdown and the ticket's
time on screen, and reads aloud each screen's main instruction, each scan result and the
ticket number. When the session ends (Home, the idle countdown, a finished ticket) the next
resident starts in the normal mode again, as with the language.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer

from kiosk.ui import i18n
from kiosk.ui.audio.speech import speakable
from kiosk.ui.controllers.context import KioskContext
from kiosk.ui.screen_names import TECHNICIAN_SCREENS

log = logging.getLogger(__name__)


class ElderController(QObject):
    """Elder mode for the whole window; of the take-number flow it needs only the timer that
    sends a finished ticket Home (its interval follows the mode), so it is handed that timer
    and never the flow's controller."""

    def __init__(self, ctx: KioskContext, ticket_timer: QTimer) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.ticket_timer = ticket_timer
        window = ctx.window
        window.elderChosen.connect(self.choose)
        window.sessionEnded.connect(self._session_ended)
        window.screenChanged.connect(self._screen_changed)
        window.promptChanged.connect(self._prompt_later)
        window.announced.connect(self._announce)
        window.languageChanged.connect(lambda _lang: self._prompt_later())
        self._prompt_pending = False
        self._apply_timeouts()

    @property
    def elder(self) -> bool:
        return self.ctx.window.elder

    def speaking(self) -> bool:
        when = self.ctx.modes.speak_when
        return when == "always" or (when == "elder" and self.elder)

    # --- the resident's choice ------------------------------------------------------------
    def choose(self, elder: bool) -> None:
        """Tapped on Home: everything switches now, for this session."""
        window = self.ctx.window
        if elder == window.elder:
            return
        log.info("elder mode %s", "on" if elder else "off")
        self._set(elder)
        language = window.language
        window.set_session_on_home(elder or language != i18n.DEFAULT_LANGUAGE)
        if not self.speaking():
            self.ctx.speech.stop()

    def _set(self, elder: bool) -> None:
        self.ctx.window.set_elder(elder)
        self._apply_timeouts()
        self._prompt_later()

    def _apply_timeouts(self) -> None:
        window = self.ctx.window
        before, countdown = self.ctx.modes.idle(window.elder)
        window.set_idle_timeout(before)
        window.set_countdown(countdown)
        self.ticket_timer.setInterval(self.ctx.modes.ticket_s(window.elder) * 1000)
        window.keep_alive()  # the new period counts from now

    def _session_ended(self, _reason: str) -> None:
        # The next resident: normal mode, and silence (a greeting with this resident's
        # masked name must not go on after they left).
        self.ctx.speech.stop()
        if self.elder:
            self._set(False)

    def _screen_changed(self, name: str) -> None:
        if name in TECHNICIAN_SCREENS and self.elder:
            # A technician's screens are laid out for the normal type only.
            self._set(False)
        self._prompt_later()

    # --- speech -----------------------------------------------------------------------------
    def _prompt_later(self) -> None:
        # After the current event: controllers fill a screen right after showing it (the
        # wizard builds its page after go()), and several changes in one tap speak once.
        if self.speaking() and not self._prompt_pending:
            self._prompt_pending = True
            QTimer.singleShot(0, self._prompt)

    def _prompt(self) -> None:
        self._prompt_pending = False
        window = self.ctx.window
        if not self.speaking() or not window.stack.count():
            return
        screen = window.current()
        if screen.name in TECHNICIAN_SCREENS:
            return
        text = speakable(screen.spoken_text())
        if text:
            self.ctx.speech.say(text, window.language)

    def _announce(self, text: str, queue: bool) -> None:
        if self.speaking():
            text = speakable(text)
            if text:
                self.ctx.speech.say(text, self.ctx.window.language, queue=queue)
