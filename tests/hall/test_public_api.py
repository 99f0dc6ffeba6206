"""The resident's phone: a ticket's and an application's public views, read with no
credential (the unguessable id is the capability), with nothing personal in them beyond a
masked surname; the ticket's live stream; and the 好差评 of a finished visit."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
import requests

from kiosk.backend.interface import RATING_LEVELS, RATING_REASONS
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.common.clock import SHANGHAI
from tests.hall.test_counter import call_next, clerk, ok, post, resident_session, take
from tests.hall.test_residents import as_resident, identify, personal_data
from tests.helpers.clock import FakeClock
from tests.helpers.hall import RunningHall
from tests.helpers.waits import HANG_GUARD_S, poll_until

TICKET_FIELDS = {
    "ticket_id", "number", "category", "category_title", "state", "priority", "ahead",
    "estimated_wait_min", "counter", "counter_name", "called_at", "issued_at", "return_until",
    "now_ticket_id", "masked_surname", "center_name", "rating", "at"}
WITH_NAMES = {"ordinary": "张*", "compound_surname": "欧阳*",
              "foreign_permanent_resident": "S*", "rare_name": "𠮷*"}


def public(hall: RunningHall, path: str) -> requests.Response:
    return hall.session(None).get(f"{hall.url}/v1/public/{path}", timeout=30)


def view(hall: RunningHall, ticket_id: str) -> dict[str, Any]:
    return ok(public(hall, f"tickets/{ticket_id}"))


def rate(hall: RunningHall, ticket_id: str, body: dict[str, Any],
         key: str | None = None) -> requests.Response:
    return hall.session(None).post(f"{hall.url}/v1/public/tickets/{ticket_id}/rating",
                                   json=body, timeout=30,
                                   headers={"Idempotency-Key": key or uuid.uuid4().hex})


def refusal(r: requests.Response) -> tuple[int, str]:
    body = r.json()
    assert set(body["message"]) == {"zh", "en"} and all(body["message"].values()), body
    return r.status_code, str(body["error"])


def kiosk_again(hall: RunningHall, body: dict[str, Any], key: str) -> dict[str, Any]:
    """The kiosk's reply for its ticket now: the same request again under the same key
    (tickets.reply_for, what a kiosk prints from)."""
    return ok(hall.session("kiosk-1").post(f"{hall.url}/v1/tickets", json=body, timeout=30,
                                           headers={"Idempotency-Key": key}))


def device_ids(hall: RunningHall) -> list[str]:
    return [str(d) for (d,) in hall.sql("SELECT id FROM device")]


class TicketStream:
    """GET /v1/public/tickets/{id}/stream read in a thread, like the phone's page."""

    def __init__(self, hall: RunningHall, ticket_id: str,
                 response: requests.Response | None = None) -> None:
        self.response = response or hall.session(None).get(
            f"{hall.url}/v1/public/tickets/{ticket_id}/stream", stream=True, timeout=(10, None))
        assert self.response.status_code == 200, self.response.text
        assert self.response.headers["content-type"].startswith("text/event-stream")
        self.views: list[dict[str, Any]] = []
        self.arrived: list[float] = []  # time.monotonic() of each view
        self.comments: list[str] = []
        self.ended = False
        self._thread = threading.Thread(target=self._read, daemon=True,
                                        name=f"ticket-stream-{ticket_id}")
        self._thread.start()
        assert poll_until(lambda: self.views), "the current view never came"

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
                    assert kind == "ticket", kind
                    self.views.append(json.loads(line[len("data:"):]))
                    self.arrived.append(time.monotonic())
            self.ended = True
        except (requests.RequestException, OSError, ValueError, AttributeError):
            pass  # the test closed the connection under the read

    @property
    def last(self) -> dict[str, Any]:
        return self.views[-1]

    def close(self) -> None:
        sock: socket.socket | None = getattr(self.response.raw.connection, "sock", None)
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        self.response.close()
        self._thread.join(HANG_GUARD_S)


