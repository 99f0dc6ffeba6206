"""How long a test may wait for something that is bound to happen: one hang guard for all.

A test waits for an event (a signal, a screen, a row in the outbox), never for a stretch of
wall-clock time, so its outcome does not depend on how busy the machine is. The ceiling on
such a wait only ends a test that would otherwise hang: on a working system it is never
reached, however loaded (CI shares its cores; another process may keep both busy), so it is
generous and the same everywhere. A short ceiling would turn a slow machine into a failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

HANG_GUARD_S = 60.0
HANG_GUARD_MS = int(HANG_GUARD_S * 1000)


def poll_until(predicate: Callable[[], object], timeout_s: float = HANG_GUARD_S,
               interval_s: float = 0.005) -> bool:
    """For code without an event loop: True as soon as `predicate()` holds, False if it
    still does not after `timeout_s` (the caller asserts, with its own message)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval_s)
    return True


def settle_events(qtbot: Any) -> None:
    """Return once everything already queued on the GUI thread has run: the queued signals
    and posted events, and the zero-interval timers (`QTimer.singleShot(0, ...)`) that code
    uses to act "after the current event", including what those in turn queue one level on.

    For checks that something did NOT happen where it could only come from work already
    queued (no timer with a later deadline, no other thread): instead of a fixed wait, this
    waits for the event queue itself, which takes as long as it takes on a busy machine.
    Qt delivers posted events in order, and timers in the order of their deadlines, so a
    marker queued now runs after whatever was queued before it; the three markers (posted,
    zero timer, posted) cover either kind queued before this call, whichever dispatcher
    (glib or Qt's own) runs the loop.
    """
    from PySide6.QtCore import QObject, Qt, QTimer, Signal

    class _Marker(QObject):
        posted = Signal()

    marker = _Marker()
    steps: list[str] = []
    marker.posted.connect(lambda: steps.append("posted"), Qt.ConnectionType.QueuedConnection)

    def timer_fired() -> None:
        steps.append("timer")
        marker.posted.emit()  # queued: delivered after what the timers before it posted

    marker.posted.emit()
    qtbot.waitUntil(lambda: steps == ["posted"], timeout=HANG_GUARD_MS)
    QTimer.singleShot(0, timer_fired)
    qtbot.waitUntil(lambda: steps == ["posted", "timer", "posted"], timeout=HANG_GUARD_MS)
