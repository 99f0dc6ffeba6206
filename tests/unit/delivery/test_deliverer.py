"""Delivery through the outbox: stored before sent, retried until confirmed, applied once,
never after the resident was told no."""

from __future__ import annotations

from kiosk.delivery.deliverer import application_receipt, issued_ticket

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
