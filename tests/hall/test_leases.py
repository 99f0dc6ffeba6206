"""Offline number leases: a block never overlaps another number, and a ticket issued from it
is accepted once, from its own kiosk, at a time the kiosk's clock cannot move ahead."""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.helpers.clock import FakeClock
from tests.helpers.hall import RunningHall

LEASE_SIZE = 20  # config/hall.yaml: fairness.offline_lease_size


def _post(hall: RunningHall, who: str, path: str, body: dict[str, Any],
          key: str | None = None) -> tuple[int, dict[str, Any]]:
    r = hall.session(who).post(f"{hall.url}{path}", json=body,
                               headers={"Idempotency-Key": key or uuid.uuid4().hex}, timeout=30)
    return r.status_code, r.json()


def _lease(hall: RunningHall, who: str, category: str = "social_security",
           priority: bool = False) -> dict[str, Any]:
    status, body = _post(hall, who, "/v1/leases", {"category": category, "priority": priority})
    assert status == 200, body
    return body


def _offline(hall: RunningHall, who: str, lease: dict[str, Any], seq: int,
             issued_at: dt.datetime, key: str | None = None,
             reason: str = "") -> tuple[int, dict[str, Any]]:
    return _post(hall, who, "/v1/offline-tickets", {
        "lease_id": lease["lease_id"], "seq": seq, "category": lease["category"],
        "issued_at": issued_at.isoformat(), "priority_reason": reason}, key=key)


def test_leases_and_online_numbers_never_overlap(hall: RunningHall) -> None:
    def job(i: int) -> tuple[str, Any]:
        kiosk = f"kiosk-{1 + i % 2}"
        if i % 4 == 0:
            return "lease", _lease(hall, kiosk)
        status, body = _post(hall, kiosk, "/v1/tickets", {"category": "social_security"})
        assert status == 200, body
        return "ticket", body["number"]

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(job, range(120)))
    leased = [n for kind, lease in results if kind == "lease"
              for n in range(lease["first"], lease["last"] + 1)]
    online = [int(str(number)[1:]) for kind, number in results if kind == "ticket"]
    assert len(leased) == 30 * LEASE_SIZE and len(online) == 90
    # Every number once, and none skipped: one counter hands out both.
    assert sorted(leased + online) == list(range(1, 30 * LEASE_SIZE + 90 + 1))
    assert hall.sql("SELECT count(*) FROM number_lease")[0][0] == 30


def test_an_offline_ticket_is_accepted_once(hall: RunningHall, clock: FakeClock) -> None:
    _post(hall, "kiosk-2", "/v1/tickets", {"category": "social_security"})
    lease = _lease(hall, "kiosk-1")
    assert (lease["series"], lease["first"], lease["last"]) == ("A", 2, 1 + LEASE_SIZE)
    clock.advance(minutes=10)
    issued = clock() - dt.timedelta(minutes=4)

    status, ticket = _offline(hall, "kiosk-1", lease, 2, issued, key="offline-key-1")
    assert status == 200, ticket
    assert (ticket["number"], ticket["offline"], ticket["priority"]) == ("A002", True, False)
    assert dt.datetime.fromisoformat(ticket["issued_at"]) == issued
    assert ticket["ahead"] == 1  # behind A001, taken before the lease

    assert _offline(hall, "kiosk-1", lease, 2, issued, key="offline-key-1") == (200, ticket)
    status, body = _offline(hall, "kiosk-1", lease, 2, issued, key="offline-key-2")
    assert status == 409 and body["error"] == "number_used"
    assert hall.sql("SELECT count(*) FROM ticket WHERE offline")[0][0] == 1

    r = hall.session("kiosk-1").get(f"{hall.url}/v1/leases", timeout=30)
    assert r.status_code == 200
    assert [(x["lease_id"], x["used"]) for x in r.json()] == [(lease["lease_id"], [2])]
    (data,) = hall.sql("SELECT data FROM hall_event WHERE kind = 'offline_issued'")[0]
    assert data["offline"] is True and data["number"] == "A002"


