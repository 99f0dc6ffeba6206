"""Counters at work: calling under the fairness rule, never twice the same ticket, recalls,
no-shows and returns, transfers, finishing, and the log of every action."""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import requests

from kiosk.hall.auth import token_hash
from tests.hall.conftest import OPEN_MONDAY
from tests.helpers.clock import FakeClock
from tests.helpers.hall import RunningHall
from tests.helpers.waits import HANG_GUARD_S


def execute(hall: RunningHall, query: str, params: tuple[Any, ...] = ()) -> None:
    """A write for a test's setup (hall.sql is for reading)."""
    with psycopg.connect(hall.dsn) as conn:
        conn.execute(query, params)


def resident_session(hall: RunningHall, kiosk: str, resident_id: str) -> str:
    """A resident handle as `POST /v1/kiosk/residents` gives one after a verified code
    (setup only: what this file tests starts once the resident holds a ticket)."""
    token = "res_" + secrets.token_urlsafe(32)
    now = hall.clock()
    execute(hall, "INSERT INTO resident_session (token_hash, device_id, resident_id, "
            "created_at, expires_at) SELECT %s, id, %s, %s, %s FROM device WHERE name = %s",
            (token_hash(token), resident_id, now, now + dt.timedelta(minutes=15), kiosk))
    return token


