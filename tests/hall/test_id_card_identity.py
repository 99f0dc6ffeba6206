"""A resident identified at a hall's kiosk by the resident ID card its reader read: the hall
cannot check a card read, so it takes the number and name only from a kiosk an administrator
marked as having a reader, and answers exactly as for a 随申码 (masked facts, a session)."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain import idnumber
from tests.hall.test_residents import as_resident, code_for, personal_data, post_code, recording
from tests.helpers.hall import RunningHall

ORDINARY = DEMO_RESIDENTS["ordinary"]
AGED = DEMO_RESIDENTS["aged_85"]
URL = "/v1/kiosk/residents/id-card"


def card_of(hall: RunningHall, resident_id: str) -> dict[str, str]:
    """What the reader reads from this resident's card: their number and name."""
    name, id_number = hall.sql("SELECT name, id_number FROM resident WHERE resident_id = %s",
                               (resident_id,))[0]
    return {"id_number": id_number, "name": name}


def post_card(hall: RunningHall, kiosk: str, body: dict[str, Any], key: str | None = None,
              session: requests.Session | None = None) -> requests.Response:
    return (session or hall.session(kiosk)).post(
        f"{hall.url}{URL}", json=body, headers={"Idempotency-Key": key or uuid.uuid4().hex},
        timeout=30)


def reader_kiosk(hall: RunningHall) -> str:
    hall.add_device("kiosk", "kiosk-card", reads_id_cards=True)
    return "kiosk-card"


def test_a_kiosk_with_a_reader_identifies_the_card_holder_as_a_code_would(
    hall: RunningHall,
) -> None:
    kiosk = reader_kiosk(hall)
    seen: list[str] = []
    session = recording(hall.session(kiosk), seen)
    r = post_card(hall, kiosk, card_of(hall, AGED), session=session)
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["priority_reason"] == "age"
    assert me["session"].startswith("res_")
    # The same masked facts a code gives for the same resident.
    by_code = post_code(hall, kiosk, code_for(hall, AGED)).json()
    assert {k: v for k, v in me.items() if k != "session"} == {
        k: v for k, v in by_code.items() if k != "session"}
    assert me["masked_name"].endswith("*") and len(me["masked_name"]) >= 2
    # The session then works for everything a code's does.
    session.headers["X-Resident-Session"] = me["session"]
    licenses = session.get(f"{hall.url}/v1/kiosk/resident/licenses", timeout=30)
    assert licenses.status_code == 200 and "id_card" in [x["kind"] for x in licenses.json()]
    assert all("*" in x["number_masked"] for x in licenses.json())
    prefill = session.get(f"{hall.url}/v1/kiosk/resident/prefill", timeout=30)
    assert prefill.status_code == 200
    assert prefill.json()["values"]["resident.name"] == me["masked_name"]
    ticket = hall.session(kiosk).post(
        f"{hall.url}/v1/tickets", json={"category": "social_security",
                                        "resident_session": me["session"]},
        headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30).json()
    assert (ticket["priority"], ticket["priority_reason"]) == (True, "age")
    for secret in personal_data(hall, AGED):
        assert not any(secret in body for body in seen), secret


def test_a_kiosk_not_marked_as_having_a_reader_is_refused(hall: RunningHall) -> None:
    r = post_card(hall, "kiosk-1", card_of(hall, AGED))
    assert r.status_code == 403
    body = r.json()
    assert body["error"] == "id_card_not_allowed"
    assert "随申码" in body["message"]["zh"] and "工作人员" in body["message"]["zh"]
    assert "Suishenma" in body["message"]["en"] and "staff" in body["message"]["en"]
    assert "set-id-card-reader kiosk-1 on" in body["reason"]
    assert hall.sql("SELECT count(*) FROM resident_session")[0][0] == 0
    # Nor a board, whatever the card.
    assert post_card(hall, "board-1", card_of(hall, AGED)).status_code == 403


def test_marking_a_live_kiosk_takes_effect_at_its_next_request(hall: RunningHall) -> None:
    import psycopg
    from psycopg.rows import dict_row

    from kiosk.hall import admin

    def mark(on: bool) -> None:
        with psycopg.connect(hall.dsn, row_factory=dict_row) as conn:
            admin.set_id_card_reader(conn, "kiosk-1", on)

    card = card_of(hall, ORDINARY)
    assert post_card(hall, "kiosk-1", card).status_code == 403
    mark(True)
    assert post_card(hall, "kiosk-1", card).status_code == 200
    mark(False)
    assert post_card(hall, "kiosk-1", card).status_code == 403


