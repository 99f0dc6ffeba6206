"""Outages under load: the hall server killed, PostgreSQL restarted, a ticket's transaction
failing after its number was taken. Whatever breaks, no ticket is lost, none is issued twice
and no number goes to nobody: each kiosk retries a request with its Idempotency-Key until it
gets an answer, as its outbox does, and the hall answers a key once.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from psycopg import sql

from tests.helpers.hall import RunningHall
from tests.helpers.hall_process import HallProcess, hall_process, start_postgres, stop_postgres
from tests.helpers.waits import HANG_GUARD_S, poll_until

CATEGORY = "social_security"
KIOSKS = 6
EACH = 30
TOTAL = KIOSKS * EACH
FAULT_AFTER = TOTAL // 3

RETRY_PAUSE_S = 0.05
"""The simulated outbox's pause between two tries of a request: pacing, so that six kiosks
do not spin on a refused port while the server restarts, not a wait for anything."""

TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError)


class Abandoned(Exception):
    """The test gave up (it failed elsewhere) while a kiosk was still retrying."""


class Load:
    """KIOSKS kiosks taking EACH numbers each, one request at a time; a request is retried
    with the same key after a transport error or a 5xx until it is answered."""

    def __init__(self, hall: HallProcess, names: list[str]) -> None:
        self.hall = hall
        self.names = names
        self.answers: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in names}
        self.failures: Counter[str] = Counter()
        self.stop = threading.Event()
        self._answered = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(len(names), thread_name_prefix="kiosk")
        self._futures: list[Future[None]] = []

    @property
    def answered(self) -> int:
        with self._lock:
            return self._answered

    def start(self) -> None:
        self._futures = [self._pool.submit(self._kiosk, name) for name in self.names]

    def finished(self) -> bool:
        return all(f.done() for f in self._futures)

    def close(self) -> None:
        """Wait for the kiosks; re-raise the first error one of them met."""
        self._pool.shutdown(wait=True)
        for f in self._futures:
            f.result()

    def abandon(self) -> None:
        """End a load the test gave up on: no kiosk keeps retrying after it."""
        self.stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _kiosk(self, name: str) -> None:
        with self.hall.session(name) as session:
            for i in range(EACH):
                key = f"{name}-{i:02d}-{uuid.uuid4().hex[:12]}"
                self.answers[name][key] = take(self.hall, session, key, self)
                with self._lock:
                    self._answered += 1

    def failed(self, what: str) -> None:
        with self._lock:
            self.failures[what] += 1

    def failed_any(self) -> bool:
        with self._lock:
            return bool(self.failures)


def take(hall: HallProcess, session: requests.Session, key: str, load: Load) -> dict[str, Any]:
    """A ticket under `key`, however many tries it takes."""
    while not load.stop.is_set():
        try:
            r = session.post(f"{hall.url}/v1/tickets", json={"category": CATEGORY},
                             headers={"Idempotency-Key": key}, timeout=HANG_GUARD_S)
        except TRANSPORT_ERRORS as exc:
            load.failed(type(exc).__name__)
        else:
            if r.status_code == 200:
                reply: dict[str, Any] = r.json()
                return reply
            if r.status_code < 500:
                raise AssertionError(f"{key}: {r.status_code} {r.text}")
            load.failed(f"{r.status_code} {_error_code(r)}")
        load.stop.wait(RETRY_PAUSE_S)
    raise Abandoned(key)


def _error_code(r: requests.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return "(no json)"
    detail = body.get("detail", body) if isinstance(body, dict) else body
    return str(detail.get("error")) if isinstance(detail, dict) else "?"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[HallProcess]:
    with hall_process(tmp_path) as h:
        for n in range(1, KIOSKS + 1):
            h.add_device("kiosk", f"kiosk-{n}")
        h.add_device("board", "board-1")
        yield h


@pytest.fixture
def load(served: HallProcess) -> Iterator[Load]:
    running = Load(served, [f"kiosk-{n}" for n in range(1, KIOSKS + 1)])
    try:
        yield running
    finally:
        running.abandon()


def run_with_fault(hall: HallProcess, load: Load, fault: Any) -> dict[str, float]:
    """Start the load, inflict `fault` once FAULT_AFTER tickets are answered, let the load
    finish; how long each part took."""
    began = time.monotonic()
    load.start()
    assert poll_until(lambda: load.answered >= FAULT_AFTER or load.finished()), (
        f"only {load.answered} tickets answered before the fault\n{hall.log_tail()}")
    assert not load.finished(), "the load ended before the fault"
    at_fault = load.answered
    struck = time.monotonic()
    fault()
    recovered = time.monotonic()
    assert poll_until(load.finished), (
        f"{load.answered} of {TOTAL} answered after the fault; failures "
        f"{dict(load.failures)}\n{hall.log_tail()}")
    load.close()
    ended = time.monotonic()
    return {"answered_at_fault": at_fault, "before_s": struck - began,
            "fault_s": recovered - struck, "after_s": ended - recovered}


def assert_each_ticket_once(hall: HallProcess, load: Load) -> None:
    """Every kiosk has its EACH answers; the hall holds exactly those tickets, once each:
    none lost, none issued twice, no number issued to nobody."""
    assert {name: len(a) for name, a in load.answers.items()} == {
        name: EACH for name in load.names}
    received = {key: reply for answers in load.answers.values() for key, reply in answers.items()}
    tickets = {r["id"]: r for r in hall.sql("SELECT id, day, number FROM ticket")}
    assert len(tickets) == TOTAL
    ids = [reply["ticket_id"] for reply in received.values()]
    assert len(set(ids)) == TOTAL, "two keys were answered with one ticket"
    assert set(ids) == set(tickets), "a ticket in the hall no kiosk received, or one lost"
    assert all(tickets[r["ticket_id"]]["number"] == r["number"] for r in received.values())
    assert len({(t["day"], t["number"]) for t in tickets.values()}) == TOTAL
    stored = {r["key"]: r["ticket"] for r in hall.sql(
        "SELECT key, response->>'ticket_id' AS ticket FROM idempotency "
        "WHERE operation = 'ticket'")}
    assert stored == {key: reply["ticket_id"] for key, reply in received.items()}
    issued = Counter(r["ticket_id"] for r in hall.sql(
        "SELECT ticket_id FROM hall_event WHERE kind = 'issued'"))
    assert issued == Counter(set(tickets)), "a ticket with other than one 'issued' event"


def test_the_server_killed_mid_load_loses_and_repeats_no_ticket(
    served: HallProcess, load: Load
) -> None:
    def kill_and_restart() -> None:
        served.kill()
        served.restart()

    timing = run_with_fault(served, load, kill_and_restart)
    print(f"server SIGKILL: {timing}, retried {dict(load.failures)}")
    assert load.failures, "no request was cut short: the fault struck nothing"
    assert_each_ticket_once(served, load)


class EventStream:
    """GET /v1/stream read in a thread: the (kind, data) of each event, in order."""

    def __init__(self, hall: HallProcess, who: str) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.subscribed = threading.Event()
        self.ended = threading.Event()
        self.error: BaseException | None = None
        self._session = hall.session(who)
        self._url = f"{hall.url}/v1/stream"
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, name="stream", daemon=True)
        self._thread.start()

    def snapshot(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return list(self.events)

    def _read(self) -> None:
        try:
            with self._session.get(self._url, stream=True, timeout=(HANG_GUARD_S, None)) as r:
                assert r.status_code == 200, r.text
                self._sock = r.raw.connection.sock  # kept to end the read from close()
                kind, data = "message", ""
                for raw in r.iter_lines():
                    line = raw.decode()
                    if line.startswith(": subscribed"):
                        self.subscribed.set()
                    elif line.startswith("event:"):
                        kind = line.partition(":")[2].strip()
                    elif line.startswith("data:"):
                        data += line.partition(":")[2].strip()
                    elif line == "" and data:
                        with self._lock:
                            self.events.append((kind, json.loads(data)))
                        kind, data = "message", ""
        except BaseException as exc:  # the test reads it; a closed socket ends here too
            self.error = exc
        finally:
            self.ended.set()

    def close(self) -> None:
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(HANG_GUARD_S)
        self._session.close()


def _listening(hall: HallProcess) -> bool:
    rows = hall.sql("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend' AND query ILIKE 'LISTEN %%'")
    return bool(rows)


def test_postgres_restarted_mid_load_loses_and_repeats_no_ticket(
    served: HallProcess, load: Load
) -> None:
    stream = EventStream(served, "board-1")
    try:
        assert stream.subscribed.wait(HANG_GUARD_S), f"no stream: {stream.error}"
        before: list[int] = []

        def restart() -> None:
            before.append(len(stream.snapshot()))
            stop_postgres()
            # Down until a kiosk has met the outage (at the latest its request's wait for a
            # connection times out), so that the kiosks' retries are part of the test.
            assert poll_until(load.failed_any), "no request met the outage"
            start_postgres()

        timing = run_with_fault(served, load, restart)
        print(f"PostgreSQL restart: {timing}, retried {dict(load.failures)}")
        assert served.running(), "the server ended with its database"
        assert_each_ticket_once(served, load)

        # Notifications sent while the hub was away are lost: it says so (`resync`), and
        # once it listens again a new ticket reaches the board as ever.
        assert poll_until(lambda: _listening(served)), "the event hub never listened again"
        probe = take(served, served.session("kiosk-1"), f"probe-{uuid.uuid4().hex}", load)

        def probe_seen() -> bool:
            return any(k == "issued" and d.get("number") == probe["number"]
                       for k, d in stream.snapshot())

        assert poll_until(lambda: probe_seen() or stream.ended.is_set()) and probe_seen(), (
            f"the new ticket never reached the board: {stream.error}")
        after = stream.snapshot()[before[0]:]
        kinds = [k for k, _ in after]
        assert "resync" in kinds, f"no resync after the restart: {kinds}"
        last_resync = len(kinds) - 1 - kinds[::-1].index("resync")
        probe_at = next(i for i, (k, d) in enumerate(after)
                        if k == "issued" and d.get("number") == probe["number"])
        assert last_resync < probe_at
        print(f"stream after the restart: {Counter(kinds)}")
    finally:
        stream.close()


GATE = 4242  # the advisory lock the injected fault waits on


def _post_ticket(hall: RunningHall, who: str, key: str) -> requests.Response:
    return hall.session(who).post(f"{hall.url}/v1/tickets", json={"category": CATEGORY},
                                  headers={"Idempotency-Key": key}, timeout=HANG_GUARD_S)


def _waiting_on_lock(hall: RunningHall, event: str) -> int:
    return int(hall.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND wait_event_type = 'Lock' AND wait_event = %s",
                        (event,))[0][0])


def test_a_ticket_failing_after_its_number_was_taken_leaves_no_ticket_and_no_twin(
    hall: RunningHall  # the in-process hall of conftest.py, on its fake clock
) -> None:
    """Every check of a ticket request (category, hours, cap, resident) comes before its
    number is taken, and the one refusal after it (a second waiting ticket for one person,
    by a unique index) is caught in a savepoint that gives the number back too: no request
    can be made to fail there, so the failure is injected in the database. kiosk-1's ticket
    INSERT waits for the test, then raises; meanwhile kiosk-2's request waits on the number
    counter that kiosk-1's transaction holds."""
    first = _post_ticket(hall, "kiosk-1", "before-the-fault")
    assert first.status_code == 200 and first.json()["number"] == "A001"
    device = hall.sql("SELECT id FROM device WHERE name = 'kiosk-1'")[0][0]
    with psycopg.connect(hall.dsn, autocommit=True) as conn:
        conn.execute(f"""CREATE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_advisory_xact_lock({GATE});
                RAISE EXCEPTION 'injected fault: the ticket fails after its number was taken';
            END $$""")
        conn.execute(sql.SQL("CREATE TRIGGER injected_fault BEFORE INSERT ON ticket FOR EACH "
                             "ROW WHEN (NEW.device_id = {}) EXECUTE FUNCTION injected_fault()"
                             ).format(sql.Literal(device)))
        conn.execute("SELECT pg_advisory_lock(%s)", (GATE,))
        with ThreadPoolExecutor(2) as pool:
            doomed = pool.submit(_post_ticket, hall, "kiosk-1", "doomed-key")
            assert poll_until(lambda: _waiting_on_lock(hall, "advisory") == 1)
            rival = pool.submit(_post_ticket, hall, "kiosk-2", "rival-key")
            assert poll_until(lambda: _waiting_on_lock(hall, "transactionid") == 1)
            conn.execute("SELECT pg_advisory_unlock(%s)", (GATE,))
            failed, second = doomed.result(HANG_GUARD_S), rival.result(HANG_GUARD_S)
        assert failed.status_code >= 500
        # The failed transaction took its number back with it: the rival got it, once.
        assert second.status_code == 200 and second.json()["number"] == "A002"
        assert hall.sql("SELECT number FROM ticket ORDER BY number") == [("A001",), ("A002",)]
        assert hall.sql("SELECT 1 FROM idempotency WHERE key = 'doomed-key'") == []
        conn.execute("DROP TRIGGER injected_fault ON ticket")

    # The kiosk's outbox retries with the same key: a ticket now, the next number.
    retried = _post_ticket(hall, "kiosk-1", "doomed-key")
    assert retried.status_code == 200 and retried.json()["number"] == "A003"
    numbers = [n for (n,) in hall.sql("SELECT number FROM ticket ORDER BY number")]
    assert numbers == ["A001", "A002", "A003"]