def take(hall: RunningHall, category: str = "social_security", resident: str | None = None,
         kiosk: str = "kiosk-1", tick: bool = True) -> dict[str, Any]:
    """A ticket from the kiosk; then the clock moves on a second, so that tickets taken one
    after another queue in that order (equal times would order by the random ticket id)."""
    body: dict[str, Any] = {"category": category}
    if resident is not None:
        body["resident_session"] = resident_session(hall, kiosk, resident)
    r = hall.session(kiosk).post(f"{hall.url}/v1/tickets", json=body,
                                 headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    assert r.status_code == 200, r.text
    ticket: dict[str, Any] = r.json()
    if tick:
        hall.clock.advance(seconds=1)
    return ticket


def clerk(hall: RunningHall, username: str, counter: int | None,
          role: str = "clerk") -> str:
    """A staff member signed in at `counter`; returns the name their token is kept under."""
    password = hall.add_staff(role, username)
    hall.sign_in(username, password, counter)
    return username


def post(hall: RunningHall, who: str, action: str, body: dict[str, Any] | None = None,
         key: str | None = None) -> requests.Response:
    return hall.session(who).post(f"{hall.url}/v1/counter/{action}", json=body or {},
                                  headers={"Idempotency-Key": key or uuid.uuid4().hex},
                                  timeout=30)


def ok(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def call_next(hall: RunningHall, who: str) -> dict[str, Any]:
    ticket: dict[str, Any] = ok(post(hall, who, "call-next"))["ticket"]
    assert ticket is not None
    return ticket


def serve(hall: RunningHall, who: str) -> str:
    """Call the next ticket and finish it at once; its number."""
    ticket = call_next(hall, who)
    ok(post(hall, who, "finish", {"ticket_id": ticket["ticket_id"]}))
    return str(ticket["number"])


def error(response: requests.Response, status: int) -> str:
    assert response.status_code == status, response.text
    code: str = response.json()["error"]
    return code


def test_call_next_gives_an_ordinary_ticket_its_turn_after_three_priority_calls(
    hall: RunningHall, clock: FakeClock,
) -> None:
    c = clerk(hall, "c3", 3)
    ordinary = take(hall)
    priority = [take(hall, resident=r, kiosk="kiosk-2")
                for r in ("R0002", "R0003", "R0004", "R0012")]
    assert [t["priority"] for t in priority] == [True] * 4
    clock.advance(minutes=21)  # the ordinary ticket has waited longer than the 20 allowed

    order = [serve(hall, c) for _ in range(5)]

    p = [t["number"] for t in priority]
    assert order == [p[0], p[1], p[2], ordinary["number"], p[3]]
    assert ok(post(hall, c, "call-next")) == {"ticket": None}


def test_priority_goes_first_while_the_ordinary_ticket_is_within_its_limit(
    hall: RunningHall, clock: FakeClock,
) -> None:
    c = clerk(hall, "c3", 3)
    ordinary = take(hall)
    priority = [take(hall, resident=r) for r in ("R0002", "R0003", "R0004", "R0012")]
    clock.advance(minutes=5)

    order = [serve(hall, c) for _ in range(5)]

    assert order == [t["number"] for t in priority] + [ordinary["number"]]


def test_two_counters_calling_at_once_never_get_the_same_ticket(hall: RunningHall) -> None:
    counters = [clerk(hall, "c3", 3), clerk(hall, "c1", 1)]
    with ThreadPoolExecutor(12) as workers:
        issued = list(workers.map(
            lambda i: take(hall, kiosk=f"kiosk-{1 + i % 2}", tick=False), range(100)))
    busy = []

    def call_and_finish(i: int) -> str:
        """Call (retrying while this counter's other worker holds its one called ticket)
        and finish: every worker serves exactly one ticket."""
        who = counters[i % 2]
        deadline = time.monotonic() + HANG_GUARD_S
        while time.monotonic() < deadline:
            r = post(hall, who, "call-next")
            if r.status_code == 409:
                assert r.json()["error"] == "counter_busy"
                busy.append(who)
                continue
            ticket = ok(r)["ticket"]
            assert ticket is not None, "the queue ran dry: a ticket was called twice"
            ok(post(hall, who, "finish", {"ticket_id": ticket["ticket_id"]}))
            return str(ticket["ticket_id"])
        raise AssertionError("no call succeeded")

    with ThreadPoolExecutor(12) as workers:
        served = list(workers.map(call_and_finish, range(100)))

    assert sorted(served) == sorted(t["ticket_id"] for t in issued)
    calls = hall.sql("SELECT ticket_id, counter_no FROM hall_event WHERE kind = 'called'")
    assert len(calls) == len({t for t, _ in calls}) == 100
    assert sorted(n for _, n in calls) == [1] * 50 + [3] * 50
    assert hall.sql("SELECT state, count(*) FROM ticket GROUP BY state") == [("finished", 100)]


def test_a_counter_holds_one_called_ticket_at_a_time(hall: RunningHall) -> None:
    c = clerk(hall, "c3", 3)
    for _ in range(5):
        take(hall)
    with ThreadPoolExecutor(10) as workers:
        answers = list(workers.map(lambda _: post(hall, c, "call-next"), range(10)))

    assert sorted(r.status_code for r in answers) == [200] + [409] * 9
    refused = next(r for r in answers if r.status_code == 409).json()
    assert refused["error"] == "counter_busy" and refused["number"] == "A001"
    assert "finish or mark no-show first" in refused["message"]["en"]
    assert hall.sql("SELECT number FROM ticket WHERE state = 'called'") == [("A001",)]


def test_a_retried_call_gives_the_same_ticket_once(hall: RunningHall) -> None:
    c = clerk(hall, "c3", 3)
    take(hall)
    take(hall)
    first = ok(post(hall, c, "call-next", key="call-key-1"))
    again = ok(post(hall, c, "call-next", key="call-key-1"))
    assert first == again
    assert hall.sql("SELECT count(*) FROM hall_event WHERE kind = 'called'") == [(1,)]


def test_a_clerk_calls_a_number_out_of_turn_but_only_of_the_counters_categories(
    hall: RunningHall,
) -> None:
    c = clerk(hall, "c3", 3)
    take(hall)
    second = take(hall)
    other = take(hall, "medical_insurance")

    called = ok(post(hall, c, "call", {"number": second["number"]}))["ticket"]
    assert (called["number"], called["state"], called["counter"]) == ("A002", "called", 3)
    ok(post(hall, c, "finish", {"ticket_id": called["ticket_id"]}))
    assert error(post(hall, c, "call", {"number": other["number"]}), 409) == "not_served"
    assert error(post(hall, c, "call", {"number": "A002"}), 409) == "wrong_state"
    assert error(post(hall, c, "call", {"number": "A999"}), 404) == "unknown_ticket"


def test_recall_counts_and_only_the_calling_counter_may_act(hall: RunningHall) -> None:
    c3, c1 = clerk(hall, "c3", 3), clerk(hall, "c1", 1)
    take(hall)
    ticket = call_next(hall, c3)

    ok(post(hall, c3, "recall", {"ticket_id": ticket["ticket_id"]}))
    again = ok(post(hall, c3, "recall", {"ticket_id": ticket["ticket_id"]}))

    assert again["recalls"] == 2 and again["state"] == "called"
    assert hall.sql("SELECT data->>'recalls' FROM hall_event WHERE kind = 'recalled' "
                    "ORDER BY id") == [("1",), ("2",)]
    assert error(post(hall, c1, "recall", {"ticket_id": ticket["ticket_id"]}),
                 409) == "not_called_here"
    assert error(post(hall, c1, "finish", {"ticket_id": ticket["ticket_id"]}),
                 409) == "not_called_here"


def test_a_no_show_returns_to_its_place_within_the_limit_and_not_after(
    hall: RunningHall, clock: FakeClock,
) -> None:
    c = clerk(hall, "c3", 3)
    first, _, third = take(hall), take(hall), take(hall)
    called = call_next(hall, c)
    assert called["number"] == first["number"]
    gone = ok(post(hall, c, "no-show", {"ticket_id": called["ticket_id"]}))
    assert gone["state"] == "no_show"
    assert dt.datetime.fromisoformat(gone["return_until"]) == clock() + dt.timedelta(minutes=30)
    assert serve(hall, c) == "A002"  # the counter is free again

    clock.advance(minutes=29)
    back = ok(post(hall, c, "return", {"number": first["number"]}))

    assert (back["state"], back["ahead"]) == ("waiting", 0)  # before A003, as it was issued
    queued = hall.sql("SELECT queued_at FROM ticket WHERE id = %s", (first["ticket_id"],))
    assert queued[0][0] == dt.datetime.fromisoformat(first["issued_at"])
    again = call_next(hall, c)
    assert again["number"] == first["number"]

    ok(post(hall, c, "no-show", {"ticket_id": again["ticket_id"]}))
    clock.advance(minutes=31)
    assert error(post(hall, c, "return", {"number": first["number"]}), 409) == "return_expired"
    assert error(post(hall, c, "return", {"number": third["number"]}), 409) == "wrong_state"
    assert hall.sql("SELECT state FROM ticket WHERE id = %s",
                    (first["ticket_id"],)) == [("no_show",)]


def test_a_transfer_keeps_the_resident_and_their_priority_under_a_new_number(
    hall: RunningHall, clock: FakeClock,
) -> None:
    c = clerk(hall, "c3", 3)
    ticket = take(hall, resident="R0003")  # a veteran: priority
    assert ticket["number"] == "YA001"
    called = call_next(hall, c)
    clock.advance(minutes=3)

    moved = ok(post(hall, c, "transfer", {"ticket_id": called["ticket_id"],
                                          "category": "medical_insurance"}))

    new = moved["new_ticket"]
    assert moved["state"] == "transferred"
    assert (new["number"], new["category"], new["priority"], new["priority_reason"],
            new["state"]) == ("YB001", "medical_insurance", True, "entitlement", "waiting")
    rows = hall.sql("SELECT id, resident_id, state, transferred_to, queued_at, issued_at "
                    "FROM ticket ORDER BY number DESC")
    assert [(r[1], r[2]) for r in rows] == [("R0003", "waiting"), ("R0003", "transferred")]
    assert rows[1][3] == rows[0][0] == new["ticket_id"]
    assert clock() > rows[0][4] == rows[1][4]  # keeps its place: it waited once already
    assert rows[0][5] == rows[1][5]  # arrived when the first ticket was issued
    assert ok(hall.session(c).get(f"{hall.url}/v1/counter/state", timeout=10))["current"] is None

    other = clerk(hall, "c5", 5)
    assert call_next(hall, other)["number"] == "YB001"


def test_a_transfer_is_refused_when_the_resident_already_waits_there(hall: RunningHall) -> None:
    c = clerk(hall, "c3", 3)
    take(hall, resident="R0001")
    take(hall, "medical_insurance", resident="R0001")
    called = call_next(hall, c)
    answer = post(hall, c, "transfer", {"ticket_id": called["ticket_id"],
                                        "category": "medical_insurance"})
    assert error(answer, 409) == "already_waiting"
    assert answer.json()["number"] == "B001"
    assert hall.sql("SELECT state FROM ticket WHERE id = %s",
                    (called["ticket_id"],)) == [("called",)]
    same = post(hall, c, "transfer", {"ticket_id": called["ticket_id"],
                                      "category": "social_security"})
    assert error(same, 409) == "same_category"


def test_finishing_measures_service_time_and_estimates_use_it_from_three(
    hall: RunningHall, clock: FakeClock,
) -> None:
    c = clerk(hall, "c3", 3)
    for _ in range(3):
        take(hall)

    def serve_in(minutes: float) -> dict[str, Any]:
        ticket = call_next(hall, c)
        clock.advance(minutes=minutes)
        return ok(post(hall, c, "finish", {"ticket_id": ticket["ticket_id"]}))

    done = [serve_in(2), serve_in(2)]
    assert [d["service_min"] for d in done] == [2.0, 2.0]
    assert hall.sql("SELECT extract(epoch FROM finished_at - called_at) FROM ticket "
                    "WHERE state = 'finished'") == [(120,), (120,)]
    two_samples = take(hall)  # A003 ahead; two measured services are not enough yet
    assert (two_samples["ahead"], two_samples["estimated_wait_min"]) == (1, 8)

    serve_in(2)
    three_samples = take(hall)  # A004 ahead; one counter open, 2 minutes a service
    assert (three_samples["ahead"], three_samples["estimated_wait_min"]) == (1, 2)


def test_every_action_is_logged_with_its_counter_and_staff_member(
    hall: RunningHall, clock: FakeClock,
) -> None:
    c = clerk(hall, "c3", 3)
    take(hall)
    take(hall)
    first = call_next(hall, c)
    ok(post(hall, c, "recall", {"ticket_id": first["ticket_id"]}))
    ok(post(hall, c, "no-show", {"ticket_id": first["ticket_id"]}))
    ok(post(hall, c, "return", {"number": first["number"]}))
    again = call_next(hall, c)
    ok(post(hall, c, "transfer", {"ticket_id": again["ticket_id"], "category": "household"}))
    last = call_next(hall, c)
    ok(post(hall, c, "finish", {"ticket_id": last["ticket_id"]}))

    staff_id = hall.sql("SELECT id FROM staff WHERE username = 'c3'")[0][0]
    log = hall.sql("SELECT kind, counter_no, staff_id, at FROM hall_event "
                   "WHERE kind <> 'issued' ORDER BY id")
    assert [k for k, *_ in log] == ["called", "recalled", "no_show", "returned", "called",
                                    "transferred", "called", "finished"]
    assert {(n, s) for _, n, s, _ in log} == {(3, staff_id)}
    assert {a for *_, a in log} == {clock()}  # the hall's clock, not the database's


def test_the_counter_sees_the_resident_masked_with_appointment_and_application(
    hall: RunningHall, clock: FakeClock,
) -> None:
    c = clerk(hall, "c3", 3)
    execute(hall, "INSERT INTO application (reference, public_id, center_id, resident_id, "
            "bundle_id, submitted_at, processing_days, submission, progress_code, status) "
            "VALUES ('YW20261207000001', 'pubTodayXYZ', %s, 'R0005', 'birth', %s, 5, '{}', "
            "'123456', 'submitted'), ('YW20261206000009', 'pubYesterdayXYZ', %s, 'R0005', "
            "'birth', %s, 5, '{}', '654321', 'submitted')",
            (hall.center, clock(), hall.center, clock() - dt.timedelta(days=1)))
    ticket = take(hall, resident="R0005")  # 刘芳, with an appointment starting at 10:10
    assert ticket["priority_reason"] == "appointment"

    seen = call_next(hall, c)

    assert seen["resident_name"] == "刘*"
    assert seen["appointment"]["appointment_id"].endswith("R0005")
    assert dt.datetime.fromisoformat(seen["appointment"]["starts_at"]) == (
        OPEN_MONDAY + dt.timedelta(minutes=10))
    assert seen["application_references"] == ["YW20261207000001"]
    state = ok(hall.session(c).get(f"{hall.url}/v1/counter/state", timeout=10))
    assert state["current"] == seen
    text = str(state)
    id_number, phone = hall.sql("SELECT id_number, phone FROM resident "
                                "WHERE resident_id = 'R0005'")[0]
    # (The resident id does show, inside the demo appointments' ids: AP<date><resident>.)
    for secret in ("刘芳", id_number, phone, "123456", "pubTodayXYZ", "birth"):
        assert secret not in text


def test_the_counter_state_lists_its_categories_in_serving_order(hall: RunningHall) -> None:
    c = clerk(hall, "c1", 1)
    take(hall, "medical_insurance")
    take(hall, resident="R0002")
    take(hall)
    state = ok(hall.session(c).get(f"{hall.url}/v1/counter/state", timeout=10))
    assert (state["counter"], state["counter_name"]["zh"], state["current"]) == (1, "1号窗口",
                                                                                 None)
    assert [(w["category"], w["waiting"], w["priority_waiting"]) for w in state["waiting"]] == [
        ("social_security", 2, 1), ("medical_insurance", 1, 0)]
    # Where a transfer may go: every category of the center, in the rules file's order.
    assert [c["category"] for c in state["categories"]] == [
        c.id for c in hall.settings.rules.centers[0].config.categories]


def test_only_a_clerk_at_a_counter_may_call(hall: RunningHall) -> None:
    roaming = clerk(hall, "floor", None, role="supervisor")
    take(hall)
    answer = post(hall, roaming, "call-next")
    assert error(answer, 409) == "no_counter"
    assert answer.json()["message"]["zh"]
    assert error(post(hall, "board-1", "call-next"), 403) == "forbidden"
    assert error(post(hall, "counter-3", "call-next"), 403) == "forbidden"
    assert error(post(hall, "kiosk-1", "call-next"), 403) == "forbidden"
    assert hall.session(None).post(f"{hall.url}/v1/counter/call-next", timeout=10,
                                   headers={"Idempotency-Key": "k" * 10}).status_code == 401
