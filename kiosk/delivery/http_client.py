"""The hall server's API (kiosk/hall/, `kiosk hall serve`) as the kiosk's `Backend`.

The kiosk names itself with its device token (`Authorization: Bearer dev_…`, from
backend.token_file) and tells the hall who a resident is in one way only: it forwards the
scanned personal code (`POST /v1/kiosk/residents`), the hall verifies it and answers with a
session handle and masked facts, and every later call about that resident carries the handle
(`X-Resident-Session`). The exception is a resident ID card its reader read: the number and
name go to `POST /v1/kiosk/residents/id-card`, which the hall answers the same way, but only
for a kiosk its administrator marked as having a reader (the hall cannot check a card read).
The `Backend` interface speaks of resident ids; this client keeps, in memory and for the
hall's session lifetime, which handle stands for which id (and which appointment belongs to
whom), so nothing above it changes.

Everything else here exists so that a network fault never turns into a hang, a crash later
on, or a silently lost action:

- every request has a (connect, read) timeout, and a reply body must arrive in full within
  their sum (requests has no timeout by default, and its read timeout is per socket read),
  and no larger than MAX_REPLY_BYTES;
- only reads (GET) are retried here, once, by urllib3. State-changing calls are never
  retried in this module: the outbox (kiosk/delivery/deliverer.py) retries them with their
  idempotency key, sent as the `Idempotency-Key` header, so the hall applies each once;
- refused connections, timeouts, 5xx, redirects, non-JSON and wrongly shaped replies all
  become `BackendError` with a message naming the API route and what went wrong, never the
  ids in the URL, the token, the session handle, or the request or reply body; a refusal
  no retry can change (a closed category, an expired session) is a ValueError, which the
  outbox does not retry;
- TLS certificates are always verified. The only knobs are a private CA bundle and a client
  certificate for mutual TLS; plain http:// is accepted for a hall on this machine only,
  with a warning at every start. Environment variables (REQUESTS_CA_BUNDLE, proxies,
  .netrc) are ignored, so nothing outside the config file changes whom the kiosk trusts.

`ROUTES` lists every request this client makes, with the body it sends and the reply
fields it reads: tests/hall/test_openapi_contract.py holds them against the hall's OpenAPI
document, so a route or field renamed on either side fails there, not at a resident.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import re
import ssl
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from kiosk.backend.interface import (
    ApplicationReceipt,
    ApplicationStatus,
    ApplicationSummary,
    Appointment,
    BackendError,
    CheckIn,
    IdCardNotAccepted,
    IdempotencyConflict,
    IssuedTicket,
    License,
    NotFound,
    QueueFigures,
    Resident,
    StatusEvent,
    TicketProgress,
    TicketRequest,
    TicketRequestCancelled,
    TicketState,
)
from kiosk.common.clock import SHANGHAI
from kiosk.config.schema import is_loopback_host
from kiosk.delivery.faults import (
    BackendConnectTimeout,
    BackendNotReached,
    BackendTimeout,
    BackendUnreachable,
)
from kiosk.domain.hall_links import TICKET_ID
from kiosk.domain.payloads import PayloadProblem, PayloadRefused
from kiosk.domain.text import Bilingual

log = logging.getLogger(__name__)

API_PREFIX = "/v1"
DEFAULT_CONNECT_TIMEOUT_S = 3.0
DEFAULT_READ_TIMEOUT_S = 10.0
# A reply is a ticket or a list of a resident's applications: kilobytes. A bigger one is not
# our API (or is an attack) and is refused before it fills the kiosk's memory.
MAX_REPLY_BYTES = 4 * 1024 * 1024
# The hall forgets a resident session after 15 minutes (kiosk.hall.auth); the kiosk forgets
# its handle a little sooner, so it never sends one the hall has just dropped.
RESIDENT_SESSION_S = 14 * 60
# Ends an idempotency key the client derives (see _derived_key): the hall takes 8..100
# printable ASCII characters.
_DERIVED_DIGEST_CHARS = 40



class BackendCertificateError(BackendError):
    """The hall's TLS certificate was refused (unknown CA, wrong host name, expired)."""


class BackendReplyError(BackendError):
    """The hall answered, but not as the API says (not JSON, wrong shape, redirect)."""


class HallRefused(ValueError):
    """The hall refused the request for a reason no retry changes (the category is closed
    or its numbers are all taken today, the appointment is not due, the offline number is
    not leased…). `code` is the API's error code, `message` its words for a person, and
    `opens_at` when the category opens again (closed, cap_reached), if the hall said."""

    def __init__(self, text: str, code: str, message: Bilingual | None,
                 opens_at: dt.datetime | None = None) -> None:
        super().__init__(text)
        self.code = code
        self.message = message
        self.opens_at = opens_at


class ResidentSessionExpired(ValueError):
    """The hall no longer knows the resident's session (15 minutes, or the kiosk restarted
    since the code was scanned): the resident scans their code again. No retry helps."""


# ---------------------------------------------------------------------- personal data

# Appointment ids, application ids and call ids travel in URL paths; urllib3 writes paths
# into its debug and retry-warning log lines. Those lines get the ids masked.
_ID_IN_PATH = re.compile(
    r"(/(?:residents|applications|appointments|help-calls|tickets))/[^/\s?#'\"]+")
_QUERY = re.compile(r"\?[^\s#'\"]*")


def mask_path(text: str) -> str:
    """`text` with identifiers in API paths and query strings replaced by `{id}` / `?…`."""
    return _QUERY.sub("?…", _ID_IN_PATH.sub(r"\1/{id}", text))


class _MaskPaths(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record stays as it is; logging reports it itself
            return True
        record.msg, record.args = mask_path(message), None
        return True


_MASK = _MaskPaths()
for _name in ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.connection"):
    if _MASK not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_MASK)


# -------------------------------------------------------------------- what is sent


class _Body(BaseModel):
    # extra="forbid" like the hall's own models: a field the client does not declare here
    # cannot be sent, so the contract test sees every field that goes out.
    model_config = ConfigDict(extra="forbid", strict=True)


class CodeBody(_Body):
    code: str


class IdCardBody(_Body):
    id_number: str
    name: str


