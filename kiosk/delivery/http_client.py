"""The hall backend over HTTPS: the `Backend` interface as JSON requests.

One backend (`kiosk backend serve`, kiosk/backend/http_server.py) can serve every kiosk of a
hall. Everything here exists so that a network fault never turns into a hang, a crash later
on, or a silently lost action:

- every request has a (connect, read) timeout, and a reply body must arrive in full within
  their sum (requests has no timeout by default, and its read timeout is per socket read);
- only reads (GET) are retried here, once, by urllib3. State-changing calls are never
  retried in this module: the outbox (kiosk/delivery/deliverer.py) retries them with their
  idempotency key, sent as the `Idempotency-Key` header, so the backend applies each once;
- refused connections, timeouts, 5xx, redirects, non-JSON and wrongly shaped replies all
  become `BackendError` with a message naming the API route and what went wrong, never the
  resident ids in the URL and never the request or reply body;
- TLS certificates are always verified. The only knobs are a private CA bundle and a client
  certificate for mutual TLS; plain http:// is accepted for a backend on this machine only,
  with a warning at every start. Environment variables (REQUESTS_CA_BUNDLE, proxies,
  .netrc) are ignored, so nothing outside the config file changes whom the kiosk trusts.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
import logging
import re
import ssl
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar, overload
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from kiosk.backend.interface import (
    AlreadyCheckedIn,
    ApplicationReceipt,
    ApplicationStatus,
    ApplicationSummary,
    Appointment,
    BackendError,
    CheckIn,
    IdempotencyConflict,
    IssuedTicket,
    License,
    NotFound,
    QueueFigures,
    Resident,
    TicketRequest,
    TicketRequestCancelled,
)
from kiosk.common.clock import SHANGHAI
from kiosk.common.jsonable import jsonable
from kiosk.config.schema import is_loopback_host
from kiosk.delivery.faults import BackendNotReached, BackendTimeout, BackendUnreachable

log = logging.getLogger(__name__)

API_PREFIX = "/v1"
DEFAULT_CONNECT_TIMEOUT_S = 3.0
DEFAULT_READ_TIMEOUT_S = 10.0
# A reply is a ticket or a list of a resident's applications: kilobytes. A bigger one is not
# our API (or is an attack) and is refused before it fills the kiosk's memory.
MAX_REPLY_BYTES = 4 * 1024 * 1024

_T = TypeVar("_T")


class BackendCertificateError(BackendError):
    """The backend's TLS certificate was refused (unknown CA, wrong host name, expired)."""


class BackendReplyError(BackendError):
    """The backend answered, but not as the API says (not JSON, wrong shape, redirect)."""


# ---------------------------------------------------------------------- personal data

# Resident ids, appointment ids and references travel in URL paths; urllib3 writes paths
# into its debug and retry-warning log lines. Those lines get the ids masked.
_ID_IN_PATH = re.compile(r"(/(?:residents|applications|appointments))/[^/\s?#'\"]+")
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


# ------------------------------------------------------------------------ reply shapes