def test_an_offline_ticket_outside_its_lease_is_refused(
    hall: RunningHall, clock: FakeClock
) -> None:
    lease = _lease(hall, "kiosk-1")
    other = _lease(hall, "kiosk-2")
    at = clock()
    for who, seq in (("kiosk-1", lease["last"] + 1),  # beyond the block
                     ("kiosk-1", other["first"]),     # another kiosk's block
                     ("kiosk-2", lease["first"])):    # this block, another kiosk
        status, body = _offline(hall, who, lease, seq, at)
        assert status == 409 and body["error"] == "not_leased", (who, seq)
    status, body = _post(hall, "kiosk-1", "/v1/offline-tickets", {
        "lease_id": lease["lease_id"], "seq": lease["first"], "category": "household",
        "issued_at": at.isoformat(), "priority_reason": ""})
    assert status == 409 and body["error"] == "not_leased"
    assert hall.sql("SELECT count(*) FROM ticket")[0][0] == 0


def test_a_lease_of_yesterday_is_void(hall: RunningHall, clock: FakeClock) -> None:
    lease = _lease(hall, "kiosk-1")
    clock.advance(days=1)
    status, body = _offline(hall, "kiosk-1", lease, lease["first"], clock())
    assert status == 409 and body["error"] == "not_leased"
    r = hall.session("kiosk-1").get(f"{hall.url}/v1/leases", timeout=30)
    assert r.json() == []


def test_the_kiosk_clock_cannot_jump_the_queue(hall: RunningHall, clock: FakeClock) -> None:
    lease = _lease(hall, "kiosk-1")
    leased_at = dt.datetime.fromisoformat(lease["created_at"])
    clock.advance(minutes=30)
    early = leased_at - dt.timedelta(hours=3)
    status, first = _offline(hall, "kiosk-1", lease, lease["first"], early)
    assert status == 200
    assert dt.datetime.fromisoformat(first["issued_at"]) == leased_at
    late = clock() + dt.timedelta(hours=2)
    status, second = _offline(hall, "kiosk-1", lease, lease["first"] + 1, late)
    assert status == 200
    assert dt.datetime.fromisoformat(second["issued_at"]) == clock()
    queued = hall.sql("SELECT queued_at FROM ticket ORDER BY seq")
    assert [q for (q,) in queued] == [leased_at, clock()]
    (data,) = hall.sql("SELECT data FROM hall_event WHERE kind = 'offline_issued' "
                       "ORDER BY id LIMIT 1")[0]
    assert dt.datetime.fromisoformat(data["kiosk_issued_at"]) == early


def test_a_priority_lease_keeps_its_series_and_the_reason_is_logged(
    hall: RunningHall, clock: FakeClock
) -> None:
    lease = _lease(hall, "kiosk-1", priority=True)
    assert (lease["series"], lease["first"]) == ("YA", 1)
    status, body = _offline(hall, "kiosk-1", lease, 1, clock())
    assert status == 422 and body["error"] == "priority_mismatch"
    status, ticket = _offline(hall, "kiosk-1", lease, 1, clock(), reason="age")
    assert status == 200
    assert (ticket["number"], ticket["priority"], ticket["priority_reason"]) == (
        "YA001", True, "age")
    (data,) = hall.sql("SELECT data FROM hall_event WHERE kind = 'offline_issued'")[0]
    assert (data["offline"], data["priority_reason"]) == (True, "age")

    ordinary = _lease(hall, "kiosk-1")
    status, body = _offline(hall, "kiosk-1", ordinary, ordinary["first"], clock(),
                            reason="entitlement")
    assert status == 422 and body["error"] == "priority_mismatch"


def test_only_kiosks_lease(hall: RunningHall) -> None:
    hall.sign_in("clerk1", hall.tokens["clerk-pw"])
    status, _ = _post(hall, "clerk1", "/v1/leases", {"category": "social_security"})
    assert status == 403
    status, body = _post(hall, "kiosk-1", "/v1/leases", {"category": "no_such_thing"})
    assert status == 422 and body["error"] == "unknown_category"


def test_one_number_delivered_twice_at_once_is_taken_once(hall: RunningHall,
                                                         clock: FakeClock) -> None:
    lease = _lease(hall, "kiosk-1")
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: _offline(hall, "kiosk-1", lease, lease["first"],
                                                   clock())[0], range(8)))
    assert sorted(answers) == [200] + [409] * 7
    assert hall.sql("SELECT count(*) FROM ticket")[0][0] == 1
