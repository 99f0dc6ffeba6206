"""The hall server's Prometheus metrics: GET /metrics on the hall's own port, behind a bearer
token (`metrics_token_file` in hall-server.toml, or KIOSK_HALL_METRICS_TOKEN); without one
configured there is no /metrics at all (404) and no request is timed.

What it serves (the names are a contract with packaging/prometheus/ and packaging/grafana/):
- hall_http_requests_total{route, method, status} and
  hall_http_request_duration_seconds{route, method}: every request, labelled by the route's
  path template (`/v1/tickets/{ticket_id}`), never the path itself: ticket ids and phone
  links would each make a series, and a phone link is the capability to see a ticket. A
  path no route matches is `unmatched` (so is a request answered before routing: a body
  declared too large), a method outside HTTP's usual ones `other`, so no client can mint
  series. The duration runs to the response's first byte: an event stream stays open for
  hours, and its hours are not the server's latency.
- hall_queue_waiting{center, category}: tickets waiting today, read from the database at
  the scrape (every category of the rules, 0 included).
- hall_db_pool_size, hall_db_pool_available, hall_db_pool_requests_waiting, labelled `pool`
  (psycopg's pool names: `hall` for transactions, `hall-read` for single reads).
- hall_info{version} = 1 and hall_start_time_seconds.

With `kiosk hall serve --workers N` each request is counted in the process that served it,
and a scrape reaches one of them. prometheus_client's multiprocess mode adds them up: every
process writes its values to files in PROMETHEUS_MULTIPROC_DIR, a private folder server.py
makes (and removes) for each run, and the process answering a scrape reads them all. The
pools' gauges are per process too, summed over the processes alive (`livesum`); each process
writes its pools' figures every POOL_SAMPLE_S, and before a scrape it answers. The queue,
the version and the start time are the same whichever process reads them, so they are read
at the scrape, not from the files.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import hmac
import logging
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from psycopg import Error as DatabaseError
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import kiosk
from kiosk.hall.api.deps import HallError
from kiosk.hall.db import Conn
from kiosk.hall.settings import MULTIPROC_VARIABLE, STARTED_VARIABLE, HallSettings
from kiosk.hall.store import calls

log = logging.getLogger(__name__)

# No `_created` series beside each counter: nothing in the rules or the dashboard reads them,
# and in multiprocess mode they would be one more file per process. Process-wide; the hall's
# process has no other metrics.
disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated upstream

POOL_SAMPLE_S = 5.0
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: a kiosk's call takes milliseconds; a request past 10 s has timed out at the kiosk.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_NO_TOKEN = ("unauthenticated", "缺少有效的监控凭证。",
             "No valid metrics token: send Authorization: Bearer <the token of the hall's"
             " metrics_token_file or KIOSK_HALL_METRICS_TOKEN>.")


def multiprocess_dir() -> str | None:
    """The folder of multiprocess mode, when this process runs in it. prometheus_client
    decides at its import, from PROMETHEUS_MULTIPROC_DIR; a variable set after that import
    changes nothing, and the metrics then stay this process's own."""
    path = os.environ.get(MULTIPROC_VARIABLE)
    if not path:
        return None
    if not getattr(values.ValueClass, "_multiprocess", False):
        log.warning("%s is set but prometheus_client was imported before it was: each "
                    "process reports only its own requests", MULTIPROC_VARIABLE)
        return None
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_processes(path: str) -> None:
    """Drop the pool gauges of worker processes that died without saying so (killed, then
    restarted by uvicorn): their files would keep adding connections nobody holds. Their
    counters stay: the requests they served were served."""
    for file in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        pid_text = Path(file).stem.rpartition("_")[2]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            # Another worker answering a scrape at the same moment may remove them first.
            with contextlib.suppress(FileNotFoundError):
                mark_process_dead(int(pid_text), path)  # type: ignore[no-untyped-call]


# The size of a file's header (its used length, then padding): prometheus_client's
# MmapedDict creates a file empty, then sizes it, then writes the header.
_HEADER_BYTES = 8


