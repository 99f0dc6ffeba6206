"""一件事 applications at the hall: filed for the resident of a kiosk's session, the real
values put in by the hall, progress read by an unguessable id, moved on by staff."""

from __future__ import annotations

import json
import uuid
from typing import Any

import requests

from tests.hall.test_residents import ORDINARY, as_resident, identify, personal_data
from tests.helpers.hall import RunningHall

BUNDLE = "newborn"


def _submission(prefill: dict[str, str], **fields: str) -> dict[str, Any]:
    return {
        "answers": {"q_married": "yes"},
        "fields": {"bank_card": "6222020200112233445", **fields},
        "materials": {"exempt": ["id_card"], "to_bring": ["photo"]},
        "prefilled": prefill,
    }


def _submit(hall: RunningHall, kiosk: str, session: str, submission: dict[str, Any],
            key: str | None = None, **extra: Any) -> requests.Response:
    return as_resident(hall, kiosk, session).post(
        f"{hall.url}/v1/applications",
        json={"bundle_id": BUNDLE, "processing_days": 5, "submission": submission, **extra},
        headers={"Idempotency-Key": key or uuid.uuid4().hex}, timeout=30)


def _filed(hall: RunningHall) -> tuple[dict[str, Any], dict[str, Any]]:
    """A resident identified at kiosk-1 and one application of theirs."""
    me = identify(hall, "kiosk-1", ORDINARY)
    r = _submit(hall, "kiosk-1", me["session"], _submission({}))
    assert r.status_code == 200, r.text
    return me, r.json()


def _clerk(hall: RunningHall) -> requests.Session:
    if "clerk1" not in hall.tokens:
        hall.sign_in("clerk1", hall.tokens["clerk-pw"], counter=3)
    return hall.session("clerk1")


def _advance(hall: RunningHall, reference: str, status: str, note: str = "",
             key: str | None = None, who: requests.Session | None = None) -> requests.Response:
    return (who or _clerk(hall)).post(
        f"{hall.url}/v1/staff/applications/{reference}/status",
        json={"status": status, "note": note},
        headers={"Idempotency-Key": key or uuid.uuid4().hex}, timeout=30)


def test_a_submission_stores_the_halls_real_values_and_answers_none(hall: RunningHall) -> None:
    seen: list[str] = []
    me = identify(hall, "kiosk-1", ORDINARY)
    kiosk = as_resident(hall, "kiosk-1", me["session"])
    kiosk.hooks["response"].append(lambda r, *a, **k: seen.append(r.text))
    shown = kiosk.get(f"{hall.url}/v1/kiosk/resident/prefill", timeout=30).json()["values"]
    prefill = {s: shown[s] for s in ("resident.name", "resident.id_number", "resident.phone",
                                     "license:id_card")}
    # A form field the kiosk filled with the masked name it was shown.
    submission = _submission(prefill, guardian=shown["resident.name"], phone="13912345678")
    r = kiosk.post(f"{hall.url}/v1/applications", json={
        "bundle_id": BUNDLE, "processing_days": 5, "submission": submission},
        headers={"Idempotency-Key": "submit-key-1"}, timeout=30)
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["reference"] == f"YW{hall.clock():%Y%m%d}000001"
    assert receipt["bundle_id"] == BUNDLE and receipt["processing_days"] == 5
    assert len(receipt["public_id"]) >= 22 and receipt["reference"] not in receipt["public_id"]
    name, id_number, phone, _birth = personal_data(hall, ORDINARY)
    [(stored,)] = hall.sql("SELECT submission FROM application")
    assert stored["prefilled"] == {"resident.name": name, "resident.id_number": id_number,
                                   "resident.phone": phone, "license:id_card": id_number}
    assert stored["fields"]["guardian"] == name
    assert stored["fields"]["phone"] == "13912345678"
    assert stored["bundle_id"] == BUNDLE and stored["answers"] == {"q_married": "yes"}
    for secret in personal_data(hall, ORDINARY):
        assert not any(secret in body for body in seen), secret
    # Typed values live in the application's row only, not with the idempotency key.
    kept = json.dumps(hall.sql("SELECT response FROM idempotency"), default=str)
    assert "13912345678" not in kept and "6222020200112233445" not in kept


