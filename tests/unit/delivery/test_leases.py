"""Numbers held for an outage (kiosk.delivery.leases): each given once, across restarts and
crashes; blocks topped up when half is used, asked again under the same key when an answer
was lost, new ones each day; offline numbers only in the hours the hall last gave; and their
delivery stored in the outbox, keyed by the number."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from kiosk.backend.interface import BackendError, IssuedTicket, QueueFigures
from kiosk.common.clock import SHANGHAI
from kiosk.delivery.deliverer import CANCELLED, OFFLINE_TICKET, UNRESOLVED, Deliverer, Delivery
from kiosk.delivery.faults import BackendNotReached, BackendTimeout
from kiosk.delivery.http_client import HallRefused, Lease
from kiosk.delivery.leases import LeaseKeeper, LeaseStore, OfflineNumber, OfflineRefusal
from kiosk.delivery.outbox import Outbox
from kiosk.domain.text import Bilingual
from tests.helpers.clock import FakeClock
from tests.helpers.paths import REPO_ROOT

MONDAY = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
TODAY = MONDAY.date()
NOON = dt.datetime(2026, 12, 7, 12, 0, tzinfo=SHANGHAI)


def lease(lease_id: int, first: int, size: int = 20, category: str = "social_security",
          series: str = "A", day: dt.date = TODAY, used: tuple[int, ...] = ()) -> Lease:
    return Lease(lease_id=lease_id, day=day, category=category, priority=False, series=series,
                 first=first, last=first + size - 1, used=used)


def figures(category: str = "social_security", *, open: bool = True,
            opens_at: dt.datetime | None = None, closes_at: dt.datetime | None = NOON,
            remaining: int | None = None) -> QueueFigures:
    return QueueFigures(category=category, waiting=3, priority_waiting=0,
                        minutes_per_ticket=8.0, open=open, opens_at=opens_at,
                        remaining_today=remaining, closes_at=closes_at if open else None)


@pytest.fixture
def store(tmp_path: Path):
    s = LeaseStore(tmp_path / "leases.sqlite3")
    yield s
    s.close()


# ------------------------------------------------------------------------- the store


def test_the_store_is_durable(store):
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_every_number_once_across_a_restart(tmp_path):
    path = tmp_path / "leases.sqlite3"
    first = LeaseStore(path)
    first.add_lease(lease(7, first=21, size=5))
    given = [first.take("social_security", TODAY, f"key-{i}", MONDAY) for i in range(3)]
    first.close()

    again = LeaseStore(path)  # the kiosk restarted
    given += [again.take("social_security", TODAY, f"key-{i}", MONDAY) for i in range(3, 6)]
    assert given[-1] is None  # five numbers, six asked for
    numbers = [g.number for g in given if g is not None]
    assert numbers == ["A021", "A022", "A023", "A024", "A025"]
    assert again.remaining("social_security", TODAY) == 0
    # The block asked for again (an answer lost, the hall replays it): still used up.
    again.add_lease(lease(7, first=21, size=5))
    assert again.take("social_security", TODAY, "key-9", MONDAY) is None
    again.close()


def test_the_same_request_gets_the_same_number(tmp_path):
    path = tmp_path / "leases.sqlite3"
    store = LeaseStore(path)
    store.add_lease(lease(1, first=1))
    a = store.take("social_security", TODAY, "request-1", MONDAY)
    b = store.take("social_security", TODAY, "request-1", MONDAY + dt.timedelta(seconds=5))
    store.close()
    store = LeaseStore(path)
    c = store.take("social_security", TODAY, "request-1", MONDAY)
    d = store.take("social_security", TODAY, "request-2", MONDAY)
    store.close()
    assert a == b == c and a is not None and a.number == "A001"
    assert d is not None and d.number == "A002"


def test_a_number_taken_is_taken_even_if_the_kiosk_dies_at_once(tmp_path):
    """The process is killed right after take() returned (before anything else could be
    written): the next start gives the next number, never that one again."""
    path = tmp_path / "leases.sqlite3"
    setup = LeaseStore(path)
    setup.add_lease(lease(3, first=41, size=4))
    setup.close()
    child = textwrap.dedent(f"""
        import datetime as dt, os, signal, sys
        from kiosk.common.clock import SHANGHAI
        from kiosk.delivery.leases import LeaseStore
        store = LeaseStore(__import__("pathlib").Path({str(path)!r}))
        got = store.take("social_security", dt.date(2026, 12, 7), "dying",
                         dt.datetime(2026, 12, 7, 10, tzinfo=SHANGHAI))
        sys.stdout.write(got.number)
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    run = subprocess.run([sys.executable, "-c", child], cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert run.stdout == "A041"
    after = LeaseStore(path)
    found = after.take("social_security", TODAY, "next-resident", MONDAY)
    assert found is not None and found.number == "A042"
    assert [n.number for n in after.issued()] == ["A041", "A042"]
    after.close()


def test_numbers_the_hall_has_had_delivered_are_skipped(store):
    """A block the kiosk learns of again with numbers already delivered (`used`)."""
    store.add_lease(lease(5, first=1, size=5, used=(1, 2)))
    found = store.take("social_security", TODAY, "k", MONDAY)
    assert found is not None and found.number == "A003"


def test_the_oldest_block_first_and_only_todays(store):
    store.add_lease(lease(1, first=1, size=2, day=TODAY - dt.timedelta(days=1)))
    store.add_lease(lease(4, first=30, size=2))
    store.add_lease(lease(9, first=60, size=2))
    got = [store.take("social_security", TODAY, f"k{i}", MONDAY) for i in range(5)]
    assert [g.number if g else None for g in got] == ["A030", "A031", "A060", "A061", None]
    assert store.take("medical_insurance", TODAY, "k9", MONDAY) is None


def test_top_up_when_fewer_than_half_remain(store):
    assert store.needs_top_up("social_security", TODAY)  # nothing held
    store.add_lease(lease(1, first=1, size=20))
    for i in range(10):
        store.take("social_security", TODAY, f"k{i}", MONDAY)
    assert store.remaining("social_security", TODAY) == 10
    assert not store.needs_top_up("social_security", TODAY)  # half left
    store.take("social_security", TODAY, "k10", MONDAY)
    assert store.needs_top_up("social_security", TODAY)  # fewer than half
    assert store.needs_top_up("social_security", TODAY + dt.timedelta(days=1))  # a new day


def test_the_hours_as_last_heard(store):
    assert store.may_issue("social_security", MONDAY) == OfflineRefusal("no_numbers")
    store.remember_figures({"social_security": figures()}, MONDAY)
    assert store.may_issue("social_security", MONDAY + dt.timedelta(minutes=3)) is None
    # The open period the hall named has ended (lunch): closed, next opening not known.
    assert store.may_issue("social_security", NOON) == OfflineRefusal("closed")
    # Figures of yesterday say nothing of today.
    assert store.may_issue("social_security", MONDAY + dt.timedelta(days=1)) == (
        OfflineRefusal("no_numbers"))
    tomorrow_9 = dt.datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI)
    evening = dt.datetime(2026, 12, 7, 20, 0, tzinfo=SHANGHAI)
    store.remember_figures({"social_security": figures(open=False, opens_at=tomorrow_9)},
                           evening)
    assert store.may_issue("social_security", evening) == OfflineRefusal("closed", tomorrow_9)
    store.remember_figures({"social_security": figures(remaining=0)}, MONDAY)
    assert store.may_issue("social_security", MONDAY) == OfflineRefusal("cap_reached")