def test_a_wrong_name_and_an_unknown_number_get_the_same_answer(hall: RunningHall) -> None:
    kiosk = reader_kiosk(hall)
    card = card_of(hall, ORDINARY)
    wrong_name = post_card(hall, kiosk, {**card, "name": "王二"})
    head = "11010119800101001"
    unknown = post_card(hall, kiosk, {**card, "id_number": head + idnumber.check_digit(head)})
    assert wrong_name.status_code == unknown.status_code == 404
    assert wrong_name.json() == unknown.json()
    assert wrong_name.json()["error"] == "unknown_resident"
    assert wrong_name.json()["message"]["zh"] and wrong_name.json()["message"]["en"]
    assert hall.sql("SELECT count(*) FROM resident_session")[0][0] == 0


def test_the_number_may_end_in_a_small_x_and_the_name_carry_spaces(hall: RunningHall) -> None:
    kiosk = reader_kiosk(hall)
    card = card_of(hall, ORDINARY)
    r = post_card(hall, kiosk, {"id_number": card["id_number"].lower(),
                                "name": f" {card['name']} "})
    assert r.status_code == 200, r.text


def test_a_malformed_request_is_refused_in_both_languages(hall: RunningHall) -> None:
    kiosk = reader_kiosk(hall)
    card = card_of(hall, ORDINARY)
    bad_digit = card["id_number"][:17] + str((int(card["id_number"][17].replace("X", "0")) + 1)
                                             % 10)
    r = post_card(hall, kiosk, {**card, "id_number": bad_digit})
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_id_number"
    assert r.json()["message"]["zh"] and r.json()["message"]["en"]
    assert bad_digit not in r.text and card["name"] not in r.text
    for body in ({**card, "id_number": card["id_number"][:17]},
                 {**card, "name": ""}, {**card, "name": "张" * 61},
                 {"id_number": card["id_number"]},
                 {**card, "priority_reason": "age"}):
        r = post_card(hall, kiosk, body)
        assert r.status_code == 422, body
        assert r.json()["error"] == "invalid_request"
        assert card["id_number"] not in r.text and card["name"] not in r.text


def test_a_retry_under_the_same_key_answers_the_same_resident(hall: RunningHall) -> None:
    kiosk = reader_kiosk(hall)
    key = uuid.uuid4().hex
    answers = [post_card(hall, kiosk, card_of(hall, AGED), key=key).json() for _ in range(2)]
    assert answers[0]["session"] != answers[1]["session"]
    assert ({k: v for k, v in answers[0].items() if k != "session"}
            == {k: v for k, v in answers[1].items() if k != "session"})
    for answer in answers:
        r = as_resident(hall, kiosk, answer["session"]).get(
            f"{hall.url}/v1/kiosk/resident/prefill", timeout=30)
        assert r.json()["values"]["resident.name"] == answers[0]["masked_name"]
    # Another card under that key is another request, refused; an unknown one is kept.
    other = post_card(hall, kiosk, card_of(hall, ORDINARY), key=key)
    assert (other.status_code, other.json()["error"]) == (409, "idempotency_conflict")
    nobody = {**card_of(hall, ORDINARY), "name": "王二"}
    again = uuid.uuid4().hex
    assert [post_card(hall, kiosk, nobody, key=again).status_code for _ in range(2)] == [404, 404]
    # What the hall keeps for a retry names the resident by reference only.
    kept = str(hall.sql("SELECT response FROM idempotency"))
    for secret in personal_data(hall, AGED) + personal_data(hall, ORDINARY):
        assert secret not in kept
    assert "res_" not in kept


def test_nothing_personal_in_the_hall_log(hall: RunningHall, caplog: Any) -> None:
    kiosk = reader_kiosk(hall)
    with caplog.at_level("DEBUG"):
        post_card(hall, kiosk, card_of(hall, AGED))
        post_card(hall, "kiosk-1", card_of(hall, AGED))
        post_card(hall, kiosk, {**card_of(hall, AGED), "name": "王二"})
    assert "kiosk-1 is not marked as having an ID card reader" in caplog.text
    for secret in personal_data(hall, AGED):
        assert secret not in caplog.text