class _Ok(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    ok: Literal[True]


class _Cancelled(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    number: str | None


class _CallId(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    call_id: str


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(tp: type[_T]) -> TypeAdapter[_T]:
    # TypeAdapters are costly to build and safe to share between threads.
    found = _ADAPTERS.get(tp)
    if found is None:
        found = _ADAPTERS[tp] = TypeAdapter(tp)
    return found


def _settle(value: Any, where: str = "") -> Any:
    """Datetimes in Shanghai time, as the embedded backend gives them; a time without a
    zone is refused (it would be off by 8 hours on a kiosk whose clock runs in UTC)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{where or 'a time'}: expected a time with a UTC offset")
        return value.astimezone(SHANGHAI)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _settle(getattr(value, f.name), f"{where}.{f.name}".lstrip("."))
            for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, list):
        return [_settle(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return tuple(_settle(v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(value, dict):
        return {k: _settle(v, f"{where}.{k}".lstrip(".")) for k, v in value.items()}
    return value


def _segment(value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty identifier")
    return quote(value, safe="")


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
            "connection refused (is `kiosk backend serve` running on that host and port?)"
        )
    if any(isinstance(e, urllib3.exceptions.NameResolutionError) for e in causes):
        return BackendNotReached("host name not found (check backend.url and DNS)")
    if any(isinstance(e, urllib3.exceptions.NewConnectionError) for e in causes):
        errno = next((e for e in causes if isinstance(e, OSError) and e.strerror), None)
        detail = errno.strerror if errno is not None else "network unreachable"
        return BackendNotReached(f"cannot connect ({detail})")
    if any(isinstance(e, urllib3.exceptions.ConnectTimeoutError) for e in causes):
        return BackendTimeout(f"no connection within {connect_s:g} s (connect timeout)")
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


class HttpBackend:
    """`kiosk.backend.interface.Backend` over HTTPS (JSON), for a hall backend.

    Blocking, like the embedded backend: the services layer calls it on worker threads.
    Each thread gets its own `requests.Session` pair (one for reads with retries, one for
    writes without), because a Session is not documented as thread-safe and a hung call on
    the statistics thread must not hold up a ticket on the backend thread.
    """

    def __init__(
        self,
        url: str,
        *,
        ca_bundle: str | Path | None = None,
        client_cert: str | Path | None = None,
        client_key: str | Path | None = None,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
        keys_cache: Path | None = None,
        fetch_keys_on_demand: bool = True,
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
        if bool(client_cert) != bool(client_key):
            raise ValueError("client_cert and client_key go together")
        if connect_timeout_s <= 0 or read_timeout_s <= 0:
            raise ValueError("timeouts must be > 0 seconds (no timeout would hang forever)")
        self._base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self._origin = f"{parts.scheme}://{parts.netloc}"
        # Always verified: True (public CAs, certifi) or the private CA file; never False.
        self._verify: bool | str = str(ca_bundle) if ca_bundle else True
        self._cert = (str(client_cert), str(client_key)) if client_cert else None
        self._timeout = (float(connect_timeout_s), float(read_timeout_s))
        self._keys_cache = keys_cache
        self._fetch_keys_on_demand = fetch_keys_on_demand
        self._keys: dict[str, str] | None = self._load_keys_cache()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
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
                                "User-Agent": "kiosk-http/1"})
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
    ) -> _Reply:
        """One HTTP exchange. `route` is the path template named in messages (no ids)."""
        if self._closed:
            raise BackendError("the http backend client is closed")
        headers: dict[str, str] = {}
        data: bytes | None = None
        if key is not None:
            if not key or len(key) > 200 or not key.isascii() or not key.isprintable():
                raise ValueError("idempotency key must be 1..200 printable ASCII characters")
            headers["Idempotency-Key"] = key
        if body is not None:
            try:
                data = json.dumps(jsonable(body), ensure_ascii=False,
                                  allow_nan=False).encode("utf-8")
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
            raise BackendTimeout(self._what(
                method, route, f"no connection within {connect_s:g} s (connect timeout)")
            ) from None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError,
                OSError) as exc:
            error = _connection_problem(exc, connect_s, read_s)
            raise type(error)(self._what(method, route, str(error))) from None

    @staticmethod
    def _error_code(reply: _Reply) -> tuple[str, str]:
        """The API's error code and detail from a non-2xx reply, or ("", "")."""
        try:
            data = json.loads(reply.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return "", ""
        if not isinstance(data, dict):
            return "", ""
        code, detail = data.get("error"), data.get("detail", "")
        return (code if isinstance(code, str) else "",
                detail if isinstance(detail, str) else "")

    def _fail(self, method: str, route: str, reply: _Reply) -> BackendError | ValueError:
        """The exception for a reply that is not 2xx (404/409 handled by the callers)."""
        status = reply.status
        code, detail = self._error_code(reply)
        if 300 <= status < 400:
            return BackendReplyError(self._what(
                method, route, f"HTTP {status} redirect; redirects are not followed (set"
                " backend.url to the backend's own address)"))
        if status in (400, 422) and code == "invalid_request":
            # Our request is wrong: a retry cannot fix it (the outbox gives up on ValueError).
            return ValueError(f"backend refused the request: {detail or 'invalid request'}")
        if status == 409 and code == "idempotency_conflict":
            return IdempotencyConflict(detail or "idempotency key used for another request")
        if status >= 500:
            what = {500: "internal error", 502: "bad gateway", 503: "unavailable (busy or its"
                    " database failed)", 504: "gateway timeout"}.get(status, "server error")
            return BackendError(self._what(method, route, f"HTTP {status} ({what})"))
        if status == 404:
            return BackendReplyError(self._what(
                method, route, "HTTP 404 without the API's not_found answer (is backend.url"
                " the kiosk API, with the right path?)"))
        if status in (401, 403):
            return BackendError(self._what(
                method, route, f"HTTP {status}: the backend refused this kiosk (client"
                " certificate?)"))
        return BackendError(self._what(method, route, f"HTTP {status}"
                                       + (f" ({code})" if code else "")))

    def _parse(self, method: str, route: str, reply: _Reply, tp: type[_T]) -> _T:
        """A 2xx reply validated against `tp`; anything else is a BackendReplyError."""
        try:
            value = _adapter(tp).validate_json(reply.body, strict=True)
            # _settle only moves datetimes into Shanghai time: the value keeps its type.
            settled: _T = _settle(value)
            return settled
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
        except ValueError as exc:  # _settle: a time without a zone
            raise BackendReplyError(self._what(
                method, route, f"reply does not have the expected shape ({exc})")) from None

    @overload
    def _call(
        self,
        method: str,
        route: str,
        path: str,
        tp: type[_T],
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        key: str | None = None,
        none_if_not_found: Literal[False] = False,
    ) -> _T: ...

    @overload
    def _call(
        self,
        method: str,
        route: str,
        path: str,
        tp: type[_T],
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        key: str | None = None,
        none_if_not_found: Literal[True],
    ) -> _T | None: ...

    def _call(
        self,
        method: str,
        route: str,
        path: str,
        tp: type[_T],
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        key: str | None = None,
        none_if_not_found: bool = False,
    ) -> _T | None:
        reply = self._request(method, route, path, params=params, body=body, key=key)
        if 200 <= reply.status < 300:
            return self._parse(method, route, reply, tp)
        code, detail = self._error_code(reply)
        if reply.status == 404 and code == "not_found":
            if none_if_not_found:
                return None
            raise NotFound(detail or "not found")
        if reply.status == 409 and code == "already_checked_in":
            raise AlreadyCheckedIn(detail or "the appointment was already checked in")
        if reply.status == 409 and code == "ticket_request_cancelled":
            raise TicketRequestCancelled(detail or "the ticket request was cancelled")
        raise self._fail(method, route, reply)

    # -------------------------------------------------------------- the interface

    def identify(self, resident_id: str) -> Resident | None:
        return self._call("GET", "/residents/{id}", f"/residents/{_segment(resident_id)}",
                          Resident, none_if_not_found=True)

    def licenses(self, resident_id: str) -> list[License]:
        return self._call("GET", "/residents/{id}/licenses",
                          f"/residents/{_segment(resident_id)}/licenses", list[License])

    def appointments_on(self, resident_id: str, day: dt.date) -> list[Appointment]:
        return self._call("GET", "/residents/{id}/appointments",
                          f"/residents/{_segment(resident_id)}/appointments",
                          list[Appointment], params={"day": day.isoformat()})

    def queue_figures(self) -> dict[str, QueueFigures]:
        return self._call("GET", "/queue", "/queue", dict[str, QueueFigures])

    def issue_ticket(self, request: TicketRequest, idempotency_key: str) -> IssuedTicket:
        return self._call("POST", "/tickets", "/tickets", IssuedTicket, body=request,
                          key=idempotency_key)

    def cancel_ticket_request(self, idempotency_key: str, reason: str = "timeout") -> str | None:
        return self._call("POST", "/ticket-cancellations", "/ticket-cancellations",
                          _Cancelled, body={"reason": reason}, key=idempotency_key).number

    def check_in(self, appointment_id: str, kiosk_id: str, idempotency_key: str) -> CheckIn:
        return self._call("POST", "/appointments/{id}/check-in",
                          f"/appointments/{_segment(appointment_id)}/check-in", CheckIn,
                          body={"kiosk_id": kiosk_id}, key=idempotency_key)

    def submit_application(
        self,
        resident_id: str,
        submission: dict[str, Any],
        processing_days: int,
        idempotency_key: str,
    ) -> ApplicationReceipt:
        body = {"resident_id": resident_id, "submission": submission,
                "processing_days": processing_days}
        return self._call("POST", "/applications", "/applications", ApplicationReceipt,
                          body=body, key=idempotency_key)

    def applications_of(self, resident_id: str) -> list[ApplicationSummary]:
        return self._call("GET", "/residents/{id}/applications",
                          f"/residents/{_segment(resident_id)}/applications",
                          list[ApplicationSummary])

    def application(self, reference: str) -> ApplicationSummary | None:
        return self._call("GET", "/applications/{id}", f"/applications/{_segment(reference)}",
                          ApplicationSummary, none_if_not_found=True)

    def advance_application(
        self, reference: str, status: ApplicationStatus | str, note: str = ""
    ) -> ApplicationSummary:
        target = ApplicationStatus(status)  # ValueError here, as the embedded backend
        return self._call("POST", "/applications/{id}/status",
                          f"/applications/{_segment(reference)}/status", ApplicationSummary,
                          body={"status": target.value, "note": note})

    def rate(
        self,
        level: int,
        reasons: tuple[str, ...],
        target_kind: str,
        target_id: str | None,
        kiosk_id: str,
        idempotency_key: str,
    ) -> None:
        body = {"level": level, "reasons": list(reasons), "target_kind": target_kind,
                "target_id": target_id, "kiosk_id": kiosk_id}
        self._call("POST", "/ratings", "/ratings", _Ok, body=body, key=idempotency_key)

    def call_help(self, kiosk_id: str, screen: str, idempotency_key: str) -> str:
        reply: _CallId = self._call("POST", "/help-calls", "/help-calls", _CallId,
                                    body={"kiosk_id": kiosk_id, "screen": screen},
                                    key=idempotency_key)
        return reply.call_id

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
        body = {"kind": kind, "flow": flow, "step": step, "duration_s": duration_s,
                "kiosk_id": kiosk_id, "at": at}
        self._call("POST", "/events", "/events", _Ok, body=body)

    def claim_nonce(self, key_id: str, nonce: str, expires_at: int) -> bool:
        # Hall-wide: the hall server's database answers for every kiosk of the hall.
        reply = self._call("POST", "/used-nonces", "/used-nonces", dict[str, bool],
                           body={"key_id": key_id, "nonce": nonce, "expires_at": expires_at})
        return reply.get("fresh") is True

    def trusted_keys(self) -> dict[str, str]:
        """The backend's code-signing keys: the ones last fetched (kept on disk when a
        `keys_cache` is given, so a kiosk that starts offline still verifies receipts).
        Fetched now only if none are known and `fetch_keys_on_demand` (the kiosk turns that
        off: the maintenance screen asks on the GUI thread, which must never wait)."""
        if self._keys is None and self._fetch_keys_on_demand:
            return self.fetch_trusted_keys()
        return dict(self._keys or {})

    def fetch_trusted_keys(self) -> dict[str, str]:
        """Ask the backend for its keys now, remember them (and write the cache)."""
        keys: dict[str, str] = self._call("GET", "/trusted-keys", "/trusted-keys",
                                          dict[str, str])
        for kid, b64 in keys.items():
            try:
                raw = base64.b64decode(b64, validate=True)
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) != 32:
                raise BackendReplyError(self._what(
                    "GET", "/trusted-keys",
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
        for session in sessions:
            session.close()