class TicketBody(_Body):
    category: str
    resident_session: str | None = None


class CancelBody(_Body):
    key: str
    reason: str


class MaterialsBody(_Body):
    exempt: list[str] = Field(default_factory=list)
    to_bring: list[str] = Field(default_factory=list)


class SubmissionBody(_Body):
    answers: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, str] = Field(default_factory=dict)
    materials: MaterialsBody = Field(default_factory=MaterialsBody)
    prefilled: dict[str, str] = Field(default_factory=dict)


class ApplicationBody(_Body):
    bundle_id: str
    processing_days: int
    submission: SubmissionBody


class RatingBody(_Body):
    level: int
    reasons: list[str]
    target_kind: str
    target_id: str | None


class HelpBody(_Body):
    screen: str


class UsageEventBody(_Body):
    kind: str
    flow: str
    step: str
    duration_s: float | None
    at: AwareDatetime | None


class NonceBody(_Body):
    key_id: str
    nonce: str
    expires_at: int


class FaultBody(_Body):
    kind: str
    state: Literal["open", "cleared"]
    detail: str


class LeaseBody(_Body):
    category: str
    priority: bool


class OfflineTicketBody(_Body):
    lease_id: int
    seq: int
    category: str
    issued_at: AwareDatetime
    priority_reason: str


# -------------------------------------------------------------------- what is read


class _Wire(BaseModel):
    # Fields the hall adds are ignored; the ones declared here are the ones read.
    model_config = ConfigDict(extra="ignore", strict=True)


class FiguresReply(_Wire):
    category: str
    waiting: int
    priority_waiting: int
    minutes_per_ticket: float
    open: bool
    opens_at: AwareDatetime | None
    closes_at: AwareDatetime | None
    remaining_today: int | None


class TicketReply(_Wire):
    ticket_id: str
    number: str
    category: str
    priority: bool
    priority_reason: str
    ahead: int
    estimated_wait_min: int
    issued_at: AwareDatetime
    tracking_code: str
    already_waiting: bool
    offline: bool


class AppointmentReply(_Wire):
    appointment_id: str
    category: str
    start: AwareDatetime
    end: AwareDatetime
    checked_in: bool


class ResidentReply(_Wire):
    session: str
    masked_name: str
    entitlements: list[str]
    priority_reason: Literal["", "age", "entitlement", "appointment"]
    appointments: list[AppointmentReply]


class LicenseReply(_Wire):
    kind: str
    title: str
    number_masked: str
    valid_until: dt.date | None


class PrefillReply(_Wire):
    values: dict[str, str]
    licenses: list[str]


class CheckInReply(_Wire):
    ticket: TicketReply
    earlier: bool


class ReceiptReply(_Wire):
    reference: str
    bundle_id: str
    submitted_at: AwareDatetime
    progress_code: str
    processing_days: int


class StatusEventReply(_Wire):
    status: ApplicationStatus
    at: AwareDatetime
    note: str


class SummaryReply(_Wire):
    reference: str
    bundle_id: str
    submitted_at: AwareDatetime
    status: ApplicationStatus
    timeline: list[StatusEventReply]


class BilingualReply(_Wire):
    zh: str
    en: str


class PublicTicketReply(_Wire):
    """GET /v1/public/tickets/{ticket_id}: the phone page's view of a ticket, which 办件查询
    shows too. Of it the kiosk reads what the screen shows (no masked name, no rating)."""

    ticket_id: str
    number: str
    category: str
    category_title: BilingualReply
    state: TicketState
    priority: bool
    issued_at: AwareDatetime
    ahead: int | None
    estimated_wait_min: int | None
    counter: int | None
    counter_name: BilingualReply | None
    called_at: AwareDatetime | None
    return_until: AwareDatetime | None
    now_ticket_id: str | None


class CancelReply(_Wire):
    withdrawn_number: str | None


class HelpCallReply(_Wire):
    call_id: str
    state: str


class NonceReply(_Wire):
    new: bool


class FaultReply(_Wire):
    changed: bool


class LeaseReply(_Wire):
    lease_id: int
    day: dt.date
    category: str
    priority: bool
    series: str
    first: int
    last: int
    used: list[int]


class RecordedReply(_Wire):
    # Read so that a catch-all web server's `{}` is not taken for a recorded rating.
    recorded: Literal[True]


@dataclasses.dataclass(frozen=True)
class Lease:
    """A block of numbers this kiosk may issue from while it cannot reach the hall."""

    lease_id: int
    day: dt.date
    category: str
    priority: bool
    series: str
    first: int
    last: int
    used: tuple[int, ...]


# ------------------------------------------------------------------------- the routes


@dataclasses.dataclass(frozen=True)
class Route:
    """One request of the hall's API as this client makes it."""

    method: Literal["GET", "POST"]
    path: str  # under API_PREFIX; {name} for a path parameter
    reply: Any  # the type a 2xx reply is read as
    body: type[_Body] | None = None
    key: bool = False  # sends an Idempotency-Key
    session: bool = False  # sends X-Resident-Session
    query: tuple[str, ...] = ()

    def url_path(self, **params: str) -> str:
        path = self.path
        for name, value in params.items():
            if not isinstance(value, str) or not value:
                raise ValueError(f"{self.path}: expected a non-empty {name}")
            path = path.replace("{" + name + "}", quote(value, safe=""))
        return path


QUEUE = Route("GET", "/queue", list[FiguresReply])
IDENTIFY = Route("POST", "/kiosk/residents", ResidentReply, CodeBody, key=True)
IDENTIFY_BY_ID_CARD = Route("POST", "/kiosk/residents/id-card", ResidentReply, IdCardBody,
                            key=True)
LICENSES = Route("GET", "/kiosk/resident/licenses", list[LicenseReply], session=True)
APPOINTMENTS = Route("GET", "/kiosk/resident/appointments", list[AppointmentReply],
                     session=True, query=("day",))
RESIDENT_APPLICATIONS = Route("GET", "/kiosk/resident/applications", list[SummaryReply],
                              session=True)