def test_the_progress_code_is_the_applications_phone_address(hall: RunningHall) -> None:
    _, receipt = _filed(hall)
    # Unguessable (the public id, not the counting reference), opened by a phone's camera
    # on the hall's public address, and read by a kiosk's 办件查询.
    assert receipt["progress_code"] == f"{hall.settings.public_url}/a/{receipt['public_id']}"
    assert receipt["reference"] not in receipt["progress_code"]
    r = hall.session(None).get(
        f"{hall.url}/v1/public/applications/{receipt['public_id']}", timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["reference"] == receipt["reference"]


def test_the_same_key_files_once_and_references_count_up(hall: RunningHall) -> None:
    me = identify(hall, "kiosk-1", ORDINARY)
    sub = _submission({})
    first = _submit(hall, "kiosk-1", me["session"], sub, key="same-key-123").json()
    again = _submit(hall, "kiosk-1", me["session"], sub, key="same-key-123").json()
    assert first == again
    other = _submit(hall, "kiosk-1", me["session"], {**sub, "answers": {}},
                    key="same-key-123")
    assert (other.status_code, other.json()["error"]) == (409, "idempotency_conflict")
    second = _submit(hall, "kiosk-1", me["session"], sub).json()
    assert second["reference"] == first["reference"][:-6] + "000002"
    assert hall.sql("SELECT count(*) FROM application")[0][0] == 2
    mine = as_resident(hall, "kiosk-1", me["session"]).get(
        f"{hall.url}/v1/kiosk/resident/applications", timeout=30).json()
    assert [a["reference"] for a in mine] == [second["reference"], first["reference"]]
    assert mine[0]["public_id"] == second["public_id"]
    assert mine[0]["status"] == "submitted"


def test_only_the_kiosk_of_the_session_files_and_only_what_the_form_has(hall: RunningHall) -> None:
    me = identify(hall, "kiosk-1", ORDINARY)
    r = _submit(hall, "kiosk-2", me["session"], _submission({}))
    assert (r.status_code, r.json()["error"]) == (409, "resident_session")
    r = hall.session("kiosk-1").post(
        f"{hall.url}/v1/applications",
        json={"bundle_id": BUNDLE, "processing_days": 5, "submission": _submission({})},
        headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    assert r.status_code == 422  # no session
    r = _submit(hall, "kiosk-1", me["session"], _submission({}), resident_id=ORDINARY)
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    r = _submit(hall, "kiosk-1", me["session"], _submission({"resident.birthday": "x"}))
    assert r.status_code == 422
    assert hall.sql("SELECT count(*) FROM application")[0][0] == 0


def test_progress_by_public_id_tells_no_personal_data(hall: RunningHall) -> None:
    _, receipt = _filed(hall)
    r = hall.session("kiosk-2").get(f"{hall.url}/v1/applications/{receipt['public_id']}",
                                    timeout=30)
    assert r.status_code == 200, r.text
    summary = r.json()
    assert summary["reference"] == receipt["reference"]
    assert summary["status"] == "submitted"
    assert [e["status"] for e in summary["timeline"]] == ["submitted"]
    assert set(summary) == {"reference", "bundle_id", "submitted_at", "processing_days",
                            "status", "timeline"}
    assert ORDINARY not in r.text
    r = _clerk(hall).get(f"{hall.url}/v1/applications/{receipt['public_id']}", timeout=30)
    assert r.status_code == 200
    r = hall.session("kiosk-1").get(f"{hall.url}/v1/applications/{'x' * 22}", timeout=30)
    assert (r.status_code, r.json()["error"]) == (404, "unknown_application")
    # The reference counts up: it opens nothing from a kiosk.
    r = hall.session("kiosk-1").get(f"{hall.url}/v1/applications/{receipt['reference']}",
                                    timeout=30)
    assert r.status_code == 404
    assert hall.session("board-1").get(
        f"{hall.url}/v1/applications/{receipt['public_id']}", timeout=30).status_code == 403


def test_staff_find_it_by_reference_and_move_it_along_the_allowed_edges(hall: RunningHall) -> None:
    _, receipt = _filed(hall)
    reference = receipt["reference"]
    clerk = _clerk(hall)
    found = clerk.get(f"{hall.url}/v1/staff/applications/{reference}", timeout=30).json()
    assert found["masked_name"] == "张**" and found["status"] == "submitted"
    assert found["bundle_title"] is None  # "newborn" is no bundle of config/bundles
    assert hall.session("kiosk-1").get(f"{hall.url}/v1/staff/applications/{reference}",
                                       timeout=30).status_code == 403
    assert _advance(hall, reference, "accepted", who=hall.session("kiosk-1")).status_code == 403

    accepted = _advance(hall, reference, "accepted", key="advance-key-1")
    assert accepted.status_code == 200, accepted.text
    assert _advance(hall, reference, "accepted", key="advance-key-1").json() == accepted.json()
    bare = _advance(hall, reference, "needs_more", note="  ")
    assert (bare.status_code, bare.json()["error"]) == (422, "note_required")
    more = _advance(hall, reference, "needs_more", note="请补交户口簿原件")
    assert more.json()["status"] == "needs_more"
    again = _advance(hall, reference, "needs_more", note="还缺结婚证")
    assert again.status_code == 200
    done = _advance(hall, reference, "done").json()
    assert [e["status"] for e in done["timeline"]] == [
        "submitted", "accepted", "needs_more", "needs_more", "done"]
    assert done["timeline"][2]["note"] == "请补交户口簿原件"
    final = _advance(hall, reference, "accepted")
    assert (final.status_code, final.json()["error"]) == (409, "transition")
    assert final.json()["current"] == "done"
    # Who did it, in the timeline and the hall's log.
    staff_ids = hall.sql("SELECT staff_id FROM application_status WHERE status <> 'submitted'")
    assert len(staff_ids) == 4 and all(s is not None for (s,) in staff_ids)
    events = hall.sql("SELECT data->>'to', staff_id, counter_no FROM hall_event "
                      "WHERE kind = 'application_status' ORDER BY id")
    assert [e[0] for e in events] == ["accepted", "needs_more", "needs_more", "done"]
    assert all(e[1] is not None and e[2] == 3 for e in events)
    public = hall.session("kiosk-2").get(f"{hall.url}/v1/applications/{receipt['public_id']}",
                                         timeout=30).json()
    assert public["status"] == "done" and public["timeline"][3]["note"] == "还缺结婚证"


def test_a_status_cannot_skip_back_to_submitted_and_unknown_references_are_404(
    hall: RunningHall,
) -> None:
    _, receipt = _filed(hall)
    r = _advance(hall, receipt["reference"], "submitted")
    assert (r.status_code, r.json()["error"]) == (409, "transition")
    r = _advance(hall, "YW20260101999999", "accepted")
    assert (r.status_code, r.json()["error"]) == (404, "unknown_application")
    r = _clerk(hall).get(f"{hall.url}/v1/staff/applications/YW20260101999999", timeout=30)
    assert r.status_code == 404
    assert _advance(hall, receipt["reference"], "finished").status_code == 422