# ------------------------------------------------------------------------- the keeper


class FakeHall:
    """queue_figures, take_lease and deliver_offline_ticket as the hall answers them; `down`
    refuses every call, `lose_next_reply` commits a lease and loses the answer."""

    def __init__(self, categories: dict[str, QueueFigures] | None = None) -> None:
        self.figures = categories or {"social_security": figures()}
        self.next_first = 1
        self.next_id = 1
        self.by_key: dict[str, Lease] = {}
        self.down = False
        self.lose_next_reply = False
        self.refuse: dict[str, str] = {}
        self.delivered: dict[str, tuple[int, int]] = {}
        self.lease_calls = 0
        self.day = TODAY  # the hall's today

    def queue_figures(self) -> dict[str, QueueFigures]:
        if self.down:
            raise BackendNotReached("connection refused")
        return dict(self.figures)

    def take_lease(self, category: str, priority: bool, idempotency_key: str) -> Lease:
        self.lease_calls += 1
        if self.down:
            raise BackendNotReached("connection refused")
        if category in self.refuse:
            raise HallRefused("refused", self.refuse[category], None)
        found = self.by_key.get(idempotency_key)
        if found is None:
            found = lease(self.next_id, first=self.next_first, category=category, day=self.day,
                          series={"social_security": "A", "medical_insurance": "B"}[category])
            self.by_key[idempotency_key] = found
            self.next_id += 1
            self.next_first += 20
        if self.lose_next_reply:
            self.lose_next_reply = False
            raise BackendTimeout("the reply was lost")
        return found

    def deliver_offline_ticket(self, lease_id: int, seq: int, category: str,
                               issued_at: dt.datetime, priority_reason: str,
                               idempotency_key: str) -> IssuedTicket:
        if self.down:
            raise BackendNotReached("connection refused")
        self.delivered.setdefault(idempotency_key, (lease_id, seq))
        return IssuedTicket(ticket_id="t", number=f"A{seq:03d}", category=category,
                            priority=False, priority_reason="", ahead=0, estimated_wait_min=0,
                            issued_at=issued_at, tracking_code="code", offline=True)


