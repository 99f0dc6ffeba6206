"""The kiosk's hall backend before the hall server (issue 12): an `EmbeddedBackend` served
over the old JSON API by the standard library. Kept as the anchor of the hall benchmark, and
no longer production code: kiosks speak the hall server's API (`kiosk hall serve`,
kiosk/hall/), which this server does not.

    .venv/bin/python benchmarks/legacy_stdlib_server.py --config F [--host H] [--port P]
        [--cert C --key K [--client-ca CA]]

Standard library only (`ThreadingHTTPServer`, `ssl`): one thread per connection, keep-alive
(HTTP/1.1).

Errors have one JSON shape, `{"error": code, "detail": text}`:

| status | error | meaning |
|---|---|---|
| 404 | not_found | no such resident/application/appointment (or no such route: "no_route") |
| 409 | already_checked_in / idempotency_conflict | as the exceptions of the same names |
| 409 | ticket_request_cancelled | TicketRequestCancelled: that ticket request was cancelled |
| 422 | invalid_request | the request is wrong; retrying cannot help |
| 400 | invalid_request | the body is not JSON, or too large (413) |
| 503 | backend_error | the database failed; retrying later may help |
| 500 | internal | a bug; the traceback is in the server's log, never in the reply |

The access log names the route template and status, never the ids in the path.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import re
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kiosk.backend.interface import (
    AlreadyCheckedIn,
    Backend,
    BackendError,
    IdempotencyConflict,
    NotFound,
    TicketRequest,
    TicketRequestCancelled,
)
from kiosk.common.jsonable import jsonable

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # an application with its answers is a few kilobytes
IDLE_TIMEOUT_S = 60.0  # a kiosk's idle keep-alive connection is closed after this long


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Ticket(_Body):
    category: str
    priority: bool
    priority_reason: str
    resident_id: str | None
    kiosk_id: str
    appointment_id: str | None = None


class _CancelTicket(_Body):
    reason: str = "timeout"


class _CheckIn(_Body):
    kiosk_id: str


class _Submit(_Body):
    resident_id: str
    submission: dict[str, Any]
    processing_days: int


class _Advance(_Body):
    status: str
    note: str = ""


class _Rate(_Body):
    level: int
    reasons: list[str]
    target_kind: str
    target_id: str | None
    kiosk_id: str


class _Help(_Body):
    kiosk_id: str
    screen: str


class _ClaimNonce(_Body):
    key_id: str
    nonce: str
    expires_at: int


class _Event(_Body):
    kind: str
    flow: str
    step: str = ""
    duration_s: float | None = None
    kiosk_id: str
    at: dt.datetime | None = Field(None, strict=False)  # ISO 8601 text on the wire


class _Reply(Exception):
    """Ends a request with this status and JSON body (raised by routes and checks)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _error(status: int, code: str, detail: str = "") -> _Reply:
    return _Reply(status, {"error": code, "detail": detail})


OK = {"ok": True}


@dataclasses.dataclass(frozen=True)
class _Request:
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    key: str | None


Handler = Callable[[Backend, _Request], Any]


def _need_key(req: _Request) -> str:
    if not req.key:
        raise _error(422, "invalid_request", "Idempotency-Key header required")
    return req.key


def _model(model: type[_Body], body: Any) -> Any:
    return model.model_validate(body)


def _day(req: _Request) -> dt.date:
    try:
        return dt.date.fromisoformat(req.query.get("day", ""))
    except ValueError:
        raise _error(422, "invalid_request", "query ?day=YYYY-MM-DD required") from None


def _identify(b: Backend, r: _Request) -> Any:
    found = b.identify(r.params["id"])
    if found is None:
        raise _error(404, "not_found", "no such resident")
    return found


def _application(b: Backend, r: _Request) -> Any:
    found = b.application(r.params["id"])
    if found is None:
        raise _error(404, "not_found", "no such application")
    return found


def _check_in(b: Backend, r: _Request) -> Any:
    # The check-in and its priority ticket, as one operation: the reply is the CheckIn.
    body = _model(_CheckIn, r.body)
    return b.check_in(r.params["id"], body.kiosk_id, _need_key(r))


def _submit(b: Backend, r: _Request) -> Any:
    body = _model(_Submit, r.body)
    return b.submit_application(body.resident_id, body.submission, body.processing_days,
                                _need_key(r))


def _advance(b: Backend, r: _Request) -> Any:
    body = _model(_Advance, r.body)
    return b.advance_application(r.params["id"], body.status, body.note)


def _rate(b: Backend, r: _Request) -> Any:
    body = _model(_Rate, r.body)
    b.rate(body.level, tuple(body.reasons), body.target_kind, body.target_id, body.kiosk_id,
           _need_key(r))
    return OK


def _help(b: Backend, r: _Request) -> Any:
    body = _model(_Help, r.body)
    return {"call_id": b.call_help(body.kiosk_id, body.screen, _need_key(r))}


