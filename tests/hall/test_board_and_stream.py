"""The boards and the live stream: what is called where, with nothing personal, and events
delivered only once their transaction committed, to whom they concern."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import requests

from kiosk.common.clock import SHANGHAI
from tests.hall.test_counter import call_next, clerk, ok, post, take
from tests.helpers.clock import FakeClock
from tests.helpers.hall import RunningHall
from tests.helpers.waits import HANG_GUARD_S, poll_until


class EventStream:
    """A client of GET /v1/stream reading in a thread, like a board's browser."""

    def __init__(self, hall: RunningHall, who: str) -> None:
        self.response = hall.session(who).get(f"{hall.url}/v1/stream", stream=True,
                                              timeout=(10, None))
        assert self.response.status_code == 200, self.response.text
        assert self.response.headers["content-type"].startswith("text/event-stream")
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.comments: list[str] = []
        self._thread = threading.Thread(target=self._read, name=f"stream-{who}", daemon=True)
        self._thread.start()
        assert poll_until(lambda: "subscribed" in self.comments), "never subscribed"

    def _read(self) -> None:
        kind = "message"
        try:
            for raw in self.response.iter_lines():
                line = raw.decode()
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                elif line.startswith("event:"):
                    kind = line[len("event:"):].strip()
                elif line.startswith("data:"):
                    self.events.append((kind, json.loads(line[len("data:"):])))
        except (requests.RequestException, OSError, ValueError, AttributeError):
            pass  # the test closed the connection under the read

    def kinds(self) -> list[str]:
        return [k for k, _ in self.events]

    def close(self) -> None:
        # Shutting the socket down wakes the reading thread (closing alone would not), and
        # the server sees the client go.
        sock: socket.socket | None = getattr(self.response.raw.connection, "sock", None)
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        self.response.close()
        self._thread.join(HANG_GUARD_S)


Listen = Callable[[str], EventStream]


@pytest.fixture
def listen(hall: RunningHall) -> Iterator[Listen]:
    opened: list[EventStream] = []

    def open_stream(who: str) -> EventStream:
        opened.append(EventStream(hall, who))
        return opened[-1]

    yield open_stream
    for stream in opened:
        stream.close()


def notify_directly(hall: RunningHall, event: dict[str, Any], *, commit: bool) -> None:
    """What db.notify sends, from a transaction of the test's own."""
    with psycopg.connect(hall.dsn) as conn:
        conn.execute("SELECT pg_notify('hall_events', %s)", (json.dumps(event),))
        if not commit:
            conn.rollback()


def device_id(hall: RunningHall, name: str) -> str:
    return str(hall.sql("SELECT id FROM device WHERE name = %s", (name,))[0][0])


def test_the_board_shows_the_call_and_the_queue_without_personal_data(
    hall: RunningHall, clock: FakeClock,
) -> None:
    c = clerk(hall, "c3", 3)
    first = take(hall, resident="R0009")  # 欧阳明华
    take(hall)
    take(hall, "medical_insurance")
    called = call_next(hall, c)
    ok(post(hall, c, "recall", {"ticket_id": called["ticket_id"]}))

    board = ok(hall.session("board-1").get(f"{hall.url}/v1/board", timeout=10))

    assert board["center"] == {"id": "main", "name": {"zh": "区政务服务中心",
                                                      "en": "District Government Service Center"}}
    assert board["current"] == [{
        "number": first["number"], "category": "social_security", "counter": 3,
        "counter_name": {"zh": "3号窗口", "en": "Counter 3"},
        "called_at": dt.datetime.fromisoformat(called["called_at"]).isoformat(),
        "recalls": 1, "serving": True}]
    assert [r["number"] for r in board["recent"]] == [first["number"]]
    by_category = {c["category"]: c for c in board["categories"]}
    social = by_category["social_security"]
    assert (social["title"]["zh"], social["waiting"], social["open"]) == ("社保", 1, True)
    assert dt.datetime.fromisoformat(social["closes_at"]) == dt.datetime(
        2026, 12, 7, 12, 0, tzinfo=SHANGHAI)
    assert len(social["periods_today"]) == 2
    assert by_category["medical_insurance"]["waiting"] == 1
    text = json.dumps(board, ensure_ascii=False)
    for personal in ("欧阳", "R0009", called["ticket_id"], first["tracking_code"]):
        assert personal not in text