@pytest.fixture
def watch(hall: RunningHall) -> Iterator[Callable[[str], TicketStream]]:
    opened: list[TicketStream] = []

    def open_(ticket_id: str) -> TicketStream:
        opened.append(TicketStream(hall, ticket_id))
        return opened[-1]

    yield open_
    for s in opened:
        s.close()


def without_at(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "at"}


def notify_fake(conn: psycopg.Connection[Any], category: str, number: str,
                ticket_id: str) -> None:
    """A stand-in for a ticket issued in `category` (a queue's traffic)."""
    conn.execute("SELECT pg_notify('hall_events', %s)", (json.dumps({
        "center": "main", "kind": "issued", "category": category, "number": number,
        "ticket": ticket_id}),))


@dataclass
class Counted:
    """What the phones' streams made the server do, by the hooks of api/public.py."""

    readings: list[str] = field(default_factory=list)  # a category's queue read
    views: list[str] = field(default_factory=list)  # a phone's ticket read afresh
    offered: Counter[str] = field(default_factory=Counter)  # events its filter was asked about
    passed: Counter[str] = field(default_factory=Counter)  # events handed to the phone

    def clear(self) -> None:
        self.readings.clear()
        self.views.clear()
        self.offered.clear()
        self.passed.clear()


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counted:
    from kiosk.hall.api import public as module
    from kiosk.hall.store import tickets

    found = Counted()
    read, view, accept = tickets.category_queue, module._phone_view, module._Follower.accept

    def reading(conn: Any, center: Any, category: str, *args: Any) -> Any:
        found.readings.append(category)
        return read(conn, center, category, *args)

    def viewing(request: Any, ticket_id: str, *args: Any) -> Any:
        found.views.append(ticket_id)
        return view(request, ticket_id, *args)

    def accepting(self: Any, event: dict[str, Any]) -> bool:
        found.offered[self.ticket_id] += 1
        passed = accept(self, event)
        found.passed[self.ticket_id] += passed
        return passed

    # Every reading of a queue, the kiosks' too: the tests ask the kiosks nothing meanwhile.
    monkeypatch.setattr(tickets, "category_queue", reading)
    monkeypatch.setattr(module, "_phone_view", viewing)
    monkeypatch.setattr(module._Follower, "accept", accepting)
    return found


# ------------------------------------------------------------------- the ticket's view

def test_the_view_has_the_contract_shape_and_only_a_masked_surname(hall: RunningHall) -> None:
    for role, surname in WITH_NAMES.items():
        resident_id = DEMO_RESIDENTS[role]
        ticket = take(hall, resident=resident_id)
        r = public(hall, f"tickets/{ticket['ticket_id']}")
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == TICKET_FIELDS
        assert body["masked_surname"] == surname, role
        for secret in [*personal_data(hall, resident_id), resident_id, *device_ids(hall)]:
            assert secret not in r.text, (role, secret)
        # A resident's name is nowhere in the text, even escaped.
        name = hall.sql("SELECT name FROM resident WHERE resident_id = %s", (resident_id,))[0][0]
        assert json.dumps(name)[1:-1] not in r.text
    anonymous = take(hall)
    body = view(hall, anonymous["ticket_id"])
    assert body["masked_surname"] is None
    assert body == {
        "ticket_id": anonymous["ticket_id"], "number": anonymous["number"],
        "category": "social_security", "category_title": {"zh": "社保", "en": "Social Security"},
        "state": "waiting", "priority": False, "ahead": len(WITH_NAMES),
        "estimated_wait_min": anonymous["estimated_wait_min"], "counter": None,
        "counter_name": None, "called_at": None, "issued_at": anonymous["issued_at"],
        "return_until": None, "now_ticket_id": None, "masked_surname": None,
        "center_name": {"zh": "区政务服务中心", "en": "District Government Service Center"},
        "rating": {"allowed": False, "given": False}, "at": body["at"]}
    assert dt.datetime.fromisoformat(body["at"]) == hall.clock()


def test_the_tracking_code_is_the_pages_address(hall: RunningHall) -> None:
    ticket = take(hall)
    assert ticket["tracking_code"] == f"{hall.settings.public_url}/t/{ticket['ticket_id']}"
    page = hall.session(None).get(ticket["tracking_code"], timeout=30)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


