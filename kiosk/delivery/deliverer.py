"""Sending outbox items to the backend: store first, then send, retry until confirmed.

Plain blocking code (the services layer runs it off the GUI thread), so a crash test can
drive it in a bare process and kill it at any line.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
from dataclasses import dataclass
from typing import Any

from kiosk.backend.interface import (
    AlreadyCheckedIn,
    ApplicationReceipt,
    Backend,
    BackendError,
    IdempotencyConflict,
    IssuedTicket,
    NotFound,
    TicketRequest,
)
from kiosk.common.jsonable import jsonable
from kiosk.delivery.outbox import Outbox, OutboxItem

log = logging.getLogger(__name__)

# A queue ticket is worth something only while the resident stands there: it is tried while
# they wait and then dropped, never issued later to nobody.
TICKET_TTL_S = 60.0

# Refusals that no retry can change: the request itself is wrong or was already used.
PERMANENT = (ValueError, TypeError, KeyError, IdempotencyConflict, NotFound, AlreadyCheckedIn)


_crash_counts: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Crash testing: KIOSK_CRASH_AT=<name>[:n] makes the process die the n-th time it
    passes here (default the first), as a power cut would."""
    spec = os.environ.get("KIOSK_CRASH_AT")
    if not spec:
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    _crash_counts[name] = _crash_counts.get(name, 0) + 1
    if _crash_counts[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Delivery:
    key: str
    kind: str
    state: str  # "done" | "pending" (stored, will be retried) | "failed" (refused for good)
    result: dict[str, Any] | None = None
    error: str = ""


def issued_ticket(result: dict[str, Any]) -> IssuedTicket:
    data = dict(result)
    data["issued_at"] = dt.datetime.fromisoformat(data["issued_at"])
    return IssuedTicket(**data)


def application_receipt(result: dict[str, Any]) -> ApplicationReceipt:
    data = dict(result)
    data["submitted_at"] = dt.datetime.fromisoformat(data["submitted_at"])
    return ApplicationReceipt(**data)


def redact(item: OutboxItem) -> dict[str, Any]:
    """What the kiosk keeps of a sent item: enough for statistics, no personal data."""
    p = item.payload
    if item.kind == "application":
        return {"bundle_id": p.get("submission", {}).get("bundle_id", "")}
    if item.kind == "ticket":
        return {"category": p.get("category", ""), "priority": p.get("priority", False)}
    if item.kind == "rating":
        return {"level": p.get("level"), "target_kind": p.get("target_kind")}
    if item.kind == "help":
        return {"screen": p.get("screen", "")}
    return {}


class Deliverer:
    def __init__(self, outbox: Outbox, backend: Backend) -> None:
        self.outbox = outbox
        self.backend = backend

    def deliver(self, kind: str, key: str, payload: dict[str, Any]) -> Delivery:
        """Store (the resident's action is safe from here on), then try to send once."""
        ttl = TICKET_TTL_S if kind == "ticket" else None
        item = self.outbox.put(kind, key, payload, ttl_s=ttl)
        crash_point("after_store")
        if item.state == "done":
            return Delivery(key, kind, "done", item.result)
        if item.state in ("dead", "expired"):
            return Delivery(key, kind, "failed", None, item.last_error)
        result = self._send(item)
        if result.state == "pending" and kind == "ticket":
            # Told "no ticket now": never issue it later behind the resident's back.
            self.outbox.expire_now(key, redact(item))
        return result

    def drain(self, limit: int = 20) -> list[Delivery]:
        """Send what is due (at start-up, and on a timer while items wait)."""
        self.outbox.expire(redact)
        return [self._send(item) for item in self.outbox.due(limit)]

    def _send(self, item: OutboxItem) -> Delivery:
        try:
            result = jsonable(self._call(item))
        except PERMANENT as exc:
            log.warning("outbox %s %s refused: %s", item.kind, item.id, type(exc).__name__)
            self.outbox.mark_dead(item.key, f"{type(exc).__name__}: {exc}", redact(item))
            return Delivery(item.key, item.kind, "failed", None, type(exc).__name__)
        except (BackendError, OSError, TimeoutError) as exc:
            next_at = self.outbox.mark_retry(item.key, f"{type(exc).__name__}: {exc}")
            log.info("outbox %s %s kept for retry (%s); next try in %.0f s", item.kind,
                     item.id, type(exc).__name__, next_at - self.outbox.now())
            return Delivery(item.key, item.kind, "pending", None, type(exc).__name__)
        crash_point("after_send")
        self.outbox.mark_done(item.key, result if isinstance(result, dict) else {},
                              redact(item))
        return Delivery(item.key, item.kind, "done", result if isinstance(result, dict) else {})

    def _call(self, item: OutboxItem) -> Any:
        p = item.payload
        b = self.backend
        if item.kind == "ticket":
            return b.issue_ticket(TicketRequest(**p), item.key)
        if item.kind == "application":
            return b.submit_application(p["resident_id"], p["submission"],
                                        int(p["processing_days"]), item.key)
        if item.kind == "rating":
            b.rate(int(p["level"]), tuple(p["reasons"]), p["target_kind"], p["target_id"],
                   p["kiosk_id"], item.key)
            return {}
        if item.kind == "help":
            return {"call_id": b.call_help(p["kiosk_id"], p["screen"], item.key)}
        raise ValueError(f"unknown outbox kind {item.kind!r}")
