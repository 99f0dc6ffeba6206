"""What kiosks record at the hall: ratings (each target once), usage events (no personal
data), used personal codes, and the hall's own public keys."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import requests

from tests.hall.test_residents import ORDINARY, as_resident, identify
from tests.helpers.clock import FakeClock
from tests.helpers.hall import RunningHall


def _post(hall: RunningHall, who: str, path: str, body: dict[str, Any],
          key: str | None = None) -> requests.Response:
    return hall.session(who).post(f"{hall.url}/v1/{path}", json=body,
                                  headers={"Idempotency-Key": key or uuid.uuid4().hex},
                                  timeout=30)


def _ticket(hall: RunningHall) -> dict[str, Any]:
    r = _post(hall, "kiosk-1", "tickets", {"category": "social_security"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _rating(target_kind: str = "ticket", target_id: str | None = None,
            **extra: Any) -> dict[str, Any]:
    return {"level": 5, "reasons": ["fast", "polite"], "target_kind": target_kind,
            "target_id": target_id, **extra}


def test_a_ticket_is_rated_once_with_the_counter_that_served_it(hall: RunningHall) -> None:
    ticket = _ticket(hall)
    # Calling a number is the counter router's; here it is as if counter 3 had served it.
    hall.sql("UPDATE ticket SET state = 'finished', counter_no = 3 WHERE id = %s RETURNING 1",
             (ticket["ticket_id"],))
    body = _rating(target_id=ticket["ticket_id"], reasons=["fast", "fast", "polite"])
    first = _post(hall, "kiosk-2", "ratings", body, key="rating-key-1")
    assert first.status_code == 200, first.text
    assert _post(hall, "kiosk-2", "ratings", body, key="rating-key-1").json() == first.json()
    again = _post(hall, "kiosk-1", "ratings", {**body, "level": 1})
    assert (again.status_code, again.json()["error"]) == (409, "already_rated")
    rows = hall.sql("SELECT level, reasons, counter_no, target_id, device_id IS NOT NULL "
                    "FROM rating")
    assert rows == [(5, ["fast", "polite"], 3, ticket["ticket_id"], True)]
    assert hall.sql("SELECT counter_no FROM hall_event WHERE kind = 'rated'") == [(3,)]


def test_a_rating_names_something_this_center_has(hall: RunningHall) -> None:
    r = _post(hall, "kiosk-1", "ratings", _rating(target_id="NoSuchTicket123"))
    assert (r.status_code, r.json()["error"]) == (404, "unknown_target")
    for bad in (_rating(target_id="x", level=6), _rating(target_id="x", reasons=["rude"]),
                _rating("none", "x"), _rating("ticket", None), _rating(target_id="x/../y"),
                {**_rating(target_id="x"), "counter_no": 1}):
        r = _post(hall, "kiosk-1", "ratings", bad)
        assert (r.status_code, r.json()["error"]) == (422, "invalid_request"), bad
    # Without a target (the kiosk as a whole), as often as residents like.
    for _ in range(2):
        assert _post(hall, "kiosk-1", "ratings", _rating("none", None)).status_code == 200
    assert hall.session("board-1").post(
        f"{hall.url}/v1/ratings", json=_rating("none", None),
        headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30).status_code == 403
    assert hall.sql("SELECT count(*) FROM rating")[0][0] == 2


def test_an_application_is_rated_once_by_either_of_its_ids(hall: RunningHall) -> None:
    me = identify(hall, "kiosk-1", ORDINARY)
    r = as_resident(hall, "kiosk-1", me["session"]).post(
        f"{hall.url}/v1/applications", json={"bundle_id": "newborn", "processing_days": 3,
                                             "submission": {}},
        headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    receipt = r.json()
    ok = _post(hall, "kiosk-1", "ratings", _rating("application", receipt["public_id"]))
    assert ok.status_code == 200, ok.text
    again = _post(hall, "kiosk-1", "ratings", _rating("application", receipt["reference"]))
    assert (again.status_code, again.json()["error"]) == (409, "already_rated")
    assert hall.sql("SELECT target_id FROM rating") == [(receipt["reference"],)]


def test_usage_events_are_counted_once_a_key_and_carry_no_personal_data(
    hall: RunningHall, clock: FakeClock,
) -> None:
    event = {"kind": "flow_finished", "flow": "bundle:newborn", "step": "confirm",
             "duration_s": 42.5}
    assert _post(hall, "kiosk-1", "usage-events", event, key="event-key-1").json() == {
        "recorded": True}
    assert _post(hall, "kiosk-1", "usage-events", event, key="event-key-1").status_code == 200
    late = (clock() - dt.timedelta(minutes=30)).isoformat()
    future = (clock() + dt.timedelta(hours=2)).isoformat()
    for at in (late, future):
        assert _post(hall, "kiosk-1", "usage-events",
                     {"kind": "flow_started", "flow": "take_number", "at": at}).status_code == 200
    rows = hall.sql("SELECT kind, flow, step, duration_s, at FROM usage_event ORDER BY id")
    assert [r[:4] for r in rows] == [("flow_finished", "bundle:newborn", "confirm", 42.5),
                                     ("flow_started", "take_number", "", None),
                                     ("flow_started", "take_number", "", None)]
    assert rows[1][4] == clock() - dt.timedelta(minutes=30)
    assert rows[2][4] == clock()  # never later than the hall's time
    for bad in ({"kind": "flow_finished", "flow": "phone_13800000001"},
                {"kind": "flow_finished", "flow": "Take_Number"},
                {"kind": "flow_finished", "flow": ""},
                {"kind": "flow_finished", "flow": "query", "step": "张伟明"},
                {"kind": "clicked", "flow": "query"},
                {"kind": "flow_finished", "flow": "query", "duration_s": -1},
                {"kind": "flow_finished", "flow": "query", "kiosk_id": "kiosk-9"}):
        r = _post(hall, "kiosk-1", "usage-events", bad)
        assert r.status_code == 422, bad
        assert "13800000001" not in r.text and "张伟明" not in r.text
    assert hall.sql("SELECT count(*) FROM usage_event")[0][0] == 3


def test_a_used_code_is_remembered_until_it_expires(hall: RunningHall, clock: FakeClock) -> None:
    expires = int(clock().timestamp()) + 70
    claim: dict[str, Any] = {"key_id": "demo", "nonce": "abcdefghijkl", "expires_at": expires}

    def new(who: str) -> bool:
        r = hall.session(who).post(f"{hall.url}/v1/used-nonces", json=claim, timeout=30)
        assert r.status_code == 200, r.text
        answer: bool = r.json()["new"]
        return answer

    assert (new("kiosk-1"), new("kiosk-2")) == (True, False)
    clock.advance(seconds=71)
    assert new("kiosk-2") is True  # expired: every kiosk refuses the code by its time
    assert hall.sql("SELECT count(*) FROM used_nonce")[0][0] == 1
    far = {**claim, "nonce": "mnopqrstuvwx", "expires_at": expires + 10 * 365 * 86400}
    assert hall.session("kiosk-1").post(f"{hall.url}/v1/used-nonces", json=far,
                                        timeout=30).json() == {"new": True}
    [(kept,)] = hall.sql("SELECT expires_at FROM used_nonce WHERE nonce = 'mnopqrstuvwx'")
    assert kept <= clock() + dt.timedelta(days=1)
    for bad in ({**claim, "nonce": "short"}, {**claim, "key_id": "a b"},
                {**claim, "expires_at": -1}, {**claim, "device": "kiosk-9"}):
        r = hall.session("kiosk-1").post(f"{hall.url}/v1/used-nonces", json=bad, timeout=30)
        assert r.status_code == 422, bad
    assert hall.session("board-1").post(f"{hall.url}/v1/used-nonces", json=claim,
                                        timeout=30).status_code == 403


def test_trusted_keys_are_the_halls_own_and_a_tickets_code_is_its_phone_address(
        hall: RunningHall) -> None:
    ticket = _ticket(hall)
    hall.sign_in("clerk1", hall.tokens["clerk-pw"])
    for who in ("kiosk-1", "board-1", "counter-3", "clerk1"):
        keys = hall.session(who).get(f"{hall.url}/v1/trusted-keys", timeout=30).json()
        assert len(keys) == 1, who
    assert "demo" not in keys  # the issuers' keys are not the hall's
    # The ticket's QR code is the address of its page on the hall's public address (a
    # phone's camera opens it; a kiosk's 办件查询 reads the ticket id from it).
    assert ticket["tracking_code"] == f"{hall.settings.public_url}/t/{ticket['ticket_id']}"
    assert hall.session(None).get(ticket["tracking_code"], timeout=30).status_code == 200
    assert hall.session(None).get(f"{hall.url}/v1/trusted-keys", timeout=30).status_code == 401
