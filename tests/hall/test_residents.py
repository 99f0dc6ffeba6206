"""Residents at the hall's kiosks: the hall verifies the code, derives who and what priority,
and lets only masked facts out, to the kiosk that scanned the code."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import requests

from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain import payloads
from tests.helpers.clock import FakeClock
from tests.helpers.hall import RunningHall
from tests.helpers.paths import CONFIG_DIR

DEMO_KEY = payloads.load_private_key((CONFIG_DIR / "dev-keys" / "demo-issuer.pem").read_bytes())
ORDINARY = DEMO_RESIDENTS["ordinary"]
AGED = DEMO_RESIDENTS["aged_85"]
BOOKED = DEMO_RESIDENTS["appointment_today"]


def code_for(hall: RunningHall, resident_id: str, *, age_s: float = 0,
             key: Any = DEMO_KEY, key_id: str = "demo") -> str:
    """A personal code as the 随申办 app shows it, issued `age_s` before the hall's now."""
    issued = int(hall.clock().timestamp() - age_s)
    return payloads.sign(key, key_id, payloads.Kind.RESIDENT, resident_id, issued_at=issued)


def post_code(hall: RunningHall, kiosk: str, code: str, **extra: Any) -> requests.Response:
    return hall.session(kiosk).post(f"{hall.url}/v1/kiosk/residents", json={"code": code, **extra},
                                    headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)


def identify(hall: RunningHall, kiosk: str, resident_id: str) -> dict[str, Any]:
    r = post_code(hall, kiosk, code_for(hall, resident_id))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def as_resident(hall: RunningHall, kiosk: str, session: str) -> requests.Session:
    s = hall.session(kiosk)
    s.headers["X-Resident-Session"] = session
    return s


def personal_data(hall: RunningHall, resident_id: str) -> list[str]:
    """What must never leave the hall about this resident: full name, ID number, phone
    (and the ID number's birth date)."""
    name, id_number, phone = hall.sql(
        "SELECT name, id_number, phone FROM resident WHERE resident_id = %s", (resident_id,))[0]
    return [name, id_number, phone, id_number[6:14]]


def recording(session: requests.Session, seen: list[str]) -> requests.Session:
    session.hooks["response"].append(lambda r, *a, **k: seen.append(r.text))
    return session