PREFILL = Route("GET", "/kiosk/resident/prefill", PrefillReply, session=True)
TICKETS = Route("POST", "/tickets", TicketReply, TicketBody, key=True)
CANCELLATIONS = Route("POST", "/ticket-cancellations", CancelReply, CancelBody, key=True)
CHECK_IN = Route("POST", "/appointments/{appointment_id}/check-in", CheckInReply, key=True,
                 session=True)
APPLICATIONS = Route("POST", "/applications", ReceiptReply, ApplicationBody, key=True,
                     session=True)
APPLICATION = Route("GET", "/applications/{public_id}", SummaryReply)
# The resident's phone reads it with no credential (the id is the capability); the kiosk
# sends its token as on every request.
PUBLIC_TICKET = Route("GET", "/public/tickets/{ticket_id}", PublicTicketReply)
RATINGS = Route("POST", "/ratings", RecordedReply, RatingBody, key=True)
USAGE_EVENTS = Route("POST", "/usage-events", RecordedReply, UsageEventBody, key=True)
USED_NONCES = Route("POST", "/used-nonces", NonceReply, NonceBody, key=True)
TRUSTED_KEYS = Route("GET", "/trusted-keys", dict[str, str])
HELP_CALLS = Route("POST", "/help-calls", HelpCallReply, HelpBody, key=True)
HELP_CALL = Route("GET", "/help-calls/{call_id}", HelpCallReply)
FAULTS = Route("POST", "/faults", FaultReply, FaultBody, key=True)
LEASES = Route("POST", "/leases", LeaseReply, LeaseBody, key=True)
MY_LEASES = Route("GET", "/leases", list[LeaseReply])
OFFLINE_TICKETS = Route("POST", "/offline-tickets", TicketReply, OfflineTicketBody, key=True)

ROUTES: tuple[Route, ...] = (
    QUEUE, IDENTIFY, IDENTIFY_BY_ID_CARD, LICENSES, APPOINTMENTS, RESIDENT_APPLICATIONS,
    PREFILL, TICKETS, CANCELLATIONS, CHECK_IN, APPLICATIONS, APPLICATION, PUBLIC_TICKET,
    RATINGS, USAGE_EVENTS, USED_NONCES, TRUSTED_KEYS, HELP_CALLS, HELP_CALL, FAULTS, LEASES,
    MY_LEASES, OFFLINE_TICKETS,
)

_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(tp: Any) -> TypeAdapter[Any]:
    # TypeAdapters are costly to build and safe to share between threads.
    found = _ADAPTERS.get(tp)
    if found is None:
        found = _ADAPTERS[tp] = TypeAdapter(tp)
    return found


def _sh(value: dt.datetime) -> dt.datetime:
    """A hall time in Shanghai time, as the embedded backend gives them (the reply models
    refuse a time without a UTC offset: it would be 8 hours off on a kiosk in UTC)."""
    return value.astimezone(SHANGHAI)


def _derived_key(purpose: str, *parts: str) -> str:
    """An idempotency key made from what the request is about, for calls whose caller has
    none: the same request gets the same key, so a repeat is answered, not applied twice."""
    digest = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{purpose}-{digest[:_DERIVED_DIGEST_CHARS]}"


