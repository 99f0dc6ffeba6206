"""Help calls, device faults and the device list: who may see what, and states that only
move forward."""

from __future__ import annotations

import uuid
from typing import Any

from tests.helpers.clock import FakeClock
from tests.helpers.hall import RunningHall


def _post(hall: RunningHall, who: str, path: str, body: dict[str, Any] | None = None,
          key: str | None = None) -> tuple[int, dict[str, Any]]:
    r = hall.session(who).post(f"{hall.url}{path}", json=body or {},
                               headers={"Idempotency-Key": key or uuid.uuid4().hex}, timeout=30)
    return r.status_code, r.json()


def _get(hall: RunningHall, who: str, path: str) -> tuple[int, Any]:
    r = hall.session(who).get(f"{hall.url}{path}", timeout=30)
    return r.status_code, r.json()


def _staff(hall: RunningHall) -> None:
    hall.sign_in("clerk1", hall.tokens["clerk-pw"], counter=3)
    hall.sign_in("boss", hall.tokens["super-pw"])


def test_a_help_call_is_raised_listed_acknowledged_and_resolved(
    hall: RunningHall, clock: FakeClock
) -> None:
    _staff(hall)
    status, call = _post(hall, "kiosk-1", "/v1/help-calls", {"screen": "wizard"})
    assert status == 200, call
    assert call["state"] == "raised" and len(call["call_id"]) >= 22
    assert call["kiosk"] == "kiosk-1"

    clock.advance(seconds=95)
    status, listed = _get(hall, "clerk1", "/v1/help-calls?open=true")
    assert status == 200
    assert [(c["call_id"], c["kiosk"], c["screen"], c["waited_s"]) for c in listed] == [
        (call["call_id"], "kiosk-1", "wizard", 95)]

    status, acked = _post(hall, "clerk1", f"/v1/help-calls/{call['call_id']}/acknowledge")
    assert status == 200, acked
    assert (acked["state"], acked["acknowledged_by"]) == ("acknowledged", "clerk1")

    status, seen = _get(hall, "kiosk-1", f"/v1/help-calls/{call['call_id']}")
    assert status == 200
    assert seen["state"] == "acknowledged" and seen["acknowledged_by"] == "clerk1"
    assert seen["acknowledged_at"] is not None
    status, other = _get(hall, "kiosk-2", f"/v1/help-calls/{call['call_id']}")
    assert status == 404 and other["error"] == "no_such_call"

    status, done = _post(hall, "boss", f"/v1/help-calls/{call['call_id']}/resolve")
    assert status == 200
    assert (done["state"], done["acknowledged_by"], done["resolved_by"]) == (
        "resolved", "clerk1", "boss")
    assert _get(hall, "clerk1", "/v1/help-calls?open=true") == (200, [])
    status, today = _get(hall, "clerk1", "/v1/help-calls?open=false")
    assert [c["state"] for c in today] == ["resolved"]

    kinds = [r[0] for r in hall.sql("SELECT kind FROM hall_event ORDER BY id")]
    assert kinds == ["help_raised", "help_acknowledged", "help_resolved"]
    assert hall.sql("SELECT DISTINCT device_id::text FROM hall_event") == hall.sql(
        "SELECT id::text FROM device WHERE name = 'kiosk-1'")


def test_a_help_call_never_goes_back(hall: RunningHall) -> None:
    _staff(hall)
    _, call = _post(hall, "kiosk-1", "/v1/help-calls", {"screen": "home"})
    path = f"/v1/help-calls/{call['call_id']}"
    assert _post(hall, "clerk1", f"{path}/acknowledge", key="ack-key-1")[0] == 200
    # The same request again (a retry) gets the first answer; another clerk's is refused.
    again = _post(hall, "clerk1", f"{path}/acknowledge", key="ack-key-1")
    assert again[0] == 200 and again[1]["state"] == "acknowledged"
    status, body = _post(hall, "boss", f"{path}/acknowledge")
    assert status == 409 and body["state"] == "acknowledged"

    assert _post(hall, "boss", f"{path}/resolve")[0] == 200
    for step in ("acknowledge", "resolve"):
        status, body = _post(hall, "clerk1", f"{path}/{step}")
        assert status == 409
        assert (body["error"], body["state"]) == (
            "help_call_state", "resolved")
    assert hall.sql("SELECT state FROM help_call") == [("resolved",)]
    assert _post(hall, "clerk1", "/v1/help-calls/no-such-call/resolve")[0] == 404


def test_only_staff_list_and_answer_calls_and_only_kiosks_raise_them(hall: RunningHall) -> None:
    _staff(hall)
    _, call = _post(hall, "kiosk-1", "/v1/help-calls", {"screen": "scan"})
    assert _get(hall, "kiosk-1", "/v1/help-calls")[0] == 403
    assert _get(hall, "board-1", "/v1/help-calls")[0] == 403
    assert _post(hall, "kiosk-2", f"/v1/help-calls/{call['call_id']}/acknowledge")[0] == 403
    assert _post(hall, "clerk1", "/v1/help-calls", {"screen": "scan"})[0] == 403
    assert _get(hall, "clerk1", f"/v1/help-calls/{call['call_id']}")[0] == 403


