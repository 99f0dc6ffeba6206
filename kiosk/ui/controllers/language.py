"""中文 / English: the resident's choice on Home, kept for their session only.

Choosing a language installs (or removes) the English translator, records the choice in the
session (printed tickets and receipts follow it), and re-translates every screen and the top
bar at once. When the session ends (Home, the idle countdown, a finished ticket) the next
resident starts in Chinese again.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QObject

from kiosk.ui import i18n
from kiosk.ui.controllers.context import KioskContext

log = logging.getLogger(__name__)


class LanguageController(QObject):
    def __init__(self, ctx: KioskContext, translations: i18n.Translations | None = None) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.translations = translations if translations is not None else i18n.shared()
        window = ctx.window
        window.languageChosen.connect(self.choose)
        window.sessionEnded.connect(self._session_ended)
        # The translator is the application's: a closed kiosk leaves Chinese behind it (if
        # no later kiosk in this process, as in the tests, has chosen a language since).
        translations_ = self.translations
        token = self._token = object()
        window.destroyed.connect(lambda *_: _reset(translations_, token))
        left_over = translations_.language != i18n.DEFAULT_LANGUAGE
        _reset(translations_)  # a new kiosk starts in Chinese, whatever came before it
        if left_over:
            # The bar and the screens made so far were translated by the translator a closed
            # kiosk left installed (in one process: tests, the demo): translate them again.
            window.set_language(i18n.DEFAULT_LANGUAGE)

    @property
    def language(self) -> str:
        return self.ctx.window.language

    def choose(self, language: str) -> None:
        """The resident's choice (on Home): everything switches now, for this session."""
        if not self._apply(language):
            return
        log.info("language chosen: %s", language)
        self.ctx.session.language = language
        # Either choice made on Home (a language, 长辈模式) starts this resident's session.
        window = self.ctx.window
        window.set_session_on_home(language != i18n.DEFAULT_LANGUAGE or window.elder)

    def _apply(self, language: str) -> bool:
        if not self.translations.set_language(QCoreApplication.instance(), language):
            return False
        _owners[id(self.translations)] = self._token
        self.ctx.window.set_language(language)
        return True

    def _session_ended(self, _reason: str) -> None:
        # Only here: the choice made on Home must last until this resident leaves.
        self.ctx.session.language = i18n.DEFAULT_LANGUAGE
        if self.language != i18n.DEFAULT_LANGUAGE:
            self._apply(i18n.DEFAULT_LANGUAGE)


# Which controller last chose the language of a Translations (by id): only it may reset it.
_owners: dict[int, object] = {}


def _reset(translations: i18n.Translations, token: object | None = None) -> None:
    if token is not None and _owners.get(id(translations)) is not token:
        return
    app = QCoreApplication.instance()
    if app is not None and translations.language != i18n.DEFAULT_LANGUAGE:
        translations.set_language(app, i18n.DEFAULT_LANGUAGE)
