"""办件查询 of a hall's ticket through the kiosk's client: GET /v1/public/tickets/{id} (the
phone page's view, read by the kiosk with its token), read against a stand-in hall
(tests/unit/delivery/fake_hall.py). An unknown ticket is an answer (None), not a fault; a
hall without the route, or no hall at all, is a BackendError the screen words as such."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.backend.interface import BackendError, TicketState
from kiosk.common.clock import SHANGHAI
from kiosk.delivery.faults import BackendNotReached
from kiosk.delivery.http_client import PUBLIC_TICKET, ROUTES, BackendReplyError, HttpBackend
from kiosk.domain.text import Bilingual
from tests.unit.delivery.fake_hall import TOKEN, FakeHall, client_of, hall_error
from tests.unit.delivery.test_http_client import free_port

TICKET_ID = "tk_" + "Q" * 19
NEW_TICKET_ID = "tk_" + "N" * 19
PATH = f"/v1/public/tickets/{TICKET_ID}"


def public_ticket(**changes: Any) -> dict[str, Any]:
    """A reply as kiosk/hall/api/public.py gives it (its fields the kiosk does not read
    included)."""
    return {"ticket_id": TICKET_ID, "number": "A012", "category": "social_security",
            "category_title": {"zh": "社保业务", "en": "Social security"},
            "state": "waiting", "priority": False, "ahead": 3, "estimated_wait_min": 24,
            "counter": None, "counter_name": None, "called_at": None,
            "issued_at": "2026-12-07T01:58:00Z", "return_until": None,
            "now_ticket_id": None, "masked_surname": "张*",
            "center_name": {"zh": "示范中心", "en": "Demo Center"},
            "rating": {"allowed": False, "given": False},
            "at": "2026-12-07T10:00:00+08:00", **changes}


@pytest.fixture
def hall() -> Iterator[FakeHall]:
    server = FakeHall({("GET", PATH): (200, public_ticket())})
    yield server
    server.close()


@pytest.fixture
def client(hall: FakeHall) -> Iterator[HttpBackend]:
    with client_of(hall) as c:
        yield c


def test_a_waiting_ticket_is_read_with_the_kiosks_token(client, hall):
    found = client.ticket_progress(TICKET_ID)
    assert found is not None
    assert (found.ticket_id, found.number, found.category, found.state) == (
        TICKET_ID, "A012", "social_security", TicketState.WAITING)
    assert found.category_title == Bilingual(zh="社保业务", en="Social security")
    assert (found.ahead, found.estimated_wait_min, found.counter) == (3, 24, None)
    assert found.issued_at == dt.datetime(2026, 12, 7, 9, 58, tzinfo=SHANGHAI)
    assert found.issued_at is not None and found.issued_at.tzinfo is SHANGHAI
    (seen,) = hall.seen("GET", PATH)
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert "idempotency-key" not in seen.headers and "x-resident-session" not in seen.headers
    assert PUBLIC_TICKET in ROUTES


def test_a_called_no_show_and_transferred_ticket(client, hall):
    hall.replies[("GET", PATH)] = (200, public_ticket(
        state="called", ahead=None, estimated_wait_min=None, counter=3,
        counter_name={"zh": "3号窗口", "en": "Counter 3"},
        called_at="2026-12-07T10:20:00+08:00"))
    found = client.ticket_progress(TICKET_ID)
    assert found is not None and found.state is TicketState.CALLED
    assert found.counter == 3 and found.counter_name == Bilingual(zh="3号窗口", en="Counter 3")
    assert found.called_at == dt.datetime(2026, 12, 7, 10, 20, tzinfo=SHANGHAI)

    hall.replies[("GET", PATH)] = (200, public_ticket(
        state="no_show", ahead=None, estimated_wait_min=None, counter=3,
        called_at="2026-12-07T10:20:00+08:00", return_until="2026-12-07T02:50:00Z"))
    found = client.ticket_progress(TICKET_ID)
    assert found is not None and found.state is TicketState.NO_SHOW
    assert found.return_until == dt.datetime(2026, 12, 7, 10, 50, tzinfo=SHANGHAI)

    hall.replies[("GET", PATH)] = (200, public_ticket(
        state="transferred", ahead=None, estimated_wait_min=None, now_ticket_id=NEW_TICKET_ID))
    found = client.ticket_progress(TICKET_ID)
    assert found is not None and found.state is TicketState.TRANSFERRED
    assert found.now_ticket_id == NEW_TICKET_ID


def test_an_unknown_ticket_is_none(client, hall):
    hall.replies[("GET", PATH)] = hall_error(404, "unknown_ticket", "No such ticket")
    assert client.ticket_progress(TICKET_ID) is None


def test_an_id_the_hall_never_issues_is_none_without_asking(client, hall):
    for bad in ("short", "x" * 65, "../../v1/queue", "", "号码号码号码号码"):
        assert client.ticket_progress(bad) is None
    assert hall.requests == []


def test_a_hall_without_the_route_is_a_fault_not_an_unknown_ticket(client, hall):
    del hall.replies[("GET", PATH)]  # FastAPI's own 404: {"detail": "Not Found"}
    with pytest.raises(BackendReplyError, match="up to date"):
        client.ticket_progress(TICKET_ID)
    hall.replies[("GET", PATH)] = (200, public_ticket(state="lost"))
    with pytest.raises(BackendReplyError, match="shape"):
        client.ticket_progress(TICKET_ID)


def test_no_hall_is_unreachable_and_the_id_stays_out_of_logs(caplog):
    caplog.set_level(logging.DEBUG)
    c = HttpBackend(f"http://127.0.0.1:{free_port()}", token=TOKEN, connect_timeout_s=0.5,
                    read_timeout_s=1.0)
    try:
        with pytest.raises(BackendNotReached) as info:
            c.ticket_progress(TICKET_ID)
    finally:
        c.close()
    assert isinstance(info.value, BackendError)
    assert TICKET_ID not in str(info.value)
    assert TICKET_ID not in caplog.text and TOKEN not in caplog.text
