"""Sending outbox items to the backend: store first, then send, retry until confirmed.

Plain blocking code (the services layer runs it off the GUI thread), so a crash test can
drive it in a bare process and kill it at any line.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import time
from collections.abc import Callable
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
    TicketRequestCancelled,
)
from kiosk.common.jsonable import jsonable
from kiosk.delivery.faults import BackendNotReached
from kiosk.delivery.outbox import Outbox, OutboxItem
from kiosk.domain.text import Bilingual

log = logging.getLogger(__name__)

# A queue ticket is worth something only while the resident stands there: it is tried while
# they wait and then dropped, never issued later to nobody.
TICKET_TTL_S = 60.0
# A ticket request that got no answer (a timeout, a cut connection) may have been issued all
# the same. While the resident waits, the kiosk asks again with the same key for this long
# (the backend answers with the ticket if it exists) before it cancels the request by key.
# Shorter than TICKET_TTL_S; long enough for a backend held up for a while to answer.
TICKET_RESOLVE_S = 30.0
TICKET_RESOLVE_PAUSE_S = 1.0

# Refusals that no retry can change: the request itself is wrong or was already used.
PERMANENT = (ValueError, TypeError, KeyError, IdempotencyConflict, NotFound, AlreadyCheckedIn,
             TicketRequestCancelled)
CANCEL_PREFIX = "cancel:"  # the outbox key of a ticket request's cancellation
# A ticket issued from a leased block while the hall was out of reach (kiosk.delivery.leases):
# delivered until the hall confirms it, like an application, never withdrawn.
OFFLINE_TICKET = "offline_ticket"


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
class Refusal:
    """The backend's reason for a refusal no retry changes, when it gave one (the hall's
    HallRefused: a closed category, today's numbers all taken): its code, its words for a
    person and when the category opens again."""

    code: str
    message: Bilingual | None = None
    opens_at: dt.datetime | None = None


def refusal_of(exc: BaseException) -> Refusal | None:
    # Read by attribute: the hall's client (kiosk.delivery.http_client) loads requests, which
    # a kiosk with the embedded backend never needs.
    code = getattr(exc, "code", None)
    if not isinstance(code, str) or not code:
        return None
    message = getattr(exc, "message", None)
    opens_at = getattr(exc, "opens_at", None)
    return Refusal(code, message if isinstance(message, Bilingual) else None,
                   opens_at if isinstance(opens_at, dt.datetime) else None)


@dataclass(frozen=True)
class Delivery:
    key: str
    kind: str
    state: str  # "done" | "pending" (stored, will be retried) | "failed" (refused for good)
    result: dict[str, Any] | None = None
    error: str = ""
    # For "pending": the request never reached the backend (connection refused), so it
    # cannot have been applied; otherwise it may have been.
    not_sent: bool = False
    # For "failed": the backend's own reason, if it gave one.
    refusal: Refusal | None = None

    @property
    def unreachable(self) -> bool:
        """A ticket request that failed because the backend could not be reached, and that
        can no longer be issued under its key: never sent, or cancelled (or its cancellation
        stored) after no answer came. Such a resident may get an offline number."""
        return ((self.state == "pending" and self.not_sent)
                or (self.state == "failed" and self.error in (CANCELLED, UNRESOLVED)))


# Delivery.error of a ticket request that was cancelled after no answer came: "cancelled"
# when the backend confirmed it (no ticket exists), "unresolved" when the cancellation is
# stored and will be sent (a ticket issued meanwhile is withdrawn then, never called).
CANCELLED = "cancelled"
UNRESOLVED = "unresolved"


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
    if item.kind == "ticket_cancel":
        return {"reason": p.get("reason", "")}
    if item.kind == OFFLINE_TICKET:
        return {"category": p.get("category", ""), "offline": True}
    return {}


class Deliverer:
    def __init__(self, outbox: Outbox, backend: Backend, *,
                 resolve_s: float = TICKET_RESOLVE_S,
                 resolve_pause_s: float = TICKET_RESOLVE_PAUSE_S,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.outbox = outbox
        self.backend = backend
        self.resolve_s = resolve_s
        self.resolve_pause_s = resolve_pause_s
        self._monotonic = monotonic
        self._sleep = sleep
        # Called (on the sending thread) with a ticket request's key when its answer did not
        # come and the kiosk starts finding out what happened: the screen says so.
        self.on_resolving: Callable[[str], None] | None = None

    def deliver(self, kind: str, key: str, payload: dict[str, Any]) -> Delivery:
        """Store (the resident's action is safe from here on), then try to send once.

        A ticket request is settled before this returns: issued ("done"), or refused or
        cancelled ("failed"); never left to be issued later to nobody.
        """
        ttl = TICKET_TTL_S if kind == "ticket" else None
        item = self.outbox.put(kind, key, payload, ttl_s=ttl)
        crash_point("after_store")
        if item.state == "done":
            return Delivery(key, kind, "done", item.result)
        if item.state in ("dead", "expired"):
            return Delivery(key, kind, "failed", None, item.last_error)
        result = self._send(item)
        if result.state == "pending" and kind == "ticket":
            if result.not_sent:
                # It never reached the backend: "no ticket now" is true, and it is never
                # sent later behind the resident's back.
                self.outbox.expire_now(key, redact(item))
                return result
            return self._resolve_ticket(item)
        return result

    def _resolve_ticket(self, item: OutboxItem) -> Delivery:
        """No answer to a ticket request: ask again with its key while the resident waits;
        if still no answer, cancel it by key so that it can never be issued."""
        if self.on_resolving is not None:
            self.on_resolving(item.key)
        deadline = self._monotonic() + self.resolve_s
        while self._monotonic() < deadline:
            self._sleep(self.resolve_pause_s)
            result = self._send(item)
            if result.state != "pending":
                return result
            if result.not_sent:
                # Now refused outright, but the first request may be held up on its way.
                continue
        log.warning("ticket request %s: no answer within %.0f s; cancelled", item.id,
                    self.resolve_s)
        return self.withdraw_ticket(item.key, "timeout")

    def withdraw_ticket(self, key: str, reason: str) -> Delivery:
        """Give a ticket request up: cancelled by key at the backend (its ticket withdrawn
        if it was issued); the cancellation is stored first and retried until confirmed."""
        item = self.outbox.get(key)
        cancel = self.outbox.put("ticket_cancel", CANCEL_PREFIX + key,
                                 {"ticket_key": key, "reason": reason})
        if item is not None:
            self.outbox.mark_withdrawn(key, redact(item))
        if cancel.state == "pending":
            sent = self._send(cancel)
        else:
            sent = Delivery(cancel.key, cancel.kind, cancel.state)
        return Delivery(key, "ticket", "failed", None,
                        CANCELLED if sent.state == "done" else UNRESOLVED)

    def withdraw_unclaimed(self) -> int:
        """At start: every ticket request the last run left without a resident at the screen
        (stored but unanswered, or issued but never shown) is cancelled, never sent."""
        items = self.outbox.withdrawable_tickets()
        for item in items:
            cancel = CANCEL_PREFIX + item.key
            self.outbox.put("ticket_cancel", cancel, {"ticket_key": item.key,
                                                      "reason": "restart"})
            self.outbox.mark_withdrawn(item.key, redact(item))
        if items:
            log.info("outbox: %d ticket request(s) left by the last run withdrawn", len(items))
        return len(items)

    def claim_ticket(self, key: str) -> None:
        """The ticket is on the resident's screen: theirs from now on."""
        self.outbox.claim_ticket(key)

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
            return Delivery(item.key, item.kind, "failed", None, type(exc).__name__,
                            refusal=refusal_of(exc))
        except (BackendError, OSError, TimeoutError) as exc:
            next_at = self.outbox.mark_retry(item.key, f"{type(exc).__name__}: {exc}")
            log.info("outbox %s %s kept for retry (%s); next try in %.0f s", item.kind,
                     item.id, type(exc).__name__, next_at - self.outbox.now())
            return Delivery(item.key, item.kind, "pending", None, type(exc).__name__,
                            not_sent=isinstance(exc, BackendNotReached))
        crash_point("after_send")
        answer = result if isinstance(result, dict) else {}
        if item.kind == "ticket":
            self.outbox.mark_ticket_issued(item.key, answer, redact(item))
        else:
            self.outbox.mark_done(item.key, answer, redact(item))
        return Delivery(item.key, item.kind, "done", answer)

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
        if item.kind == "ticket_cancel":
            return {"number": b.cancel_ticket_request(p["ticket_key"], p["reason"])}
        if item.kind == OFFLINE_TICKET:
            deliver = getattr(b, "deliver_offline_ticket", None)
            if deliver is None:
                raise ValueError("this backend takes no offline tickets")
            return deliver(int(p["lease_id"]), int(p["seq"]), p["category"],
                           dt.datetime.fromisoformat(p["issued_at"]),
                           p.get("priority_reason", ""), item.key)
        raise ValueError(f"unknown outbox kind {item.kind!r}")
