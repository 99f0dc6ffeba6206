"""Kiosk mode and the serial scan engine: nobody gets out, no code types keys."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QContextMenuEvent, QKeyEvent
from PySide6.QtWidgets import QApplication

from kiosk.app import build
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain.payloads import PayloadProblem
from kiosk.ui import messages
from tests.helpers.waits import HANG_GUARD_MS, settle_events


@pytest.fixture
def kiosk_mode_kiosk(tmp_path):
    from tests.helpers.config import make_config
    from tests.helpers.paths import SHIPPED_CONFIG

    cfg = make_config(tmp_path / "data")
    cfg = cfg.model_copy(update={"scan_engine": cfg.scan_engine.model_copy(
        update={"port": "loop://"})})
    k = build(cfg, SHIPPED_CONFIG, kiosk_mode=True)
    k.window.show()
    yield k
    k.shutdown()


def test_escape_keys_and_close_do_nothing(kiosk_mode_kiosk, qtbot):
    w = kiosk_mode_kiosk.window
    w.go("scan")
    for key, mods in [(Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
                      (Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier),
                      (Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier),
                      (Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)]:
        QApplication.sendEvent(w, QKeyEvent(QEvent.Type.KeyPress, key, mods))
        QApplication.sendEvent(w.focusWidget() or w, QKeyEvent(QEvent.Type.KeyPress, key, mods))
    assert w.close() is False  # Alt+F4 from a window manager arrives as a close request
    # And nothing they queued for later (a deferred close, a posted Home) undoes it.
    settle_events(qtbot)
    assert w.isVisible() and w.current().name == "scan"
    assert w.contextMenuPolicy() == Qt.ContextMenuPolicy.NoContextMenu
    QApplication.sendEvent(w, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, QPoint(5, 5),
                                                w.mapToGlobal(QPoint(5, 5))))
    assert QApplication.activePopupWidget() is None
    assert w.windowFlags() & Qt.WindowType.FramelessWindowHint


@pytest.mark.parametrize("hide_cursor", [True, False])
def test_kiosk_mode_is_full_screen_with_the_cursor_hidden(tmp_path, qtbot, hide_cursor):
    from PySide6.QtGui import QGuiApplication

    from tests.helpers.config import make_config
    from tests.helpers.paths import SHIPPED_CONFIG

    cfg = make_config(tmp_path / "data")
    cfg = cfg.model_copy(update={"screen": cfg.screen.model_copy(
        update={"fullscreen": True, "hide_cursor": hide_cursor})})
    k = build(cfg, SHIPPED_CONFIG, kiosk_mode=True)
    try:
        k.present(kiosk_mode=True)
        qtbot.waitUntil(k.window.isFullScreen, timeout=HANG_GUARD_MS)  # applied by the event loop
        cursor = QGuiApplication.overrideCursor()
        if hide_cursor:
            assert cursor is not None and cursor.shape() == Qt.CursorShape.BlankCursor
        else:
            assert cursor is None
    finally:
        while QGuiApplication.overrideCursor() is not None:
            QGuiApplication.restoreOverrideCursor()
        k.shutdown()


def test_windowed_is_an_ordinary_window(kiosk, qtbot):
    kiosk.present(kiosk_mode=False)
    qtbot.waitExposed(kiosk.window, timeout=HANG_GUARD_MS)  # shown by the platform, state set
    settle_events(qtbot)
    assert kiosk.window.isVisible() and not kiosk.window.isFullScreen()


def test_serial_scan_engine_codes_are_data(kiosk_mode_kiosk, qtbot):
    from tests.helpers.resident import Resident

    k = kiosk_mode_kiosk
    person = Resident(k, qtbot)
    person.tap(k.controller.home.scan_button)
    person.wait_screen("scan")
    port = k.scan_engine._serial
    # Control characters and markup: refused by the payload check, never typed as keys.
    port.write(b"YW1.R.demo.\x1b[2J\x03\x17<b>x</b>\r\n")
    qtbot.waitUntil(k.controller.scan.message.isVisible, timeout=HANG_GUARD_MS)
    assert k.controller.scan.message.text() == messages.payload_problem(
        PayloadProblem.MALFORMED)
    assert k.window.isVisible() and person.screen == "scan"
    port.write(person.code(DEMO_RESIDENTS["ordinary"]).encode("ascii") + b"\r")
    person.wait_screen("category", timeout=HANG_GUARD_MS)
