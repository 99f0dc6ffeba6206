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