class _SettledFiles(MultiProcessCollector):
    """MultiProcessCollector without the files a process is creating at this moment.

    A process that starts (a worker, or a label's first value) creates its file empty and
    only then sizes it; the library's collector reads whatever the folder holds, and an empty
    file makes it raise struct.error: the whole scrape answered 500 (seen once in CI, the
    two-worker test, with the workers starting). A file shorter than its header holds no
    value yet, so leaving it out loses nothing, and a file once sized never shrinks."""

    def collect(self) -> Iterable[Metric]:
        files = []
        for file in glob.glob(os.path.join(self._path, "*.db")):
            try:
                if os.path.getsize(file) >= _HEADER_BYTES:
                    files.append(file)
            except FileNotFoundError:
                continue  # a dead process's live gauges, removed since the glob
        merged: Iterable[Metric] = self.merge(files, accumulate=True)  # type: ignore[no-untyped-call]
        return merged


class _ReadAtScrape(Collector):
    """Values every process reads alike: the version, the start, the queues."""

    def __init__(self, settings: HallSettings, app: FastAPI, started: float) -> None:
        self._settings = settings
        self._app = app
        self._started = started

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("hall_info", "This hall server's software version (always 1).",
                                 labels=["version"])
        info.add_metric([kiosk.__version__], 1.0)
        yield info
        start = GaugeMetricFamily("hall_start_time_seconds",
                                  "When the hall server started, in seconds since the epoch.")
        start.add_metric([], self._started)
        yield start
        waiting = self._waiting()
        if waiting is not None:
            yield waiting

    def _waiting(self) -> GaugeMetricFamily | None:
        settings = self._settings
        pool: ConnectionPool[Conn] | None = getattr(self._app.state, "read_pool", None)
        if pool is None:
            return None
        day = calls.today(settings.clock())
        family = GaugeMetricFamily("hall_queue_waiting", "Tickets waiting today, by center"
                                   " and category.", labels=["center", "category"])
        try:
            with pool.connection() as conn:
                for center in settings.rules.centers:
                    counts = calls.waiting_counts(conn, center, day)
                    for category in center.config.categories:
                        family.add_metric([center.id, category.id],
                                          float(counts.get(category.id, (0, 0))[0]))
        except (DatabaseError, PoolTimeout) as exc:
            # The rest of the scrape still says the server is up; the queue is left out.
            log.warning("queue figures not read for /metrics: %s", type(exc).__name__)
            return None
        return family


