"""Checks of what callers pass to the embedded backend, before anything is written.

A refused value is a bug in the caller, not a backend fault, so these raise ValueError.
"""

from __future__ import annotations

import re

MAX_KEY_LENGTH = 200
MAX_NOTE_LENGTH = 500

# Statistics strings are short lowercase tokens so that a name, phone or ID number cannot
# slip into them by mistake; a run of 6+ digits (phone, ID, bank card, reference) is refused
# even though the character class alone would let it through.
_TOKEN_RE = re.compile(r"[a-z0-9_:-]{0,64}")
_DIGIT_RUN_RE = re.compile(r"[0-9]{6,}")
_KIOSK_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
# Bundle ids also end up in statistics as "bundle:<id>", which must stay a token of <= 64.
BUNDLE_ID_RE = re.compile(r"[a-z0-9_-]{1,48}")
REFERENCE_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")  # the payload format's reference field


def check_key(idempotency_key: str) -> None:
    if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
        raise ValueError(f"idempotency key must be 1..{MAX_KEY_LENGTH} characters")


def check_token(what: str, value: str, *, required: bool) -> None:
    """Refuse anything in a statistics string that could be personal data."""
    if (
        not isinstance(value, str)
        or not _TOKEN_RE.fullmatch(value)
        or _DIGIT_RUN_RE.search(value)
        or (required and not value)
    ):
        raise ValueError(
            f"{what} must be a lowercase token [a-z0-9_:-]{{{int(required)},64}} without long"
            f" digit runs (no personal data in statistics): {value!r}"
        )


def check_kiosk_id(kiosk_id: str) -> None:
    if not isinstance(kiosk_id, str) or not _KIOSK_ID_RE.fullmatch(kiosk_id):
        raise ValueError(f"kiosk id must match {_KIOSK_ID_RE.pattern}: {kiosk_id!r}")
