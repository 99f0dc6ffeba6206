"""Delivery through the outbox: stored before sent, retried until confirmed, applied once,
never after the resident was told no."""

from __future__ import annotations

from kiosk.delivery.deliverer import application_receipt, issued_ticket
from tests.helpers.backend import StalledBackend

APP = {"resident_id": "R0001", "processing_days": 5,
       "submission": {"bundle_id": "retirement", "answers": {}, "fields":
                      {"phone": "13912345678"}, "materials": {"exempt": [], "to_bring": []}}}


def test_sent_at_once_when_the_backend_is_up(world):
    d, _link, outbox, backend, _ = world
    result = d.deliver("application", "k1", APP)
    assert result.state == "done"
    receipt = application_receipt(result.result)
    assert backend.application(receipt.reference) is not None
    stored = outbox.get("k1")
    assert stored.state == "done"
    assert "13912345678" not in str(stored.payload)  # redacted once confirmed


def test_kept_and_retried_until_the_backend_confirms(world):
    d, link, outbox, backend, clock = world
    link.set_mode("down")
    assert d.deliver("application", "k1", APP).state == "pending"
    assert outbox.pending()[0] == 1
    assert d.drain() == []  # not due yet: backoff
    clock.seconds += 600
    assert [x.state for x in d.drain()] == ["pending"]  # still down
    link.set_mode("up")
    clock.seconds += 600
    [done] = d.drain()
    assert done.state == "done"
    assert outbox.pending()[0] == 0
    assert len(backend.applications_of("R0001")) == 1


def test_lost_reply_is_applied_once(world):
    d, link, _outbox, backend, clock = world
    link.set_mode("lost_reply")  # the backend commits, the kiosk never hears
    assert d.deliver("application", "k1", APP).state == "pending"
    link.set_mode("up")
    clock.seconds += 600
    [done] = d.drain()
    assert done.state == "done"
    assert len(backend.applications_of("R0001")) == 1  # the same key applied once


def test_same_key_twice_is_one_item(world):
    d, _link, outbox, backend, _ = world
    a = d.deliver("application", "k1", APP)
    b = d.deliver("application", "k1", APP)
    assert a.result == b.result
    assert len(outbox.all_items()) == 1
    assert len(backend.applications_of("R0001")) == 1


def test_a_refused_request_is_not_retried(world):
    d, _link, outbox, _backend, _ = world
    bad = {**APP, "submission": {"bundle_id": "NOT VALID"}}
    assert d.deliver("application", "k1", bad).state == "failed"
    assert outbox.get("k1").state == "dead"
    assert outbox.pending()[0] == 0


def test_a_ticket_is_never_issued_after_the_resident_was_told_no(world):
    d, link, outbox, backend, clock = world
    link.set_mode("down")
    req = {"category": "social_security", "priority": False, "priority_reason": "",
           "resident_id": None, "kiosk_id": "K1", "appointment_id": None}
    assert d.deliver("ticket", "t1", req).state == "pending"
    link.set_mode("up")
    clock.seconds += 600
    assert d.drain() == []
    assert outbox.get("t1").state == "expired"
    assert backend.queue_figures()["social_security"].waiting == 0
    ok = d.deliver("ticket", "t2", req)
    assert ok.state == "done" and issued_ticket(ok.result).number.startswith("A")


# --------------------------------------------------------------- tickets nobody holds

TICKET = {"category": "social_security", "priority": False, "priority_reason": "",
          "resident_id": None, "kiosk_id": "K1", "appointment_id": None}


def restart(world_, tmp_path):
    """The kiosk starts again on the same outbox file, as after a kill."""
    from kiosk.delivery.deliverer import Deliverer
    from kiosk.delivery.outbox import Outbox

    _d, link, outbox, _backend, clock = world_
    # A second connection to the file, as the next process opens it (the fixture closes the
    # first one).
    again = Outbox(outbox.path, clock=clock.time)
    return Deliverer(again, link), again


