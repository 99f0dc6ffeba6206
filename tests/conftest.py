"""Test-wide settings: Qt runs offscreen, set here so no test depends on the caller's shell."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_ACCESSIBILITY", "0")

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def chinese_after_each_test() -> Iterator[None]:
    """The application's translator is process-wide: a kiosk a test left in English (its
    window not yet destroyed) must not translate the next test's texts. A terminal runs one
    kiosk per process, so this is the tests' concern, not the product's."""
    yield
    i18n = sys.modules.get("kiosk.ui.i18n")
    if i18n is None:
        return  # no Qt text was translated in this process yet
    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication.instance()
    shared = i18n.shared()
    if app is not None and shared.language != i18n.DEFAULT_LANGUAGE:
        shared.set_language(app, i18n.DEFAULT_LANGUAGE)