class HallMetrics:
    """The hall's metrics of one process, and the registry a scrape reads."""

    def __init__(self, settings: HallSettings, app: FastAPI) -> None:
        self.multiprocess_dir = multiprocess_dir()
        # In multiprocess mode the values go to files, which the scrape reads; registering
        # them in that scrape's registry too would export each one twice.
        own = None if self.multiprocess_dir else CollectorRegistry()
        self.requests = Counter(
            "hall_http_requests", "Requests answered, by route template, method and status.",
            ["route", "method", "status"], registry=own)
        self.duration = Histogram(
            "hall_http_request_duration_seconds", "Seconds from a request's arrival to its"
            " answer's first byte, by route template and method.", ["route", "method"],
            buckets=DURATION_BUCKETS, registry=own)
        self.pool_size = Gauge(
            "hall_db_pool_size", "Database connections a pool holds (lent, idle or being"
            " opened), over every server process.", ["pool"], registry=own,
            multiprocess_mode="livesum")
        self.pool_available = Gauge(
            "hall_db_pool_available", "Idle database connections of a pool, over every"
            " server process.", ["pool"], registry=own, multiprocess_mode="livesum")
        self.pool_waiting = Gauge(
            "hall_db_pool_requests_waiting", "Requests waiting for a database connection,"
            " over every server process.", ["pool"], registry=own,
            multiprocess_mode="livesum")
        started = os.environ.get(STARTED_VARIABLE, "")
        try:
            start = float(started) if started else time.time()
        except ValueError:
            start = time.time()
        self._read_at_scrape = _ReadAtScrape(settings, app, start)
        self._own = own
        if own is not None:
            own.register(self._read_at_scrape)

    def registry(self) -> CollectorRegistry:
        """What a scrape answered by this process reports."""
        if self.multiprocess_dir is None:
            assert self._own is not None
            return self._own
        forget_dead_processes(self.multiprocess_dir)
        registry = CollectorRegistry()
        _SettledFiles(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        registry.register(self._read_at_scrape)
        return registry

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(route, method, str(status)).inc()
        self.duration.labels(route, method).observe(seconds)

    def sample_pools(self, state: Any) -> None:
        """Write this process's pools' figures (app.state's `pool` and `read_pool`)."""
        for attribute in ("pool", "read_pool"):
            pool: ConnectionPool[Conn] | None = getattr(state, attribute, None)
            if pool is None:
                continue
            stats = pool.get_stats()
            self.pool_size.labels(pool.name).set(stats.get("pool_size", 0))
            self.pool_available.labels(pool.name).set(stats.get("pool_available", 0))
            self.pool_waiting.labels(pool.name).set(stats.get("requests_waiting", 0))

    async def sample_pools_forever(self, state: Any) -> None:
        """Every POOL_SAMPLE_S until cancelled (the app's lifespan runs it): a process that
        answers no scrape still tells the others of its pools."""
        while True:
            self.sample_pools(state)
            await asyncio.sleep(POOL_SAMPLE_S)

    def process_ended(self) -> None:
        """This process stops: its pools are no longer part of the sums."""
        if self.multiprocess_dir is not None:
            with contextlib.suppress(OSError):
                mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]


def route_template(scope: Scope, mounts: dict[int, str]) -> str:
    """The path template of the route that answered, else UNMATCHED: no route matched, or
    the request was answered before routing (a body declared too large for BodyLimit).

    FastAPI's routes name themselves in the scope (`route`); a mounted app (the pages'
    files) only leaves itself as the scope's `endpoint`, which `mounts` (the mounted apps'
    ids and their templates) turns into its template."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    return mounts.get(id(scope.get("endpoint")), UNMATCHED)


def mounted(app: Any) -> dict[int, str]:
    """The apps mounted on `app`, by id, with their path templates (`/static/{path}`)."""
    return {id(route.app): f"{route.path}/{{path}}" for route in getattr(app, "routes", ())
            if isinstance(route, Mount)}


class RequestMetrics:
    """Counts and times every HTTP request (pure ASGI: an event stream passes untouched)."""

    def __init__(self, app: ASGIApp, metrics: HallMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self._mounts: dict[int, str] | None = None  # at the first request: all are mounted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        recorded = False
        if self._mounts is None:
            self._mounts = mounted(scope.get("app"))
        mounts = self._mounts

        def record(status: int) -> None:
            nonlocal recorded
            recorded = True
            self.metrics.observe(route_template(scope, mounts), scope["method"], status,
                                 time.perf_counter() - started)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and not recorded:
                record(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if not recorded:
                record(500)  # the server's error page answers it, outside this middleware
            raise


def install(app: FastAPI, settings: HallSettings) -> HallMetrics:
    """GET /metrics and the request metrics, on an app whose settings hold a token."""
    metrics = HallMetrics(settings, app)
    app.add_middleware(RequestMetrics, metrics=metrics)
    token = settings.metrics_token.encode()

    # Sync: the queue's figures come from the database, on one of the route threads.
    @app.get("/metrics", include_in_schema=False)
    def scrape(request: Request,
               authorization: Annotated[str | None, Header()] = None) -> Response:
        scheme, _, value = (authorization or "").strip().partition(" ")
        # compare_digest: as long for a near guess as for a far one.
        if scheme.lower() != "bearer" or not hmac.compare_digest(
                value.strip().encode("utf-8", "replace"), token):
            raise HallError(401, *_NO_TOKEN)
        metrics.sample_pools(request.app.state)
        return Response(generate_latest(metrics.registry()), media_type=CONTENT_TYPE_LATEST)

    return metrics
