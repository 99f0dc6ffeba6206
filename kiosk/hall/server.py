"""Serving the hall: uvicorn with the limits that keep every kiosk served while some clients
misbehave (`kiosk hall serve`).

What a slow or idle client costs, and what bounds it:

- One socket, not a thread. uvicorn runs on asyncio: a connection that sends nothing, or
  sends its request a byte at a time, is a file descriptor and a small protocol object
  waiting for data. Requests that are complete run in the event loop (or, for the sync
  routes, in a thread for the length of one transaction); a half-sent one takes neither.
- File descriptors. Linux gives a process 1024 by default, which a few hundred kiosks,
  counters, boards and residents' phones following their tickets would use up, after which
  the server cannot accept anyone. `raise_open_file_limit` lifts the soft limit to the hard
  one (kiosk-hall.service sets LimitNOFILE=65536).
- `limit_concurrency` (CONCURRENCY_LIMIT, 4096): once the open connections, or the requests
  being handled, reach it, uvicorn answers every new request 503 (the kiosk retries with
  its own back-off) instead of running out of descriptors or memory. It counts every open
  connection, idle ones and long-lived event streams included, so it is set far above what
  a hall uses legitimately (its kiosks, counters and boards number in the tens, residents
  following a ticket in the hundreds) and still well under the descriptor limit, which
  also has to hold the database pool and the event listener; with a lower hard limit it
  is lowered to fit (`concurrency_limit`).
- `timeout_keep_alive` 5 s: a connection idle between two requests is closed after 5 s.
- A deadline for receiving each request (REQUEST_TIMEOUT_S, `--request-timeout`). uvicorn
  has none: its keep-alive timer runs only between requests and is cancelled by the first
  byte of the next one, and it sets no timer at all for a new connection, so a client that
  connects and sends nothing, or trickles a request line, would hold its connection for as
  long as it likes (uvicorn 0.55 has no option for it; its issue #157 still lists a
  request-start timeout as to do).
  RequestDeadlineProtocol closes a connection whose request is not complete (line, headers
  and body) REQUEST_TIMEOUT_S after it connected, or after the first byte of a later request
  on a kept-alive connection. Without it the limits above would still hold (a test holds
  1,000 trickling connections while eight kiosks take 80 numbers), but an attacker's
  connections would stay until the server restarts; with it they must be renewed
  constantly.

What this process cannot do alone, and a reverse proxy in front adds (nginx, which also
terminates TLS for the residents' phones; docs/HALL.md documents it): a limit
per client address (`limit_conn`), so one machine cannot take all CONCURRENCY_LIMIT
connections; `client_header_timeout` and `client_body_timeout`, timeouts per read rather
than per request; and buffering of slow uploads and downloads. Behind it, start the server
with `--forwarded-allow-ips` set to the proxy's address, so that the client address the
server sees is the client's and not the proxy's; without the option X-Forwarded-For is
ignored, since any client could send one.

With `--workers N` > 1 uvicorn starts N processes that each import the app by name:
`app_from_environment` builds it from KIOSK_HALL_SETTINGS (the settings file) and
KIOSK_HALL_DSN, which `run` sets for them.
"""

from __future__ import annotations

import asyncio
import logging
import logging.config
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kiosk.hall.settings import (
    DSN_VARIABLE,
    MULTIPROC_VARIABLE,
    STARTED_VARIABLE,
    HallSettings,
    default_settings_file,
    load_settings,
)

log = logging.getLogger(__name__)

SETTINGS_VARIABLE = "KIOSK_HALL_SETTINGS"
"""The settings file's path, for worker processes that build the app themselves."""

DEFAULT_PORT = 8400
KEEP_ALIVE_S = 5
REQUEST_TIMEOUT_S = 15.0
"""A kiosk on the hall's network sends a request in milliseconds, a phone on a weak mobile
link its few hundred bytes in a second or two: 15 s is ample for both."""
CONCURRENCY_LIMIT = 4096
BACKLOG = 2048
GRACEFUL_SHUTDOWN_S = 10
RESERVED_FDS = 128
"""Descriptors kept out of the connection limit: the database pool, the event listener,
the listening socket, standard streams and the imported libraries' files."""

# The deadline reaches the protocol through the environment because uvicorn builds the
# protocol itself, from a class named by import string, in each worker process.
_TIMEOUT_VARIABLE = "KIOSK_HALL_REQUEST_TIMEOUT"


