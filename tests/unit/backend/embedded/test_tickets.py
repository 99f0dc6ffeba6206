"""Queue tickets in the embedded backend: one person one number, cancelled requests, and
办件查询 of a ticket (`ticket_progress`) from the id its signed tracking code names."""

from __future__ import annotations

import pytest

from kiosk.backend.interface import (
    IdempotencyConflict,
    TicketRequest,
    TicketRequestCancelled,
    TicketState,
)
from kiosk.backend.stats import export_stats
from kiosk.domain.payloads import Kind, load_public_keys, parse
from tests.helpers.backend import ORDINARY


def request(resident: str | None = ORDINARY, **changes: object) -> TicketRequest:
    base: dict[str, object] = {"category": "social_security", "priority": False,
                               "priority_reason": "", "resident_id": resident,
                               "kiosk_id": "KIOSK-01"}
    return TicketRequest(**{**base, **changes})  # type: ignore[arg-type]


def test_a_resident_scanning_again_gets_the_same_waiting_ticket(backend):
    first = backend.issue_ticket(request(), "scan-1")
    backend.issue_ticket(request(None), "anon-1")  # someone after him
    again = backend.issue_ticket(request(), "scan-2")  # another code, another kiosk
    assert again.number == first.number and again.ticket_id == first.ticket_id
    assert again.already_waiting and not first.already_waiting
    assert again.ahead == 0  # himself is not ahead of himself
    assert backend.issue_ticket(request(), "scan-2") == again  # its retry
    assert backend.queue_figures()["social_security"].waiting == 2
    # Another category is another number; once called, a new one.
    assert backend.issue_ticket(request(category="household"), "scan-3").number != first.number
    assert backend.call_next("social_security") == first.number
    fresh = backend.issue_ticket(request(), "scan-4")
    assert fresh.number != first.number and not fresh.already_waiting


def test_people_ahead_are_counted_now_when_the_ticket_is_shown_again(backend):
    backend.issue_ticket(request(None), "anon-1")
    backend.issue_ticket(request(None), "anon-2")
    mine = backend.issue_ticket(request(), "scan-1")
    assert mine.ahead == 2
    backend.call_next("social_security")
    backend.issue_ticket(request("R0002", priority=True, priority_reason="age"), "old-1")
    again = backend.issue_ticket(request(), "scan-2")
    assert again.ahead == 2  # one served, one priority ticket called before him


def test_a_cancelled_request_is_never_issued(backend):
    assert backend.cancel_ticket_request("press-1", "timeout") is None
    with pytest.raises(TicketRequestCancelled):
        backend.issue_ticket(request(None), "press-1")  # the late arrival
    assert backend.queue_figures()["social_security"].waiting == 0
    assert backend.cancel_ticket_request("press-1", "timeout") is None  # idempotent


def test_cancelling_after_issue_withdraws_the_ticket_and_counts_it(backend, clock):
    issued = backend.issue_ticket(request(None), "press-1")
    assert backend.cancel_ticket_request("press-1", "restart") == issued.number
    assert backend.cancel_ticket_request("press-1", "restart") == issued.number
    assert backend.queue_figures()["social_security"].waiting == 0
    assert backend.call_next("social_security") is None  # nobody is called for it
    with pytest.raises(TicketRequestCancelled):
        backend.issue_ticket(request(None), "press-1")
    # The next number is a new one: a withdrawn number is never handed out again.
    assert backend.issue_ticket(request(None), "press-2").number != issued.number
    day = clock().date()
    rows = export_stats(backend, day, day)
    assert {"section": "tickets_withdrawn", "key": "restart", "subkey": "issued",
            "value": 1} in rows


def test_cancelling_a_request_that_found_an_earlier_ticket_keeps_that_ticket(backend):
    mine = backend.issue_ticket(request(), "scan-1")
    assert backend.issue_ticket(request(), "scan-2").already_waiting
    assert backend.cancel_ticket_request("scan-2", "left") is None
    assert backend.queue_figures()["social_security"].waiting == 1
    assert backend.issue_ticket(request(), "scan-1") == mine


def test_cancel_refuses_a_key_used_for_something_else(backend):
    backend.call_help("KIOSK-01", "home", "help-1")
    with pytest.raises(IdempotencyConflict):
        backend.cancel_ticket_request("help-1")
    with pytest.raises(ValueError):
        backend.cancel_ticket_request("press-9", "R0001 13900001234")  # no personal data


# ------------------------------------------------------------ 办件查询 of a ticket


def test_a_waiting_ticket_counts_the_people_ahead_now(backend):
    backend.issue_ticket(request(None), "anon-1")
    backend.issue_ticket(request(None), "anon-2")
    mine = backend.issue_ticket(request(), "scan-1")
    payload, _, _ = parse(mine.tracking_code)
    assert payload.kind is Kind.TICKET and payload.reference == mine.ticket_id
    assert set(backend.trusted_keys()) == {payload.key_id}
    assert load_public_keys(backend.trusted_keys())

    progress = backend.ticket_progress(mine.ticket_id)
    assert progress is not None
    assert (progress.number, progress.category, progress.state) == (
        mine.number, "social_security", TicketState.WAITING)
    assert (progress.ahead, progress.estimated_wait_min) == (2, mine.estimated_wait_min)
    assert progress.issued_at == mine.issued_at and progress.priority is False
    assert progress.counter is None and progress.category_title is None

    # One served, then a priority ticket that goes before him: still two ahead.
    backend.call_next("social_security")
    backend.issue_ticket(request("R0002", priority=True, priority_reason="age"), "old-1")
    progress = backend.ticket_progress(mine.ticket_id)
    assert progress is not None and progress.ahead == 2
    backend.call_next("social_security")
    backend.call_next("social_security")
    progress = backend.ticket_progress(mine.ticket_id)
    assert progress is not None and (progress.ahead, progress.estimated_wait_min) == (0, 0)


def test_a_served_ticket_is_finished(backend, clock):
    mine = backend.issue_ticket(request(None), "anon-1")
    clock.advance(minutes=12)
    assert backend.call_next("social_security") == mine.number
    progress = backend.ticket_progress(mine.ticket_id)
    assert progress is not None and progress.state is TicketState.FINISHED
    assert progress.ahead is None and progress.called_at == clock()


def test_a_withdrawn_ticket_says_so(backend):
    mine = backend.issue_ticket(request(None), "press-1")
    backend.cancel_ticket_request("press-1", "timeout")
    progress = backend.ticket_progress(mine.ticket_id)
    assert progress is not None
    assert (progress.number, progress.state) == (mine.number, TicketState.WITHDRAWN)


def test_yesterdays_ticket_never_called_is_missed_with_no_way_back(backend, clock):
    mine = backend.issue_ticket(request(None), "anon-1")
    clock.advance(days=1)
    progress = backend.ticket_progress(mine.ticket_id)
    assert progress is not None and progress.state is TicketState.NO_SHOW
    assert progress.return_until is None and progress.ahead is None


def test_unknown_and_malformed_ids_are_none(backend):
    backend.issue_ticket(request(None), "anon-1")
    assert backend.ticket_progress("TAAAAAAAAAAAA") is None
    assert backend.ticket_progress("") is None
    assert backend.ticket_progress("x' OR 1=1 --") is None
    assert backend.ticket_progress("T" * 65) is None