def _event(b: Backend, r: _Request) -> Any:
    body = _model(_Event, r.body)
    b.record_event(body.kind, flow=body.flow, step=body.step, duration_s=body.duration_s,
                   kiosk_id=body.kiosk_id, at=body.at)
    return OK


def _ticket(b: Backend, r: _Request) -> Any:
    body = _model(_Ticket, r.body)
    return b.issue_ticket(TicketRequest(**body.model_dump()), _need_key(r))


def _cancel_ticket(b: Backend, r: _Request) -> Any:
    # The Idempotency-Key header is the key of the ticket request being cancelled.
    body = _model(_CancelTicket, r.body)
    return {"number": b.cancel_ticket_request(_need_key(r), body.reason)}


def _claim_nonce(b: Backend, r: _Request) -> Any:
    # No idempotency key: a repeat is refused as a used code, which is what it is.
    body = _model(_ClaimNonce, r.body)
    return {"fresh": b.claim_nonce(body.key_id, body.nonce, body.expires_at)}


# (method, template, handler). Templates name ids as {id}: the access log prints templates.
ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/v1/health", lambda b, r: OK),
    ("GET", "/v1/trusted-keys", lambda b, r: b.trusted_keys()),
    ("GET", "/v1/queue", lambda b, r: b.queue_figures()),
    ("GET", "/v1/residents/{id}", _identify),
    ("GET", "/v1/residents/{id}/licenses", lambda b, r: b.licenses(r.params["id"])),
    ("GET", "/v1/residents/{id}/appointments",
     lambda b, r: b.appointments_on(r.params["id"], _day(r))),
    ("GET", "/v1/residents/{id}/applications", lambda b, r: b.applications_of(r.params["id"])),
    ("GET", "/v1/applications/{id}", _application),
    ("POST", "/v1/applications/{id}/status", _advance),
    ("POST", "/v1/applications", _submit),
    ("POST", "/v1/tickets", _ticket),
    ("POST", "/v1/ticket-cancellations", _cancel_ticket),
    ("POST", "/v1/appointments/{id}/check-in", _check_in),
    ("POST", "/v1/ratings", _rate),
    ("POST", "/v1/help-calls", _help),
    ("POST", "/v1/events", _event),
    ("POST", "/v1/used-nonces", _claim_nonce),
)

_COMPILED = [
    (method, template, re.compile("^" + re.escape(template).replace(r"\{id\}", "(?P<id>[^/]+)")
                                  + "$"), handler)
    for method, template, handler in ROUTES
]


def _route(method: str, path: str) -> tuple[str, Handler, dict[str, str]]:
    known_path = False
    for m, template, pattern, handler in _COMPILED:
        match = pattern.match(path)
        if match is None:
            continue
        known_path = True
        if m == method:
            return template, handler, {k: unquote(v) for k, v in match.groupdict().items()}
    if known_path:
        raise _error(405, "method_not_allowed", f"{method} is not allowed here")
    raise _error(404, "no_route", "no such API route")