def test_phone_and_paper_agree_on_ahead_and_the_wait(hall: RunningHall) -> None:
    body = {"category": "social_security"}
    keys = [uuid.uuid4().hex for _ in range(4)]
    tickets = []
    for key in keys:
        tickets.append(kiosk_again(hall, body, key))
        hall.clock.advance(seconds=1)
    last = tickets[-1]
    assert view(hall, last["ticket_id"])["ahead"] == last["ahead"] == 3
    c3 = clerk(hall, "c3", 3)
    for _ in range(3):  # served: the measured service times change the estimate too
        called = call_next(hall, c3)
        hall.clock.advance(minutes=3)
        ok(post(hall, c3, "finish", {"ticket_id": called["ticket_id"]}))
    paper = kiosk_again(hall, body, keys[-1])
    phone = view(hall, last["ticket_id"])
    assert (phone["ahead"], phone["estimated_wait_min"]) == (
        paper["ahead"], paper["estimated_wait_min"])
    assert phone["ahead"] == 0


def test_called_no_show_returned_transferred_and_finished(hall: RunningHall) -> None:
    ticket = take(hall, resident=DEMO_RESIDENTS["ordinary"])
    tid = ticket["ticket_id"]
    c3 = clerk(hall, "c3", 3)
    called = call_next(hall, c3)
    assert called["ticket_id"] == tid
    now = view(hall, tid)
    assert (now["state"], now["counter"], now["counter_name"], now["ahead"]) == (
        "called", 3, {"zh": "3号窗口", "en": "Counter 3"}, None)
    assert dt.datetime.fromisoformat(now["called_at"]) == hall.clock()
    ok(post(hall, c3, "no-show", {"ticket_id": tid}))
    missed = view(hall, tid)
    assert missed["state"] == "no_show"
    assert dt.datetime.fromisoformat(missed["return_until"]) == hall.clock() + dt.timedelta(
        minutes=30)
    hall.clock.advance(minutes=5)
    ok(post(hall, c3, "return", {"number": ticket["number"]}))
    back = view(hall, tid)
    assert (back["state"], back["ahead"], back["return_until"], back["counter"]) == (
        "waiting", 0, None, None)
    call_next(hall, c3)
    moved = ok(post(hall, c3, "transfer", {"ticket_id": tid, "category": "medical_insurance"}))
    new_id = moved["new_ticket"]["ticket_id"]
    assert moved["new_ticket"]["tracking_code"] == f"{hall.settings.public_url}/t/{new_id}"
    old = view(hall, tid)
    assert (old["state"], old["now_ticket_id"]) == ("transferred", new_id)
    new = view(hall, new_id)
    assert (new["state"], new["category"], new["ahead"], new["masked_surname"]) == (
        "waiting", "medical_insurance", 0, "张*")
    c5 = clerk(hall, "c5", 5)
    call_next(hall, c5)
    ok(post(hall, c5, "finish", {"ticket_id": new_id}))
    done = view(hall, new_id)
    assert (done["state"], done["counter"], done["rating"]) == (
        "finished", 5, {"allowed": True, "given": False})


def test_a_withdrawn_ticket_and_one_of_another_day_still_answer(
        hall: RunningHall, clock: FakeClock) -> None:
    ticket = take(hall)
    key = uuid.uuid4().hex
    gone = kiosk_again(hall, {"category": "social_security"}, key)
    ok(hall.session("kiosk-1").post(f"{hall.url}/v1/ticket-cancellations",
                                    json={"key": key}, timeout=30))
    assert view(hall, gone["ticket_id"])["state"] == "withdrawn"
    c3 = clerk(hall, "c3", 3)
    served = call_next(hall, c3)
    assert served["ticket_id"] == ticket["ticket_id"]
    ok(post(hall, c3, "finish", {"ticket_id": ticket["ticket_id"]}))
    waiting = take(hall)
    clock.advance(days=1)
    old = view(hall, ticket["ticket_id"])
    assert (old["state"], old["counter"], old["rating"]["allowed"]) == ("finished", 3, True)
    # Yesterday's number that was never called waits for nothing: no place, no estimate.
    stale = view(hall, waiting["ticket_id"])
    assert (stale["state"], stale["ahead"], stale["estimated_wait_min"]) == (
        "waiting", None, None)


