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
from enum import StrEnum
from typing import Any, Protocol

from kiosk.domain.text import Bilingual


class BackendError(Exception):
    """The backend could not answer (unreachable, timed out, malformed reply)."""


class IdempotencyConflict(BackendError):
    """The same idempotency key was used with a different request."""


class IdCardNotAccepted(BackendError):
    """This backend does not take this kiosk's word for a card its reader read: a hall
    cannot verify a card read, and believes only kiosks an administrator marked as having a
    reader (`kiosk hall set-id-card-reader NAME on`). `message` is the backend's words for
    the resident (show the 随申码, or ask staff), when it gave any."""

    def __init__(self, text: str, message: Bilingual | None = None) -> None:
        super().__init__(text)
        self.message = message


class TicketRequestCancelled(BackendError):
    """The ticket request's idempotency key was cancelled (`cancel_ticket_request`): no
    ticket is ever issued under it. Final: no retry changes it."""


@dataclass(frozen=True)
class Resident:
    resident_id: str  # the identity reference carried in a personal code
    name: str
    id_number: str  # 18-character resident ID number; never shown unmasked
    phone: str
    entitlements: tuple[str, ...] = ()  # e.g. ("veteran",), ("serious_illness",)
    # A hall derives the priority itself (it never sends the ID number, from which the
    # kiosk would otherwise compute the age): when set, the kiosk shows this reason.
    priority_reason: str | None = None


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
    checked_in_at: dt.datetime | None = None  # set by check_in (预约签到)


@dataclass(frozen=True)
class QueueFigures:
    category: str
    waiting: int
    priority_waiting: int
    minutes_per_ticket: float
    # A hall's opening hours and daily caps; the embedded backend has neither.
    open: bool = True
    opens_at: dt.datetime | None = None
    remaining_today: int | None = None  # None: no daily cap
    # While open: when the open period ends (a lunch break, the evening). A kiosk issuing
    # offline numbers keeps to the hours it last heard (kiosk.delivery.leases).
    closes_at: dt.datetime | None = None


@dataclass(frozen=True)
class TicketRequest:
    category: str
    priority: bool
    priority_reason: str  # "" | "age" | "entitlement" | "appointment"
    resident_id: str | None
    kiosk_id: str
    appointment_id: str | None = None
    # The 一件事 application this is the follow-up number of (its result screen's 取号): the
    # clerk calling it sees the application. The embedded backend stores it on the ticket;
    # a hall links a ticket to its resident's applications of the day itself.
    application_reference: str | None = None


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
    # For the QR code (ASCII): a hall's public link <public_url>/t/<ticket_id>, or the
    # embedded backend's signed ticket-tracking payload (payloads.Kind.TICKET).
    tracking_code: str
    extra: dict[str, str] = field(default_factory=dict)
    # True when the resident already had this ticket waiting in the category: it is
    # returned (with the people ahead of it now) instead of a second number.
    already_waiting: bool = False
    # Issued by a kiosk from its leased block while the hall was unreachable.
    offline: bool = False


class TicketState(StrEnum):
    """Where a queue ticket stands, in the hall's words (docs/HALL.md 5.1). The embedded
    backend has no calling system: its tickets are waiting, then finished (served), or
    withdrawn (a request the kiosk gave up on)."""

    WAITING = "waiting"
    CALLED = "called"
    FINISHED = "finished"
    NO_SHOW = "no_show"  # called, and nobody came (过号)
    WITHDRAWN = "withdrawn"
    TRANSFERRED = "transferred"  # ended here; the resident waits on `now_ticket_id`