def test_a_signed_code_gives_a_session_and_masked_facts_only(hall: RunningHall) -> None:
    seen: list[str] = []
    kiosk = recording(hall.session("kiosk-1"), seen)
    r = kiosk.post(f"{hall.url}/v1/kiosk/residents", json={"code": code_for(hall, ORDINARY)},
                   headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["masked_name"] == "张**"
    assert me["priority_reason"] == "" and me["entitlements"] == [] and me["appointments"] == []
    assert me["session"].startswith("res_")
    kiosk.headers["X-Resident-Session"] = me["session"]
    licenses = kiosk.get(f"{hall.url}/v1/kiosk/resident/licenses", timeout=30).json()
    assert [lic["kind"] for lic in licenses][:3] == [
        "id_card", "household_register", "social_security_card"]
    assert all("*" in lic["number_masked"] for lic in licenses)
    prefill = kiosk.get(f"{hall.url}/v1/kiosk/resident/prefill", timeout=30).json()
    assert prefill["values"]["resident.name"] == "张**"
    assert prefill["values"]["resident.phone"] == "138****0001"
    assert prefill["values"]["resident.id_number"].startswith("310")
    assert "id_card" in prefill["licenses"]
    assert kiosk.get(f"{hall.url}/v1/kiosk/resident/appointments", timeout=30).json() == []
    assert kiosk.get(f"{hall.url}/v1/kiosk/resident/applications", timeout=30).json() == []
    assert len(seen) == 5
    for secret in personal_data(hall, ORDINARY):
        assert not any(secret in body for body in seen), secret
    # The handle is stored only as a hash.
    assert hall.sql("SELECT count(*) FROM resident_session")[0][0] == 1
    assert me["session"] not in str(hall.sql("SELECT * FROM resident_session"))


def test_a_retry_under_the_same_key_answers_the_same_resident(hall: RunningHall) -> None:
    code = code_for(hall, ORDINARY)
    key = uuid.uuid4().hex
    answers = [hall.session("kiosk-1").post(
        f"{hall.url}/v1/kiosk/residents", json={"code": code}, headers={"Idempotency-Key": key},
        timeout=30).json() for _ in range(2)]
    assert answers[0]["masked_name"] == answers[1]["masked_name"] == "张**"
    # The kept answer holds no handle: the retry gets a fresh one to the same person.
    for answer in answers:
        r = as_resident(hall, "kiosk-1", answer["session"]).get(
            f"{hall.url}/v1/kiosk/resident/prefill", timeout=30)
        assert r.json()["values"]["resident.name"] == "张**"
    assert "res_" not in str(hall.sql("SELECT response FROM idempotency"))


def test_a_code_used_at_one_kiosk_is_refused_at_another(hall: RunningHall) -> None:
    code = code_for(hall, ORDINARY)
    assert post_code(hall, "kiosk-1", code).status_code == 200
    r = post_code(hall, "kiosk-2", code)
    assert r.status_code == 422
    assert r.json()["error"] == "replayed"
    assert "已经用过" in r.json()["message"]["zh"]
    # Nor twice at the same kiosk.
    assert post_code(hall, "kiosk-1", code).json()["error"] == "replayed"


def test_a_kiosk_claims_the_code_first_then_opens_one_session_with_it(hall: RunningHall) -> None:
    code = code_for(hall, ORDINARY)
    payload, _, _ = payloads.parse(code)
    claim: dict[str, Any] = {"key_id": payload.key_id, "nonce": payload.nonce,
                             "expires_at": payload.expires + 10}
    new = [hall.session(k).post(f"{hall.url}/v1/used-nonces", json=claim, timeout=30).json()
           for k in ("kiosk-1", "kiosk-1", "kiosk-2")]
    assert new == [{"new": True}, {"new": True}, {"new": False}]
    assert post_code(hall, "kiosk-2", code).json()["error"] == "replayed"
    assert post_code(hall, "kiosk-1", code).status_code == 200
    assert post_code(hall, "kiosk-1", code).json()["error"] == "replayed"
    assert hall.session("kiosk-1").post(f"{hall.url}/v1/used-nonces", json=claim,
                                        timeout=30).json() == {"new": False}


def test_expired_forged_and_foreign_codes_are_refused_with_the_kiosks_words(
    hall: RunningHall,
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    expired = post_code(hall, "kiosk-1", code_for(hall, ORDINARY, age_s=120))
    assert (expired.status_code, expired.json()["error"]) == (422, "expired")
    assert "过期" in expired.json()["message"]["zh"]
    assert expired.json()["message"]["en"]
    forged = post_code(hall, "kiosk-1",
                       code_for(hall, ORDINARY, key=Ed25519PrivateKey.generate()))
    assert forged.json()["error"] == "bad_signature"
    good = code_for(hall, ORDINARY)
    # Another resident's id in a code signed for the first one.
    swapped = good.replace(f".{ORDINARY}.", f".{AGED}.")
    assert post_code(hall, "kiosk-1", swapped).json()["error"] == "bad_signature"
    unknown_key = post_code(hall, "kiosk-1", code_for(hall, ORDINARY, key_id="other"))
    assert unknown_key.json()["error"] == "unknown_key"
    ticket = payloads.sign(DEMO_KEY, "demo", payloads.Kind.TICKET, "T123",
                           issued_at=int(hall.clock().timestamp()))
    assert post_code(hall, "kiosk-1", ticket).json()["error"] == "wrong_kind"
    assert post_code(hall, "kiosk-1", "https://example.com").json()["error"] == (
        "not_ours")
    # None of these used the resident's code up.
    assert post_code(hall, "kiosk-1", good).status_code == 200


def test_a_code_for_nobody_the_hall_knows(hall: RunningHall) -> None:
    code = code_for(hall, "R9999")
    r = post_code(hall, "kiosk-1", code)
    assert (r.status_code, r.json()["error"]) == (404, "unknown_resident")
    assert post_code(hall, "kiosk-2", code).json()["error"] == "replayed"
    assert hall.sql("SELECT count(*) FROM resident_session")[0][0] == 0


def test_only_kiosks_identify_residents(hall: RunningHall) -> None:
    r = hall.session("board-1").post(f"{hall.url}/v1/kiosk/residents",
                                     json={"code": code_for(hall, ORDINARY)},
                                     headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    assert r.status_code == 403


def test_a_kiosk_cannot_send_priority_the_hall_derives_it(hall: RunningHall) -> None:
    forged = post_code(hall, "kiosk-1", code_for(hall, ORDINARY), priority=True,
                       priority_reason="age")
    assert forged.status_code == 422
    assert forged.json()["error"] == "invalid_request"
    r = hall.session("kiosk-1").post(
        f"{hall.url}/v1/tickets", json={"category": "social_security", "priority": True,
                                        "resident_id": AGED},
        headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    assert r.status_code == 422
    ordinary = identify(hall, "kiosk-1", ORDINARY)
    aged = identify(hall, "kiosk-1", AGED)
    assert (ordinary["priority_reason"], aged["priority_reason"]) == ("", "age")
    numbers = []
    for person in (ordinary, aged):
        t = hall.session("kiosk-1").post(
            f"{hall.url}/v1/tickets", json={"category": "social_security",
                                            "resident_session": person["session"]},
            headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30).json()
        numbers.append((t["number"], t["priority"], t["priority_reason"]))
    assert numbers == [("A001", False, ""), ("YA001", True, "age")]


def test_entitlements_are_ids_and_an_appointment_now_gives_priority(hall: RunningHall) -> None:
    veteran = identify(hall, "kiosk-1", DEMO_RESIDENTS["veteran"])
    assert (veteran["entitlements"], veteran["priority_reason"]) == (["veteran"], "entitlement")
    booked = identify(hall, "kiosk-1", BOOKED)
    assert booked["priority_reason"] == "appointment"
    [appt] = booked["appointments"]
    assert appt["category"] == "social_security" and appt["checked_in"] is False
    assert dt.datetime.fromisoformat(appt["start"]) == hall.clock() + dt.timedelta(minutes=10)
    passed = identify(hall, "kiosk-1", DEMO_RESIDENTS["appointment_passed"])
    assert passed["priority_reason"] == "" and len(passed["appointments"]) == 1
    tomorrow = identify(hall, "kiosk-1", DEMO_RESIDENTS["appointment_tomorrow"])
    assert tomorrow["appointments"] == []
    day = (hall.clock() + dt.timedelta(days=1)).date().isoformat()
    later = as_resident(hall, "kiosk-1", tomorrow["session"]).get(
        f"{hall.url}/v1/kiosk/resident/appointments", params={"day": day}, timeout=30).json()
    assert [a["category"] for a in later] == ["household"]


def test_a_session_works_only_at_the_kiosk_that_opened_it(hall: RunningHall) -> None:
    me = identify(hall, "kiosk-1", ORDINARY)
    for path in ("licenses", "appointments", "applications", "prefill"):
        r = as_resident(hall, "kiosk-2", me["session"]).get(
            f"{hall.url}/v1/kiosk/resident/{path}", timeout=30)
        assert (r.status_code, r.json()["error"]) == (409, "resident_session"), path
    r = hall.session("kiosk-2").post(
        f"{hall.url}/v1/tickets", json={"category": "social_security",
                                        "resident_session": me["session"]},
        headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    assert r.status_code == 409
    assert as_resident(hall, "kiosk-1", "res_" + "x" * 43).get(
        f"{hall.url}/v1/kiosk/resident/licenses", timeout=30).status_code == 409
    assert hall.session("kiosk-1").get(f"{hall.url}/v1/kiosk/resident/licenses",
                                       timeout=30).status_code == 422
    assert as_resident(hall, "kiosk-1", me["session"]).get(
        f"{hall.url}/v1/kiosk/resident/licenses", timeout=30).status_code == 200


def test_a_session_ends_after_its_minutes(hall: RunningHall, clock: FakeClock) -> None:
    me = identify(hall, "kiosk-1", ORDINARY)
    clock.advance(minutes=16)
    r = as_resident(hall, "kiosk-1", me["session"]).get(
        f"{hall.url}/v1/kiosk/resident/licenses", timeout=30)
    assert r.status_code == 409


def _check_in(hall: RunningHall, kiosk: str, session: str, appointment_id: str,
              key: str | None = None) -> requests.Response:
    return as_resident(hall, kiosk, session).post(
        f"{hall.url}/v1/appointments/{appointment_id}/check-in",
        headers={"Idempotency-Key": key or uuid.uuid4().hex}, timeout=30)


def test_check_in_issues_the_priority_ticket_once(hall: RunningHall) -> None:
    me = identify(hall, "kiosk-1", BOOKED)
    appointment_id = me["appointments"][0]["appointment_id"]
    first = _check_in(hall, "kiosk-1", me["session"], appointment_id, key="check-in-key-1")
    assert first.status_code == 200, first.text
    ticket = first.json()["ticket"]
    assert first.json()["earlier"] is False
    assert (ticket["number"], ticket["priority_reason"]) == ("YA001", "appointment")
    again = _check_in(hall, "kiosk-1", me["session"], appointment_id, key="check-in-key-1")
    assert again.json() == first.json()
    # Another scan at another kiosk: the same ticket, said to be the earlier one.
    there = identify(hall, "kiosk-2", BOOKED)
    assert there["appointments"][0]["checked_in"] is True
    assert there["priority_reason"] == ""
    other = _check_in(hall, "kiosk-2", there["session"], appointment_id)
    assert other.json()["earlier"] is True
    assert other.json()["ticket"]["ticket_id"] == ticket["ticket_id"]
    assert hall.sql("SELECT count(*) FROM ticket")[0][0] == 1
    assert hall.sql("SELECT ticket_id FROM appointment WHERE appointment_id = %s",
                    (appointment_id,)) == [(ticket["ticket_id"],)]
    assert hall.sql("SELECT count(*) FROM hall_event WHERE kind = 'checked_in'")[0][0] == 1


def test_check_in_only_of_ones_own_appointment_and_on_time(hall: RunningHall) -> None:
    stranger = identify(hall, "kiosk-1", ORDINARY)
    booked = identify(hall, "kiosk-1", BOOKED)
    appointment_id = booked["appointments"][0]["appointment_id"]
    r = _check_in(hall, "kiosk-1", stranger["session"], appointment_id)
    assert (r.status_code, r.json()["error"]) == (404, "unknown_appointment")
    r = _check_in(hall, "kiosk-2", booked["session"], appointment_id)
    assert r.status_code == 409
    r = hall.session("kiosk-1").post(f"{hall.url}/v1/appointments/{appointment_id}/check-in",
                                     headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    assert r.status_code == 422  # no resident session: the kiosk's word is not enough
    passed = identify(hall, "kiosk-1", DEMO_RESIDENTS["appointment_passed"])
    r = _check_in(hall, "kiosk-1", passed["session"], passed["appointments"][0]["appointment_id"])
    assert (r.status_code, r.json()["error"]) == (409, "too_late")
    assert hall.sql("SELECT count(*) FROM ticket")[0][0] == 0


def test_check_in_replaces_an_ordinary_number_taken_before(hall: RunningHall) -> None:
    me = identify(hall, "kiosk-1", BOOKED)
    # Taken in another category first, then in the appointment's own.
    r = hall.session("kiosk-1").post(
        f"{hall.url}/v1/tickets", json={"category": "medical_insurance",
                                        "resident_session": me["session"]},
        headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    assert r.json()["number"] == "B001"
    # Too early now for 扫码取号 to give the appointment's priority.
    hall.sql("UPDATE appointment SET starts_at = starts_at + interval '1 hour', "
             "ends_at = ends_at + interval '1 hour' RETURNING 1")
    t = hall.session("kiosk-1").post(
        f"{hall.url}/v1/tickets", json={"category": "social_security",
                                        "resident_session": me["session"]},
        headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30).json()
    assert t["number"] == "A001"
    hall.sql("UPDATE appointment SET starts_at = starts_at - interval '1 hour', "
             "ends_at = ends_at - interval '1 hour' RETURNING 1")
    r = _check_in(hall, "kiosk-1", me["session"], me["appointments"][0]["appointment_id"])
    assert r.json()["ticket"]["number"] == "YA001"
    states = dict(hall.sql("SELECT number, state FROM ticket"))
    assert states == {"B001": "waiting", "A001": "withdrawn", "YA001": "waiting"}


def test_check_in_honours_the_hours(hall: RunningHall, clock: FakeClock) -> None:
    clock.at(clock().date(), 12, 10)  # the lunch break: counters closed until 13:30
    start = clock() - dt.timedelta(minutes=10)
    hall.sql("INSERT INTO appointment (appointment_id, center_id, resident_id, category, "
             "starts_at, ends_at) VALUES ('APLUNCH', %s, %s, 'social_security', %s, %s) "
             "RETURNING 1",
             (hall.center, ORDINARY, start, start + dt.timedelta(minutes=30)))
    me = identify(hall, "kiosk-1", ORDINARY)
    r = _check_in(hall, "kiosk-1", me["session"], "APLUNCH")
    assert (r.status_code, r.json()["error"]) == (409, "closed")
    assert r.json()["opens_at"].startswith(f"{clock().date()}T13:30")
    assert hall.sql("SELECT checked_in_at FROM appointment WHERE appointment_id = "
                    "'APLUNCH'") == [(None,)]