def test_unknown_and_malformed_ids(hall: RunningHall) -> None:
    unknown = "NoSuchTicket_0123456789"
    for r in (public(hall, f"tickets/{unknown}"), public(hall, f"tickets/{unknown}/stream"),
              rate(hall, unknown, {"level": 5, "reasons": []})):
        assert refusal(r) == (404, "unknown_ticket")
    assert refusal(public(hall, "applications/NoSuchApplication0123")) == (
        404, "unknown_application")
    for path in ("tickets/short", "tickets/a%20b%20c%20d%20e", "applications/short"):
        assert refusal(public(hall, path)) == (422, "invalid_request"), path
    assert hall.sql("SELECT count(*) FROM rating") == [(0,)]


# ------------------------------------------------------------------- rating

def test_a_visit_is_rated_once_finished_once_and_against_its_counter(
        hall: RunningHall) -> None:
    ticket = take(hall)
    tid = ticket["ticket_id"]
    body = {"level": 2, "reasons": ["too_slow", "too_slow", "unclear"]}
    assert refusal(rate(hall, tid, body, key="phone-key-1")) == (409, "not_finished")
    c3 = clerk(hall, "c3", 3)
    call_next(hall, c3)
    assert refusal(rate(hall, tid, body, key="phone-key-1")) == (409, "not_finished")
    assert hall.sql("SELECT count(*) FROM rating") == [(0,)]
    ok(post(hall, c3, "finish", {"ticket_id": tid}))
    # The key refused before was rolled back with its refusal: judged afresh now.
    first = rate(hall, tid, body, key="phone-key-1")
    assert first.status_code == 200, first.text
    assert first.json() == {"recorded": True}
    # A retry after a lost answer gets the first answer and stores nothing more.
    assert ok(rate(hall, tid, body, key="phone-key-1")) == first.json()
    assert refusal(rate(hall, tid, {**body, "level": 5}, key="phone-key-1")) == (
        409, "idempotency_conflict")
    assert refusal(rate(hall, tid, {"level": 5, "reasons": []})) == (409, "already_rated")
    assert hall.sql("SELECT level, reasons, target_kind, target_id, counter_no, device_id, "
                    "center_id FROM rating") == [
        (2, ["too_slow", "unclear"], "ticket", tid, 3, None, "main")]
    assert hall.sql("SELECT ticket_id, counter_no, data->>'level' FROM hall_event "
                    "WHERE kind = 'rated'") == [(tid, 3, "2")]
    assert view(hall, tid)["rating"] == {"allowed": False, "given": True}


def test_a_rating_kiosk_side_counts_for_the_phone_too(hall: RunningHall) -> None:
    ticket = take(hall)
    c3 = clerk(hall, "c3", 3)
    call_next(hall, c3)
    ok(post(hall, c3, "finish", {"ticket_id": ticket["ticket_id"]}))
    ok(hall.session("kiosk-1").post(f"{hall.url}/v1/ratings", json={
        "level": 4, "reasons": [], "target_kind": "ticket", "target_id": ticket["ticket_id"]},
        headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30))
    assert view(hall, ticket["ticket_id"])["rating"] == {"allowed": False, "given": True}
    assert refusal(rate(hall, ticket["ticket_id"], {"level": 5})) == (409, "already_rated")


def test_a_rating_is_checked(hall: RunningHall) -> None:
    ticket = take(hall)
    tid = ticket["ticket_id"]
    for bad in ({"level": 0}, {"level": 6}, {"level": 5, "reasons": ["rude"]},
                {"level": 5, "counter": 1}, {"reasons": ["fast"]}, {"level": "5x"}):
        assert refusal(rate(hall, tid, bad)) == (422, "invalid_request"), bad
    r = hall.session(None).post(f"{hall.url}/v1/public/tickets/{tid}/rating",
                                json={"level": 5}, timeout=30)
    assert refusal(r) == (400, "idempotency_key")


