"""The Qt binding we pin must not wear down Python's shared objects.

PySide6 6.12.0 on Python 3.11 lost one reference to `True` on every signal emit and one to
`None` on every Qt method returning nothing; a kiosk showing a 30 fps preview aborted with
"bool_dealloc" within minutes. This test fails on such a build, before a terminal does.
"""

import sys

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel


class _Pinger(QObject):
    ping = Signal(str)


def test_emit_and_void_calls_keep_refcounts(qtbot):
    pinger = _Pinger()
    got: list[str] = []
    pinger.ping.connect(got.append)
    label = QLabel()
    timer = QTimer()
    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(3000):
        pinger.ping.emit("x")
        label.setText("x")
        timer.start(1000)
        timer.stop()
    assert len(got) == 3000
    assert abs(sys.getrefcount(True) - true_before) < 50
    assert abs(sys.getrefcount(None) - none_before) < 50
