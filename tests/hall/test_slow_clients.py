"""Slow and idle clients cannot keep the kiosks from taking numbers.

The server runs as in production, `kiosk hall serve` in a process of its own (with its
connection limits, its raised open-file limit and uvicorn's own protocol), on the real
clock: its rules (tests.helpers.hall_process.write_settings) keep every category open all
day, every day, so the outcome does not depend on when the test runs.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from psycopg.rows import dict_row

from kiosk.common.clock import shanghai_now
from kiosk.hall import admin
from kiosk.hall.auth import Role
from kiosk.hall.settings import DSN_VARIABLE
from tests.helpers.hall import free_port, fresh_database
from tests.helpers.hall_process import write_settings
from tests.helpers.paths import REPO_ROOT
from tests.helpers.waits import HANG_GUARD_S, poll_until

SLOW_CLIENTS = 1000
KIOSKS = 8
TICKETS_EACH = 10
# Longer than this test can run: nothing is reaped for being slow, so what keeps the kiosks
# served is the connection limits alone.
NEVER_S = 100 * HANG_GUARD_S
# Numbers start again every day and 23:59 to midnight is closed (a period cannot end at
# 24:00): the kiosks' part must not run into midnight. Five hang guards is more than it can
# take short of a failure; a run that starts closer waits for the date to change.
MIDNIGHT_MARGIN = dt.timedelta(seconds=5 * HANG_GUARD_S)


# `python -m kiosk`, started with Linux's usual 1024 open files however many this process
# may open: the server has to raise the limit itself to hold the slow clients.
LAUNCH = ("import resource, runpy\n"
          "_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
          "usual = 1024 if hard == resource.RLIM_INFINITY else min(1024, hard)\n"
          "resource.setrlimit(resource.RLIMIT_NOFILE, (usual, hard))\n"
          "runpy.run_module('kiosk', run_name='__main__', alter_sys=True)\n")


@pytest.fixture
def open_files() -> Iterator[None]:
    """Room in this process for the slow clients' sockets (1024 by default)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = SLOW_CLIENTS + 512
    if soft != resource.RLIM_INFINITY and soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.fail(f"this test opens {SLOW_CLIENTS} sockets and may open only {hard} files"
                        f" (ulimit -Hn): raise the hard limit to {need}", pytrace=False)
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@contextmanager
def serving(tmp_path: Path, *options: str) -> Iterator[tuple[str, subprocess.Popen[bytes], str]]:
    """`kiosk hall serve` with `options` on a fresh database: (url, process, dsn)."""
    with fresh_database() as dsn:
        port = free_port()
        settings = write_settings(tmp_path, port)
        log_path = tmp_path / "serve.log"
        with log_path.open("wb") as log:
            # A session of its own, so that killpg reaches anything it started.
            process = subprocess.Popen(
                [sys.executable, "-c", LAUNCH, "hall", "serve", "--settings", str(settings),
                 "--host", "127.0.0.1", "--port", str(port), *options],
                cwd=REPO_ROOT, env={**os.environ, DSN_VARIABLE: dsn}, stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            started = poll_until(lambda: healthy(url) or process.poll() is not None)
            assert started and process.poll() is None, (
                "the hall server did not start:\n" + log_path.read_text("utf-8", "replace"))
            yield url, process, dsn
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(HANG_GUARD_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(HANG_GUARD_S)


def healthy(url: str) -> bool:
    try:
        with requests.Session() as s:
            s.trust_env = False
            return s.get(f"{url}/healthz", timeout=HANG_GUARD_S).status_code == 200
    except requests.RequestException:
        return False


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class SlowClients:
    """Connections that send part of a request line, then one more byte every `every_s`
    seconds, for ever: a slowloris attack. `silent` more connect and send nothing."""

    def __init__(self, url: str, count: int, every_s: float, silent: int = 0) -> None:
        host, port = url.removeprefix("http://").split(":")
        address = (host, int(port))
        self.socks: list[socket.socket] = []
        try:
            for i in range(count + silent):
                s = socket.create_connection(address, timeout=HANG_GUARD_S)
                self.socks.append(s)
                if i < count:
                    s.sendall(b"GET /v1/queue?pad=")
        except BaseException:
            self.close()
            raise
        self._trickling = self.socks[:count]
        self._every_s = every_s
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, name="slowloris", daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        while not self._stop.wait(self._every_s):
            for s in self._trickling:
                with suppress(OSError):  # closed by the server: ended() counts it
                    s.send(b"x")
            self.rounds += 1

    def ended(self) -> int:
        """How many the server has answered or closed: readable without waiting."""
        poller = select.poll()  # not select(): these descriptors may be above 1024
        for s in self.socks:
            poller.register(s, select.POLLIN | select.POLLHUP | select.POLLERR)
        return len(poller.poll(0))

    def closed_without_answer(self) -> bool:
        """Whether every connection was closed by the server with nothing sent back."""
        for s in self.socks:
            try:
                if s.recv(1024) != b"":
                    return False
            except ConnectionResetError:
                pass
        return True

    def close(self) -> None:
        if hasattr(self, "_stop"):
            self._stop.set()
            self._thread.join(HANG_GUARD_S)
        for s in self.socks:
            s.close()


def clear_of_midnight() -> None:
    now = shanghai_now()
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(),
                                   tzinfo=now.tzinfo)
    if midnight - now < MIDNIGHT_MARGIN:
        assert poll_until(lambda: shanghai_now().date() != now.date(),
                          timeout_s=MIDNIGHT_MARGIN.total_seconds() + HANG_GUARD_S,
                          interval_s=1.0)


def add_kiosks(dsn: str, count: int) -> list[str]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        return [admin.add_device(conn, "main", Role.KIOSK, f"kiosk-{i}") for i in range(count)]


def take_numbers(url: str, token: str, count: int) -> list[dict[str, Any]]:
    """`count` tickets, one after another, as one kiosk takes them; each must be answered
    within the hang guard (the timeout), however many slow clients there are."""
    tickets = []
    with requests.Session() as s:
        s.trust_env = False
        s.headers["Authorization"] = f"Bearer {token}"
        for _ in range(count):
            r = s.post(f"{url}/v1/tickets", json={"category": "social_security"},
                       headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=HANG_GUARD_S)
            assert r.status_code == 200, r.text
            tickets.append(r.json())
    return tickets


def test_a_thousand_trickling_connections_do_not_keep_kiosks_from_numbers(
        tmp_path: Path, open_files: None) -> None:
    clear_of_midnight()
    with serving(tmp_path, "--request-timeout", str(NEVER_S)) as (url, server, dsn):
        tokens = add_kiosks(dsn, KIOSKS)
        before = open_fds(server.pid)
        slow = SlowClients(url, SLOW_CLIENTS, every_s=1.0)
        try:
            # Accepted by the server, not only queued in the kernel's backlog.
            assert poll_until(lambda: open_fds(server.pid) >= before + SLOW_CLIENTS), (
                f"the server holds {open_fds(server.pid) - before} of the slow connections")
            assert poll_until(lambda: slow.rounds >= 2), "the slow clients trickle"
            with ThreadPoolExecutor(KIOSKS) as pool:
                per_kiosk = list(pool.map(lambda t: take_numbers(url, t, TICKETS_EACH), tokens))
            assert slow.ended() == 0, "the slow connections were held throughout"
        finally:
            slow.close()
    tickets = [t for kiosk in per_kiosk for t in kiosk]
    assert len(tickets) == KIOSKS * TICKETS_EACH
    # A number is unique on its day (the series starts again at midnight).
    numbers = {(t["issued_at"][:10], t["number"]) for t in tickets}
    assert len(numbers) == KIOSKS * TICKETS_EACH, sorted(numbers)
    assert len({t["ticket_id"] for t in tickets}) == KIOSKS * TICKETS_EACH


def test_a_connection_that_does_not_finish_its_request_in_time_is_closed(
        tmp_path: Path) -> None:
    deadline_s = 2.0
    with serving(tmp_path, "--request-timeout", str(deadline_s)) as (url, _server, _dsn):
        # Trickling faster than the deadline does not extend it: it runs from the start.
        slow = SlowClients(url, 20, every_s=deadline_s / 8, silent=20)
        try:
            assert poll_until(lambda: slow.ended() == len(slow.socks)), (
                f"{len(slow.socks) - slow.ended()} slow connections are still open")
            assert slow.closed_without_answer()
        finally:
            slow.close()

        # A kept-alive connection gets the deadline again for its next request.
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=HANG_GUARD_S) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: hall\r\n\r\n")
            answer = b""
            while b'"ok"' not in answer:
                chunk = s.recv(4096)
                assert chunk, answer
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200"), answer
            s.sendall(b"GET /heal")
            stop = threading.Event()

            def trickle() -> None:
                # The first byte stops the 5 s keep-alive timer: only the deadline ends it.
                while not stop.wait(deadline_s / 8):
                    try:
                        s.send(b"t")
                    except OSError:
                        return

            thread = threading.Thread(target=trickle, daemon=True)
            thread.start()
            try:
                # A byte sent after the server closed may bring a reset before the end.
                with suppress(ConnectionResetError):
                    assert s.recv(4096) == b"", "closed without an answer"
            finally:
                stop.set()
                thread.join(HANG_GUARD_S)
        assert poll_until(lambda: healthy(url))