def test_the_rating_choices_are_the_kiosks_with_reasons_that_suit_the_level(
        hall: RunningHall) -> None:
    choices = ok(public(hall, "rating-choices"))
    assert [(c["level"], c["title"]) for c in choices["levels"]] == [
        (level, title.model_dump()) for level, title in sorted(RATING_LEVELS.items(),
                                                               reverse=True)]
    assert {r["id"]: r["title"] for r in choices["reasons"]} == {
        k: v.model_dump() for k, v in RATING_REASONS.items()}
    by_level = {c["level"]: set(c["reasons"]) for c in choices["levels"]}
    praise = {"fast", "polite", "clear_guidance", "easy_to_use"}
    blame = {"too_slow", "unclear", "machine_problem", "had_to_come_back"}
    assert by_level[5] == by_level[4] == praise
    assert by_level[1] == by_level[2] == blame
    assert by_level[3] == praise | blame


# ------------------------------------------------------------------- the live stream

def test_the_stream_sends_the_view_at_once_and_a_call_within_a_second(
        hall: RunningHall, watch: Callable[[str], TicketStream]) -> None:
    first, mine = take(hall), take(hall)
    stream = watch(mine["ticket_id"])
    assert "subscribed" in stream.comments
    assert without_at(stream.last) == without_at(view(hall, mine["ticket_id"]))
    assert stream.last["ahead"] == 1
    c3 = clerk(hall, "c3", 3)
    started = time.monotonic()
    call_next(hall, c3)  # calls `first`: one fewer ahead of mine
    assert poll_until(lambda: stream.last["ahead"] == 0)
    assert time.monotonic() - started < 1.0, "the phone heard of the call late"
    ok(post(hall, c3, "finish", {"ticket_id": first["ticket_id"]}))
    hall.clock.advance(seconds=30)
    started = time.monotonic()
    call_next(hall, c3)
    assert poll_until(lambda: stream.last["state"] == "called")
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"the call reached the phone after {elapsed:.2f} s"
    assert (stream.last["counter"], stream.last["counter_name"]["en"]) == (3, "Counter 3")
    ok(post(hall, c3, "finish", {"ticket_id": mine["ticket_id"]}))
    # Finished is final: sent, and then the stream ends.
    assert poll_until(lambda: stream.ended)
    assert stream.last["state"] == "finished"
    assert stream.last["rating"] == {"allowed": True, "given": False}
    # A final ticket's stream sends its view and ends at once.
    again = watch(mine["ticket_id"])
    assert poll_until(lambda: again.ended)
    assert [v["state"] for v in again.views] == ["finished"]


def try_stream(hall: RunningHall, ticket_id: str) -> TicketStream | requests.Response:
    """A ticket's stream, or the hall's refusal of it (its body read, the connection shut)."""
    r = hall.session(None).get(f"{hall.url}/v1/public/tickets/{ticket_id}/stream",
                               stream=True, timeout=(10, None))
    if r.status_code == 200:
        return TicketStream(hall, ticket_id, r)
    r.content  # noqa: B018  # read before the connection goes
    r.close()
    return r