def test_a_fault_opens_once_and_clears(hall: RunningHall, clock: FakeClock) -> None:
    _staff(hall)
    status, opened = _post(hall, "kiosk-1", "/v1/faults",
                           {"kind": "paper_out", "detail": "roll empty", "state": "open"})
    assert status == 200 and opened["changed"] is True
    since = opened["fault"]["since"]
    clock.advance(minutes=3)
    status, repeat = _post(hall, "kiosk-1", "/v1/faults",
                           {"kind": "paper_out", "detail": "still empty", "state": "open"})
    assert status == 200 and repeat["changed"] is False
    assert repeat["fault"]["since"] == since and repeat["fault"]["detail"] == "roll empty"
    assert hall.sql("SELECT count(*) FROM device_fault")[0][0] == 1

    status, listed = _get(hall, "clerk1", "/v1/faults")
    assert status == 200
    assert [(d["device"], [f["kind"] for f in d["faults"]]) for d in listed] == [
        ("kiosk-1", ["paper_out"])]
    assert listed[0]["last_seen_at"] is not None  # the kiosk's report was a request

    clock.advance(minutes=10)
    status, cleared = _post(hall, "kiosk-1", "/v1/faults",
                            {"kind": "paper_out", "state": "cleared"})
    assert status == 200 and cleared["changed"] is True
    assert cleared["fault"]["cleared_at"] is not None
    status, nothing = _post(hall, "kiosk-1", "/v1/faults",
                            {"kind": "paper_out", "state": "cleared"})
    assert status == 200 and (nothing["changed"], nothing["fault"]) == (False, None)
    assert _get(hall, "clerk1", "/v1/faults") == (200, [])

    # Open again after clearing: a new fault with its own start.
    _post(hall, "kiosk-1", "/v1/faults", {"kind": "paper_out", "state": "open"})
    assert hall.sql("SELECT count(*) FROM device_fault WHERE cleared_at IS NULL")[0][0] == 1
    kinds = [r[0] for r in hall.sql("SELECT kind FROM hall_event ORDER BY id")]
    assert kinds == ["fault_opened", "fault_cleared", "fault_opened"]


def test_a_fault_is_refused_when_malformed_and_scrubbed_of_digit_runs(hall: RunningHall) -> None:
    assert _post(hall, "kiosk-1", "/v1/faults", {"kind": "on_fire", "state": "open"})[0] == 422
    assert _post(hall, "kiosk-1", "/v1/faults",
                 {"kind": "other", "detail": "x" * 201, "state": "open"})[0] == 422
    status, body = _post(hall, "kiosk-1", "/v1/faults",
                         {"kind": "other", "detail": "scan of 310101199001011234 stuck",
                          "state": "open"})
    assert status == 200 and body["fault"]["detail"] == "scan of *** stuck"
    assert "1990" not in hall.sql("SELECT detail FROM device_fault")[0][0]


def test_the_device_list_is_the_supervisors(hall: RunningHall) -> None:
    _staff(hall)
    _post(hall, "kiosk-2", "/v1/faults", {"kind": "camera_down", "state": "open"})
    assert _get(hall, "clerk1", "/v1/devices")[0] == 403
    assert _get(hall, "kiosk-1", "/v1/devices")[0] == 403
    status, devices = _get(hall, "boss", "/v1/devices")
    assert status == 200
    by_name = {d["name"]: d for d in devices}
    assert set(by_name) == {"kiosk-1", "kiosk-2", "board-1", "counter-3"}
    assert by_name["counter-3"]["counter"] == 3 and by_name["counter-3"]["kind"] == "counter"
    assert [f["kind"] for f in by_name["kiosk-2"]["faults"]] == ["camera_down"]
    assert by_name["kiosk-1"]["faults"] == []
    assert by_name["kiosk-2"]["last_seen_at"] is not None
    assert not any(d["revoked"] for d in devices)


def test_a_fault_event_names_its_device(hall: RunningHall) -> None:
    """The kiosk's live stream picks its own events by "device"."""
    import json
    import threading

    import psycopg

    heard: list[dict[str, Any]] = []
    listening = threading.Event()

    def listen() -> None:
        with psycopg.connect(hall.dsn, autocommit=True) as conn:
            conn.execute("LISTEN hall_events")
            listening.set()
            for note in conn.notifies(timeout=60, stop_after=1):
                heard.append(json.loads(note.payload))

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert listening.wait(60)
    _post(hall, "kiosk-1", "/v1/faults", {"kind": "cover_open", "state": "open"})
    thread.join(60)
    (kiosk_id,) = hall.sql("SELECT id::text FROM device WHERE name = 'kiosk-1'")[0]
    assert heard and heard[0]["kind"] == "fault_opened"
    assert (heard[0]["device"], heard[0]["fault"]) == (kiosk_id, "cover_open")