@dataclass(frozen=True)
class TicketProgress:
    """A ticket as 办件查询 shows it (from its printed QR code): no personal data."""

    ticket_id: str
    number: str
    category: str  # catalog id
    state: TicketState
    # The hall's words for the category; None: the kiosk's catalog names it.
    category_title: Bilingual | None = None
    priority: bool = False
    issued_at: dt.datetime | None = None
    ahead: int | None = None  # waiting: the tickets that will be called before it
    estimated_wait_min: int | None = None  # waiting
    counter: int | None = None  # called (and after): the counter's number
    counter_name: Bilingual | None = None  # the counter as the hall names it, if it does
    called_at: dt.datetime | None = None
    # no-show: until when the resident may come back to their place; None: they may not
    # (a new number), or the backend does not say.
    return_until: dt.datetime | None = None
    now_ticket_id: str | None = None  # transferred: the ticket it became


# ------------------------------------------------------------------------ applications


class NotFound(LookupError):
    """No application or appointment with that reference: a caller's mistake (a mistyped
    reference at a staff console), not a backend fault, so it is no BackendError."""


class AlreadyCheckedIn(BackendError):
    """A hall server of the previous API refused a second check-in (HTTP 409
    already_checked_in). `check_in` of this version never raises it: it returns the ticket
    the appointment got (`CheckIn.earlier`)."""


@dataclass(frozen=True)
class CheckIn:
    """What 预约签到 gives: the appointment's priority ticket, committed together with the
    check-in, so no check-in is ever left without its ticket."""

    ticket: IssuedTicket
    # True when the appointment had been checked in before under another key (another scan,
    # another kiosk): `ticket` is the one it got then, to be shown (and reprinted) again.
    earlier: bool = False


