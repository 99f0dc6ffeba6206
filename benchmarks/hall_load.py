"""The hall server under a hall's load: kiosks taking numbers, clerks calling them, boards
following the calls live, against a real server and PostgreSQL on this machine; the old
stdlib server (benchmarks/legacy_stdlib_server.py, SQLite) takes the same kiosks' load in
the same run as the anchor.

    pg_virtualenv -v 15 -- .venv/bin/python benchmarks/hall_load.py \\
        --kiosks 200 --counters 50 --boards 50 --seconds 30
    # a busy hall (a ticket per kiosk every 6 s, 5 s service), half the residents
    # following their ticket on their phone, and the same run without phones before it:
    pg_virtualenv -v 15 -- .venv/bin/python benchmarks/hall_load.py --preset busy-hall \\
        --compare-phones

PostgreSQL comes from the PG* variables `pg_virtualenv` exports (as for the hall's tests):
the script creates a database of its own, migrates it, registers the devices and staff,
writes a hall whose counters all serve every category and that is open round the clock
(so the figures do not depend on the time of day or on a holiday), starts
`kiosk hall serve --workers N` on a free port and drops the database at the end.

The load, in this one process on asyncio:
- each kiosk takes a number every `--interval` seconds on average (Poisson arrivals),
  open loop: a request is sent at its scheduled moment whether or not the previous one was
  answered (on another connection), and its latency counts from that moment, so a slow
  server shows as latency, not as fewer requests;
- each counter's clerk calls the next resident, serves them for `--service` seconds on
  average (exponential) and finishes, in a loop; with nobody waiting it asks again after
  IDLE_POLL_S;
- each board holds the live stream (GET /v1/stream) and notes when each call reaches it;
  the board delay is that moment minus the moment the counter's call was answered
  (negative when the board heard first), and minus the moment the call was sent (one
  clock, time.monotonic, in one process);
- with `--phones-share F`, the resident of that fraction of the tickets (drawn per arrival,
  apart from the arrivals' own draws, so the kiosks' schedule is the same with or without
  phones) opens the ticket's page on their phone the moment the kiosk has the answer: the
  phone holds GET /v1/public/tickets/{id}/stream (no credential) until a view says
  `called`, and then closes it, as the resident walks to the counter. The phone's delay is
  the moment that view arrived minus the moment the counter's call was answered (the same
  clock). A phone whose ticket is never called holds its stream to the end of the run.
  `--compare-phones` first runs the same load without phones, on a database and a server
  of its own, and prints both side by side.

`--waits` also samples, every 0.1 s, what the hall's database sessions are doing (waiting
for a lock, and on which statement; or idle in a transaction while the server works) and
prints the commonest: where the time goes when the figures are bad.

The client is a minimal HTTP/1.1 client on asyncio streams (keep-alive connections, a
Content-Length or chunked body): no dependency beyond the standard library, and one event
loop for hundreds of devices; 300 threads with requests on 2 cores would spend the cores
the server is measured on switching between themselves.

Afterwards: every number must be given once (PostgreSQL and SQLite are asked, and the
kiosks' answers compared), every ticket in the database must have reached a kiosk (none
"issued to nobody"), every call must reach every board and the phone following the ticket
called. Any non-2xx answer or exception is an error. Latency floors are printed beside the
figures; the exit status is 1 for an error, a duplicate, a ticket issued to nobody or a
call a board or a phone missed, never for speed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import random
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg.rows import dict_row

REPO = Path(__file__).resolve().parent.parent
LEGACY_SERVER = REPO / "benchmarks" / "legacy_stdlib_server.py"

REUSE_S = 4.0
"""A kept-alive connection idle longer than this is closed by the client, not reused: the
hall server closes idle connections after 5 s (kiosk/hall/server.py KEEP_ALIVE_S), and a
request written as the server closes would be lost in the race. A reused connection that
still fails before any byte of the answer is retried once on a fresh one, with the same
Idempotency-Key (so the server carries the request out at most once); counted as a
retry, not an error."""
IDLE_POLL_S = 0.5
REQUEST_TIMEOUT_S = 30.0
START_TIMEOUT_S = 60.0
BOARD_GRACE_S = 10.0
"""After the load stops, how long a call may still take to reach the boards before it
counts as missed."""
SHANGHAI = dt.timezone(dt.timedelta(hours=8))

FLOORS = {"issue_p99_ms": 100.0, "board_p99_ms": 1000.0, "phone_p99_ms": 1000.0}

PRESETS: dict[str, dict[str, float]] = {
    # The floor's load in issue 12: more than a hall sees, to find where the server gives.
    "stress": {"interval": 2.0, "service": 0.25, "phones_share": 0.0},
    # A busy hall (docs/PERFORMANCE.md): a ticket per kiosk every 6 s is already more than
    # a kiosk can hand out; half the residents scan their ticket's QR code.
    "busy-hall": {"interval": 6.0, "service": 5.0, "phones_share": 0.5},
}


# --------------------------------------------------------------------------- HTTP client

class Stale(Exception):
    """A kept-alive connection the server had closed: no byte of an answer came back."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.used_at = time.monotonic()

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # Headers and body go out in one write, but Nagle would still hold a small
            # request behind the ACK of the previous answer on a kept-alive connection.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()

    async def send(self, raw: bytes) -> None:
        self.writer.write(raw)
        await self.writer.drain()

    async def read_head(self) -> tuple[int, dict[str, str]]:
        try:
            line = await self.reader.readline()
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise Stale() from exc
        if not line:
            raise Stale()
        parts = line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise ValueError(f"not an HTTP/1.1 status line: {line[:80]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise ConnectionError("the connection closed inside the answer's headers")
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    async def read_chunk(self) -> bytes:
        """One chunk of a chunked body; b"" for the last (after its trailer)."""
        size_line = await self.reader.readline()
        if not size_line:
            raise ConnectionError("the connection closed inside a chunked body")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            return b""
        data = await self.reader.readexactly(size)
        await self.reader.readexactly(2)
        return data

    async def read_response(self, method: str) -> tuple[Response, bool]:
        """The answer and whether the connection may be reused."""
        status, headers = await self.read_head()
        keep = headers.get("connection", "").lower() != "close"
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while chunk := await self.read_chunk():
                parts.append(chunk)
            body = b"".join(parts)
        else:
            body = await self.reader.read()
            keep = False
        return Response(status, headers, body), keep


def request_bytes(method: str, path: str, host: str, headers: dict[str, str],
                  body: bytes | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    elif method in ("POST", "PUT"):
        lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class Device:
    """One kiosk's, clerk's or board's client: its credential and its idle kept-alive
    connections (a kiosk with a request still unanswered opens another, as open-loop
    arrivals need)."""

    def __init__(self, host: str, port: int, token: str | None, stats: Stats) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.stats = stats
        self.idle: list[Connection] = []

    def _idle_connection(self) -> Connection | None:
        now = time.monotonic()
        while self.idle:
            conn = self.idle.pop()
            if now - conn.used_at < REUSE_S:
                return conn
            conn.close()
        return None

    async def request(self, method: str, path: str, body: Any = None, *,
                      key: str | None = None) -> Response:
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if key is not None:
            headers["Idempotency-Key"] = key
        raw = request_bytes(method, path, f"{self.host}:{self.port}", headers,
                            None if body is None else json.dumps(body).encode())
        for attempt in (0, 1):
            conn = self._idle_connection()
            fresh = conn is None
            if conn is None:
                conn = await Connection.open(self.host, self.port)
            try:
                try:
                    await conn.send(raw)
                except (ConnectionResetError, BrokenPipeError) as exc:
                    raise Stale() from exc
                response, keep = await asyncio.wait_for(conn.read_response(method),
                                                        REQUEST_TIMEOUT_S)
            except Stale:
                conn.close()
                if fresh or attempt:
                    raise ConnectionError("the server closed the connection without an "
                                          "answer") from None
                self.stats.stale_retries += 1
                continue
            except BaseException:
                conn.close()
                raise
            if keep:
                conn.used_at = time.monotonic()
                self.idle.append(conn)
            else:
                conn.close()
            return response
        raise AssertionError("unreachable")

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


def sse_events(buffer: bytearray) -> Iterator[tuple[str, str]]:
    """Complete server-sent events at the start of `buffer` (removed from it): (event, data)."""
    while True:
        text = bytes(buffer)
        match = re.search(rb"\r?\n\r?\n", text)
        if match is None:
            return
        block = text[:match.start()].decode("utf-8", "replace")
        del buffer[:match.end()]
        event, data = "message", []
        for line in block.splitlines():
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
        if data or event != "message":
            yield event, "\n".join(data)


# --------------------------------------------------------------------------- measurements

@dataclass
class Stats:
    issue_ms: list[float] = field(default_factory=list)
    send_lag_ms: list[float] = field(default_factory=list)
    call_ms: list[float] = field(default_factory=list)
    finish_ms: list[float] = field(default_factory=list)
    board_ms: list[float] = field(default_factory=list)  # from the call's answer
    board_sent_ms: list[float] = field(default_factory=list)  # from the call's request
    errors: Counter[str] = field(default_factory=Counter)
    stale_retries: int = 0
    tickets: dict[str, str] = field(default_factory=dict)  # ticket id -> number, as answered
    numbers: Counter[str] = field(default_factory=Counter)  # number -> answers giving it
    called_at: dict[str, tuple[float, float]] = field(default_factory=dict)
    """number -> (call sent, call answered), time.monotonic"""
    calls_of: Counter[str] = field(default_factory=Counter)  # ticket id -> calls answered
    call_of_ticket: dict[str, tuple[float, float]] = field(default_factory=dict)
    """ticket id -> (call sent, call answered), time.monotonic"""
    empty_calls: int = 0
    finished: int = 0
    seen: list[dict[str, float]] = field(default_factory=list)  # per board: number -> at
    resyncs: int = 0
    offered: int = 0  # tickets the kiosks' schedules asked for
    load_s: float = 0.0  # from the first arrival to the last answer
    loadavg: tuple[float, float] = (0.0, 0.0)  # the machine's, before and after
    phones: dict[str, asyncio.Task[None]] = field(default_factory=dict)  # by ticket id
    phones_open: int = 0  # streams answered 200 and not yet closed
    phones_peak: int = 0
    phone_called: dict[str, float] = field(default_factory=dict)
    """ticket id -> when its phone got the first view saying `called`, time.monotonic"""
    phone_outcome: dict[str, str] = field(default_factory=dict)
    """ticket id -> the state of the first view past `waiting` its phone got ("called at
    open" when the stream's first view said so already); a state past `called` means the
    ticket moved on (finished) before the server computed the phone's view, and the
    resident never saw the call"""
    phone_first_ms: list[float] = field(default_factory=list)  # request to the first view
    phone_events: list[int] = field(default_factory=list)  # `ticket` events, per phone
    phone_bytes: list[int] = field(default_factory=list)  # the stream's bytes, per phone
    phone_seconds: list[float] = field(default_factory=list)  # how long each was open

    def error(self, what: str) -> None:
        self.errors[what] += 1


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def describe(exc: BaseException) -> str:
    return type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {str(exc)[:80]}"


def failure(route: str, response: Response) -> str:
    code = ""
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        body = response.json()
        detail = body.get("detail", body)
        code = " " + str(detail.get("error") if isinstance(detail, dict) else detail)[:60]
    return f"{route} -> {response.status}{code}"


# --------------------------------------------------------------------------- load

async def sleep_until(at: float) -> None:
    delay = at - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def kiosk(device: Device, issue: Callable[[Device, str], Awaitable[Response]],
                categories: list[str], start: float, until: float, interval_s: float,
                rng: random.Random, stats: Stats, *,
                phones: tuple[float, random.Random, Callable[[str], None]] | None = None
                ) -> None:
    """Poisson arrivals from `start` to `until`, each sent at its moment (open loop).
    `phones`: (share, its own draws, open a phone on a ticket id): whether an arrival's
    resident follows the ticket on a phone is drawn apart from `rng`, so the arrivals are
    the same with phones or without."""

    async def one(scheduled: float, category: str, with_phone: bool) -> None:
        stats.offered += 1
        stats.send_lag_ms.append((time.monotonic() - scheduled) * 1000)
        try:
            response = await issue(device, category)
        except Exception as exc:
            stats.error(f"POST /v1/tickets: {describe(exc)}")
            return
        stats.issue_ms.append((time.monotonic() - scheduled) * 1000)
        if not 200 <= response.status < 300:
            stats.error(failure("POST /v1/tickets", response))
            return
        body = response.json()
        stats.tickets[str(body["ticket_id"])] = str(body["number"])
        stats.numbers[str(body["number"])] += 1
        if with_phone and phones is not None:
            phones[2](str(body["ticket_id"]))

    pending: set[asyncio.Task[None]] = set()
    at = start + rng.expovariate(1 / interval_s)
    while at < until:
        await sleep_until(at)
        with_phone = phones is not None and phones[1].random() < phones[0]
        task = asyncio.create_task(one(at, rng.choice(categories), with_phone))
        pending.add(task)
        task.add_done_callback(pending.discard)
        at += rng.expovariate(1 / interval_s)
    if pending:
        await asyncio.gather(*pending)


async def counter(device: Device, until: float, service_s: float, rng: random.Random,
                  stats: Stats) -> None:
    """A clerk: call the next resident, serve, finish; closed loop, like a person."""
    while time.monotonic() < until:
        sent = time.monotonic()
        try:
            response = await device.request("POST", "/v1/counter/call-next", {},
                                            key=uuid.uuid4().hex)
        except Exception as exc:
            stats.error(f"POST /v1/counter/call-next: {describe(exc)}")
            await asyncio.sleep(IDLE_POLL_S)
            continue
        answered = time.monotonic()
        stats.call_ms.append((answered - sent) * 1000)
        if not 200 <= response.status < 300:
            stats.error(failure("POST /v1/counter/call-next", response))
            await asyncio.sleep(IDLE_POLL_S)
            continue
        ticket = response.json()["ticket"]
        if ticket is None:
            stats.empty_calls += 1
            await asyncio.sleep(IDLE_POLL_S)
            continue
        stats.called_at[ticket["number"]] = (sent, answered)
        stats.call_of_ticket[ticket["ticket_id"]] = (sent, answered)
        stats.calls_of[ticket["ticket_id"]] += 1
        await asyncio.sleep(rng.expovariate(1 / service_s))
        sent = time.monotonic()
        try:
            response = await device.request("POST", "/v1/counter/finish",
                                            {"ticket_id": ticket["ticket_id"]},
                                            key=uuid.uuid4().hex)
        except Exception as exc:
            stats.error(f"POST /v1/counter/finish: {describe(exc)}")
            continue
        stats.finish_ms.append((time.monotonic() - sent) * 1000)
        if not 200 <= response.status < 300:
            stats.error(failure("POST /v1/counter/finish", response))
        else:
            stats.finished += 1


async def board(host: str, port: int, token: str, seen: dict[str, float],
                connected: asyncio.Event, stats: Stats) -> None:
    """Hold the live stream and note when each call arrives, until cancelled."""
    conn = await Connection.open(host, port)
    try:
        await conn.send(request_bytes("GET", "/v1/stream", f"{host}:{port}", {
            "Authorization": f"Bearer {token}", "Accept": "text/event-stream"}, None))
        status, headers = await conn.read_head()
        if status != 200:
            stats.error(f"GET /v1/stream -> {status}")
            connected.set()
            return
        chunked = headers.get("transfer-encoding", "").lower() == "chunked"
        buffer = bytearray()
        while True:
            data = await (conn.read_chunk() if chunked else conn.reader.read(65536))
            if not data:
                stats.error("GET /v1/stream: the server ended the stream")
                return
            arrived = time.monotonic()
            buffer += data
            # The stream's first comment comes once the subscription is in place: calls
            # made before it would not reach this board.
            if not connected.is_set() and b": subscribed" in buffer:
                connected.set()
            for event, payload in sse_events(buffer):
                try:
                    body = json.loads(payload) if payload else {}
                except ValueError:
                    body = {}
                kind = body.get("kind", event) if isinstance(body, dict) else event
                if kind == "resync" or event == "resync":
                    stats.resyncs += 1
                elif kind == "called" and isinstance(body, dict) and "number" in body:
                    seen.setdefault(str(body["number"]), arrived)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        stats.error(f"GET /v1/stream: {describe(exc)}")
        connected.set()
    finally:
        conn.close()


async def phone(host: str, port: int, ticket_id: str, stats: Stats) -> None:
    """A resident's phone on the ticket's page: its stream from the kiosk's answer until a
    view says `called` (or a later state), or until cancelled at the end of the run."""
    path = f"/v1/public/tickets/{ticket_id}/stream"
    route = "GET /v1/public/tickets/{id}/stream"
    opened = time.monotonic()
    events = size = 0
    counted = False
    conn: Connection | None = None
    try:
        conn = await Connection.open(host, port)
        await conn.send(request_bytes("GET", path, f"{host}:{port}",
                                      {"Accept": "text/event-stream"}, None))
        status, headers = await conn.read_head()
        if status != 200:
            stats.error(f"{route} -> {status}")
            return
        counted = True
        stats.phones_open += 1
        stats.phones_peak = max(stats.phones_peak, stats.phones_open)
        chunked = headers.get("transfer-encoding", "").lower() == "chunked"
        buffer = bytearray()
        while True:
            data = await (conn.read_chunk() if chunked else conn.reader.read(65536))
            if not data:
                stats.error(f"{route}: the server ended the stream before the call")
                return
            arrived = time.monotonic()
            size += len(data)
            buffer += data
            for event, payload in sse_events(buffer):
                if event != "ticket":
                    continue
                events += 1
                if events == 1:
                    stats.phone_first_ms.append((arrived - opened) * 1000)
                state = json.loads(payload)["state"]
                if state == "waiting":
                    continue
                if state == "called" and events == 1:
                    state = "called at open"
                elif state == "called":
                    stats.phone_called[ticket_id] = arrived
                stats.phone_outcome[ticket_id] = state
                return
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        stats.error(f"{route}: {describe(exc)}")
    finally:
        if conn is not None:
            conn.close()
        if counted:
            stats.phones_open -= 1
        stats.phone_events.append(events)
        stats.phone_bytes.append(size)
        stats.phone_seconds.append(time.monotonic() - opened)


# --------------------------------------------------------------------------- the hall

def pg_dsn(dbname: str) -> str:
    if "PGHOST" not in os.environ or "PGPORT" not in os.environ:
        raise SystemExit("hall_load: no PostgreSQL: run it inside pg_virtualenv, e.g.\n  "
                         "pg_virtualenv -v 15 -- .venv/bin/python benchmarks/hall_load.py")
    parts = [f"{k}={os.environ[v]}" for k, v in (
        ("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"), ("password", "PGPASSWORD"))
        if v in os.environ]
    return " ".join([*parts, f"dbname={dbname}"])


@contextlib.contextmanager
def database() -> Iterator[str]:
    name = f"hall_load_{secrets.token_hex(4)}"
    with psycopg.connect(pg_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield pg_dsn(name)
    finally:
        with psycopg.connect(pg_dsn("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def write_hall(folder: Path, counters: int, per_counter: int) -> list[str]:
    """hall.yaml, hall-calendar.yaml and hall-server.toml in `folder`: the shipped center's
    categories, `counters` counters each serving `per_counter` of them (0: all), each
    counter starting from a different one so that calls spread over the categories, open
    00:00-23:59 every day, no caps, no holidays. The category ids."""
    shipped = yaml.safe_load((REPO / "config" / "hall.yaml").read_text(encoding="utf-8"))
    center = shipped["centers"][0]
    categories = []
    for cat in center["categories"]:
        cat = {k: v for k, v in cat.items() if k != "hours"}
        cat["daily_cap"] = 0
        categories.append(cat)
    ids = [c["id"] for c in categories]
    center["categories"] = categories
    center["counters"] = [
        {"number": n, "name": {"zh": f"{n}号窗口", "en": f"Counter {n}"},
         "categories": (ids[(n - 1) % len(ids):] + ids[:(n - 1) % len(ids)])[
             :per_counter or len(ids)]}
        for n in range(1, counters + 1)]
    center["hours"] = {day: ["00:00-23:59"]
                       for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    center["closed_early"] = []
    (folder / "hall.yaml").write_text(yaml.safe_dump({"centers": [center]}, allow_unicode=True),
                                      encoding="utf-8")
    year = dt.datetime.now(SHANGHAI).year
    (folder / "hall-calendar.yaml").write_text(
        yaml.safe_dump({"years": [year, year + 1], "holidays": [], "adjusted_workdays": []}),
        encoding="utf-8")
    (folder / "hall-server.toml").write_text(
        'public_url = "http://localhost:8400"\nrules = "hall.yaml"\n'
        'calendar = "hall-calendar.yaml"\nseed_demo_residents = false\n', encoding="utf-8")
    return ids


@dataclass
class Credentials:
    center: str
    kiosks: list[str]
    boards: list[str]
    clerks: list[tuple[str, str, int]]  # username, password, counter


def register(dsn: str, settings_path: Path, kiosks: int, counters: int,
             boards: int) -> Credentials:
    from kiosk.hall import admin, migrate, seeding
    from kiosk.hall.auth import Role
    from kiosk.hall.settings import load_settings

    migrate.upgrade(dsn)
    settings = load_settings(settings_path, dsn=dsn)
    seeding.prepare(dsn, settings)
    center = settings.rules.centers[0].id
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        kiosk_tokens = [admin.add_device(conn, center, Role.KIOSK, f"kiosk-{i}")
                        for i in range(1, kiosks + 1)]
        board_tokens = [admin.add_device(conn, center, Role.BOARD, f"board-{i}")
                        for i in range(1, boards + 1)]
        clerks = []
        for n in range(1, counters + 1):
            password = "pw-" + secrets.token_urlsafe(12)
            admin.add_staff(conn, center, f"clerk-{n}", Role.CLERK, password)
            clerks.append((f"clerk-{n}", password, n))
    return Credentials(center, kiosk_tokens, board_tokens, clerks)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hall_command(settings_path: Path, port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "kiosk", "hall", "serve", "--settings", str(settings_path),
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]


async def wait_healthy(host: str, port: int, path: str, process: subprocess.Popen[bytes],
                       stats: Stats, log: Path | None = None) -> None:
    device = Device(host, port, None, stats)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            said = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
            raise SystemExit(f"{said}\nhall_load: the server exited with "
                             f"{process.returncode}: {shlex.join(process.args)}")  # type: ignore[arg-type]
        with contextlib.suppress(OSError, ConnectionError, ValueError):
            if (await device.request("GET", path)).status == 200:
                device.close()
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"hall_load: the server did not answer {path} in "
                             f"{START_TIMEOUT_S:.0f} s")
        await asyncio.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and its descendants so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            # utime, stime, and those of its children already reaped
            total += sum(int(f) for f in fields[11:15]) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                with contextlib.suppress(OSError):
                    todo += [int(c) for c in (task / "children").read_text().split()]
    return total


def postgres_pid(dsn: str) -> int:
    """The postmaster's process id (the parent of a backend): its CPU time with its
    backends' is the database's share of the two cores."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        # Read while the connection is open: its backend process ends with it.
        stat = Path(f"/proc/{row[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return int(stat[1])


def raise_open_file_limit() -> None:
    """Every phone holds a connection of its own: hundreds of them beside the kiosks' would
    pass the usual soft limit of 1024 descriptors in this one process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 16
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def wait_for_open_window(seconds: float) -> None:
    """The generated hall is open 00:00-23:59 Shanghai time: a run crossing 23:59 (or
    midnight, when the numbers start again) starts just after midnight instead."""
    now = dt.datetime.now(SHANGHAI)
    close = now.replace(hour=23, minute=59, second=0, microsecond=0)
    if now + dt.timedelta(seconds=seconds + 120) >= close:
        wake = close + dt.timedelta(minutes=1, seconds=5)
        print(f"hall_load: waiting {(wake - now).total_seconds():.0f} s for midnight "
              "(Shanghai), so the run does not cross the day's end", flush=True)
        time.sleep(max(0.0, (wake - now).total_seconds()))


async def sign_in_all(host: str, port: int, creds: Credentials, stats: Stats) -> list[str]:
    # Two at a time: each is an Argon2id verification, on the same two cores as everything.
    gate = asyncio.Semaphore(2)

    async def one(username: str, password: str, number: int) -> str:
        async with gate:
            device = Device(host, port, None, stats)
            response = await device.request("POST", "/v1/staff/sessions", {
                "username": username, "password": password, "counter": number})
            device.close()
        if response.status != 200:
            raise SystemExit(f"hall_load: {failure('POST /v1/staff/sessions', response)}")
        return str(response.json()["token"])

    return list(await asyncio.gather(*(one(*c) for c in creds.clerks)))


async def run_hall(args: argparse.Namespace, dsn: str, folder: Path,
                   phones_share: float) -> dict[str, Any]:
    settings_path = folder / "hall-server.toml"
    categories = write_hall(folder, args.counters, args.counter_categories)
    creds = register(dsn, settings_path, args.kiosks, args.counters, args.boards)
    port = free_port()
    host = "127.0.0.1"
    env = {**os.environ, "KIOSK_HALL_DSN": dsn}
    command = hall_command(settings_path, port, args.workers)
    # Its log goes to a file, not a pipe: a pipe nobody reads during the load would fill
    # and stop the server mid-write.
    log = folder / "hall-server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                                   stdout=None if args.verbose else out,
                                   stderr=None if args.verbose else subprocess.STDOUT)
    stats = Stats()
    try:
        await wait_healthy(host, port, "/healthz", process, stats, log)
        clerk_tokens = await sign_in_all(host, port, creds, stats)
        stats.seen = [{} for _ in creds.boards]
        connected = [asyncio.Event() for _ in creds.boards]
        boards = [asyncio.create_task(board(host, port, token, stats.seen[i], connected[i],
                                            stats))
                  for i, token in enumerate(creds.boards)]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in connected)), START_TIMEOUT_S)
        rng = random.Random(args.seed)
        kiosk_devices = [Device(host, port, t, stats) for t in creds.kiosks]
        clerk_devices = [Device(host, port, t, stats) for t in clerk_tokens]

        async def issue(device: Device, category: str) -> Response:
            return await device.request("POST", "/v1/tickets", {"category": category},
                                        key=uuid.uuid4().hex)

        def open_phone(ticket_id: str) -> None:
            stats.phones[ticket_id] = asyncio.create_task(phone(host, port, ticket_id, stats))

        phone_rng = random.Random(f"{args.seed}-phones")
        phone_draws = [(phones_share, random.Random(phone_rng.random()), open_phone)
                       if phones_share > 0 else None for _ in kiosk_devices]

        postmaster = postgres_pid(dsn)
        before = os.getloadavg()[0]
        cpu_server = cpu_seconds(process.pid)
        cpu_db = cpu_seconds(postmaster)
        cpu_client = time.process_time()
        waits: Counter[str] = Counter()
        sampler = (asyncio.create_task(sample_waits(dsn, 0.1, waits)) if args.waits
                   else None)
        start = time.monotonic() + 0.2
        until = start + args.seconds
        await asyncio.gather(
            *(kiosk(d, issue, categories, start, until, args.interval,
                    random.Random(rng.random()), stats, phones=phone_draws[i])
              for i, d in enumerate(kiosk_devices)),
            *(counter(d, until, args.service, random.Random(rng.random()), stats)
              for d in clerk_devices))
        stats.load_s = max(time.monotonic() - start, args.seconds)
        cpu = {"server": cpu_seconds(process.pid) - cpu_server,
               "database": cpu_seconds(postmaster) - cpu_db,
               "client": time.process_time() - cpu_client}
        stats.loadavg = (before, os.getloadavg()[0])
        if sampler is not None:
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
        # A phone of a ticket not called yet follows it to the end, like a resident still
        # waiting; one whose ticket was called has until the grace's end to hear it.
        grace = time.monotonic() + BOARD_GRACE_S
        while time.monotonic() < grace and not (
                all(set(stats.called_at) <= set(seen) for seen in stats.seen)
                and all(stats.phones[t].done() for t in stats.call_of_ticket
                        if t in stats.phones)):
            await asyncio.sleep(0.05)
        still_waiting = sum(1 for task in stats.phones.values() if not task.done())
        for task in [*boards, *stats.phones.values()]:
            task.cancel()
        await asyncio.gather(*boards, *stats.phones.values(), return_exceptions=True)
        for d in kiosk_devices + clerk_devices:
            d.close()
        missed = 0
        for seen in stats.seen:
            for number, (sent, answered) in stats.called_at.items():
                if number in seen:
                    # Negative when the board heard of the call before the clerk's screen
                    # had its answer: the event leaves at the commit, the answer after it.
                    stats.board_ms.append((seen[number] - answered) * 1000)
                    stats.board_sent_ms.append((seen[number] - sent) * 1000)
                else:
                    missed += 1
        checks = hall_checks(dsn, stats)
    finally:
        stop(process)
    if process.returncode not in (0, -signal.SIGINT):
        sys.stderr.write(log.read_text(errors="replace")[-4000:])
    result = summary(stats, checks, missed=missed, cpu=cpu, command=command)
    result["database_waits"] = dict(waits.most_common(8))
    result.update(phone_summary(stats, phones_share, still_waiting))
    return result


def phone_summary(stats: Stats, share: float, still_waiting: int) -> dict[str, Any]:
    called_ms, from_request_ms = [], []
    for ticket_id, at in stats.phone_called.items():
        if ticket_id in stats.call_of_ticket:
            sent, answered = stats.call_of_ticket[ticket_id]
            called_ms.append((at - answered) * 1000)
            from_request_ms.append((at - sent) * 1000)
    called_with_phone = [t for t in stats.call_of_ticket if t in stats.phones]
    outcomes = Counter(stats.phone_outcome.values())

    def p(values: list[float], q: float) -> float | None:
        v = percentile(values, q)
        return None if v is None else round(v, 1)

    events = [float(n) for n in stats.phone_events]
    return {
        "phones_share": share,
        "phones_opened": len(stats.phones),
        "phones_peak": stats.phones_peak,
        "phones_still_waiting": still_waiting,
        "phone_tickets_called": len(called_with_phone),
        "phone_called_seen": outcomes["called"],
        "phone_called_at_open": outcomes["called at open"],
        "phone_past_called": {k: v for k, v in outcomes.items()
                              if k not in ("called", "called at open")},
        "phone_missed": sum(1 for t in called_with_phone if t not in stats.phone_outcome),
        "phone_p50_ms": p(called_ms, 50), "phone_p99_ms": p(called_ms, 99),
        "phone_max_ms": p(called_ms, 100),
        "phone_from_request_p50_ms": p(from_request_ms, 50),
        "phone_from_request_p99_ms": p(from_request_ms, 99),
        "phone_first_view_p50_ms": p(stats.phone_first_ms, 50),
        "phone_first_view_p99_ms": p(stats.phone_first_ms, 99),
        "phone_events_mean": round(sum(events) / len(events), 1) if events else None,
        "phone_events_p50": p(events, 50), "phone_events_max": p(events, 100),
        "phone_kb_mean": (round(sum(stats.phone_bytes) / len(stats.phone_bytes) / 1024, 1)
                          if stats.phone_bytes else None),
        # The first view comes with every opening; what the data plan pays for while
        # waiting is the updates after it.
        "phone_updates_per_min": (
            round(sum(max(0.0, n - 1) for n in events) / sum(stats.phone_seconds) * 60, 1)
            if sum(stats.phone_seconds) > 0 else None),
    }


WAITS_QUERY = (
    "SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU') AS wait, "
    "left(regexp_replace(query, '\\s+', ' ', 'g'), 60) AS query FROM pg_stat_activity "
    "WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()")


async def sample_waits(dsn: str, every_s: float, waits: Counter[str]) -> None:
    """What the server's database sessions are doing, sampled until cancelled: waiting for a
    lock (on which statement), for the server to send its next statement (Client:ClientRead,
    a transaction held open while Python works), or running."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        while True:
            for wait, query in await (await conn.execute(WAITS_QUERY)).fetchall():
                waits[f"{wait} | {query}"] += 1
            await asyncio.sleep(every_s)


def hall_checks(dsn: str, stats: Stats) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        twice = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM ticket GROUP BY center_id, day, number "
            "HAVING count(*) > 1) d").fetchone()
        ids = {r[0]: r[1] for r in conn.execute("SELECT id, number FROM ticket").fetchall()}
        called_twice = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM hall_event WHERE kind = 'called' "
            "GROUP BY ticket_id HAVING count(*) > 1) d").fetchone()
    return {
        "db_tickets": len(ids),
        "db_numbers_twice": int(twice[0]) if twice else 0,
        "db_called_twice": int(called_twice[0]) if called_twice else 0,
        "issued_to_nobody": len(set(ids) - set(stats.tickets)),
        "answered_not_stored": len(set(stats.tickets) - set(ids)),
    }


# --------------------------------------------------------------------------- the anchor

def write_legacy_config(folder: Path) -> Path:
    path = folder / "kiosk.toml"
    path.write_text(
        '[backend]\nkind = "embedded"\ndatabase = "legacy.sqlite3"\nseed_demo_data = false\n\n'
        f'[paths]\ndata_dir = "data"\ncatalog = "{REPO / "config" / "catalog.yaml"}"\n',
        encoding="utf-8")
    return path


async def run_legacy(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """The same kiosks against the stdlib server on SQLite. It has no counter or board API
    (its call-next was a staff command on the database file), so only tickets."""
    config = write_legacy_config(folder)
    command = [sys.executable, str(LEGACY_SERVER), "--config", str(config), "--port", "0"]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=None)
    stats = Stats()
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline),
                                      START_TIMEOUT_S)
        found = re.search(rb"http://127\.0\.0\.1:(\d+)", line)
        if found is None:
            raise SystemExit(f"hall_load: the legacy server did not start: {line!r}")
        port = int(found.group(1))
        host = "127.0.0.1"
        await wait_healthy(host, port, "/v1/health", process, stats)
        from kiosk.domain.catalog import load_catalog

        categories = [c.id for c in load_catalog(REPO / "config" / "catalog.yaml").categories]
        rng = random.Random(args.seed)
        devices = [Device(host, port, None, stats) for _ in range(args.kiosks)]
        names = {id(d): f"kiosk-{i}" for i, d in enumerate(devices, 1)}

        async def issue(device: Device, category: str) -> Response:
            return await device.request("POST", "/v1/tickets", {
                "category": category, "priority": False, "priority_reason": "",
                "resident_id": None, "kiosk_id": names[id(device)]}, key=uuid.uuid4().hex)

        before = os.getloadavg()[0]
        cpu_server = cpu_seconds(process.pid)
        cpu_client = time.process_time()
        start = time.monotonic() + 0.2
        until = start + args.seconds
        await asyncio.gather(*(kiosk(d, issue, categories, start, until, args.interval,
                                     random.Random(rng.random()), stats) for d in devices))
        stats.load_s = max(time.monotonic() - start, args.seconds)
        cpu = {"server": cpu_seconds(process.pid) - cpu_server,
               "client": time.process_time() - cpu_client}
        stats.loadavg = (before, os.getloadavg()[0])
        for d in devices:
            d.close()
    finally:
        stop(process)
    with sqlite3.connect(folder / "data" / "legacy.sqlite3") as db:
        twice = db.execute("SELECT count(*) FROM (SELECT 1 FROM tickets GROUP BY day, number "
                           "HAVING count(*) > 1)").fetchone()[0]
        ids = {r[0] for r in db.execute("SELECT ticket_id FROM tickets")}
    checks = {"db_tickets": len(ids), "db_numbers_twice": int(twice), "db_called_twice": 0,
              "issued_to_nobody": len(ids - set(stats.tickets)),
              "answered_not_stored": len(set(stats.tickets) - ids)}
    return summary(stats, checks, missed=0, cpu=cpu, command=command)


# --------------------------------------------------------------------------- report

def summary(stats: Stats, checks: dict[str, int], *, missed: int, cpu: dict[str, float],
            command: list[str]) -> dict[str, Any]:
    numbers_twice = sum(1 for n in stats.numbers.values() if n > 1)
    duplicates = (numbers_twice + checks["db_numbers_twice"] + checks["db_called_twice"]
                  + sum(1 for n in stats.calls_of.values() if n > 1))

    def p(values: list[float], q: float) -> float | None:
        v = percentile(values, q)
        return None if v is None else round(v, 1)

    return {
        "tickets": len(stats.tickets),
        "tickets_per_s": round(len(stats.tickets) / stats.load_s, 1) if stats.load_s else 0.0,
        "offered": stats.offered,
        "load_s": round(stats.load_s, 1),
        "issue_p50_ms": p(stats.issue_ms, 50), "issue_p99_ms": p(stats.issue_ms, 99),
        "issue_max_ms": p(stats.issue_ms, 100),
        "send_lag_p99_ms": p(stats.send_lag_ms, 99),
        "calls": sum(stats.calls_of.values()), "empty_calls": stats.empty_calls,
        "finished": stats.finished,
        "call_p50_ms": p(stats.call_ms, 50), "call_p99_ms": p(stats.call_ms, 99),
        "finish_p50_ms": p(stats.finish_ms, 50), "finish_p99_ms": p(stats.finish_ms, 99),
        "board_events": len(stats.board_ms),
        "board_p50_ms": p(stats.board_ms, 50), "board_p99_ms": p(stats.board_ms, 99),
        "board_max_ms": p(stats.board_ms, 100),
        "board_from_request_p50_ms": p(stats.board_sent_ms, 50),
        "board_from_request_p99_ms": p(stats.board_sent_ms, 99),
        "board_missed": missed, "board_resyncs": stats.resyncs,
        "errors": sum(stats.errors.values()), "error_kinds": dict(stats.errors.most_common(10)),
        "stale_retries": stats.stale_retries,
        "duplicates": duplicates, "numbers_answered_twice": numbers_twice, **checks,
        "cpu_server_s": round(cpu["server"], 1), "cpu_client_s": round(cpu["client"], 1),
        "cpu_database_s": round(cpu["database"], 1) if "database" in cpu else None,
        "server_command": " ".join(shlex.quote(c) for c in command),
        "loadavg_before": stats.loadavg[0], "loadavg_after": stats.loadavg[1],
    }


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}{unit}"
    return f"{value:,}{unit}"


def ratio(a: Any, b: Any) -> str:
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return "—"
    if b == 0:
        return "—" if a == 0 else "∞"
    return f"{a / b:.2f}×"


def beaten(value: Any, floor: float) -> str:
    if not isinstance(value, int | float):
        return "—"
    if value <= 0:
        return "met: heard before the answer"
    return f"{floor / value:.1f}× under" if value <= floor else f"{value / floor:.1f}× OVER"


def phone_rows(hall: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    past = "; ".join(f"{k} {v}" for k, v in hall["phone_past_called"].items())
    return [
        ("phones following a ticket (most open at once; still waiting at the end)",
         f"{fmt(hall['phones_opened'])} ({fmt(hall['phones_peak'])}; "
         f"{fmt(hall['phones_still_waiting'])})", "—", "",
         f"{hall['phones_share']:g} of the tickets"),
        ("phone's first view after opening, p50 / p99",
         f"{fmt(hall['phone_first_view_p50_ms'])} / "
         f"{fmt(hall['phone_first_view_p99_ms'], ' ms')}", "—", "", ""),
        ("phone delay after the call's answer, p50", fmt(hall["phone_p50_ms"], " ms"), "—",
         "", ""),
        ("**phone delay after the call's answer, p99**", fmt(hall["phone_p99_ms"], " ms"),
         "—", "", f"≤ 1 s: {beaten(hall['phone_p99_ms'], FLOORS['phone_p99_ms'])}"),
        ("phone delay after the call's answer, max", fmt(hall["phone_max_ms"], " ms"), "—",
         "", ""),
        ("phone delay after the call was sent, p50 / p99",
         f"{fmt(hall['phone_from_request_p50_ms'])} / "
         f"{fmt(hall['phone_from_request_p99_ms'], ' ms')}", "—", "", ""),
        ("called tickets with a phone: saw `called` (already at open; a later state "
         "first; missed)",
         f"{fmt(hall['phone_tickets_called'])}: {fmt(hall['phone_called_seen'])} "
         f"({fmt(hall['phone_called_at_open'])}; {past or 0}; "
         f"{fmt(hall['phone_missed'])})", "—", "", "0 missed"),
        ("ticket events per phone: mean / p50 / max (updates per minute open; KB per "
         "phone)",
         f"{fmt(hall['phone_events_mean'])} / {fmt(hall['phone_events_p50'])} / "
         f"{fmt(hall['phone_events_max'])} ({fmt(hall['phone_updates_per_min'])}; "
         f"{fmt(hall['phone_kb_mean'])})", "—", "", ""),
    ]


def phones_against_none(with_phones: dict[str, Any], without: dict[str, Any]) -> str:
    """The same load with phones and without, the two runs of `--compare-phones`."""
    figures = [
        ("tickets issued", "tickets", ""), ("issue p50", "issue_p50_ms", " ms"),
        ("**issue p99**", "issue_p99_ms", " ms"), ("issue max", "issue_max_ms", " ms"),
        ("call-next p99", "call_p99_ms", " ms"), ("finish p99", "finish_p99_ms", " ms"),
        ("calls", "calls", ""),
        ("board delay after the call's answer, p50", "board_p50_ms", " ms"),
        ("**board delay after the call's answer, p99**", "board_p99_ms", " ms"),
        ("board delay, max", "board_max_ms", " ms"),
        ("errors", "errors", ""),
        ("**CPU of the hall server**", "cpu_server_s", " s"),
        ("CPU of PostgreSQL", "cpu_database_s", " s"),
        ("CPU of the load generator", "cpu_client_s", " s"),
        ("load average (1 min) after the run", "loadavg_after", ""),
    ]
    lines = ["| figure | without phones | with phones | with / without |",
             "|---|---:|---:|---:|"]
    for name, key, unit in figures:
        a, b = without.get(key), with_phones.get(key)
        # A delay below zero (the board heard before the answer) has no ratio.
        both = isinstance(a, int | float) and isinstance(b, int | float) and min(a, b) > 0
        lines.append(f"| {name} | {fmt(a, unit)} | {fmt(b, unit)} | "
                     f"{ratio(b, a) if both else '—'} |")
    return "\n".join(lines)


def report(args: argparse.Namespace, hall: dict[str, Any], legacy: dict[str, Any] | None,
           without_phones: dict[str, Any] | None = None) -> str:
    old = legacy or {}
    rows = [
        ("kiosks / counters / boards", f"{args.kiosks} / {args.counters} / {args.boards}",
         f"{args.kiosks} / — / —" if legacy else "—", "", "200 / 50 / 50"),
        ("tickets issued (asked for)", f"{fmt(hall['tickets'])} ({fmt(hall['offered'])})",
         f"{fmt(old['tickets'])} ({fmt(old['offered'])})" if legacy else "—",
         ratio(hall["tickets"], old.get("tickets")), ""),
        ("tickets/s", fmt(hall["tickets_per_s"]), fmt(old.get("tickets_per_s")),
         ratio(hall["tickets_per_s"], old.get("tickets_per_s")), ""),
        ("issue p50", fmt(hall["issue_p50_ms"], " ms"), fmt(old.get("issue_p50_ms"), " ms"),
         ratio(hall["issue_p50_ms"], old.get("issue_p50_ms")), ""),
        ("**issue p99**", fmt(hall["issue_p99_ms"], " ms"), fmt(old.get("issue_p99_ms"), " ms"),
         ratio(hall["issue_p99_ms"], old.get("issue_p99_ms")),
         f"≤ 100 ms: {beaten(hall['issue_p99_ms'], FLOORS['issue_p99_ms'])}"),
        ("issue max", fmt(hall["issue_max_ms"], " ms"), fmt(old.get("issue_max_ms"), " ms"),
         "", ""),
        ("call-next p50 / p99", f"{fmt(hall['call_p50_ms'])} / {fmt(hall['call_p99_ms'], ' ms')}",
         "— (no call API)", "", ""),
        ("finish p50 / p99",
         f"{fmt(hall['finish_p50_ms'])} / {fmt(hall['finish_p99_ms'], ' ms')}", "—", "", ""),
        ("calls (empty: nobody waiting)", f"{fmt(hall['calls'])} ({fmt(hall['empty_calls'])})",
         "—", "", ""),
        ("board delay after the call's answer, p50", fmt(hall["board_p50_ms"], " ms"), "—",
         "", ""),
        ("**board delay after the call's answer, p99**", fmt(hall["board_p99_ms"], " ms"), "—",
         "", f"≤ 1 s: {beaten(hall['board_p99_ms'], FLOORS['board_p99_ms'])}"),
        ("board delay after the call was sent, p50 / p99",
         f"{fmt(hall['board_from_request_p50_ms'])} / "
         f"{fmt(hall['board_from_request_p99_ms'], ' ms')}", "—", "",
         f"≤ 1 s: {beaten(hall['board_from_request_p99_ms'], FLOORS['board_p99_ms'])}"),
        ("call events at boards (missed; resyncs)",
         f"{fmt(hall['board_events'])} ({fmt(hall['board_missed'])}; "
         f"{fmt(hall['board_resyncs'])})", "—", "", "0 missed"),
        ("**errors**", fmt(hall["errors"]), fmt(old.get("errors")),
         ratio(hall["errors"], old.get("errors")), "0"),
        ("**duplicates**", fmt(hall["duplicates"]), fmt(old.get("duplicates")), "", "0"),
        ("issued to nobody / answered but not stored",
         f"{hall['issued_to_nobody']} / {hall['answered_not_stored']}",
         f"{old['issued_to_nobody']} / {old['answered_not_stored']}" if legacy else "—", "",
         "0 / 0"),
        ("kiosk send lag p99 (load generator)", fmt(hall["send_lag_p99_ms"], " ms"),
         fmt(old.get("send_lag_p99_ms"), " ms"), "", ""),
        ("CPU during the load: server / database / load generator",
         f"{fmt(hall['cpu_server_s'], ' s')} / {fmt(hall['cpu_database_s'], ' s')} / "
         f"{fmt(hall['cpu_client_s'], ' s')}",
         f"{fmt(old.get('cpu_server_s'), ' s')} (in-process) / "
         f"{fmt(old.get('cpu_client_s'), ' s')}" if legacy else "—", "", ""),
    ]
    if hall.get("phones_share"):
        rows += phone_rows(hall)
    head = ("| figure | hall server, PostgreSQL | old stdlib server, SQLite (anchor) "
            "| hall / old | floor |")
    lines = [head, "|---|---:|---:|---:|---|"]
    lines += [f"| {' | '.join(r)} |" for r in rows]
    out = "\n".join(lines)
    for name, result in (("hall", hall), ("old", old)):
        if result.get("error_kinds"):
            out += f"\n\n{name} errors: " + "; ".join(
                f"{k} ×{v}" for k, v in result["error_kinds"].items())
    out += (f"\n\nload: {args.seconds:g} s; each kiosk a number every {args.interval:g} s on "
            f"average (Poisson, open loop); service {args.service:g} s on average; hall "
            f"server with {args.workers} workers; stale keep-alive retries: hall "
            f"{hall['stale_retries']}, old {old.get('stale_retries', '—')}")
    if hall.get("database_waits"):
        out += ("\n\nhall database sessions not idle, commonest states (samples every "
                "0.1 s | statement):\n") + "\n".join(
            f"  {n:6d}  {what}" for what, n in hall["database_waits"].items())
    out += (f"\nmachine: {os.cpu_count()} cores; load average (1 min) before the hall run "
            f"{hall['loadavg_before']:.1f}, after it {hall['loadavg_after']:.1f}"
            + (f", after the old server's {old['loadavg_after']:.1f}" if legacy else ""))
    if without_phones is not None:
        out += ("\n\nthe same load without phones, run just before on a database and a "
                "server of its own:\n\n" + phones_against_none(hall, without_phones))
        out += (f"\nload average (1 min) before the run without phones "
                f"{without_phones['loadavg_before']:.1f}")
        if without_phones.get("error_kinds"):
            out += "\nwithout phones, errors: " + "; ".join(
                f"{k} ×{v}" for k, v in without_phones["error_kinds"].items())
    out += f"\nhall server: {hall['server_command']}"
    if legacy:
        out += f"\nold server: {legacy['server_command']}"
    return out


def reproduce(args: argparse.Namespace) -> str:
    extra = "" if args.anchor else " --no-anchor"
    return (f"pg_virtualenv -v 15 -- .venv/bin/python benchmarks/hall_load.py "
            f"--kiosks {args.kiosks} --counters {args.counters} --boards {args.boards} "
            f"--seconds {args.seconds:g} --interval {args.interval:g} --service "
            f"{args.service:g} --workers {args.workers} --seed {args.seed}{extra}"
            + (f" --counter-categories {args.counter_categories}"
               if args.counter_categories else "") + (" --waits" if args.waits else "")
            + (f" --phones-share {args.phones_share:g}" if args.phones_share else "")
            + (" --compare-phones" if args.compare_phones else ""))


def failed(result: dict[str, Any]) -> bool:
    return bool(result["errors"] or result["duplicates"] or result["issued_to_nobody"]
                or result["answered_not_stored"] or result["board_missed"]
                or result.get("phone_missed"))


def run(coroutine: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """On uvloop when it is installed (uvicorn's own loop, a dependency of the hall): the
    load generator shares the two cores with the server and should take little of them."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    with contextlib.suppress(ImportError):
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coroutine)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiosks", type=int, default=200)
    parser.add_argument("--counters", type=int, default=50)
    parser.add_argument("--boards", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the load")
    presets = "; ".join(
        f"{name}: " + ", ".join(f"--{k.replace('_', '-')} {v:g}" for k, v in values.items())
        for name, values in PRESETS.items())
    parser.add_argument("--preset", choices=sorted(PRESETS), default="stress",
                        help=f"the defaults of the options it names: {presets} "
                        "(default stress)")
    parser.add_argument("--interval", type=float,
                        help="mean seconds between one kiosk's tickets")
    parser.add_argument("--service", type=float,
                        help="mean seconds a clerk serves a resident before finishing")
    parser.add_argument("--phones-share", type=float, metavar="F",
                        help="fraction of the tickets whose resident follows it on a phone "
                        "(the ticket's public stream, until called); 0: no phones")
    parser.add_argument("--compare-phones", action="store_true",
                        help="run the same load without phones first (a database and a "
                        "server of its own) and print both")
    parser.add_argument("--counter-categories", type=int, default=0, metavar="N",
                        help="categories each counter serves (default 0: all of them, every "
                        "call contending with every other)")
    parser.add_argument("--workers", type=int, default=2, help="hall server processes")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-anchor", dest="anchor", action="store_false",
                        help="skip the old stdlib server")
    parser.add_argument("--waits", action="store_true",
                        help="sample what the hall's database sessions wait for and print "
                        "the commonest (one query every 0.1 s)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the servers' logs")
    args = parser.parse_args(argv)
    for name, value in PRESETS[args.preset].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if min(args.kiosks, args.counters, args.boards) < 1 or args.seconds <= 0:
        parser.error("kiosks, counters and boards at least 1, seconds above 0")
    if not 0 <= args.phones_share <= 1:
        parser.error("--phones-share is a fraction, from 0 to 1")
    if args.compare_phones and not args.phones_share:
        parser.error("--compare-phones needs phones (--phones-share above 0)")
    raise_open_file_limit()

    wait_for_open_window(args.seconds * (2 if args.compare_phones else 1))
    folder = Path(tempfile.mkdtemp(prefix="hall-load-"))
    without_phones = None
    try:
        if args.compare_phones:
            (folder / "without-phones").mkdir()
            with database() as dsn:
                without_phones = run(run_hall(args, dsn, folder / "without-phones", 0.0))
        with database() as dsn:
            hall = run(run_hall(args, dsn, folder, args.phones_share))
        legacy = run(run_legacy(args, folder)) if args.anchor else None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(report(args, hall, legacy, without_phones))
    print(f"\nreproduce: {reproduce(args)}")
    if args.json:
        args.json.write_text(json.dumps({"hall": hall, "legacy": legacy,
                                         "hall_without_phones": without_phones,
                                         "command": reproduce(args)}, indent=2),
                             encoding="utf-8")
    return 1 if failed(hall) or (without_phones is not None and failed(without_phones)) else 0


if __name__ == "__main__":
    sys.exit(main())
