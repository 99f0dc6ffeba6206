"""The hall client's identification by a resident ID card the kiosk's reader read, against a
stand-in hall (fake_hall.py): what goes on the wire, the hall's answers as the kiosk's (an
unknown card is None, a kiosk the hall was not told has a reader is IdCardNotAccepted with
the hall's words), and no ID number or name in an exception or a log line. Against the real
hall: tests/hall/test_id_card_identity.py and tests/integration/test_hall_id_card.py."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from kiosk.backend.interface import BackendError, IdCardNotAccepted
from kiosk.delivery.http_client import HttpBackend
from kiosk.domain import idnumber
from tests.unit.delivery.fake_hall import TOKEN, FakeHall, client_of, hall_error
from tests.unit.delivery.test_http_client import SESSION, resident_reply, ticket_request

HEAD = "31010419400506102"
NUMBER = HEAD + idnumber.check_digit(HEAD)
NAME = "王秀英"
ROUTE = ("POST", "/v1/kiosk/residents/id-card")
NOT_ALLOWED = (403, {"error": "id_card_not_allowed",
                     "message": {"zh": "请出示随申码，或联系工作人员。",
                                 "en": "Please show the Suishenma code, or ask a staff member."},
                     "reason": "device XH-01 is not marked as having an ID card reader the hall "
                               "trusts: an administrator runs `kiosk hall set-id-card-reader "
                               "XH-01 on`"})


@pytest.fixture
def hall() -> Iterator[FakeHall]:
    server = FakeHall({
        ROUTE: (200, resident_reply(masked_name="王**", entitlements=[],
                                    priority_reason="age")),
        ("GET", "/v1/kiosk/resident/prefill"): (200, {"values": {"resident.name": "王**"},
                                                      "licenses": []}),
        ("POST", "/v1/tickets"): (200, {
            "ticket_id": "t" * 22, "number": "YA001", "category": "social_security",
            "priority": True, "priority_reason": "age", "ahead": 0, "estimated_wait_min": 0,
            "issued_at": "2026-12-07T02:00:00+00:00", "tracking_code": "SHK1.T.xyz",
            "already_waiting": False, "offline": False, "state": "waiting"}),
    })
    yield server
    server.close()


@pytest.fixture
def client(hall: FakeHall) -> Iterator[HttpBackend]:
    with client_of(hall) as c:
        yield c


def test_the_card_is_sent_and_the_hall_answers_as_for_a_code(client: HttpBackend,
                                                             hall: FakeHall) -> None:
    person = client.identify_by_id_card(f" {NUMBER[:17]}{NUMBER[17].lower()} ", f" {NAME} ")
    assert person is not None
    (sent,) = hall.seen(*ROUTE)
    assert sent.body == {"id_number": NUMBER.upper(), "name": NAME}
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert 8 <= len(sent.headers["idempotency-key"]) <= 100
    # The key is no function of the card (a hash of an ID number is guessable).
    assert NUMBER not in sent.headers["idempotency-key"]
    # The hall's derivation and words, nothing it did not send.
    assert (person.name, person.id_number, person.phone) == ("王**", "", "")
    assert person.priority_reason == "age"
    # The session goes with every later call about the resident, under the kiosk's own id.
    assert client.prefill(person.resident_id) == {"resident.name": "王**"}
    assert hall.seen("GET", "/v1/kiosk/resident/prefill")[0].headers[
        "x-resident-session"] == SESSION
    client.issue_ticket(ticket_request(resident_id=person.resident_id, appointment_id=None),
                        "ticket-key-1")
    assert hall.seen("POST", "/v1/tickets")[0].body["resident_session"] == SESSION


def test_each_read_is_a_request_of_its_own(client: HttpBackend, hall: FakeHall) -> None:
    first = client.identify_by_id_card(NUMBER, NAME)
    second = client.identify_by_id_card(NUMBER, NAME)
    assert first is not None and second is not None
    keys = [r.headers["idempotency-key"] for r in hall.seen(*ROUTE)]
    assert len(set(keys)) == 2
    assert first.resident_id != second.resident_id


def test_nobody_with_that_number_and_name_is_none(client: HttpBackend, hall: FakeHall) -> None:
    hall.replies[ROUTE] = hall_error(404, "unknown_resident")
    assert client.identify_by_id_card(NUMBER, NAME) is None


def test_a_kiosk_the_hall_was_not_told_of_hears_why(client: HttpBackend, hall: FakeHall,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    hall.replies[ROUTE] = NOT_ALLOWED
    with caplog.at_level(logging.WARNING), pytest.raises(IdCardNotAccepted) as info:
        client.identify_by_id_card(NUMBER, NAME)
    assert info.value.message is not None
    assert info.value.message.zh == "请出示随申码，或联系工作人员。"
    assert "Suishenma" in info.value.message.get("en")
    # The technician reads the command that fixes it, in the log.
    assert "kiosk hall set-id-card-reader XH-01 on" in caplog.text
    assert "kiosk hall set-id-card-reader XH-01 on" in str(info.value)
    for secret in (NUMBER, NAME, NUMBER[6:14]):
        assert secret not in caplog.text and secret not in str(info.value)


def test_another_refusal_is_not_taken_for_a_cards(client: HttpBackend, hall: FakeHall) -> None:
    hall.replies[ROUTE] = hall_error(403, "forbidden")
    with pytest.raises(BackendError) as info:
        client.identify_by_id_card(NUMBER, NAME)
    assert not isinstance(info.value, IdCardNotAccepted)
    hall.replies[ROUTE] = hall_error(422, "invalid_id_number", "The ID number did not pass")
    with pytest.raises(ValueError):
        client.identify_by_id_card(NUMBER, NAME)
