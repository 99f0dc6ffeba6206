"""好差评 ratings and 帮办 help calls in the embedded database."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence

from kiosk.backend.embedded.base import EmbeddedStore
from kiosk.backend.embedded.connection import immediate
from kiosk.backend.embedded.idempotency import canonical_json, remember_key, seen_key
from kiosk.backend.embedded.validate import (
    REFERENCE_RE,
    check_key,
    check_kiosk_id,
    check_token,
)
from kiosk.backend.interface import RATING_LEVELS, RATING_REASONS, RATING_TARGET_KINDS


def _new_call_id() -> str:
    return "H" + base64.b32encode(secrets.token_bytes(8)).decode("ascii")[:12]


class RatingsAndHelp(EmbeddedStore):
    """Records ratings and help calls, each once per idempotency key."""

    def rate(
        self,
        level: int,
        # Any sequence is taken (the interface promises a tuple); a str is one too, which
        # is refused below rather than read as one-letter reasons.
        reasons: Sequence[str],
        target_kind: str,
        target_id: str | None,
        kiosk_id: str,
        idempotency_key: str,
    ) -> None:
        """Record a 好差评 rating. The target is not looked up: a rating must never fail
        because the ticket was issued by another kiosk or has been cleaned up."""
        check_key(idempotency_key)
        if isinstance(level, bool) or not isinstance(level, int) or level not in RATING_LEVELS:
            raise ValueError(f"rating level must be one of {sorted(RATING_LEVELS)}: {level!r}")
        unknown = [r for r in reasons if r not in RATING_REASONS]
        if isinstance(reasons, str) or unknown:
            raise ValueError(f"unknown rating reasons {unknown or reasons!r}")
        if target_kind not in RATING_TARGET_KINDS:
            raise ValueError(f"target kind must be one of {RATING_TARGET_KINDS}")
        if target_kind == "none":
            if target_id is not None:
                raise ValueError("target kind 'none' takes no target id")
        elif not isinstance(target_id, str) or not REFERENCE_RE.fullmatch(target_id):
            raise ValueError(f"target id must match {REFERENCE_RE.pattern}")
        check_kiosk_id(kiosk_id)
        unique_reasons = list(dict.fromkeys(reasons))  # a double tap on a tag counts once
        request = canonical_json([level, unique_reasons, target_kind, target_id, kiosk_id])
        now = self._now().replace(microsecond=0)
        with self._errors():
            conn = self._conn()
            with immediate(conn):
                if seen_key(conn, idempotency_key, "rate", request) is not None:
                    return
                seq = conn.execute(
                    "INSERT INTO ratings (day, at, level, reasons, target_kind, target_id,"
                    " kiosk_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (now.date().isoformat(), now.isoformat(), level,
                     canonical_json(unique_reasons), target_kind, target_id, kiosk_id),
                ).lastrowid
                remember_key(conn, idempotency_key, "rate", request, str(seq), now)

    def call_help(self, kiosk_id: str, screen: str, idempotency_key: str) -> str:
        """Record a 帮办 call and return its id. The embedded backend has no staff pager:
        the hall's staff console (or the HTTP backend) reads the help_calls table."""
        check_key(idempotency_key)
        check_kiosk_id(kiosk_id)
        check_token("screen", screen, required=True)
        request = canonical_json([kiosk_id, screen])
        now = self._now().replace(microsecond=0)
        with self._errors():
            conn = self._conn()
            with immediate(conn):
                seen = seen_key(conn, idempotency_key, "call_help", request)
                if seen is not None:
                    return seen
                call_id = _new_call_id()
                conn.execute(
                    "INSERT INTO help_calls (call_id, day, at, kiosk_id, screen)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (call_id, now.date().isoformat(), now.isoformat(), kiosk_id, screen),
                )
                remember_key(conn, idempotency_key, "call_help", request, call_id, now)
        return call_id
