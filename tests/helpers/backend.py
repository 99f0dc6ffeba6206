"""Types and helpers for the embedded-backend tests (their fixtures live in
tests/unit/backend/conftest.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from kiosk.backend import seed
from kiosk.backend.embedded import EmbeddedBackend

# What the `open_backend` fixture returns: opens the test's database again, as a restart
# (or a second process) would, with keyword arguments overriding the defaults.
OpenBackend = Callable[..., EmbeddedBackend]

ORDINARY = seed.DEMO_RESIDENTS["ordinary"]
PHONE = "13900001234"
BANK_CARD = "6222021234567890123"

_keys = itertools.count()


def submission(bundle: str = "retirement", phone: str = PHONE, **extra: Any) -> dict[str, Any]:
    """A 一件事 submission as the kiosk sends it."""
    return {
        "bundle_id": bundle,
        "answers": {"q1": "yes", "q2": "no"},
        "fields": {"phone": phone, "bank_card": BANK_CARD},
        "materials": [{"kind": "household_register", "exempt": True}],
        **extra,
    }


def submit(backend: EmbeddedBackend, resident: str = ORDINARY, bundle: str = "retirement") -> str:
    """Files an application under a fresh idempotency key; its reference."""
    return backend.submit_application(
        resident, submission(bundle), 5, f"sub-{next(_keys)}"
    ).reference


def write_v1_ticket(db: Any, when: Any, category: str, series: str) -> None:
    """A ticket as a version-1 kiosk wrote it (today's issue_ticket needs today's schema):
    the series' counter and the row, nothing else."""
    import sqlite3

    day = when.date().isoformat()
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute("INSERT INTO queue_counters (day, series, last_number)"
                         " VALUES (?, ?, 1)", (day, series))
            conn.execute(
                "INSERT INTO tickets (ticket_id, day, number, category, priority,"
                " priority_reason, resident_id, kiosk_id, appointment_id, ahead,"
                " estimated_wait_min, issued_at, tracking_code)"
                " VALUES (?, ?, ?, ?, 0, '', NULL, 'K01', NULL, 0, 0, ?, 'v1')",
                ("TV1", day, f"{series}001", category, when.isoformat()))
    finally:
        conn.close()


class StalledBackend:
    """A hall backend stopped (kill -STOP) with ticket requests in it: each call to
    issue_ticket times out for the kiosk, while the request waits in the socket and is
    served once `release` is set (the backend resumes). Everything else passes through."""

    def __init__(self, inner: Any, release: Any) -> None:
        self._inner = inner
        self._release = release
        self.late: list[Any] = []  # what each held-up request got when it was served
        self._threads: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def issue_ticket(self, request: Any, key: str) -> Any:
        import threading

        from kiosk.delivery.faults import BackendTimeout

        if self._release.is_set():
            return self._inner.issue_ticket(request, key)

        def served_late() -> None:
            self._release.wait()
            try:
                self.late.append(self._inner.issue_ticket(request, key))
            except Exception as exc:  # the answer nobody reads any more
                self.late.append(exc)

        thread = threading.Thread(target=served_late)
        thread.start()
        self._threads.append(thread)
        raise BackendTimeout("no answer within 10 s (read timeout)")

    def join(self) -> None:
        """The backend resumes: every held-up request is served."""
        self._release.set()
        for thread in self._threads:
            thread.join(10)