def test_the_board_keeps_the_last_ten_calls_and_each_counters_latest(
    hall: RunningHall, clock: FakeClock,
) -> None:
    c3, c1 = clerk(hall, "c3", 3), clerk(hall, "c1", 1)
    for _ in range(12):
        take(hall)
    numbers = []
    for i in range(12):
        who = (c3, c1)[i % 2]
        ticket = call_next(hall, who)
        numbers.append(ticket["number"])
        ok(post(hall, who, "finish", {"ticket_id": ticket["ticket_id"]}))
        clock.advance(minutes=1)

    board = ok(hall.session("counter-3").get(f"{hall.url}/v1/board", timeout=10))

    assert [r["number"] for r in board["recent"]] == numbers[::-1][:10]
    assert [(c["counter"], c["number"], c["serving"]) for c in board["current"]] == [
        (1, numbers[11], False), (3, numbers[10], False)]


def test_a_kiosk_may_not_read_the_board(hall: RunningHall) -> None:
    assert hall.session("kiosk-1").get(f"{hall.url}/v1/board", timeout=10).status_code == 403
    assert hall.session(None).get(f"{hall.url}/v1/board", timeout=10).status_code == 401


def test_a_board_hears_a_call(hall: RunningHall, listen: Listen) -> None:
    c = clerk(hall, "c3", 3)
    ticket = take(hall)
    stream = listen("board-1")

    call_next(hall, c)

    assert poll_until(lambda: "called" in stream.kinds())
    data = next(d for k, d in stream.events if k == "called")
    # No ticket id: it opens the ticket's page on the resident's phone, and a board is a
    # screen anyone in the hall reads.
    assert data == {"number": ticket["number"], "counter": 3, "category": "social_security"}


def test_an_event_of_a_rolled_back_transaction_is_never_delivered(
    hall: RunningHall, listen: Listen,
) -> None:
    c = clerk(hall, "c3", 3)
    take(hall)
    stream = listen("board-1")

    notify_directly(hall, {"center": hall.center, "kind": "called", "number": "GHOST"},
                    commit=False)
    call_next(hall, c)  # committed after the rolled-back one: delivered after it, if at all

    assert poll_until(lambda: "called" in stream.kinds())
    assert [d["number"] for _, d in stream.events] == ["A001"]


def test_a_kiosk_hears_only_events_about_itself(hall: RunningHall, listen: Listen) -> None:
    c = clerk(hall, "c3", 3)
    take(hall)
    kiosk = listen("kiosk-1")
    board = listen("board-1")

    call_next(hall, c)
    # Stand-ins for help-call acknowledgements: each names the kiosk it concerns.
    for name in ("kiosk-2", "kiosk-1"):
        notify_directly(hall, {"center": hall.center, "kind": "help_acknowledged",
                               "device": device_id(hall, name)}, commit=True)

    assert poll_until(lambda: len(board.events) == 3)
    assert poll_until(lambda: kiosk.events)
    assert kiosk.events == [("help_acknowledged", {"device": device_id(hall, "kiosk-1")})]
    assert board.kinds() == ["called", "help_acknowledged", "help_acknowledged"]


def test_another_centers_events_stay_there(hall: RunningHall, listen: Listen) -> None:
    c = clerk(hall, "c3", 3)
    take(hall)
    board = listen("board-1")
    notify_directly(hall, {"center": "elsewhere", "kind": "called", "number": "X001"},
                    commit=True)
    call_next(hall, c)
    assert poll_until(lambda: board.events)
    assert board.kinds() == ["called"]


def test_a_quiet_stream_sends_heartbeats(
    hall: RunningHall, listen: Listen, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kiosk.hall.api import stream as stream_module

    monkeypatch.setattr(stream_module, "HEARTBEAT_S", 0.05)
    stream = listen("counter-3")
    assert poll_until(lambda: stream.comments.count("ping") >= 2)


def test_the_stream_needs_a_credential(hall: RunningHall) -> None:
    r = hall.session(None).get(f"{hall.url}/v1/stream", timeout=10)
    assert r.status_code == 401