def test_a_ticket_holds_a_few_streams_and_a_page_past_them_reads_it_instead(
        hall: RunningHall, watch: Callable[[str], TicketStream]) -> None:
    from kiosk.hall.api.public import BUSY_RETRY_S, STREAMS_PER_TICKET

    mine, other = take(hall), take(hall)
    held = [watch(mine["ticket_id"]) for _ in range(STREAMS_PER_TICKET)]
    refused = try_stream(hall, mine["ticket_id"])
    assert isinstance(refused, requests.Response)
    assert refusal(refused) == (429, "too_many_streams")
    assert refused.json()["retry_after_s"] == BUSY_RETRY_S
    assert f"{BUSY_RETRY_S} 秒" in refused.json()["message"]["zh"]
    # Another ticket's phone is not concerned, nor the refused page's GET.
    assert watch(other["ticket_id"]).last["ticket_id"] == other["ticket_id"]
    assert view(hall, mine["ticket_id"])["ticket_id"] == mine["ticket_id"]

    # Pages closed give their places back: as many open again (the hall hears of a closed
    # connection at its own pace), and then no more.
    for stream in held:
        stream.close()
    again: list[TicketStream] = []

    def one_more() -> bool:
        found = try_stream(hall, mine["ticket_id"])
        if isinstance(found, TicketStream):
            again.append(found)
        return len(again) == STREAMS_PER_TICKET

    try:
        assert poll_until(one_more)
        assert isinstance(try_stream(hall, mine["ticket_id"]), requests.Response)
        # Streams that end by themselves (the ticket is final) give their places back too.
        c3 = clerk(hall, "c3", 3)
        call_next(hall, c3)
        ok(post(hall, c3, "finish", {"ticket_id": mine["ticket_id"]}))
        assert poll_until(lambda: all(s.ended for s in again))
        ended = len(again)

        def reopened() -> bool:
            found = try_stream(hall, mine["ticket_id"])
            if isinstance(found, TicketStream):
                again.append(found)
            return len(again) > ended

        assert poll_until(reopened)
        assert poll_until(lambda: again[-1].ended)
        assert again[-1].last["state"] == "finished"
    finally:
        for stream in again:
            stream.close()


def test_the_stream_coalesces_and_sends_only_changes(
        hall: RunningHall, watch: Callable[[str], TicketStream], counted: Counted) -> None:
    take(hall)
    mine = take(hall)
    stream = watch(mine["ticket_id"])
    counted.clear()
    # Fifty events of the ticket's category in one burst, none of which changes its view,
    # and a few of other categories, which are not its concern.
    with psycopg.connect(hall.dsn) as conn:
        for n in range(50):
            notify_fake(conn, "social_security", f"A{900 + n}", f"fake{n:04d}xxxx")
        for n in range(20):
            notify_fake(conn, "civil_affairs", f"C{900 + n}", f"fake{n:04d}yyyy")
    c3 = clerk(hall, "c3", 3)
    call_next(hall, c3)  # calls `first`: this one does change mine
    assert poll_until(lambda: stream.last["ahead"] == 0)
    # The queue read at most once per COALESCE_S, and the ticket's own row not at all.
    assert len(counted.readings) <= 3 and counted.views == [], counted
    assert [v["ahead"] for v in stream.views] == [1, 0]  # unchanged views are not sent
    # Events were lost (the hub reconnected): the view is sent again, changed or not.
    with psycopg.connect(hall.dsn) as conn:
        conn.execute("SELECT pg_notify('hall_events', %s)",
                     (json.dumps({"center": "main", "kind": "resync"}),))
    assert poll_until(lambda: len(stream.views) == 3)
    assert without_at(stream.views[2]) == without_at(stream.views[1])