class _HandlerBase(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a kiosk reuses its connection
    server_version = "kiosk-backend/1"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for
    # the kiosk's delayed ACK on every call (docs/PERFORMANCE.md, "Measured choices").
    disable_nagle_algorithm = True
    server: BackendHTTPServer

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _read_body(self) -> Any:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise _error(411, "invalid_request", "send Content-Length, not chunked")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _error(400, "invalid_request", "bad Content-Length") from None
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True  # the unread body would be taken for a request
            raise _error(413, "invalid_request", f"body larger than {MAX_BODY_BYTES} bytes")
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _error(400, "invalid_request", "body is not UTF-8 JSON") from None

    def _handle(self, method: str) -> None:
        started = time.monotonic()
        template = "?"
        try:
            url = urlsplit(self.path)
            body = self._read_body()
            template, handler, params = _route(method, url.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            request = _Request(params, query, body, self.headers.get("Idempotency-Key"))
            result = handler(self.server.backend, request)
            status, payload = 200, jsonable(result)
        except _Reply as reply:
            status, payload = reply.status, reply.body
        except NotFound as exc:
            status, payload = 404, {"error": "not_found", "detail": str(exc)}
        except AlreadyCheckedIn as exc:
            status, payload = 409, {"error": "already_checked_in", "detail": str(exc)}
        except IdempotencyConflict as exc:
            status, payload = 409, {"error": "idempotency_conflict", "detail": str(exc)}
        except TicketRequestCancelled as exc:
            status, payload = 409, {"error": "ticket_request_cancelled", "detail": str(exc)}
        except BackendError as exc:
            log.error("backend %s %s failed: %s", method, template, exc)
            status, payload = 503, {"error": "backend_error", "detail": "backend unavailable"}
        except ValidationError as exc:
            errors = exc.errors(include_input=False, include_url=False)
            detail = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                               for e in errors[:5])
            status, payload = 422, {"error": "invalid_request", "detail": detail}
        except (ValueError, TypeError, KeyError) as exc:
            status, payload = 422, {"error": "invalid_request", "detail": str(exc)}
        except Exception:
            log.exception("backend %s %s: unexpected error", method, template)
            status, payload = 500, {"error": "internal", "detail": "internal error"}
        self._send(status, payload)
        log.info("%s %s %s -> %d in %.0f ms", self.client_address[0], method, template,
                 status, (time.monotonic() - started) * 1000)

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")  # replies carry personal data
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Silenced: the default line holds the request path, whose ids are personal data;
        `_handle` logs the route template instead."""

    def log_error(self, format: str, *args: Any) -> None:
        log.info("http: " + format, *args)


class BackendHTTPServer(ThreadingHTTPServer):
    """Serves `backend` over the JSON API; TLS when given an `ssl.SSLContext`.

    The TLS handshake runs in the connection's own thread (not in the accept loop), so a
    slow or hostile client cannot hold up the others.
    """

    daemon_threads = True
    allow_reuse_address = True  # a restart binds the same port at once

    def __init__(
        self,
        address: tuple[str, int],
        backend: Backend,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.backend = backend
        self.tls = tls
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__(address, _HandlerBase)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        host = self.server_address[0]
        # Only AF_UNIX servers hold bytes here; this one always listens on IPv4 or IPv6.
        assert isinstance(host, str)
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(IDLE_TIMEOUT_S)
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                log.info("TLS handshake with %s failed: %s", client_address[0], exc)
                request.close()
                return
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)
            if self.tls is not None:
                # wrap_socket detached the plain socket that socketserver will shut down
                # after this returns, so the TLS socket that now owns the file descriptor
                # is closed here or not at all.
                self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.info("connection from %s ended with an error", client_address[0], exc_info=True)

    def start(self) -> BackendHTTPServer:
        """Serve on a daemon thread (tests, and an embedding process)."""
        # A short poll interval: stop() returns within 50 ms instead of 500.
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,),
                                        name="backend-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and cut every open connection, as a crashed backend would."""
        self.shutdown()
        self.server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by its peer
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)


def tls_context(cert: Path, key: Path, client_ca: Path | None = None) -> ssl.SSLContext:
    """Server TLS: TLS 1.2+, the given certificate; with `client_ca`, mutual TLS (every
    client must present a certificate signed by that CA)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(client_ca))
    return context


def serve(
    backend: Backend,
    host: str,
    port: int,
    *,
    tls: ssl.SSLContext | None = None,
) -> BackendHTTPServer:
    """A started server (on its own thread); `stop()` ends it."""
    return BackendHTTPServer((host, port), backend, tls=tls).start()


def run_until_stopped(server: BackendHTTPServer) -> None:
    """Serve in this thread until SIGTERM or Ctrl-C (systemd stops services with SIGTERM)."""
    import signal

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("backend server stopping")
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    """Serve the embedded database a kiosk config names (as `kiosk backend serve` did)."""
    parser = argparse.ArgumentParser(
        description="the pre-hall stdlib backend server (benchmark anchor, not for kiosks)")
    parser.add_argument("--config", required=True,
                        help='kiosk config file with [backend] kind = "embedded" (its database)')
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8443, help="TCP port (0: any free one)")
    parser.add_argument("--cert", help="PEM server certificate; without it plain http")
    parser.add_argument("--key", help="PEM private key of --cert")
    parser.add_argument("--client-ca", help="mutual TLS: only clients this CA signed")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    from kiosk.config.loader import ConfigFileError, load_config, resolve
    from kiosk.delivery.http_factory import make_embedded
    from kiosk.domain.catalog import load_catalog

    if bool(args.cert) != bool(args.key) or (args.client_ca and not args.cert):
        parser.error("--cert and --key go together; --client-ca needs them")
    path = Path(args.config)
    try:
        config = load_config(path)
    except ConfigFileError as exc:
        print(exc.message(), file=sys.stderr)
        return 2
    if config.backend.kind != "embedded":
        print(f'{path}: backend.kind must be "embedded" (the database served)', file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config_dir = path.resolve().parent
    tls = (tls_context(Path(args.cert), Path(args.key),
                       Path(args.client_ca) if args.client_ca else None)
           if args.cert else None)
    catalog = load_catalog(resolve(config_dir, config.paths.catalog))
    backend = make_embedded(config.backend, resolve(config_dir, config.paths.data_dir), catalog)
    try:
        server = BackendHTTPServer((args.host, args.port), backend, tls=tls)
        print(f"legacy server: {server.url}; database {backend.db_path}; Ctrl-C stops",
              flush=True)
        run_until_stopped(server)
    finally:
        backend.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
