"""The backend interface the kiosk talks to.

The real 一网通办 platform is out of reach, so the kiosk depends only on this interface:
an embedded SQLite implementation is the default, and an HTTP client can implement the same
methods for a hall of kiosks. Calls are blocking; the services layer runs them off the GUI
thread. Every call that changes state takes an idempotency key: repeating it with the same
key returns the first result and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol


class BackendError(Exception):
    """The backend could not answer (unreachable, timed out, malformed reply)."""


class IdempotencyConflict(BackendError):
    """The same idempotency key was used with a different request."""


@dataclass(frozen=True)
class Resident:
    resident_id: str  # the identity reference carried in a personal code
    name: str
    id_number: str  # 18-character resident ID number; never shown unmasked
    phone: str
    entitlements: tuple[str, ...] = ()  # e.g. ("veteran",), ("serious_illness",)


@dataclass(frozen=True)
class License:
    """An electronic license (电子证照) the resident holds."""

    kind: str  # e.g. "id_card", "household_register", "marriage_certificate"
    title: str
    number_masked: str
    valid_until: dt.date | None = None


@dataclass(frozen=True)
class Appointment:
    appointment_id: str
    resident_id: str
    category: str
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class QueueFigures:
    category: str
    waiting: int
    priority_waiting: int
    minutes_per_ticket: float


@dataclass(frozen=True)
class TicketRequest:
    category: str
    priority: bool
    priority_reason: str  # "" | "age" | "entitlement" | "appointment"
    resident_id: str | None
    kiosk_id: str
    appointment_id: str | None = None


@dataclass(frozen=True)
class IssuedTicket:
    ticket_id: str
    number: str  # e.g. "A012" or priority "YA003"
    category: str
    priority: bool
    priority_reason: str
    ahead: int
    estimated_wait_min: int
    issued_at: dt.datetime
    tracking_code: str  # signed ticket-tracking payload (ASCII) for the QR code
    extra: dict[str, str] = field(default_factory=dict)


class Backend(Protocol):
    def identify(self, resident_id: str) -> Resident | None:
        """The resident behind a verified personal code, or None if unknown."""

    def licenses(self, resident_id: str) -> list[License]:
        """The resident's electronic licenses."""

    def appointments_on(self, resident_id: str, day: dt.date) -> list[Appointment]:
        """The resident's appointments on a day, earliest first."""

    def queue_figures(self) -> dict[str, QueueFigures]:
        """Today's waiting counts per service category."""

    def issue_ticket(self, request: TicketRequest, idempotency_key: str) -> IssuedTicket:
        """Allocate the next number; the same key returns the same ticket."""

    def trusted_keys(self) -> dict[str, str]:
        """Key id -> base64 raw Ed25519 public key of the keys that sign the backend's own
        codes (ticket tracking, receipts), so the kiosk can verify them when scanned."""

    def close(self) -> None:
        """Release connections."""
