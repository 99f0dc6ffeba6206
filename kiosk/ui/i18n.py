"""The kiosk's languages: Chinese in the source, English from a compiled Qt translation.

Every text a resident or technician reads is written in Chinese in the code and passed
through Qt's translation system (`self.tr("中文")` in screens and controllers,
`QCoreApplication.translate("messages", "中文")` in kiosk.ui.messages). English comes from
`assets/translations/kiosk_en.qm`, compiled from the `.ts` source beside it with the Qt tools
that ship with PySide6. After changing a text in kiosk/ui::

    .venv/bin/pyside6-lupdate $(find kiosk/ui -name '*.py' | sort) -source-language zh_CN \\
        -target-language en -locations none -no-obsolete -ts assets/translations/kiosk_en.ts
    # translate the new <message>s (pyside6-linguist, or any editor), then
    .venv/bin/pyside6-lrelease assets/translations/kiosk_en.ts \\
        -qm assets/translations/kiosk_en.qm

tests/integration/test_translations.py fails while a text has no English or the `.qm` is
older than the `.ts`.

This module only installs and removes the translator; the caller (the language controller)
re-translates the screens.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTranslator

from kiosk.common import resources

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "zh"
LANGUAGES = ("zh", "en")
TRANSLATIONS_DIR = resources.translations_dir()


def qm_path(language: str, directory: Path = TRANSLATIONS_DIR) -> Path:
    return directory / f"kiosk_{language}.qm"


class Translations:
    """One QTranslator per non-default language, loaded on first use and kept."""

    def __init__(self, directory: Path = TRANSLATIONS_DIR) -> None:
        self.directory = directory
        self._translators: dict[str, QTranslator] = {}
        self._installed: QTranslator | None = None
        self.language = DEFAULT_LANGUAGE

    def translator(self, language: str) -> QTranslator | None:
        """The loaded translator for `language`, or None (the default language, or no file)."""
        if language == DEFAULT_LANGUAGE:
            return None
        found = self._translators.get(language)
        if found is None:
            found = QTranslator()
            path = qm_path(language, self.directory)
            if not found.load(str(path)):
                # The kiosk keeps running in Chinese rather than failing a resident.
                log.error("translation file not loaded: %s", path)
                return None
            self._translators[language] = found
        return found

    def set_language(self, app: QCoreApplication | None, language: str) -> bool:
        """Install the translator of `language` in `app` (removing the one before); "zh"
        removes it. Returns False, and leaves the language as it was, if the translation
        cannot be loaded."""
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}; one of {LANGUAGES}")
        app = app if app is not None else QCoreApplication.instance()
        if app is None:
            raise RuntimeError("no Qt application")
        new = self.translator(language)
        if new is None and language != DEFAULT_LANGUAGE:
            return False
        if self._installed is not None and self._installed is not new:
            app.removeTranslator(self._installed)
            self._installed = None
        if new is not None and self._installed is None:
            app.installTranslator(new)
            self._installed = new
        self.language = language
        return True


_shared: Translations | None = None


def shared() -> Translations:
    """The process's translations: the application has one set of installed translators."""
    global _shared
    if _shared is None:
        _shared = Translations()
    return _shared


def set_language(app: QCoreApplication | None, language: str) -> bool:
    """`Translations.set_language` on the shared translations."""
    return shared().set_language(app, language)