@pytest.fixture
def kept(tmp_path: Path, store: LeaseStore):
    clock = FakeClock(MONDAY)
    hall = FakeHall()
    outbox = Outbox(tmp_path / "outbox.sqlite3", clock=clock.time)
    keeper = LeaseKeeper(store, hall, outbox, ["social_security", "medical_insurance"],
                         clock=clock)
    yield keeper, hall, outbox, clock
    outbox.close()


def test_a_round_takes_a_block_per_category_the_hall_gives_numbers_in(kept):
    keeper, hall, _outbox, _clock = kept
    hall.figures["medical_insurance"] = figures("medical_insurance", open=False,
                                                opens_at=None)  # no numbers today
    assert keeper.top_up()
    assert [(x["category"], x["first"], x["last"]) for x in keeper.store.leases()] == [
        ("social_security", 1, 20)]
    assert keeper.top_up()  # nothing needed: nothing asked
    assert hall.lease_calls == 1


def test_a_block_is_topped_up_once_half_is_used(kept):
    keeper, _hall, _outbox, _clock = kept
    keeper.top_up()
    for i in range(11):
        assert isinstance(keeper.issue("social_security", f"r{i}"), OfflineNumber)
    assert keeper.top_up()
    assert [(x["first"], x["last"]) for x in keeper.store.leases()] == [(1, 20), (21, 40)]
    assert keeper.store.remaining("social_security", TODAY) == 29


def test_a_lost_answer_is_asked_again_under_the_same_key(kept, tmp_path):
    keeper, hall, _outbox, _clock = kept
    hall.lose_next_reply = True  # the hall reserved the block; the kiosk never heard
    assert not keeper.top_up()
    assert keeper.store.leases() == []
    # Even after a restart, the same request: the hall returns the block it made.
    keeper.store.close()
    keeper.store = LeaseStore(tmp_path / "leases.sqlite3")
    assert keeper.top_up()
    assert [(x["lease_id"], x["first"]) for x in keeper.store.leases()] == [(1, 1)]
    assert len(hall.by_key) == 1


def test_unreachable_rounds_and_refusals(kept):
    keeper, hall, _outbox, _clock = kept
    hall.down = True
    assert not keeper.top_up()
    hall.down = False
    hall.figures["medical_insurance"] = figures("medical_insurance")
    hall.refuse["medical_insurance"] = "leases_off"
    assert keeper.top_up()
    calls = hall.lease_calls
    assert keeper.top_up()  # refused today: not asked again today
    assert hall.lease_calls == calls
    assert [x["category"] for x in keeper.store.leases()] == ["social_security"]


def test_new_blocks_after_midnight_and_old_ones_forgotten(kept):
    keeper, hall, _outbox, clock = kept
    keeper.top_up()
    keeper.issue("social_security", "yesterday")
    clock.advance(days=1)
    hall.day = clock().date()
    hall.figures = {"social_security": figures(closes_at=NOON + dt.timedelta(days=1))}
    assert keeper.top_up()
    tomorrow = TODAY + dt.timedelta(days=1)
    assert [x["day"] for x in keeper.store.leases()] == [TODAY.isoformat(), tomorrow.isoformat()]
    found = keeper.issue("social_security", "today")
    assert isinstance(found, OfflineNumber) and found.lease_id == 2
    clock.advance(days=2)
    hall.day = clock().date()
    hall.figures = {"social_security": figures(closes_at=None)}
    keeper.top_up()
    assert TODAY.isoformat() not in {x["day"] for x in keeper.store.leases()}