def raise_open_file_limit() -> int:
    """Lift the soft limit on open files to the hard limit; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # An unlimited hard limit cannot be the soft one: the kernel's nr_open caps it.
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft == resource.RLIM_INFINITY:
        return target
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, target,
                        exc)
            return soft
        return target
    return soft


def concurrency_limit(open_files: int) -> int:
    """CONCURRENCY_LIMIT, or less when the process may not open that many files."""
    fitting = max(open_files - RESERVED_FDS, 64)
    if fitting < CONCURRENCY_LIMIT:
        log.warning("only %d open files allowed (ulimit -n): the server takes %d connections "
                    "instead of %d; raise LimitNOFILE", open_files, fitting, CONCURRENCY_LIMIT)
    return min(CONCURRENCY_LIMIT, fitting)


def _request_timeout() -> float:
    try:
        value = float(os.environ.get(_TIMEOUT_VARIABLE, REQUEST_TIMEOUT_S))
    except ValueError:
        return REQUEST_TIMEOUT_S
    return value if value > 0 else REQUEST_TIMEOUT_S


class RequestDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol (httptools) with a deadline for receiving each request:
    from the connection (or, on a kept-alive one, the first byte of the next request) to
    the end of the request's body. A connection that misses it is closed without an answer,
    as nginx does on its client_header_timeout. A response being streamed (an event
    stream) is not affected: its request was complete long before."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._timeout_s = _request_timeout()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self._timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            # Debug only: an attacker's connections would otherwise flood the journal.
            log.debug("closing %s: no complete request within %.0f s", self.client,
                      self._timeout_s)
            self.transport.close()


def app_from_environment() -> FastAPI:
    """The app for a worker process (uvicorn's factory mode, `--workers` > 1)."""
    from kiosk.hall.app import create_app

    path = os.environ.get(SETTINGS_VARIABLE)
    return create_app(load_settings(Path(path) if path else None))


def _log_config(verbose: bool) -> dict[str, Any]:
    # One format for uvicorn's and the hall's messages, applied by uvicorn in every worker
    # process too (they start afresh and inherit no logging set-up).
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                                "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": "DEBUG" if verbose else "INFO"},
        # Their own handlers would print each message twice.
        "loggers": {name: {"handlers": [], "propagate": True}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def run(settings: HallSettings, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
        workers: int = 1, *, settings_path: Path | None = None,
        forwarded_allow_ips: str | None = None, request_timeout_s: float = REQUEST_TIMEOUT_S,
        verbose: bool = False) -> None:
    """Serve until SIGINT or SIGTERM. With `workers` > 1 the processes load the settings
    from `settings_path` (the default file when None) and `settings.dsn` themselves."""
    if request_timeout_s <= 0:
        raise ValueError("the request timeout is a number of seconds above 0")
    logging.config.dictConfig(_log_config(verbose))
    open_files = raise_open_file_limit()
    limit = concurrency_limit(open_files)
    os.environ[_TIMEOUT_VARIABLE] = repr(request_timeout_s)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "http": f"{__name__}:RequestDeadlineProtocol",
        # The hall streams events over plain HTTP (server-sent events): no upgrade to accept.
        "ws": "none",
        "lifespan": "on",
        "timeout_keep_alive": KEEP_ALIVE_S,
        "limit_concurrency": limit,
        "backlog": BACKLOG,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S,
        "proxy_headers": bool(forwarded_allow_ips),
        "forwarded_allow_ips": forwarded_allow_ips or None,
        # A phone's page address holds its ticket's id, which is the capability to see it:
        # an access log would keep every one.
        "access_log": False,
        "server_header": False,
        "log_config": _log_config(verbose),
        "log_level": "debug" if verbose else "info",
    }
    log.info("%d open files, %d connections at most (then 503), %g s to send a request, "
             "%d s keep-alive", open_files, limit, request_timeout_s, KEEP_ALIVE_S)
    os.environ[STARTED_VARIABLE] = repr(time.time())
    if workers > 1:
        os.environ[SETTINGS_VARIABLE] = str(settings_path or default_settings_file())
        os.environ[DSN_VARIABLE] = settings.dsn
        # The workers' metrics meet in files (kiosk.hall.metrics): a folder of this run's
        # own, made before uvicorn starts them (prometheus_client reads the variable at its
        # import), and removed after, so no count of an earlier run is ever added in.
        metrics_dir = (tempfile.mkdtemp(prefix="kiosk-hall-metrics-")
                       if settings.metrics_token else None)
        if metrics_dir is not None:
            os.environ[MULTIPROC_VARIABLE] = metrics_dir
        try:
            uvicorn.run(f"{__name__}:app_from_environment", factory=True, workers=workers,
                        **options)
        finally:
            if metrics_dir is not None:
                shutil.rmtree(metrics_dir, ignore_errors=True)
        return
    # One process: its metrics are its own, wherever an inherited variable points (popped
    # before create_app imports prometheus_client).
    os.environ.pop(MULTIPROC_VARIABLE, None)
    from kiosk.hall.app import create_app

    uvicorn.run(create_app(settings), **options)
