"""A stand-in hall server for the client's unit tests: the standard library's HTTP server
answering each (method, path) with a reply the test set, in the hall's wire format, and
recording every request it saw. Network faults, TLS and the wire format are tested against
it without PostgreSQL; the real hall is tests/integration/test_http_backend.py's."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kiosk.delivery.http_client import HttpBackend

TOKEN = "dev_" + "k" * 43  # what a kiosk of these tests presents


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # without the query
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: Any


def hall_error(status: int, code: str, en: str = "", **extra: Any) -> tuple[int, Any]:
    """An error as the hall sends it (kiosk/hall/app.py: one shape, at the top level)."""
    return status, {"error": code, "message": {"zh": "错误", "en": en or code}, **extra}


def tls_context(cert: Path, key: Path, client_ca: Path | None = None) -> ssl.SSLContext:
    """Server TLS: TLS 1.2+; with `client_ca`, every client must show a certificate it
    signed (mutual TLS)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(client_ca))
    return context


class FakeHall:
    """Replies by (method, path); anything else gets FastAPI's own 404 (no API error)."""

    def __init__(self, replies: dict[tuple[str, str], tuple[int, Any]] | None = None, *,
                 port: int = 0, tls: ssl.SSLContext | None = None,
                 content_type: str = "application/json",
                 headers: dict[str, str] | None = None,
                 default: tuple[int, Any] | None = None) -> None:
        self.replies = dict(replies or {})
        self.default = default
        self.requests: list[Seen] = []
        hall = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                hall.requests.append(Seen(
                    self.command, url.path, {k: v[-1] for k, v in parse_qs(url.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    json.loads(raw) if raw else None))
                status, body = hall.replies.get((self.command, url.path)) or hall.default or (
                    404, {"detail": "Not Found"})
                data = body if isinstance(body, bytes) else (
                    body.encode() if isinstance(body, str) else json.dumps(body).encode())
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def finish_request(self, request: Any, client_address: Any) -> None:
                # The handshake in the connection's own thread, as a real server does it.
                if tls is not None:
                    try:
                        request = tls.wrap_socket(request, server_side=True)
                    except (ssl.SSLError, OSError):
                        request.close()
                        return
                hall._connections.add(request)
                try:
                    super().finish_request(request, client_address)
                finally:
                    hall._connections.discard(request)
                    if tls is not None:
                        self.shutdown_request(request)

        self._connections: set[socket.socket] = set()
        self.server = Server(("127.0.0.1", port), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def seen(self, method: str, path: str) -> list[Seen]:
        return [r for r in self.requests if (r.method, r.path) == (method, path)]

    def close(self) -> None:
        """Stop, and cut the open connections as a crashed server would."""
        self.server.shutdown()
        self.server.server_close()
        for conn in list(self._connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=5)


@contextlib.contextmanager
def client_of(hall: FakeHall) -> Iterator[HttpBackend]:
    """The kiosk's client of `hall`, with the short timeouts these tests expect."""
    client = HttpBackend(hall.url, token=TOKEN, connect_timeout_s=0.5, read_timeout_s=2.0)
    try:
        yield client
    finally:
        client.close()