def test_a_ticket_request_stored_before_a_kill_is_withdrawn_not_sent(world, tmp_path):
    _d, _link, outbox, backend, _clock = world
    outbox.put("ticket", "t1", TICKET, ttl_s=60)  # the kill came right after the put
    d2, outbox2 = restart(world, tmp_path)
    try:
        assert d2.withdraw_unclaimed() == 1
        d2.drain()
        assert outbox2.get("t1").state == "expired"
        assert outbox2.pending()[0] == 0  # the cancellation went out
        assert backend.queue_figures()["social_security"].waiting == 0
        assert backend.cancel_ticket_request("t1", "restart") is None  # none was issued
    finally:
        outbox2.close()


def test_a_ticket_issued_but_never_shown_is_withdrawn_at_the_restart(world, tmp_path):
    d, _link, _outbox, backend, _clock = world
    shown = d.deliver("ticket", "t1", TICKET)
    d.claim_ticket("t1")  # on the resident's screen
    unseen = d.deliver("ticket", "t2", TICKET)  # the kill came before the screen showed it
    assert shown.state == unseen.state == "done"
    d2, outbox2 = restart(world, tmp_path)
    try:
        assert d2.withdraw_unclaimed() == 1
        d2.drain()
        assert backend.queue_figures()["social_security"].waiting == 1
        assert backend.call_next("social_security") == issued_ticket(shown.result).number
        assert backend.call_next("social_security") is None
        assert d2.withdraw_unclaimed() == 0  # a second restart changes nothing
    finally:
        outbox2.close()


def test_after_a_timeout_the_same_key_is_asked_again_and_the_ticket_shown(world):
    import threading

    from kiosk.delivery.deliverer import Deliverer

    _d, link, outbox, backend, _clock = world
    release = threading.Event()
    stalled = StalledBackend(link, release)
    resolving: list[str] = []
    # The backend resumes while the kiosk asks again (its pause between asks).
    d = Deliverer(outbox, stalled, resolve_s=60, resolve_pause_s=0,
                  sleep=lambda _s: release.set())
    d.on_resolving = resolving.append
    try:
        result = d.deliver("ticket", "t1", TICKET)
    finally:
        stalled.join()
    assert resolving == ["t1"]
    assert result.state == "done"
    number = issued_ticket(result.result).number
    assert backend.queue_figures()["social_security"].waiting == 1
    assert {t.number for t in stalled.late} == {number}  # the late one is the same ticket


def test_a_request_without_an_answer_is_cancelled_and_never_issued(world):
    import threading

    from kiosk.delivery.deliverer import CANCELLED, Deliverer

    _d, link, outbox, backend, _clock = world
    stalled = StalledBackend(link, threading.Event())
    d = Deliverer(outbox, stalled, resolve_s=0, resolve_pause_s=0)
    result = d.deliver("ticket", "t1", TICKET)
    assert result.state == "failed" and result.error == CANCELLED
    stalled.join()  # the backend resumes: the held-up request arrives now
    assert [type(x).__name__ for x in stalled.late] == ["TicketRequestCancelled"]
    assert backend.queue_figures()["social_security"].waiting == 0
    assert outbox.get("t1").state == "expired" and outbox.pending()[0] == 0


def test_a_cancellation_that_cannot_be_sent_is_kept_until_it_is(world):
    import threading

    from kiosk.delivery.deliverer import UNRESOLVED, Deliverer

    _d, link, outbox, backend, clock = world
    stalled = StalledBackend(link, threading.Event())
    link.set_mode("lost_reply")  # the cancellation gets no answer either
    d = Deliverer(outbox, stalled, resolve_s=0, resolve_pause_s=0)
    result = d.deliver("ticket", "t1", TICKET)
    assert result.state == "failed" and result.error == UNRESOLVED
    link.set_mode("down")
    stalled.join()
    link.set_mode("up")
    clock.seconds += 600
    d.drain()
    assert outbox.pending()[0] == 0
    assert backend.queue_figures()["social_security"].waiting == 0
