"""The hall client against a stand-in hall (tests/unit/delivery/fake_hall.py): what goes
on the wire (the device token, the scanned code, the resident-session header, bodies with
nothing the hall derives itself), how replies and the hall's errors are read, and network
faults: hangs, refused connections, 5xx, redirects and malformed replies become errors
within the timeout, with no personal data, token or session handle in messages or logs.
The same client against the real hall: tests/integration/test_http_backend.py."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kiosk.backend.interface import (
    ApplicationStatus,
    BackendError,
    IdempotencyConflict,
    NotFound,
    TicketRequest,
    TicketRequestCancelled,
)
from kiosk.common.clock import SHANGHAI
from kiosk.delivery.deliverer import Deliverer
from kiosk.delivery.faults import BackendTimeout, BackendUnreachable
from kiosk.delivery.http_client import (
    RESIDENT_SESSION_S,
    BackendReplyError,
    HallRefused,
    HttpBackend,
    ResidentSessionExpired,
    mask_path,
)
from kiosk.delivery.outbox import Outbox
from kiosk.domain.payloads import PayloadProblem, PayloadRefused
from tests.helpers.clock import FakeClock
from tests.helpers.waits import poll_until
from tests.unit.delivery.fake_hall import TOKEN, FakeHall, hall_error

T0 = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
RID = "R0001"
CODE = "SHK1.demo.R0001.signed-code-text"
SESSION = "res_" + "s" * 43
APPT = "APPT-20261207-1"
PUBLIC_ID = "p" * 22
SUBMISSION = {"bundle_id": "retirement", "answers": {"q1": "yes"},
              "fields": {"phone": "138****0001"},
              "materials": {"exempt": ["id_card"], "to_bring": []}}


def resident_reply(**changes: Any) -> dict[str, Any]:
    return {"session": SESSION, "masked_name": "张*", "entitlements": ["veteran"],
            "priority_reason": "entitlement",
            "appointments": [{"appointment_id": APPT, "category": "social_security",
                              "start": "2026-12-07T10:00:00+08:00",
                              "end": "2026-12-07T02:30:00Z", "checked_in": False}],
            **changes}


def ticket_reply(**changes: Any) -> dict[str, Any]:
    return {"ticket_id": "t" * 22, "number": "YA001", "category": "social_security",
            "priority": True, "priority_reason": "entitlement", "ahead": 2,
            "estimated_wait_min": 16, "issued_at": "2026-12-07T02:00:00+00:00",
            "tracking_code": "SHK1.T.xyz", "already_waiting": False, "offline": False,
            "state": "waiting", **changes}


def summary_reply() -> dict[str, Any]:
    return {"reference": "YW20261207000001", "public_id": PUBLIC_ID, "bundle_id": "retirement",
            "submitted_at": "2026-12-07T10:05:00+08:00", "processing_days": 5,
            "status": "needs_more",
            "timeline": [{"status": "submitted", "at": "2026-12-07T10:05:00+08:00", "note": ""},
                         {"status": "needs_more", "at": "2026-12-07T11:00:00+08:00",
                          "note": "请补充户口簿原件"}]}


FIGURES = [{"category": "social_security", "waiting": 3, "priority_waiting": 1,
            "minutes_per_ticket": 8, "open": True, "opens_at": None,
            "closes_at": "2026-12-07T17:00:00+08:00", "remaining_today": 40},
           {"category": "household", "waiting": 0, "priority_waiting": 0,
            "minutes_per_ticket": 10.5, "open": False,
            "opens_at": "2026-12-08T01:00:00Z", "closes_at": None, "remaining_today": None}]

REPLIES: dict[tuple[str, str], tuple[int, Any]] = {
    ("GET", "/v1/queue"): (200, FIGURES),
    ("POST", "/v1/kiosk/residents"): (200, resident_reply()),
    ("GET", "/v1/kiosk/resident/licenses"): (200, [
        {"kind": "id_card", "title": "居民身份证", "number_masked": "3101**********1234",
         "valid_until": "2030-01-01"},
        {"kind": "household_register", "title": "户口簿", "number_masked": "HK****01",
         "valid_until": None}]),
    ("GET", "/v1/kiosk/resident/appointments"): (200, resident_reply()["appointments"]),
    ("GET", "/v1/kiosk/resident/applications"): (200, [summary_reply()]),
    ("GET", "/v1/kiosk/resident/prefill"): (200, {"values": {"resident.name": "张*"},
                                                  "licenses": ["id_card"]}),
    ("POST", "/v1/tickets"): (200, ticket_reply()),
    ("POST", "/v1/ticket-cancellations"): (200, {"withdrawn_number": "A007"}),
    ("POST", f"/v1/appointments/{APPT}/check-in"): (200, {
        "ticket": ticket_reply(priority_reason="appointment"), "earlier": False}),
    ("POST", "/v1/applications"): (200, {
        "reference": "YW20261207000001", "public_id": PUBLIC_ID, "bundle_id": "retirement",
        "submitted_at": "2026-12-07T10:05:00+08:00", "progress_code": "SHK1.C.abc",
        "processing_days": 5}),
    ("GET", f"/v1/applications/{PUBLIC_ID}"): (200, summary_reply()),
    ("POST", "/v1/ratings"): (200, {"recorded": True}),
    ("POST", "/v1/usage-events"): (200, {"recorded": True}),
    ("POST", "/v1/used-nonces"): (200, {"new": True}),
    ("GET", "/v1/trusted-keys"): (200, {"hall1a2b3c": "A" * 43 + "="}),
    ("POST", "/v1/help-calls"): (200, {"call_id": "H20261207-0001", "state": "raised",
                                       "kiosk": "k", "screen": "home"}),
}


@pytest.fixture
def hall() -> Iterator[FakeHall]:
    server = FakeHall(REPLIES)
    yield server
    server.close()


def make_client(url: str, **kwargs: Any) -> HttpBackend:
    kwargs.setdefault("connect_timeout_s", 0.5)
    kwargs.setdefault("read_timeout_s", 2.0)
    return HttpBackend(url, token=TOKEN, **kwargs)


@pytest.fixture
def client(hall: FakeHall) -> Iterator[HttpBackend]:
    c = make_client(hall.url)
    yield c
    c.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ticket_request(**changes: object) -> TicketRequest:
    base = {"category": "social_security", "priority": True, "priority_reason": "age",
            "resident_id": RID, "kiosk_id": "KIOSK-01", "appointment_id": APPT}
    return TicketRequest(**{**base, **changes})  # type: ignore[arg-type]


# ------------------------------------------------------------------------ the wire


def test_every_request_carries_the_device_token(client, hall):
    client.queue_figures()
    client.identify(RID, code=CODE)
    assert [r.headers["authorization"] for r in hall.requests] == [f"Bearer {TOKEN}"] * 2


def test_identify_sends_the_code_and_trusts_the_halls_priority(client, hall):
    person = client.identify(RID, code=CODE)
    assert person is not None
    assert (person.resident_id, person.name, person.id_number, person.phone) == (
        RID, "张*", "", "")  # the hall sends the name masked, never the ID number
    assert person.entitlements == ("veteran",) and person.priority_reason == "entitlement"
    (seen,) = hall.seen("POST", "/v1/kiosk/residents")
    assert seen.body == {"code": CODE}  # the code, not the reference the kiosk read in it
    key = seen.headers["idempotency-key"]
    client.identify(RID, code=CODE)  # its answer was lost: the same request again
    assert hall.seen("POST", "/v1/kiosk/residents")[1].headers["idempotency-key"] == key
    client.identify(RID, code=CODE + "x")
    assert hall.seen("POST", "/v1/kiosk/residents")[2].headers["idempotency-key"] != key
    with pytest.raises(ValueError, match="code"):
        client.identify(RID)  # the hall trusts no reference a kiosk names


def test_resident_calls_name_the_resident_by_the_session_header_only(client, hall):
    client.identify(RID, code=CODE)
    licenses = client.licenses(RID)
    assert [x.kind for x in licenses] == ["id_card", "household_register"]
    assert licenses[0].valid_until == dt.date(2030, 1, 1)
    assert client.prefill(RID) == {"resident.name": "张*"}
    (appt,) = client.appointments_on(RID, T0.date())
    assert (appt.appointment_id, appt.resident_id, appt.checked_in_at) == (APPT, RID, None)
    assert appt.start == T0 and appt.end == T0 + dt.timedelta(minutes=30)
    assert appt.start.tzinfo is SHANGHAI and appt.end.tzinfo is SHANGHAI
    (app,) = client.applications_of(RID)
    assert app.status is ApplicationStatus.NEEDS_MORE
    assert app.timeline[-1].note == "请补充户口簿原件" and app.submitted_at.tzinfo is SHANGHAI
    for r in hall.requests[1:]:
        assert r.headers["x-resident-session"] == SESSION, r.path
        assert RID not in r.path and RID not in json.dumps(r.query), r.path
    assert hall.seen("GET", "/v1/kiosk/resident/appointments")[0].query == {
        "day": "2026-12-07"}


def test_another_persons_licenses_are_not_asked_of_a_hall(client, hall):
    # The hall has no such lookup yet: nothing is exempt by another person's licenses, the
    # materials are to be brought, and the deceased's number never goes on the wire here.
    client.identify(RID, code=CODE)
    before = len(hall.requests)
    assert client.person_licenses(RID, "310104195003081173") == []
    assert len(hall.requests) == before


def test_without_a_session_nothing_about_a_resident_is_asked(hall):
    clock = FakeClock(0.0)
    client = make_client(hall.url, monotonic=clock.time)
    try:
        with pytest.raises(ResidentSessionExpired, match="scans their code again"):
            client.licenses(RID)
        with pytest.raises(ResidentSessionExpired):
            client.check_in(APPT, "KIOSK-01", "checkin-key-1")
        assert hall.requests == []
        client.identify(RID, code=CODE)
        client.licenses(RID)
        clock.seconds += RESIDENT_SESSION_S + 1  # the hall has forgotten it by now
        with pytest.raises(ResidentSessionExpired):
            client.licenses(RID)
        with pytest.raises(ResidentSessionExpired):
            client.issue_ticket(ticket_request(), "ticket-key-1")
        assert len(hall.requests) == 2
        assert issubclass(ResidentSessionExpired, ValueError)  # the outbox does not retry it
    finally:
        client.close()


def test_unknown_resident_and_refused_codes(client, hall):
    hall.replies[("POST", "/v1/kiosk/residents")] = hall_error(404, "unknown_resident")
    assert client.identify(RID, code=CODE) is None
    hall.replies[("POST", "/v1/kiosk/residents")] = hall_error(422, "replayed")
    with pytest.raises(PayloadRefused) as info:
        client.identify(RID, code=CODE)
    assert info.value.problem is PayloadProblem.REPLAYED  # used at another kiosk
    with pytest.raises(ResidentSessionExpired):
        client.licenses(RID)  # no session was opened


def test_a_ticket_asks_for_a_category_and_nothing_the_hall_derives(client, hall):
    client.identify(RID, code=CODE)
    issued = client.issue_ticket(ticket_request(), "ticket-key-1")
    (seen,) = hall.seen("POST", "/v1/tickets")
    # Priority, appointment and kiosk are the hall's to decide, from its own records.
    assert seen.body == {"category": "social_security", "resident_session": SESSION}
    assert seen.headers["idempotency-key"] == "ticket-key-1"
    assert issued.number == "YA001" and issued.priority_reason == "entitlement"
    assert issued.issued_at == T0 and issued.issued_at.tzinfo is SHANGHAI
    assert not issued.offline and not issued.already_waiting
    client.issue_ticket(ticket_request(resident_id=None, priority=False, priority_reason=""),
                        "ticket-key-2")
    assert hall.seen("POST", "/v1/tickets")[1].body == {"category": "social_security",
                                                        "resident_session": None}


def test_the_queue_says_what_is_open(client):
    figures = client.queue_figures()
    assert figures["social_security"].waiting == 3
    assert figures["social_security"].minutes_per_ticket == 8.0
    assert figures["social_security"].remaining_today == 40
    closed = figures["household"]
    assert not closed.open and closed.remaining_today is None
    assert closed.opens_at == dt.datetime(2026, 12, 8, 9, tzinfo=SHANGHAI)
    assert closed.opens_at.tzinfo is SHANGHAI


def test_halls_refusals_become_the_kiosks_errors(client, hall):
    client.identify(RID, code=CODE)
    tickets = ("POST", "/v1/tickets")
    hall.replies[tickets] = hall_error(409, "closed", "No numbers now",
                                       opens_at="2026-12-08T09:00:00+08:00")
    with pytest.raises(HallRefused) as info:
        client.issue_ticket(ticket_request(), "key-closed")
    assert info.value.code == "closed" and info.value.message.zh == "错误"
    assert info.value.opens_at == dt.datetime(2026, 12, 8, 9, tzinfo=SHANGHAI)
    assert "POST /v1/tickets" in str(info.value) and "No numbers now" in str(info.value)
    hall.replies[tickets] = hall_error(409, "cap_reached")
    with pytest.raises(HallRefused, match="cap_reached"):
        client.issue_ticket(ticket_request(), "key-cap-1")
    hall.replies[tickets] = hall_error(410, "cancelled")
    with pytest.raises(TicketRequestCancelled):
        client.issue_ticket(ticket_request(), "key-cancelled")
    hall.replies[tickets] = hall_error(409, "idempotency_conflict")
    with pytest.raises(IdempotencyConflict):
        client.issue_ticket(ticket_request(), "key-conflict")
    hall.replies[tickets] = hall_error(409, "resident_session")
    with pytest.raises(ResidentSessionExpired):
        client.issue_ticket(ticket_request(), "key-expired")
    # The app's own handler answers a malformed request at the top level, naming fields.
    hall.replies[tickets] = (422, {"error": "invalid_request", "fields": ["body.category"],
                                   "message": {"zh": "请求格式不正确。", "en": "Malformed."}})
    with pytest.raises(ValueError, match=r"malformed \(fields: body\.category\)"):
        client.issue_ticket(ticket_request(), "key-invalid")
    hall.replies[("POST", f"/v1/appointments/{APPT}/check-in")] = hall_error(
        404, "unknown_appointment")
    with pytest.raises(NotFound):
        client.check_in(APPT, "KIOSK-01", "key-appointment")
    hall.replies[tickets] = hall_error(401, "unauthenticated")
    with pytest.raises(BackendError, match=r"HTTP 401.*backend\.token_file") as info401:
        client.issue_ticket(ticket_request(), "key-401-x")
    assert not isinstance(info401.value, ValueError)  # a technician fixes it: retried later
    hall.replies[tickets] = hall_error(403, "forbidden")
    with pytest.raises(BackendError, match="HTTP 403"):
        client.issue_ticket(ticket_request(), "key-403-x")


def test_check_in_uses_the_session_of_the_appointments_resident(client, hall):
    client.identify(RID, code=CODE)  # its reply listed the appointment
    result = client.check_in(APPT, "KIOSK-01", "checkin-key-1")
    (seen,) = hall.seen("POST", f"/v1/appointments/{APPT}/check-in")
    assert seen.headers["x-resident-session"] == SESSION
    assert seen.headers["idempotency-key"] == "checkin-key-1" and seen.body is None
    assert not result.earlier and result.ticket.priority_reason == "appointment"


def test_cancelling_a_ticket_request_names_its_key_in_the_body(client, hall):
    assert client.cancel_ticket_request("ticket-key-1", "restart") == "A007"
    (seen,) = hall.seen("POST", "/v1/ticket-cancellations")
    assert seen.body == {"key": "ticket-key-1", "reason": "restart"}
    assert seen.headers["idempotency-key"] != "ticket-key-1"  # a key of its own


def test_an_application_goes_in_the_halls_shape(client, hall):
    client.identify(RID, code=CODE)
    receipt = client.submit_application(RID, SUBMISSION, 5, "app-key-1")
    assert receipt.reference == "YW20261207000001" and receipt.processing_days == 5
    assert receipt.submitted_at.tzinfo is SHANGHAI
    (seen,) = hall.seen("POST", "/v1/applications")
    assert seen.body == {"bundle_id": "retirement", "processing_days": 5, "submission": {
        "answers": {"q1": "yes"}, "fields": {"phone": "138****0001"},
        "materials": {"exempt": ["id_card"], "to_bring": []}, "prefilled": {}}}
    assert seen.headers["x-resident-session"] == SESSION
    assert seen.headers["idempotency-key"] == "app-key-1"
    # A field the hall would not take: refused here, naming where, not what was typed.
    with pytest.raises(ValueError) as info:
        client.submit_application(RID, {**SUBMISSION, "fields": {"phone": 13800000001}}, 5,
                                  "app-key-2")
    assert "submission.fields.phone" in str(info.value)
    assert "13800000001" not in str(info.value)
    assert len(hall.seen("POST", "/v1/applications")) == 1


def test_progress_by_the_receipts_id_and_staff_only_moves(client, hall):
    found = client.application(PUBLIC_ID)
    assert found is not None and found.reference == "YW20261207000001"
    hall.replies[("GET", "/v1/applications/" + "q" * 22)] = hall_error(
        404, "unknown_application")
    assert client.application("q" * 22) is None
    with pytest.raises(BackendError, match="counter page"):
        client.advance_application("YW20261207000001", ApplicationStatus.DONE)


def test_records_send_no_kiosk_id_and_a_key_each(client, hall):
    client.rate(5, ("fast", "polite"), "ticket", "t" * 22, "KIOSK-01", "rating-key-1")
    assert client.call_help("KIOSK-01", "home", "help-key-1") == "H20261207-0001"
    client.record_event("flow_finished", flow="take_number", step="printed", duration_s=12.5,
                        kiosk_id="KIOSK-01", at=T0)
    client.record_event("flow_started", flow="take_number", kiosk_id="KIOSK-01")
    rating, help_call, event, event2 = hall.requests
    assert rating.body == {"level": 5, "reasons": ["fast", "polite"], "target_kind": "ticket",
                           "target_id": "t" * 22}
    assert help_call.body == {"screen": "home"}
    assert event.body == {"kind": "flow_finished", "flow": "take_number", "step": "printed",
                          "duration_s": 12.5, "at": "2026-12-07T10:00:00+08:00"}
    assert (rating.headers["idempotency-key"], help_call.headers["idempotency-key"]) == (
        "rating-key-1", "help-key-1")
    assert event.headers["idempotency-key"] != event2.headers["idempotency-key"]
    assert not any("KIOSK-01" in json.dumps(r.body) for r in hall.requests)
    hall.replies[("POST", "/v1/usage-events")] = (422, {
        "error": "invalid_request", "fields": ["body.flow"],
        "message": {"zh": "请求格式不正确。", "en": "The request is malformed."}})
    with pytest.raises(ValueError, match="flow"):
        client.record_event("fault", flow="13800000001", kiosk_id="KIOSK-01")


def test_a_used_code_is_claimed_hall_wide_under_a_key_of_its_own(client, hall):
    assert client.claim_nonce("demo", "nonce-123456", 1_800_000_000) is True
    hall.replies[("POST", "/v1/used-nonces")] = (200, {"new": False})
    assert client.claim_nonce("demo", "nonce-123456", 1_800_000_000) is False
    first, again = hall.seen("POST", "/v1/used-nonces")
    assert first.body == {"key_id": "demo", "nonce": "nonce-123456", "expires_at": 1_800_000_000}
    assert first.headers["idempotency-key"] == again.headers["idempotency-key"]


def test_trusted_keys_are_checked_and_kept_for_an_offline_start(hall, tmp_path):
    cache = tmp_path / "keys.json"
    client = make_client(hall.url, keys_cache=cache)
    assert client.trusted_keys() == {"hall1a2b3c": "A" * 43 + "="}
    client.close()
    offline = make_client(f"http://127.0.0.1:{free_port()}", keys_cache=cache,
                          fetch_keys_on_demand=False)
    assert offline.trusted_keys() == {"hall1a2b3c": "A" * 43 + "="}
    offline.close()


def test_faults_leases_and_offline_tickets(client, hall):
    hall.replies[("POST", "/v1/faults")] = (200, {"kind": "paper_out", "state": "open",
                                                  "changed": True, "fault": None})
    lease = {"lease_id": 7, "day": "2026-12-07", "category": "social_security",
             "priority": False, "series": "A", "first": 901, "last": 920,
             "created_at": "2026-12-07T09:00:00+08:00", "used": [901]}
    hall.replies[("POST", "/v1/leases")] = (200, lease)
    hall.replies[("GET", "/v1/leases")] = (200, [lease])
    hall.replies[("POST", "/v1/offline-tickets")] = (200, ticket_reply(
        number="A902", priority=False, priority_reason="", offline=True))
    assert client.report_fault("paper_out", "open", "", "fault-key-1") is True
    taken = client.take_lease("social_security", False, "lease-key-1")
    assert (taken.first, taken.last, taken.used) == (901, 920, (901,))
    assert client.leases() == [taken]
    late = client.deliver_offline_ticket(7, 902, "social_security", T0, "", "offline-key-1")
    assert late.offline and late.number == "A902"
    assert hall.seen("POST", "/v1/offline-tickets")[0].body == {
        "lease_id": 7, "seq": 902, "category": "social_security",
        "issued_at": "2026-12-07T10:00:00+08:00", "priority_reason": ""}


def test_outbox_delivers_through_http_once_the_hall_is_back(tmp_path):
    port = free_port()
    hall = FakeHall(REPLIES, port=port)
    client = make_client(f"http://127.0.0.1:{port}")
    client.identify(RID, code=CODE)
    hall.close()  # the hall goes away after the resident was identified
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    deliverer = Deliverer(outbox, client)
    payload = {"resident_id": RID, "submission": SUBMISSION, "processing_days": 5}
    try:
        stored = deliverer.deliver("application", "app-key-1", payload)
        # Refused: it never left the kiosk, so it cannot have been applied.
        assert stored.state == "pending" and stored.error == "BackendNotReached"
        back = FakeHall(REPLIES, port=port)
        try:
            outbox._conn.execute("UPDATE outbox SET next_at = 0")
            assert [d.state for d in deliverer.drain()] == ["done"]
            deliverer.deliver("application", "app-key-1", payload)  # a late duplicate
            assert len(back.seen("POST", "/v1/applications")) == 1
        finally:
            back.close()
    finally:
        outbox.close()
        client.close()


# -------------------------------------------------------------------------- faults


@pytest.fixture
def canned() -> Iterator[Callable[..., HttpBackend]]:
    """A client of a stand-in server that answers every request with one reply."""
    made: list[tuple[FakeHall, HttpBackend]] = []

    def make(status: int, body: Any, **kwargs: Any) -> HttpBackend:
        server = FakeHall(default=(status, body), **kwargs)
        client = make_client(server.url, read_timeout_s=1.0)
        client.canned = server  # type: ignore[attr-defined]
        made.append((server, client))
        return client

    yield make
    for server, client in made:
        client.close()
        server.close()


def test_a_hanging_hall_times_out_within_the_timeout():
    # Listening but never answering: the connection is accepted, the request read, nobody
    # replies. Requests are counted as they arrive, so "once, no retry" is a count, not a
    # time that a loaded machine could stretch past a second timeout's worth.
    requests_seen: list[bytes] = []
    held: list[socket.socket] = []

    def accept(listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
                requests_seen.append(conn.recv(65536))
            except OSError:
                return  # the listener is closed: the test is over
            held.append(conn)

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        threading.Thread(target=accept, args=(listener,), daemon=True).start()
        client = make_client(f"http://127.0.0.1:{port}", read_timeout_s=0.5)
        for n, call in enumerate((client.queue_figures,
                                  lambda: client.identify(RID, code=CODE),
                                  lambda: client.issue_ticket(
                                      ticket_request(resident_id=None), "hang-key-1"))):
            started = time.monotonic()
            with pytest.raises(BackendTimeout) as info:
                call()
            elapsed = time.monotonic() - started
            assert elapsed > 0.4, elapsed  # it waited for the read timeout...
            assert poll_until(lambda n=n: len(requests_seen) >= n + 1)
            assert len(requests_seen) == n + 1, requests_seen  # ...once (no retry)
            assert "no answer within 0.5 s" in str(info.value)
            assert CODE not in str(info.value)
        client.close()
        listener.shutdown(socket.SHUT_RDWR)
    for conn in held:
        conn.close()


def test_no_connection_within_the_connect_timeout_means_nothing_was_sent(tmp_path):
    """A host that drops the connection's first packet (a cut cable, an overloaded hall's
    full accept queue): a timeout, but the request never left the kiosk, so a ticket asked
    for there was not issued. The outbox gives up on it at once rather than resolving it
    (and the take-number flow may give an offline number)."""
    import dataclasses

    from kiosk.delivery.faults import BackendNotReached

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)  # never accepted: its queue fills, further SYNs are dropped
        port = listener.getsockname()[1]
        fillers = []
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        with socket.socket() as probe:
            probe.settimeout(0.3)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                pytest.skip("this kernel accepts past a full listen queue")
        client = make_client(f"http://127.0.0.1:{port}", connect_timeout_s=0.3)
        outbox = Outbox(tmp_path / "outbox.sqlite3")
        try:
            with pytest.raises(BackendTimeout) as info:
                client.queue_figures()
            assert isinstance(info.value, BackendNotReached)
            assert "no connection within 0.3 s (connect timeout)" in str(info.value)
            got = Deliverer(outbox, client).deliver(
                "ticket", "ticket-key-1", dataclasses.asdict(ticket_request(resident_id=None)))
            assert (got.state, got.not_sent) == ("pending", True)
            assert outbox.get("ticket-key-1").state == "expired"  # never sent later
        finally:
            outbox.close()
            client.close()
            for s in fillers:
                s.close()


def test_a_trickling_reply_is_cut_at_connect_plus_read_timeout():
    """The read timeout is per socket read; a byte every 0.1 s would never trip it."""
    stop = threading.Event()

    def trickle(listener: socket.socket) -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100000\r\n\r\n[")
            while not stop.is_set():
                try:
                    conn.sendall(b" ")
                except OSError:
                    return
                time.sleep(0.1)

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        threading.Thread(target=trickle, args=(listener,), daemon=True).start()
        # A read timeout 30 times the trickle's pace: the stand-in server's thread held up on
        # a loaded machine must not trip the per-read timeout before the whole reply's.
        client = make_client(f"http://127.0.0.1:{listener.getsockname()[1]}",
                             connect_timeout_s=0.3, read_timeout_s=3.0)
        started = time.monotonic()
        with pytest.raises(BackendTimeout, match=r"not complete within 3\.3 s"):
            client.queue_figures()
        stop.set()
        # The message shows the cut; this ceiling (a loaded machine meets it) fails a
        # client that let the trickle run, which would take hours.
        assert time.monotonic() - started < 30
        client.close()


def test_a_reply_larger_than_the_cap_is_refused(canned, monkeypatch):
    import kiosk.delivery.http_client as http_client

    monkeypatch.setattr(http_client, "MAX_REPLY_BYTES", 1000)
    client = canned(200, [{"category": "x" * 100}] * 50)
    with pytest.raises(BackendReplyError, match="reply larger than 1000 bytes"):
        client.queue_figures()


def test_connection_refused_is_a_clear_backend_error():
    client = make_client(f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(BackendUnreachable) as info:
        client.identify(RID, code=CODE)
    # Refused at once; a ceiling a loaded machine meets, which retries with waits between
    # them would still exceed.
    assert time.monotonic() - started < 5.0
    message = str(info.value)
    assert "POST /v1/kiosk/residents" in message and "connection refused" in message
    assert "kiosk hall serve" in message
    assert CODE not in message and TOKEN not in message
    with pytest.raises(BackendUnreachable, match="GET /v1/queue"):
        client.queue_figures()


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_backend_errors(canned, status):
    client = canned(status, {"error": "database_unavailable"})
    with pytest.raises(BackendError, match=f"HTTP {status}") as info:
        client.queue_figures()
    assert not isinstance(info.value, ValueError)  # the outbox keeps the work
    gets = len(client.canned.requests)
    # Only reads are retried here, and only on 502/503/504 (a 500 is a bug, not a blip).
    assert gets == (1 if status == 500 else 2)
    with pytest.raises(BackendError, match=f"HTTP {status}"):
        client.issue_ticket(ticket_request(resident_id=None), "key-5xx-1")
    assert len(client.canned.requests) == gets + 1  # a write is never retried here


def test_a_503_with_retry_after_does_not_block(canned):
    client = canned(503, {"error": "database_unavailable"}, headers={"Retry-After": "3600"})
    started = time.monotonic()
    with pytest.raises(BackendError, match="HTTP 503"):
        client.queue_figures()
    assert time.monotonic() - started < 30  # far below the hour it was asked to wait


@pytest.mark.parametrize(("body", "content_type", "expected"), [
    (b"<html>Welcome to nginx</html>", "text/html", "not JSON (text/html"),
    (b'[{"category": "x"', "application/json", "not JSON"),
    (b"", "application/json", "not JSON"),
    ([{**FIGURES[0], "waiting": "3"}], "application/json", "expected shape (0.waiting"),
    ({"social_security": FIGURES[0]}, "application/json", "expected shape"),
])
def test_malformed_replies_are_backend_errors(canned, body, content_type, expected):
    client = canned(200, body, content_type=content_type)
    with pytest.raises(BackendReplyError, match=expected.replace("(", r"\(")):
        client.queue_figures()


def test_wrong_shapes_for_every_kind_of_reply(canned):
    ticket = ticket_reply(issued_at="2026-12-07T10:00:00")  # no UTC offset
    with pytest.raises(BackendReplyError, match="issued_at: Input should have timezone"):
        canned(200, ticket).issue_ticket(ticket_request(resident_id=None), "key-shape-1")
    with pytest.raises(BackendReplyError, match="ahead"):
        canned(200, ticket_reply(ahead=1.5)).issue_ticket(ticket_request(resident_id=None),
                                                          "key-shape-2")
    # A catch-all web server's {} is no recorded rating.
    with pytest.raises(BackendReplyError, match="recorded"):
        canned(200, {}).rate(5, (), "none", None, "KIOSK-01", "key-shape-3")
    with pytest.raises(BackendReplyError, match="call_id"):
        canned(200, {"id": "H1"}).call_help("KIOSK-01", "home", "key-shape-4")
    with pytest.raises(BackendReplyError, match="Ed25519"):
        canned(200, {"hall": "not-a-key"}).trusted_keys()
    with pytest.raises(BackendReplyError, match="priority_reason"):
        canned(200, resident_reply(priority_reason="vip")).identify(RID, code=CODE)


def test_a_foreign_404_is_not_an_unknown_resident(canned):
    """A wrong backend.url (another web server, or a hall without the route) must not read
    as 'resident unknown' or 'no such application'."""
    client = canned(404, "<h1>Not Found</h1>", content_type="text/html")
    with pytest.raises(BackendReplyError, match=r"backend\.url"):
        client.identify(RID, code=CODE)
    with pytest.raises(BackendReplyError):
        client.application(PUBLIC_ID)
    fastapi_404 = canned(404, {"detail": "Not Found"})
    with pytest.raises(BackendReplyError, match="up to date"):
        fastapi_404.application(PUBLIC_ID)


def test_redirects_are_not_followed(canned):
    client = canned(302, "", headers={"Location": "http://203.0.113.9/v1/queue"})
    with pytest.raises(BackendReplyError, match="redirect"):
        client.queue_figures()
    assert len(client.canned.requests) == 1


def test_idempotency_key_header_on_writes_only(client, hall):
    client.queue_figures()
    client.call_help("KIOSK-01", "home", "help-key-1")
    get, post = hall.requests
    assert "idempotency-key" not in get.headers
    assert post.headers["idempotency-key"] == "help-key-1"
    with pytest.raises(ValueError, match="idempotency key"):
        client.call_help("KIOSK-01", "home", "short")  # the hall takes 8..100 characters


def test_every_request_has_a_timeout(monkeypatch, client):
    import requests

    seen: list[object] = []
    original = requests.Session.request

    def spy(self, method, url, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs.get("timeout"))
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    client.queue_figures()
    client.identify(RID, code=CODE)
    client.issue_ticket(ticket_request(), "t-timeout")
    client.record_event("flow_started", flow="take_number", kiosk_id="KIOSK-01")
    assert seen == [(0.5, 2.0)] * 4


def test_no_personal_data_token_or_session_in_logs_or_messages(caplog, client, hall):
    caplog.set_level(logging.DEBUG)
    person = client.identify(RID, code=CODE)
    assert person is not None
    client.licenses(RID)
    client.appointments_on(RID, T0.date())
    client.check_in(APPT, "KIOSK-01", "checkin-key-1")
    client.application(PUBLIC_ID)
    hall.close()
    with pytest.raises(BackendError) as info:
        client.check_in(APPT, "KIOSK-01", "checkin-key-2")
    text = caplog.text + str(info.value)
    assert "/v1/appointments/{id}/check-in" in caplog.text  # the lines are there, masked
    assert "appointments?…" in caplog.text
    for secret in (RID, CODE, TOKEN, SESSION, APPT, PUBLIC_ID, "2026-12-07"):
        assert secret not in text, secret


def test_mask_path():
    assert mask_path("GET /v1/kiosk/resident/appointments?day=2026-12-07 x") == (
        "GET /v1/kiosk/resident/appointments?… x")
    assert mask_path("POST /v1/appointments/APPT-1/check-in") == (
        "POST /v1/appointments/{id}/check-in")
    assert mask_path("/hall/v1/applications/pppppppppppppppppppppp") == (
        "/hall/v1/applications/{id}")


def test_the_client_refuses_plain_http_to_another_machine_and_a_bad_token(caplog):
    with pytest.raises(ValueError, match="https:// required"):
        HttpBackend("http://backend.hall.example:8443", token=TOKEN)
    with pytest.raises(ValueError, match="timeout"):
        HttpBackend("https://backend.hall.example", token=TOKEN, read_timeout_s=0)
    with pytest.raises(ValueError, match="device token") as info:
        HttpBackend("https://backend.hall.example", token="dev_ secret\n")
    assert "secret" not in str(info.value)
    caplog.set_level(logging.WARNING)
    HttpBackend("http://127.0.0.1:8080", token=TOKEN).close()
    assert "plain http" in caplog.text


def test_a_reply_that_stalls_mid_body_is_a_read_timeout_naming_the_configured_limit():
    """A stall after the headers surfaces from urllib3, not requests: it must still read as
    the read timeout the technician configured, the same words as a stall before them."""
    done = threading.Event()

    def stall(listener: socket.socket) -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n[")
            done.wait(30)

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        threading.Thread(target=stall, args=(listener,), daemon=True).start()
        client = make_client(f"http://127.0.0.1:{listener.getsockname()[1]}",
                             connect_timeout_s=5.0, read_timeout_s=0.5)
        with pytest.raises(BackendTimeout) as info:
            client.queue_figures()
        done.set()
        client.close()
    message = str(info.value)
    assert type(info.value) is BackendTimeout
    assert message.startswith("backend GET /v1/queue at http://127.0.0.1:"), message
    assert message.endswith(": no answer within 0.5 s (read timeout)"), message
