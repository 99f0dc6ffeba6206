"""Taking numbers at the hall: one statement allocates, nothing repeats."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.helpers.hall import RunningHall


def _take(hall: RunningHall, who: str, category: str = "social_security",
          key: str | None = None, **extra: object) -> dict:
    r = hall.session(who).post(f"{hall.url}/v1/tickets", json={"category": category, **extra},
                               headers={"Idempotency-Key": key or uuid.uuid4().hex}, timeout=30)
    assert r.status_code == 200, r.text
    body: dict = r.json()
    return body


def test_a_kiosk_takes_a_number(hall):
    first = _take(hall, "kiosk-1")
    second = _take(hall, "kiosk-2")
    assert (first["number"], second["number"]) == ("A001", "A002")
    assert second["ahead"] == 1
    assert len(first["ticket_id"]) >= 22 and "A001" not in first["ticket_id"]


def test_the_same_key_gives_the_same_ticket(hall):
    a = _take(hall, "kiosk-1", key="same-key-123")
    b = _take(hall, "kiosk-1", key="same-key-123")
    assert a == b
    assert hall.sql("SELECT count(*) FROM ticket")[0][0] == 1


def test_200_concurrent_tickets_are_numbered_1_to_200(hall):
    with ThreadPoolExecutor(32) as pool:
        numbers = list(pool.map(lambda i: _take(hall, f"kiosk-{1 + i % 2}")["number"],
                                range(200)))
    assert sorted(numbers) == [f"A{i:03d}" for i in range(1, 201)]
