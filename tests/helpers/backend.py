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