def test_a_quiet_ticket_stream_sends_heartbeats(
        hall: RunningHall, watch: Callable[[str], TicketStream],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.hall.api import public as module

    monkeypatch.setattr(module, "HEARTBEAT_S", 0.05)
    stream = watch(take(hall)["ticket_id"])
    assert poll_until(lambda: stream.comments.count("ping") >= 2)
    # Another category's traffic does not hold the heartbeat back.
    with psycopg.connect(hall.dsn) as conn:
        for _ in range(30):
            conn.execute("SELECT pg_notify('hall_events', %s)", (json.dumps({
                "center": "main", "kind": "issued", "category": "civil_affairs"}),))
    pings = stream.comments.count("ping")
    assert poll_until(lambda: stream.comments.count("ping") >= pings + 2)
    assert len(stream.views) == 1


def test_the_phones_of_a_category_share_its_queue_and_the_others_are_not_woken(
        hall: RunningHall, watch: Callable[[str], TicketStream], counted: Counted) -> None:
    c3 = clerk(hall, "c3", 3)  # signed in first: open counters are part of the estimate
    waiting = [take(hall) for _ in range(50)]
    elsewhere_ticket = take(hall, "civil_affairs")
    counted.clear()
    phones = [watch(t["ticket_id"]) for t in waiting]
    elsewhere = watch(elsewhere_ticket["ticket_id"])
    assert [p.last["ahead"] for p in phones] == list(range(50))
    assert [(p.last["ahead"], p.last["estimated_wait_min"]) for p in phones] == [
        (t["ahead"], t["estimated_wait_min"]) for t in waiting]
    # Fifty phones opening on an unchanged queue read it once between them (twice if the
    # last ticket's event came in between), not once each.
    assert counted.readings.count("social_security") <= 2, counted
    assert counted.readings.count("civil_affairs") == 1, counted
    counted.clear()
    # A burst of the category's traffic and a call that moves every phone up by one.
    with psycopg.connect(hall.dsn) as conn:
        for n in range(200):
            notify_fake(conn, "social_security", f"A{900 + n}", f"fake{n:04d}xxxx")
    call_next(hall, c3)
    assert poll_until(lambda: phones[0].last["state"] == "called" and all(
        p.last["ahead"] == i - 1 for i, p in enumerate(phones) if i > 0))
    # One reading per COALESCE_S for all fifty phones (at once, and once more if the call
    # came after it), where each phone read it for itself before (docs/PERFORMANCE.md).
    assert 1 <= counted.readings.count("social_security") <= 4, counted
    # Its call, read at once (and maybe once more, if a reading had it gone first).
    assert set(counted.views) == {waiting[0]["ticket_id"]} and len(counted.views) <= 2
    # Each phone was handed a few of the 201 events: its own, and of the traffic the first
    # since it last looked at the queue.
    assert max(counted.passed[t["ticket_id"]] for t in waiting) <= 5, counted.passed
    # The other category's phone: its filter never ran, nothing was read for it.
    assert counted.offered[elsewhere_ticket["ticket_id"]] == 0
    assert "civil_affairs" not in counted.readings
    assert len(elsewhere.views) == 1


def test_the_tickets_own_call_is_not_held_back_by_the_coalescing(
        hall: RunningHall, watch: Callable[[str], TicketStream],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.hall.api import public as module

    monkeypatch.setattr(module, "COALESCE_S", 30.0)
    mine = take(hall)
    stream = watch(mine["ticket_id"])
    take(hall)  # its category's traffic: the next reading of the queue is 30 s away
    c3 = clerk(hall, "c3", 3)
    started = time.monotonic()
    call_next(hall, c3)
    assert poll_until(lambda: stream.last["state"] == "called")
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"the call reached the phone after {elapsed:.2f} s"


def test_every_change_of_the_ticket_itself_arrives_at_once_the_traffic_waits(
        hall: RunningHall, watch: Callable[[str], TicketStream],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.hall.api import public as module

    monkeypatch.setattr(module, "COALESCE_S", 30.0)
    first, mine = take(hall), take(hall)
    tid = mine["ticket_id"]
    c3 = clerk(hall, "c3", 3)
    stream = watch(tid)
    call_next(hall, c3)  # `first`: mine moves up, but the category's traffic waits 30 s
    ok(post(hall, c3, "finish", {"ticket_id": first["ticket_id"]}))

    def heard(state: str, action: Callable[[], object]) -> float:
        started = time.monotonic()
        action()
        assert poll_until(lambda: stream.last["state"] == state), stream.views
        return time.monotonic() - started

    assert heard("called", lambda: call_next(hall, c3)) < 1.0
    assert heard("no_show", lambda: post(hall, c3, "no-show", {"ticket_id": tid})) < 1.0
    assert heard("waiting", lambda: post(hall, c3, "return", {"number": mine["number"]})) < 1.0
    assert stream.last["ahead"] == 0  # read afresh: the queue it rejoined
    call_next(hall, c3)
    assert heard("transferred", lambda: post(hall, c3, "transfer", {
        "ticket_id": tid, "category": "medical_insurance"})) < 1.0
    assert poll_until(lambda: stream.ended)
    # The move from 1 ahead to 0 was the traffic's, still waiting for its reading.
    assert [(v["state"], v["ahead"]) for v in stream.views] == [
        ("waiting", 1), ("called", None), ("no_show", None), ("waiting", 0),
        ("called", None), ("transferred", None)]


def test_the_phones_shared_queue_gives_the_kiosks_figures(
        hall: RunningHall, watch: Callable[[str], TicketStream]) -> None:
    c3 = clerk(hall, "c3", 3)
    issued = []  # (request body, key, reply): the kiosk's reply again is its figures now
    for resident in (None, "aged_85", None, "veteran", None, "serious_illness", None,
                     "aged_80_birthday_today"):
        body: dict[str, Any] = {"category": "social_security"}
        if resident is not None:
            body["resident_session"] = resident_session(hall, "kiosk-1",
                                                        DEMO_RESIDENTS[resident])
        key = uuid.uuid4().hex
        issued.append((body, key, kiosk_again(hall, body, key)))
        hall.clock.advance(seconds=1)
    phones = {reply["ticket_id"]: watch(reply["ticket_id"]) for _, _, reply in issued}
    for _ in range(3):  # served: the measured service times change the estimate too
        called = call_next(hall, c3)
        assert called["priority"]
        hall.clock.advance(minutes=7)
        ok(post(hall, c3, "finish", {"ticket_id": called["ticket_id"]}))
    # Three priority calls in a row, and the oldest ordinary ticket has waited 21 minutes:
    # the fairness rule puts it before the last priority one.
    papers = [kiosk_again(hall, body, key) for body, key, _ in issued]
    waiting = {p["number"]: p for p in papers if p["state"] == "waiting"}
    assert [(n, p["ahead"]) for n, p in sorted(waiting.items(), key=lambda i: i[1]["ahead"])][
        :2] == [("A001", 0), ("YA004", 1)]

    def figures(view: dict[str, Any]) -> tuple[Any, ...]:
        return view["ahead"], view["estimated_wait_min"]

    assert poll_until(lambda: all(figures(phones[p["ticket_id"]].last) == figures(p)
                                  for p in waiting.values())), (
        [(figures(phones[p["ticket_id"]].last), figures(p)) for p in waiting.values()])


# ------------------------------------------------------------------- applications

def test_an_applications_public_view_is_its_timeline_without_personal_data(
        hall: RunningHall) -> None:
    resident_id = DEMO_RESIDENTS["ordinary"]
    me = identify(hall, "kiosk-1", resident_id)
    receipt = ok(as_resident(hall, "kiosk-1", me["session"]).post(
        f"{hall.url}/v1/applications", timeout=30,
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={"bundle_id": "birth", "processing_days": 5, "submission": {
            "answers": {}, "fields": {"phone": "13912345678"}}}))
    assert receipt["progress_code"] == f"{hall.settings.public_url}/a/{receipt['public_id']}"
    path = f"applications/{receipt['public_id']}"
    body = ok(public(hall, path))
    assert body["bundle_title"] == {"zh": "出生一件事", "en": "Birth of a Child"}
    assert (body["reference"], body["bundle_id"], body["status"], body["processing_days"]) == (
        receipt["reference"], "birth", "submitted", 5)
    assert body["status_title"] == {"zh": "已提交", "en": "Submitted"}
    assert [e["status"] for e in body["timeline"]] == ["submitted"]
    assert body["center_name"]["zh"] == "区政务服务中心"
    hall.sign_in("clerk1", hall.tokens["clerk-pw"], counter=3)
    hall.clock.advance(hours=2)
    for status, note in (("accepted", ""), ("needs_more", "请补交户口簿原件")):
        ok(hall.session("clerk1").post(
            f"{hall.url}/v1/staff/applications/{receipt['reference']}/status",
            json={"status": status, "note": note}, timeout=30,
            headers={"Idempotency-Key": uuid.uuid4().hex}))
    r = public(hall, path)
    body = r.json()
    assert [(e["status"], e["status_title"]["zh"], e["note"]) for e in body["timeline"]] == [
        ("submitted", "已提交", ""), ("accepted", "受理中", ""),
        ("needs_more", "需补正", "请补交户口簿原件")]
    assert dt.datetime.fromisoformat(body["timeline"][-1]["at"]) == hall.clock().replace(
        microsecond=0).astimezone(SHANGHAI)
    for secret in [*personal_data(hall, resident_id), resident_id, "13912345678",
                   receipt["public_id"], *device_ids(hall)]:
        assert secret not in r.text, secret