def _body(model: type[_Body], **data: Any) -> _Body:
    """The request body, or a ValueError naming the fields that are wrong and never their
    values (a typed field of an application is a resident's data)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = ", ".join(".".join(str(p) for p in e["loc"]) or "body"
                          for e in exc.errors(include_input=False, include_url=False)[:5])
        raise ValueError(f"request not sent, fields not as the hall takes them: {where}") from None


def _ticket(reply: TicketReply) -> IssuedTicket:
    return IssuedTicket(
        ticket_id=reply.ticket_id, number=reply.number, category=reply.category,
        priority=reply.priority, priority_reason=reply.priority_reason, ahead=reply.ahead,
        estimated_wait_min=reply.estimated_wait_min, issued_at=_sh(reply.issued_at),
        tracking_code=reply.tracking_code, already_waiting=reply.already_waiting,
        offline=reply.offline)


def _bilingual(reply: BilingualReply | None) -> Bilingual | None:
    """The hall's words, or None when it sends none (or an empty one: the kiosk's own then)."""
    if reply is None or not reply.zh or not reply.en:
        return None
    return Bilingual(zh=reply.zh, en=reply.en)


def _progress(reply: PublicTicketReply) -> TicketProgress:
    return TicketProgress(
        ticket_id=reply.ticket_id, number=reply.number, category=reply.category,
        state=reply.state, category_title=_bilingual(reply.category_title),
        priority=reply.priority, issued_at=_sh(reply.issued_at), ahead=reply.ahead,
        estimated_wait_min=reply.estimated_wait_min, counter=reply.counter,
        counter_name=_bilingual(reply.counter_name),
        called_at=_sh(reply.called_at) if reply.called_at else None,
        return_until=_sh(reply.return_until) if reply.return_until else None,
        now_ticket_id=reply.now_ticket_id)


def _summary(reply: SummaryReply) -> ApplicationSummary:
    return ApplicationSummary(
        reference=reply.reference, bundle_id=reply.bundle_id,
        submitted_at=_sh(reply.submitted_at), status=reply.status,
        timeline=tuple(StatusEvent(status=e.status, at=_sh(e.at), note=e.note)
                       for e in reply.timeline))


@dataclasses.dataclass(frozen=True)
class _ApiError:
    """The error of a non-2xx reply in the hall's shape: {"error", "message": {"zh", "en"},
    ...} at the top level (kiosk/hall/app.py gives every refusal that shape)."""

    code: str = ""
    message: Bilingual | None = None
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def english(self) -> str:
        return self.message.en if self.message is not None else ""


def _api_error(body: bytes) -> _ApiError:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _ApiError()
    if not isinstance(data, dict) or not isinstance(data.get("error"), str):
        return _ApiError()
    message = None
    raw = data.get("message")
    if isinstance(raw, dict):
        try:
            message = Bilingual(zh=str(raw.get("zh", "")), en=str(raw.get("en", "")))
        except ValidationError:
            message = None
    return _ApiError(data["error"], message, data)


def _when(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        found = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return _sh(found) if found.tzinfo is not None else None


# ----------------------------------------------------------------------- what went wrong


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (requests -> urllib3 -> socket/ssl)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo.append(getattr(e, "reason", None) if isinstance(
            getattr(e, "reason", None), BaseException) else None)
        todo.extend(a for a in e.args if isinstance(a, BaseException))
        todo.extend((e.__cause__, e.__context__))


def _ssl_reason(exc: BaseException) -> str:
    for e in _causes(exc):
        if isinstance(e, ssl.SSLCertVerificationError):
            return f"the certificate was not accepted ({e.verify_message or e.reason})"
        if isinstance(e, ssl.SSLEOFError) or (
                isinstance(e, ssl.SSLError) and "CERTIFICATE_REQUIRED" in str(e.reason)):
            # What a backend requiring mutual TLS does to a kiosk without an accepted cert.
            return ("TLS failed: the backend closed the connection during the handshake (does"
                    " it require a client certificate? see backend.client_cert)")
        if isinstance(e, ssl.SSLError):
            return f"TLS failed ({e.reason or type(e).__name__})"
    return "TLS failed"


def _connection_problem(exc: BaseException, connect_s: float, read_s: float) -> BackendError:
    """The BackendError for a failed connection, its message naming the configured limit
    when a timeout tripped (urllib3's own errors do not know it)."""
    causes = list(_causes(exc))
    if any(isinstance(e, ConnectionRefusedError) for e in causes):
        return BackendNotReached(
            "connection refused (is `kiosk hall serve` running on that host and port?)"
        )
    if any(isinstance(e, urllib3.exceptions.NameResolutionError) for e in causes):
        return BackendNotReached("host name not found (check backend.url and DNS)")
    if any(isinstance(e, urllib3.exceptions.NewConnectionError) for e in causes):
        errno = next((e for e in causes if isinstance(e, OSError) and e.strerror), None)
        detail = errno.strerror if errno is not None else "network unreachable"
        return BackendNotReached(f"cannot connect ({detail})")
    if any(isinstance(e, urllib3.exceptions.ConnectTimeoutError) for e in causes):
        return BackendConnectTimeout(f"no connection within {connect_s:g} s (connect timeout)")
    if any(isinstance(e, urllib3.exceptions.ReadTimeoutError | TimeoutError) for e in causes):
        return BackendTimeout(f"no answer within {read_s:g} s (read timeout)")
    if any(isinstance(e, urllib3.exceptions.ProtocolError | ConnectionResetError)
           for e in causes):
        return BackendUnreachable("the connection was closed before the answer was complete")
    return BackendUnreachable(f"connection failed ({type(exc).__name__})")


# --------------------------------------------------------------------------- the client


@dataclasses.dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    content_type: str


@dataclasses.dataclass
class _Known:
    """A resident this kiosk identified: the hall's handle for them, and since when."""

    session: str
    since: float  # time.monotonic()


class HttpBackend:
    """`kiosk.backend.interface.Backend` over the hall server's API (HTTPS, JSON).

    Blocking, like the embedded backend: the services layer calls it on worker threads.
    Each thread gets its own `requests.Session` pair (one for reads with retries, one for
    writes without), because a Session is not documented as thread-safe and a hung call on
    the statistics thread must not hold up a ticket on the backend thread.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str,
        ca_bundle: str | Path | None = None,
        client_cert: str | Path | None = None,
        client_key: str | Path | None = None,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
        keys_cache: Path | None = None,
        fetch_keys_on_demand: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        if parts.scheme not in ("https", "http") or not host:
            raise ValueError(f"backend url must be https://host[:port][/path], not {url!r}")
        if parts.scheme == "http":
            # The config refuses this too; checked again so no other caller can skip it.
            if not is_loopback_host(host):
                raise ValueError(
                    "https:// required for a remote backend; certificate verification cannot"
                    " be turned off"
                )
            log.warning(
                "backend.url %s is plain http: no encryption and no certificate check."
                " Accepted only because the host is this machine (testing).",
                f"{parts.scheme}://{parts.netloc}",
            )
        # Never quoted in the message: it is the kiosk's credential.
        if (not isinstance(token, str) or not token or len(token) > 200
                or not token.isascii() or not token.isprintable() or " " in token):
            raise ValueError("the device token must be one word of printable ASCII (see"
                             " backend.token_file)")
        if bool(client_cert) != bool(client_key):
            raise ValueError("client_cert and client_key go together")
        if connect_timeout_s <= 0 or read_timeout_s <= 0:
            raise ValueError("timeouts must be > 0 seconds (no timeout would hang forever)")
        self._base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._token = token
        # Always verified: True (public CAs, certifi) or the private CA file; never False.
        self._verify: bool | str = str(ca_bundle) if ca_bundle else True
        self._cert = (str(client_cert), str(client_key)) if client_cert else None
        self._timeout = (float(connect_timeout_s), float(read_timeout_s))
        self._keys_cache = keys_cache
        self._fetch_keys_on_demand = fetch_keys_on_demand
        self._keys: dict[str, str] | None = self._load_keys_cache()
        self._monotonic = monotonic
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._known: dict[str, _Known] = {}  # resident id -> the hall's session handle
        self._appointment_of: dict[str, str] = {}  # appointment id -> resident id
        self._closed = False

    # ------------------------------------------------------------------- plumbing

    @property
    def url(self) -> str:
        return self._base

    @property
    def timeouts(self) -> tuple[float, float]:
        """(connect, read) seconds of every request."""
        return self._timeout

    def _new_session(self, retries: Retry) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # no REQUESTS_CA_BUNDLE, proxies or .netrc from outside
        session.verify = self._verify
        session.cert = self._cert
        # identity: replies are small, and a compressed one could inflate past the size cap.
        session.headers.update({"Accept": "application/json", "Accept-Encoding": "identity",
                                "User-Agent": "kiosk-http/2",
                                "Authorization": f"Bearer {self._token}"})
        adapter = HTTPAdapter(max_retries=retries, pool_connections=1, pool_maxsize=2)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def _session(self, method: str) -> requests.Session:
        pair: tuple[requests.Session, requests.Session] | None = getattr(
            self._local, "pair", None)
        if pair is None:
            with self._lock:
                if self._closed:
                    raise BackendError("the http backend client is closed")
                reads = self._new_session(Retry(
                    total=2,
                    connect=1,  # refused / unreachable: once more after a short pause
                    read=False,  # a hung backend is not asked twice: one timeout is enough
                    status=1,  # 502/503/504 from a proxy or a restarting backend
                    other=0,
                    redirect=0,
                    allowed_methods=frozenset({"GET"}),
                    status_forcelist=(502, 503, 504),
                    backoff_factor=0.25,
                    raise_on_status=False,
                    raise_on_redirect=False,
                    # A Retry-After of an hour would block the backend thread for an hour.
                    respect_retry_after_header=False,
                ))
                # Writes are never retried here, not even after a refused connection:
                # the outbox owns their retries (backoff, expiry of tickets, idempotency).
                writes = self._new_session(Retry(total=0, connect=0, read=False, status=0,
                                                 other=0, redirect=0, raise_on_status=False,
                                                 raise_on_redirect=False))
                self._sessions.add(reads)
                self._sessions.add(writes)
            pair = (reads, writes)
            self._local.pair = pair
        return pair[0] if method == "GET" else pair[1]

    def _what(self, method: str, route: str, problem: str) -> str:
        return f"backend {method} {API_PREFIX}{route} at {self._origin}: {problem}"

    def _request(
        self,
        method: str,
        route: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        key: str | None = None,
        session: str | None = None,
    ) -> _Reply:
        """One HTTP exchange. `route` is the path template named in messages (no ids)."""
        if self._closed:
            raise BackendError("the http backend client is closed")
        headers: dict[str, str] = {}
        data: bytes | None = None
        if key is not None:
            if not 8 <= len(key) <= 100 or not key.isascii() or not key.isprintable():
                raise ValueError("idempotency key must be 8..100 printable ASCII characters")
            headers["Idempotency-Key"] = key
        if session is not None:
            headers["X-Resident-Session"] = session
        if body is not None:
            try:
                data = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
            except (TypeError, ValueError) as exc:
                raise ValueError(f"request is not JSON-serialisable: {exc}") from None
            headers["Content-Type"] = "application/json; charset=utf-8"
        connect_s, read_s = self._timeout
        started = time.monotonic()
        try:
            with self._session(method).request(
                method, self._base + API_PREFIX + path, params=params, data=data,
                headers=headers, timeout=self._timeout, allow_redirects=False, stream=True,
            ) as response:
                # The read timeout applies per socket read; a backend that trickles a byte
                # every few seconds must still not hold the thread for longer than this.
                # read1, not iter_content: urllib3's read(n) waits until it has n bytes,
                # so a deadline checked between chunks would never be reached.
                deadline = started + connect_s + read_s
                chunks: list[bytes] = []
                size = 0
                while chunk := response.raw.read1(64 * 1024, decode_content=False):
                    size += len(chunk)
                    if size > MAX_REPLY_BYTES:
                        raise BackendReplyError(self._what(
                            method, route, f"reply larger than {MAX_REPLY_BYTES} bytes"))
                    if time.monotonic() > deadline:
                        raise BackendTimeout(self._what(
                            method, route, f"reply not complete within {connect_s + read_s:g} s"))
                    chunks.append(chunk)
                return _Reply(response.status_code, b"".join(chunks),
                              response.headers.get("Content-Type", ""))
        except requests.exceptions.SSLError as exc:
            problem = _ssl_reason(exc)
            # A certificate problem needs a technician (or is an attack): say so loudly.
            log.error("%s", self._what(method, route, problem))
            raise BackendCertificateError(self._what(method, route, problem)) from None
        except requests.exceptions.ReadTimeout:
            raise BackendTimeout(self._what(
                method, route, f"no answer within {read_s:g} s (read timeout)")) from None
        except requests.exceptions.ConnectTimeout:
            # No connection, so no request sent: a ticket asked for here was not issued.
            raise BackendConnectTimeout(self._what(
                method, route, f"no connection within {connect_s:g} s (connect timeout)")
            ) from None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError,
                OSError) as exc:
            error = _connection_problem(exc, connect_s, read_s)
            raise type(error)(self._what(method, route, str(error))) from None

    def _fail(self, method: str, route: str, reply: _Reply) -> Exception:
        """The exception for a reply that is not 2xx and not one the caller expected."""
        status = reply.status
        error = _api_error(reply.body)
        code, said = error.code, error.english
        if 300 <= status < 400:
            return BackendReplyError(self._what(
                method, route, f"HTTP {status} redirect; redirects are not followed (set"
                " backend.url to the hall server's own address)"))
        if status >= 500:
            what = {500: "internal error", 502: "bad gateway", 503: "unavailable (busy or its"
                    " database failed)", 504: "gateway timeout"}.get(status, "server error")
            return BackendError(self._what(method, route, f"HTTP {status} ({what})"))
        if status == 401:
            return BackendError(self._what(
                method, route, "HTTP 401: the hall does not accept this kiosk's device token"
                " (backend.token_file; a technician registers the kiosk with `kiosk hall"
                " add-device`, or it was revoked)"))
        if status == 403:
            return BackendError(self._what(
                method, route, "HTTP 403: this credential may not do this (is the token in"
                " backend.token_file a kiosk's?)"))
        if not code or code.startswith("http_"):
            # Not a route's answer: another web server, a proxy, or a hall without this
            # route (an older version; the hall names such refusals "http_<status>").
            if status == 404:
                return BackendReplyError(self._what(
                    method, route, "HTTP 404 without an error of the hall's API (is"
                    " backend.url the hall server, and is the hall up to date?)"))
            return BackendError(self._what(method, route, f"HTTP {status}"))
        if code == "idempotency_conflict":
            return IdempotencyConflict(said or "idempotency key used for another request")
        if code == "cancelled":
            return TicketRequestCancelled(said or "the request was cancelled")
        if code == "resident_session":
            return ResidentSessionExpired(self._what(
                method, route, "the hall no longer knows this resident's session (the"
                " resident scans their code again)"))
        if code in ("invalid_request", "idempotency_key"):
            # Our request is wrong: a retry cannot fix it (the outbox gives up on ValueError).
            fields = error.data.get("fields")
            named = (f" (fields: {', '.join(str(f) for f in fields[:5])})"
                     if isinstance(fields, list) and fields else "")
            return ValueError(self._what(method, route,
                                         f"the hall refused the request as malformed{named}"))
        if status == 404:
            return NotFound(self._what(method, route, f"{code}: {said}".rstrip(": ")))
        if 400 <= status < 500:
            return HallRefused(self._what(method, route, f"{code}: {said}".rstrip(": ")),
                               code, error.message, _when(error.data.get("opens_at")))
        return BackendError(self._what(method, route, f"HTTP {status} ({code})"))

    def _parse(self, method: str, route: str, reply: _Reply, tp: Any) -> Any:
        """A 2xx reply validated against `tp`; anything else is a BackendReplyError."""
        try:
            return _adapter(tp).validate_json(reply.body, strict=True)
        except ValidationError as exc:
            errors = exc.errors(include_input=False, include_url=False)
            if errors and errors[0].get("type") == "json_invalid":
                kind = reply.content_type.split(";")[0] or "no content type"
                problem = f"reply is not JSON ({kind}, {len(reply.body)} bytes)"
            else:
                shown = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'reply'}: {e['msg']}"
                    for e in errors[:3])
                problem = f"reply does not have the expected shape ({shown})"
            raise BackendReplyError(self._what(method, route, problem)) from None

    def _call(
        self,
        route: Route,
        *,
        path: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        body: _Body | None = None,
        key: str | None = None,
        session: str | None = None,
        none_if: tuple[str, ...] = (),
    ) -> Any:
        """`route` asked; its reply as `route.reply`, or None for an error code in
        `none_if` (an unknown resident is an answer, not a fault)."""
        sent = body.model_dump(mode="json") if body is not None else None
        reply = self._request(route.method, route.path, route.url_path(**(path or {})),
                              params=params, body=sent, key=key, session=session)
        if 200 <= reply.status < 300:
            return self._parse(route.method, route.path, reply, route.reply)
        code = _api_error(reply.body).code
        if code and code in none_if:
            return None
        if route is IDENTIFY and reply.status == 422 and code in _PROBLEMS:
            # The hall's verdict on the code, in the kiosk's own terms (a code used at
            # another kiosk is REPLAYED): the screen says what the kiosk would have said.
            raise PayloadRefused(_PROBLEMS[code], "refused by the hall")
        if route is IDENTIFY_BY_ID_CARD and reply.status == 403 and code == ID_CARD_NOT_ALLOWED:
            raise self._card_refused(reply)
        raise self._fail(route.method, route.path, reply)

    def _card_refused(self, reply: _Reply) -> IdCardNotAccepted:
        """The hall does not take this kiosk's word for a card: the technician reads why in
        the log (the hall names the command that marks the kiosk), the resident the hall's
        words (show the 随申码, or ask staff)."""
        error = _api_error(reply.body)
        reason = error.data.get("reason")
        said = reason if isinstance(reason, str) and reason else error.english
        text = self._what("POST", IDENTIFY_BY_ID_CARD.path,
                          f"HTTP 403 {ID_CARD_NOT_ALLOWED}: {said}".rstrip(": "))
        log.warning("%s", text)
        return IdCardNotAccepted(text, error.message)

    # ------------------------------------------------------------ resident sessions

    def _remember(self, resident_id: str, session: str,
                  appointments: list[AppointmentReply]) -> None:
        now = self._monotonic()
        with self._lock:
            for rid in [r for r, k in self._known.items()
                        if now - k.since > RESIDENT_SESSION_S]:
                del self._known[rid]
                for aid in [a for a, r in self._appointment_of.items() if r == rid]:
                    del self._appointment_of[aid]
            self._known[resident_id] = _Known(session, now)
            for a in appointments:
                self._appointment_of[a.appointment_id] = resident_id

    def _session_of(self, resident_id: str) -> str:
        with self._lock:
            known = self._known.get(resident_id)
        if known is None or self._monotonic() - known.since > RESIDENT_SESSION_S:
            raise ResidentSessionExpired(
                "no session of the hall for this resident at this kiosk (identified too long"
                " ago, or before a restart): the resident scans their code again")
        return known.session

    def _session_of_appointment(self, appointment_id: str) -> str:
        with self._lock:
            resident_id = self._appointment_of.get(appointment_id)
        if resident_id is None:
            raise ResidentSessionExpired(
                "this appointment was not among those of a resident identified here: the"
                " resident scans their code again")
        return self._session_of(resident_id)

    # -------------------------------------------------------------- the interface

    def identify(self, resident_id: str, code: str = "") -> Resident | None:
        if not code:
            raise ValueError("the hall identifies a resident by the scanned code itself:"
                             " pass code=")
        # The same code asked again (its answer was lost) is the same request: the hall
        # answers it again with a fresh handle instead of refusing the code as used.
        found: ResidentReply | None = self._call(
            IDENTIFY, body=_body(CodeBody, code=code), key=_derived_key("identify", code),
            none_if=("unknown_resident",))
        if found is None:
            return None
        self._remember(resident_id, found.session, found.appointments)
        # The hall never sends the ID number or the phone; the name only masked. Its own
        # priority derivation replaces the kiosk's, which needs the ID number.
        return Resident(resident_id=resident_id, name=found.masked_name, id_number="",
                        phone="", entitlements=tuple(found.entitlements),
                        priority_reason=found.priority_reason)

    def identify_by_id_card(self, id_number: str, name: str) -> Resident | None:
        """The hall's answer for the card this kiosk's reader read: None for nobody with
        that number and name; IdCardNotAccepted (with the hall's words for the resident)
        when the hall was not told this kiosk has a reader."""
        body = _body(IdCardBody, id_number="".join(id_number.split()).upper(),
                     name=name.strip())
        # A fresh key per read, where a code's key derives from the code: a code is good for
        # one answer (the hall would refuse its retry under another key as a replay), a card
        # for any number of them, and a key derived from the card would be a guessable hash
        # of the ID number, and would replay the answer of the card's first read for ever.
        found: ResidentReply | None = self._call(
            IDENTIFY_BY_ID_CARD, body=body, key=f"id-card-{uuid.uuid4().hex}",
            none_if=("unknown_resident",))
        if found is None:
            return None
        # The hall names the resident by the session handle only; an id of this kiosk's own
        # stands for them in the interface, as a code's reference does.
        resident_id = f"card-{uuid.uuid4().hex}"
        self._remember(resident_id, found.session, found.appointments)
        return Resident(resident_id=resident_id, name=found.masked_name, id_number="",
                        phone="", entitlements=tuple(found.entitlements),
                        priority_reason=found.priority_reason)

    def licenses(self, resident_id: str) -> list[License]:
        found: list[LicenseReply] = self._call(LICENSES, session=self._session_of(resident_id))
        return [License(kind=x.kind, title=x.title, number_masked=x.number_masked,
                        valid_until=x.valid_until) for x in found]

    def person_licenses(self, resident_id: str, id_number: str) -> list[License]:
        """The hall offers no lookup of another person's licenses yet (it would need a
        route, a store query and a migration of its own): every material of another person
        is then to be brought, which is what the resident is told."""
        del resident_id, id_number
        return []

    def prefill(self, resident_id: str) -> dict[str, str]:
        """What a form may show prefilled: source (resident.name, resident.id_number,
        resident.phone, license:<kind>) -> the value masked. A submission that sends
        these masked values back gets the hall's real ones stored in their place."""
        found: PrefillReply = self._call(PREFILL, session=self._session_of(resident_id))
        return dict(found.values)

    def appointments_on(self, resident_id: str, day: dt.date) -> list[Appointment]:
        found: list[AppointmentReply] = self._call(
            APPOINTMENTS, params={"day": day.isoformat()},
            session=self._session_of(resident_id))
        with self._lock:
            for a in found:
                self._appointment_of[a.appointment_id] = resident_id
        # The hall says whether an appointment was checked in, not when: its start stands
        # for "checked in" (no screen shows the time).
        return [Appointment(appointment_id=a.appointment_id, resident_id=resident_id,
                            category=a.category, start=_sh(a.start), end=_sh(a.end),
                            checked_in_at=_sh(a.start) if a.checked_in else None)
                for a in found]

    def queue_figures(self) -> dict[str, QueueFigures]:
        found: list[FiguresReply] = self._call(QUEUE)
        return {f.category: QueueFigures(
            category=f.category, waiting=f.waiting, priority_waiting=f.priority_waiting,
            minutes_per_ticket=f.minutes_per_ticket, open=f.open,
            opens_at=_sh(f.opens_at) if f.opens_at else None,
            remaining_today=f.remaining_today,
            closes_at=_sh(f.closes_at) if f.closes_at else None) for f in found}

    def issue_ticket(self, request: TicketRequest, idempotency_key: str) -> IssuedTicket:
        # Priority, appointment and kiosk are the hall's to derive (from the session and
        # the credential); the request's own say on them is not sent. Nor is a 一件事's
        # application reference: the hall links a ticket to the applications its resident
        # filed there that day (the counter's `application_references`), so a follow-up
        # number is linked by being the resident's, through the session.
        session = (self._session_of(request.resident_id) if request.resident_id is not None
                   else None)
        found: TicketReply = self._call(
            TICKETS, body=_body(TicketBody, category=request.category, resident_session=session),
            key=idempotency_key)
        return _ticket(found)

    def cancel_ticket_request(self, idempotency_key: str, reason: str = "timeout") -> str | None:
        found: CancelReply = self._call(
            CANCELLATIONS, body=_body(CancelBody, key=idempotency_key, reason=reason),
            key=_derived_key("cancel", idempotency_key))
        return found.withdrawn_number

    def ticket_progress(self, ticket_id: str) -> TicketProgress | None:
        """By the id in a ticket's link (<public_url>/t/<id>) or signed code: the hall's
        public view of it. None when the hall does not know it (its API's 404); a hall
        without the route (older than this kiosk) is a BackendReplyError, as any 404 that
        is not the API's."""
        if not isinstance(ticket_id, str) or not TICKET_ID.fullmatch(ticket_id):
            return None  # an id the hall never issues (it would refuse the request as 422)
        try:
            found: PublicTicketReply = self._call(PUBLIC_TICKET, path={"ticket_id": ticket_id})
        except NotFound:
            return None
        return _progress(found)

    def check_in(self, appointment_id: str, kiosk_id: str, idempotency_key: str) -> CheckIn:
        del kiosk_id  # the credential names the kiosk
        found: CheckInReply = self._call(
            CHECK_IN, path={"appointment_id": appointment_id}, key=idempotency_key,
            session=self._session_of_appointment(appointment_id))
        return CheckIn(ticket=_ticket(found.ticket), earlier=found.earlier)

    def submit_application(
        self,
        resident_id: str,
        submission: dict[str, Any],
        processing_days: int,
        idempotency_key: str,
    ) -> ApplicationReceipt:
        if not isinstance(submission, dict) or not isinstance(submission.get("bundle_id"), str):
            raise ValueError("a submission names its bundle (bundle_id)")
        parts = {k: submission[k] for k in ("answers", "fields", "materials", "prefilled")
                 if k in submission}
        body = _body(ApplicationBody, bundle_id=submission["bundle_id"],
                     processing_days=processing_days, submission=parts)
        found: ReceiptReply = self._call(APPLICATIONS, body=body, key=idempotency_key,
                                         session=self._session_of(resident_id))
        return ApplicationReceipt(reference=found.reference, bundle_id=found.bundle_id,
                                  submitted_at=_sh(found.submitted_at),
                                  progress_code=found.progress_code,
                                  processing_days=found.processing_days)

    def applications_of(self, resident_id: str) -> list[ApplicationSummary]:
        found: list[SummaryReply] = self._call(RESIDENT_APPLICATIONS,
                                               session=self._session_of(resident_id))
        return [_summary(s) for s in found]

    def application(self, reference: str) -> ApplicationSummary | None:
        """By the reference in a receipt's progress code (the hall's unguessable id)."""
        found: SummaryReply | None = self._call(APPLICATION, path={"public_id": reference},
                                                none_if=("unknown_application",))
        return _summary(found) if found is not None else None

    def advance_application(
        self, reference: str, status: ApplicationStatus | str, note: str = ""
    ) -> ApplicationSummary:
        raise BackendError("a kiosk does not move applications on: staff do that at the"
                           " counter page of the hall server")

    def rate(
        self,
        level: int,
        reasons: tuple[str, ...],
        target_kind: str,
        target_id: str | None,
        kiosk_id: str,
        idempotency_key: str,
    ) -> None:
        del kiosk_id  # the credential names the kiosk
        self._call(RATINGS, body=_body(RatingBody, level=level, reasons=list(reasons),
                                       target_kind=target_kind, target_id=target_id),
                   key=idempotency_key)

    def call_help(self, kiosk_id: str, screen: str, idempotency_key: str) -> str:
        del kiosk_id  # the credential names the kiosk
        found: HelpCallReply = self._call(HELP_CALLS, body=_body(HelpBody, screen=screen),
                                          key=idempotency_key)
        return found.call_id

    def help_call_state(self, call_id: str) -> str | None:
        """raised | acknowledged | resolved, or None for a call the hall does not know (or
        another kiosk's)."""
        found: HelpCallReply | None = self._call(HELP_CALL, path={"call_id": call_id},
                                                 none_if=("no_such_call",))
        return found.state if found is not None else None

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
        del kiosk_id  # the credential names the kiosk
        # Events are not kept in the outbox: a fresh key, so that a request repeated by the
        # network is still counted once.
        self._call(USAGE_EVENTS, body=_body(UsageEventBody, kind=kind, flow=flow, step=step,
                                            duration_s=duration_s, at=at),
                   key=f"event-{uuid.uuid4().hex}")

    def claim_nonce(self, key_id: str, nonce: str, expires_at: int) -> bool:
        # Hall-wide: the hall's database answers for every kiosk of the hall. The key is the
        # code's own, so a claim repeated after a lost answer is not taken for a replay.
        found: NonceReply = self._call(
            USED_NONCES, body=_body(NonceBody, key_id=key_id, nonce=nonce,
                                    expires_at=expires_at),
            key=_derived_key("nonce", key_id, nonce))
        return found.new

    def report_fault(self, kind: str, state: Literal["open", "cleared"], detail: str,
                     idempotency_key: str) -> bool:
        """Tell the hall a device fault opened or cleared (its kinds: the hall's FaultKind);
        False if it was in that state already. `detail` is a technician's note, never a
        resident's data."""
        found: FaultReply = self._call(FAULTS, body=_body(FaultBody, kind=kind, state=state,
                                                          detail=detail),
                                       key=idempotency_key)
        return found.changed

    def take_lease(self, category: str, priority: bool, idempotency_key: str) -> Lease:
        """A block of numbers of today to issue from while the hall cannot be reached."""
        found: LeaseReply = self._call(LEASES, body=_body(LeaseBody, category=category,
                                                          priority=priority),
                                       key=idempotency_key)
        return _lease(found)

    def leases(self) -> list[Lease]:
        """This kiosk's blocks of today (those of a past day are void)."""
        found: list[LeaseReply] = self._call(MY_LEASES)
        return [_lease(x) for x in found]

    def deliver_offline_ticket(self, lease_id: int, seq: int, category: str,
                               issued_at: dt.datetime, priority_reason: str,
                               idempotency_key: str) -> IssuedTicket:
        """A ticket issued from a lease while the hall was unreachable, now queued there."""
        found: TicketReply = self._call(
            OFFLINE_TICKETS, body=_body(OfflineTicketBody, lease_id=lease_id, seq=seq,
                                        category=category, issued_at=issued_at,
                                        priority_reason=priority_reason),
            key=idempotency_key)
        return _ticket(found)

    def trusted_keys(self) -> dict[str, str]:
        """The hall's code-signing keys: the ones last fetched (kept on disk when a
        `keys_cache` is given, so a kiosk that starts offline still verifies receipts).
        Fetched now only if none are known and `fetch_keys_on_demand` (the kiosk turns that
        off: the maintenance screen asks on the GUI thread, which must never wait)."""
        if self._keys is None and self._fetch_keys_on_demand:
            return self.fetch_trusted_keys()
        return dict(self._keys or {})

    def fetch_trusted_keys(self) -> dict[str, str]:
        """Ask the hall for its keys now, remember them (and write the cache)."""
        keys: dict[str, str] = self._call(TRUSTED_KEYS)
        for kid, b64 in keys.items():
            try:
                raw = base64.b64decode(b64, validate=True)
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) != 32:
                raise BackendReplyError(self._what(
                    "GET", TRUSTED_KEYS.path,
                    f"key {kid!r} is not a base64 32-byte Ed25519 public key"))
        self._keys = dict(keys)
        self._write_keys_cache(keys)
        return dict(keys)

    def _load_keys_cache(self) -> dict[str, str] | None:
        if self._keys_cache is None or not self._keys_cache.is_file():
            return None
        try:
            data = json.loads(self._keys_cache.read_text("utf-8"))
        except (OSError, ValueError):
            log.warning("backend key cache %s unreadable; fetching the keys again",
                        self._keys_cache)
            return None
        if isinstance(data, dict) and all(isinstance(k, str) and isinstance(v, str)
                                          for k, v in data.items()):
            return data
        return None

    def _write_keys_cache(self, keys: dict[str, str]) -> None:
        if self._keys_cache is None or keys == self._load_keys_cache():
            return
        try:
            self._keys_cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._keys_cache.with_suffix(".tmp")
            tmp.write_text(json.dumps(keys, indent=1, sort_keys=True), "utf-8")
            tmp.replace(self._keys_cache)
        except OSError as exc:
            log.warning("backend key cache %s not written: %s", self._keys_cache, exc)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sessions = list(self._sessions)
            self._known.clear()
            self._appointment_of.clear()
        for session in sessions:
            session.close()


_PROBLEMS = {p.value: p for p in PayloadProblem}
# The hall's refusal of a card read from a kiosk it was not told has a reader.
ID_CARD_NOT_ALLOWED = "id_card_not_allowed"


def _lease(reply: LeaseReply) -> Lease:
    return Lease(lease_id=reply.lease_id, day=reply.day, category=reply.category,
                 priority=reply.priority, series=reply.series, first=reply.first,
                 last=reply.last, used=tuple(reply.used))