class ApplicationStatus(StrEnum):
    """Where an application (办件) stands. The values are stable ids (stored, exported)."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    NEEDS_MORE = "needs_more"
    DONE = "done"

    def label(self, lang: str = "zh") -> str:
        """The status as shown to residents; any language but English falls back to Chinese."""
        return _STATUS_LABELS[self].get(lang)


_STATUS_LABELS: dict[ApplicationStatus, Bilingual] = {
    ApplicationStatus.SUBMITTED: Bilingual(zh="已提交", en="Submitted"),
    ApplicationStatus.ACCEPTED: Bilingual(zh="受理中", en="Being processed"),
    ApplicationStatus.NEEDS_MORE: Bilingual(zh="需补正", en="More needed"),
    ApplicationStatus.DONE: Bilingual(zh="已办结", en="Completed"),
}

# Staff may move an application only along these edges. DONE is final (the resident has been
# told the matter is closed); NEEDS_MORE may repeat, each time naming what else is missing.
APPLICATION_TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    ApplicationStatus.SUBMITTED: frozenset(
        {ApplicationStatus.ACCEPTED, ApplicationStatus.NEEDS_MORE, ApplicationStatus.DONE}
    ),
    ApplicationStatus.ACCEPTED: frozenset(
        {ApplicationStatus.NEEDS_MORE, ApplicationStatus.DONE}
    ),
    ApplicationStatus.NEEDS_MORE: frozenset(
        {ApplicationStatus.ACCEPTED, ApplicationStatus.NEEDS_MORE, ApplicationStatus.DONE}
    ),
    ApplicationStatus.DONE: frozenset(),
}


@dataclass(frozen=True)
class StatusEvent:
    status: ApplicationStatus
    at: dt.datetime
    note: str  # for NEEDS_MORE: what the resident still has to bring (最多跑一次)


@dataclass(frozen=True)
class ApplicationReceipt:
    reference: str  # 办件编号: "YW" + yyyymmdd + 6 digits, never reused
    bundle_id: str
    submitted_at: dt.datetime
    # For the QR code (ASCII): a hall's public link <public_url>/a/<public id>, or the
    # embedded backend's signed Kind.RECEIPT payload whose reference is `reference`.
    progress_code: str
    processing_days: int


@dataclass(frozen=True)
class ApplicationSummary:
    """What a progress query may show: no resident id and none of the typed fields."""

    reference: str
    bundle_id: str
    submitted_at: dt.datetime
    status: ApplicationStatus
    timeline: tuple[StatusEvent, ...]  # oldest first; the last one is `status`


# ----------------------------------------------------------------------------- ratings

# 好差评 levels as the national evaluation system names them, best first.
RATING_LEVELS: dict[int, Bilingual] = {
    5: Bilingual(zh="非常满意", en="Very satisfied"),
    4: Bilingual(zh="满意", en="Satisfied"),
    3: Bilingual(zh="基本满意", en="Fairly satisfied"),
    2: Bilingual(zh="不满意", en="Dissatisfied"),
    1: Bilingual(zh="非常不满意", en="Very dissatisfied"),
}

# Tag id -> its text. The ids are stored and exported; the texts are what the screen shows.
RATING_REASONS: dict[str, Bilingual] = {
    "fast": Bilingual(zh="办理快捷", en="Quick service"),
    "polite": Bilingual(zh="态度热情", en="Friendly staff"),
    "clear_guidance": Bilingual(zh="指引清楚", en="Clear guidance"),
    "easy_to_use": Bilingual(zh="操作简便", en="Easy to use"),
    "too_slow": Bilingual(zh="等待太久", en="Waited too long"),
    "unclear": Bilingual(zh="说明不清", en="Instructions unclear"),
    "machine_problem": Bilingual(zh="机器故障", en="Machine problem"),
    "had_to_come_back": Bilingual(zh="需要多跑", en="Had to come back"),
}

# Which reasons suit which level, for the kiosk's screen and the phone's form alike: praise
# for the satisfied levels, complaints for the dissatisfied ones, both in the middle (a
# resident who chose 不满意 is never offered 办理快捷). A reason in neither list (one added to
# RATING_REASONS later) is offered at every level.
POSITIVE_REASONS = ("fast", "polite", "clear_guidance", "easy_to_use")
NEGATIVE_REASONS = ("too_slow", "unclear", "machine_problem", "had_to_come_back")


def reasons_for_level(level: int) -> list[str]:
    """The reason tags offered after choosing `level`, in RATING_REASONS order."""
    unsorted = [r for r in RATING_REASONS if r not in POSITIVE_REASONS + NEGATIVE_REASONS]
    positive = [r for r in RATING_REASONS if r in POSITIVE_REASONS]
    negative = [r for r in RATING_REASONS if r in NEGATIVE_REASONS]
    if level >= 4:
        return positive + unsorted
    if level <= 2:
        return negative + unsorted
    return positive + negative + unsorted

RATING_TARGET_KINDS = ("ticket", "application", "none")

# ---------------------------------------------------------------------- statistics events

STAT_EVENT_KINDS = ("flow_started", "flow_finished", "flow_abandoned", "fault")
# The flows the UI reports; a bundle's flow is "bundle:<bundle id>".
STAT_FLOWS = ("take_number", "query", "check_in", "rate", "help")


class Backend(Protocol):
    def identify(self, resident_id: str, code: str = "") -> Resident | None:
        """The resident behind a verified personal code, or None if unknown. `code` is the
        scanned text itself: a hall verifies it again (its own keys, its own used codes)
        and trusts no reference a kiosk names."""

    def identify_by_id_card(self, id_number: str, name: str) -> Resident | None:
        """The resident whose resident ID card this kiosk's reader has read, or None if
        nobody with that number and name is known. Raises IdCardNotAccepted where the
        backend does not take this kiosk's word for a card (a hall, for a kiosk it has not
        been told has a reader)."""

    def licenses(self, resident_id: str) -> list[License]:
        """The resident's electronic licenses."""

    def person_licenses(self, resident_id: str, id_number: str) -> list[License]:
        """The electronic licenses of another person, by their ID number (the deceased, a
        child, someone the resident applies for), that this resident may use in an
        application: a relative on the platform's record. [] when the platform holds none
        or the resident is not such a relative, so the answer tells a stranger nothing."""

    def appointments_on(self, resident_id: str, day: dt.date) -> list[Appointment]:
        """The resident's appointments on a day, earliest first."""

    def queue_figures(self) -> dict[str, QueueFigures]:
        """Today's waiting counts per service category."""

    def issue_ticket(self, request: TicketRequest, idempotency_key: str) -> IssuedTicket:
        """Allocate the next number; the same key returns the same ticket. A resident
        (request.resident_id) who has a waiting ticket today in the category gets that one
        back (`already_waiting`), not a second number. Raises TicketRequestCancelled for a
        key that `cancel_ticket_request` cancelled."""

    def cancel_ticket_request(self, idempotency_key: str, reason: str = "timeout") -> str | None:
        """Make the ticket request with this key unissuable, and withdraw the ticket already
        issued under it (nobody holds it: the kiosk restarted, or could not learn the answer
        while the resident waited). Returns the withdrawn number, or None if none had been
        issued. Idempotent. `reason` ("timeout", "restart") is counted for the 服务指数."""

    def ticket_progress(self, ticket_id: str) -> TicketProgress | None:
        """Where a ticket stands now, by the id its tracking code names (a hall's public link
        or a signed Kind.TICKET code), or None for a ticket the backend does not know. A
        waiting ticket's `ahead` and wait are as of now, not as printed."""

    def check_in(self, appointment_id: str, kiosk_id: str, idempotency_key: str) -> CheckIn:
        """预约签到: mark the appointment checked in and issue its priority ticket (in the
        appointment's category), as one operation. The same key returns the same ticket;
        an appointment already checked in under another key returns the ticket it got then
        (`earlier`). Whether the resident is on time is the caller's rule. Raises NotFound
        for an unknown appointment, IdempotencyConflict for a key used for another one."""

    def submit_application(
        self,
        resident_id: str,
        submission: dict[str, Any],
        processing_days: int,
        idempotency_key: str,
    ) -> ApplicationReceipt:
        """File a 一件事 application; the same key and submission return the same receipt.

        `submission` is JSON data with at least "bundle_id" (and answers, fields,
        materials). The backend keeps it, typed personal fields included, as its record.
        """

    def applications_of(self, resident_id: str) -> list[ApplicationSummary]:
        """The resident's applications, newest first."""

    def application(self, reference: str) -> ApplicationSummary | None:
        """One application by the reference its progress code names, or None: the embedded
        backend's 办件编号, a hall's public id (its link <public_url>/a/<public id>)."""

    def advance_application(
        self, reference: str, status: ApplicationStatus, note: str = ""
    ) -> ApplicationSummary:
        """Staff: append a status to the timeline. Raises NotFound for an unknown reference,
        ValueError for a move APPLICATION_TRANSITIONS does not allow (nothing after DONE)
        or NEEDS_MORE without a note."""

    def rate(
        self,
        level: int,
        reasons: tuple[str, ...],
        target_kind: str,
        target_id: str | None,
        kiosk_id: str,
        idempotency_key: str,
    ) -> None:
        """Record a 好差评 rating: level 1..5 (RATING_LEVELS), reasons from RATING_REASONS,
        target_kind one of RATING_TARGET_KINDS ("none" takes no target_id)."""

    def call_help(self, kiosk_id: str, screen: str, idempotency_key: str) -> str:
        """Call a staff member to this kiosk (帮办); returns the call id."""

    def record_event(
        self,
        kind: str,
        *,
        flow: str,
        step: str = "",
        duration_s: float | None = None,
        kiosk_id: str,
        at: dt.datetime | None = None,
    ) -> None:
        """Count a usage event for the 服务指数 (kinds STAT_EVENT_KINDS). Raises ValueError
        for a flow or step that is not a short lowercase token: events carry no personal
        data."""

    def claim_nonce(self, key_id: str, nonce: str, expires_at: int) -> bool:
        """Record that a personal code (its issuer's key id and nonce) has been used at a
        kiosk of this hall; False if it had been already. Kept until `expires_at` (Unix
        seconds), when every kiosk refuses the code by its time anyway. Idempotent in effect:
        a repeat only answers False."""

    def trusted_keys(self) -> dict[str, str]:
        """Key id -> base64 raw Ed25519 public key of the keys that sign the backend's own
        codes (ticket tracking, receipts), so the kiosk can verify them when scanned."""

    def close(self) -> None:
        """Release connections."""