def test_an_offline_number_is_stored_for_delivery_keyed_by_the_number(kept):
    keeper, hall, outbox, clock = kept
    keeper.top_up()
    clock.advance(minutes=1)
    found = keeper.issue("social_security", "request-1")
    assert isinstance(found, OfflineNumber)
    assert keeper.issue("social_security", "request-1") == found  # one number a request
    (item,) = [i for i in outbox.all_items() if i.kind == OFFLINE_TICKET]
    assert item.key == f"offline-{found.lease_id}-{found.seq}" == found.delivery_key
    assert item.payload == {"lease_id": 1, "seq": 1, "category": "social_security",
                            "issued_at": clock().isoformat(), "priority_reason": ""}
    # The outbox delivers it once, when the hall answers.
    hall.down = True
    deliverer = Deliverer(outbox, hall)  # type: ignore[arg-type]
    assert [d.state for d in deliverer.drain()] == ["pending"]
    hall.down = False
    assert outbox.hurry((OFFLINE_TICKET,)) == 1
    assert [d.state for d in deliverer.drain()] == ["done"]
    assert deliverer.drain() == []
    assert hall.delivered == {found.delivery_key: (1, 1)}
    assert outbox.get(found.delivery_key).payload == {"category": "social_security",
                                                      "offline": True}


def test_no_offline_number_outside_the_hours_or_without_a_block(kept):
    keeper, _hall, outbox, clock = kept
    assert keeper.issue("social_security", "r0") == OfflineRefusal("no_numbers")  # no figures
    keeper.top_up()
    clock.now = NOON + dt.timedelta(minutes=30)  # the period the hall named has ended
    assert keeper.issue("social_security", "r1") == OfflineRefusal("closed")
    assert keeper.store.issued() == [] and outbox.all_items() == []
    clock.now = MONDAY
    assert keeper.issue("medical_insurance", "r2") == OfflineRefusal("no_numbers")


def test_a_withdrawn_offline_number_is_never_delivered_nor_given_again(kept):
    keeper, _hall, outbox, _clock = kept
    keeper.top_up()
    first = keeper.issue("social_security", "left-at-once")
    assert isinstance(first, OfflineNumber)
    keeper.withdraw(first)
    assert outbox.get(first.delivery_key).state == "expired"
    second = keeper.issue("social_security", "next")
    assert isinstance(second, OfflineNumber) and second.seq == first.seq + 1


# ----------------------------------------------------- which failed request may go offline


def test_only_a_request_that_can_no_longer_be_issued_goes_offline():
    assert Delivery("k", "ticket", "pending", not_sent=True).unreachable
    assert Delivery("k", "ticket", "failed", error=CANCELLED).unreachable
    assert Delivery("k", "ticket", "failed", error=UNRESOLVED).unreachable
    # Sent, no answer yet: it may have been issued (the deliverer resolves it first).
    assert not Delivery("k", "ticket", "pending", error="BackendTimeout").unreachable
    assert not Delivery("k", "ticket", "failed", error="HallRefused").unreachable


def test_a_refusal_carries_the_halls_words(tmp_path):
    class Closed:
        def issue_ticket(self, request: Any, key: str) -> Any:
            raise HallRefused("closed", "closed", Bilingual(zh="关", en="Closed"),
                              dt.datetime(2026, 12, 8, 9, tzinfo=SHANGHAI))

        def cancel_ticket_request(self, key: str, reason: str = "") -> None:
            raise BackendError("not called")

    outbox = Outbox(tmp_path / "o.sqlite3")
    try:
        got = Deliverer(outbox, Closed()).deliver(  # type: ignore[arg-type]
            "ticket", "key-closed", {"category": "social_security", "priority": False,
                                     "priority_reason": "", "resident_id": None,
                                     "kiosk_id": "K1", "appointment_id": None})
    finally:
        outbox.close()
    assert got.state == "failed" and not got.unreachable
    assert got.refusal is not None and got.refusal.code == "closed"
    assert got.refusal.message == Bilingual(zh="关", en="Closed")
    assert got.refusal.opens_at == dt.datetime(2026, 12, 8, 9, tzinfo=SHANGHAI)
