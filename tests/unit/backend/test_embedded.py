"""The embedded SQLite backend: numbering, durability across restarts, concurrency,
idempotency, queue figures, tracking codes and the demo seed data."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import re
import sqlite3
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.backend import seed
from kiosk.backend.embedded import EmbeddedBackend
from kiosk.backend.embedded.schema import SCHEMA_VERSION
from kiosk.backend.interface import (
    Backend,
    BackendError,
    IdempotencyConflict,
    IssuedTicket,
    TicketRequest,
)
from kiosk.common.clock import SHANGHAI
from kiosk.domain.catalog import Catalog
from kiosk.domain.payloads import (
    Kind,
    PayloadProblem,
    PayloadRefused,
    Verifier,
    load_public_keys,
)
from kiosk.domain.queue import AppointmentFit, appointment_fit
from tests.helpers.backend import OpenBackend
from tests.helpers.clock import MONDAY_MORNING, FakeClock
from tests.helpers.waits import poll_until

T0 = MONDAY_MORNING


_keys = iter(range(10**9))


def req(category: str = "social_security", priority: bool = False, **kw: object) -> TicketRequest:
    args: dict[str, object] = {
        "category": category,
        "priority": priority,
        "priority_reason": "age" if priority else "",
        "resident_id": None,
        "kiosk_id": "K01",
    }
    args.update(kw)
    return TicketRequest(**args)  # type: ignore[arg-type]


def issue(backend: EmbeddedBackend, category: str = "social_security",
          priority: bool = False) -> IssuedTicket:
    return backend.issue_ticket(req(category, priority), f"key-{next(_keys)}")


# ------------------------------------------------------------------ database settings


def test_wal_full_sync_and_schema_version_are_set(backend: EmbeddedBackend, db: Path) -> None:
    p = backend.pragmas()
    assert p["journal_mode"] == "wal"
    assert p["synchronous"] == 2  # FULL
    assert p["busy_timeout"] == 5000
    assert p["foreign_keys"] == 1
    assert p["user_version"] == SCHEMA_VERSION
    # WAL is a property of the file: an unrelated connection sees it too.
    with sqlite3.connect(db) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other.close()


def test_worker_thread_connection_has_the_same_settings(backend: EmbeddedBackend) -> None:
    result: dict[str, int | str] = {}
    worker = threading.Thread(target=lambda: result.update(backend.pragmas()))
    worker.start()
    worker.join()
    assert result["journal_mode"] == "wal"
    assert result["synchronous"] == 2
    assert result["busy_timeout"] == 5000


def _open_files(db: Path) -> int:
    fd_dir = Path("/proc/self/fd")
    count = 0
    for fd in fd_dir.iterdir():
        with contextlib.suppress(OSError):  # the listing's own descriptor, closed by now
            count += os.readlink(fd).startswith(str(db))
    return count


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")
def test_a_finished_thread_releases_its_connection(backend: EmbeddedBackend, db: Path) -> None:
    def run_workers(n: int) -> int:
        for _ in range(n):
            worker = threading.Thread(target=backend.queue_figures)
            worker.start()
            worker.join()
        return _open_files(db)

    before = _open_files(db)  # the main thread's connection: database, WAL, shared memory
    gc.disable()  # the release must not depend on the cyclic garbage collector
    try:
        after_some = run_workers(5)
        # SQLite may park one descriptor of a closed connection for reuse (POSIX locks are
        # per process), but descriptors must not grow with the number of threads.
        assert after_some <= before + 1
        assert run_workers(30) == after_some
    finally:
        gc.enable()
    backend.close()
    assert _open_files(db) == 0


def test_the_backend_satisfies_the_protocol(backend: EmbeddedBackend) -> None:
    as_protocol: Backend = backend
    assert as_protocol.trusted_keys() == backend.trusted_keys()


def test_refuses_a_database_from_newer_software(db: Path, open_backend: OpenBackend) -> None:
    open_backend().close()
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(BackendError, match="newer"):
        open_backend()


def test_a_closed_backend_raises_backend_error(backend: EmbeddedBackend) -> None:
    backend.close()
    backend.close()  # closing twice is harmless
    with pytest.raises(BackendError):
        backend.queue_figures()


# ------------------------------------------------------------------------- numbering


def test_numbers_per_category_and_lane(backend: EmbeddedBackend) -> None:
    numbers = [
        issue(backend, "social_security").number,
        issue(backend, "social_security").number,
        issue(backend, "medical_insurance").number,
        issue(backend, "social_security", priority=True).number,
        issue(backend, "social_security").number,
        issue(backend, "social_security", priority=True).number,
        issue(backend, "other", priority=True).number,
    ]
    assert numbers == ["A001", "A002", "B001", "YA001", "A003", "YA002", "YG001"]


def test_number_widens_after_999(backend: EmbeddedBackend, db: Path) -> None:
    issue(backend)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE queue_counters SET last_number = 998 WHERE series = 'A'")
    conn.close()
    assert [issue(backend).number for _ in range(3)] == ["A999", "A1000", "A1001"]


def test_restart_continues_the_sequence(open_backend: OpenBackend) -> None:
    seen: list[str] = []
    for _ in range(5):
        backend = open_backend()
        seen += [issue(backend).number, issue(backend, priority=True).number]
        backend.close()
    assert len(set(seen)) == len(seen)
    assert [n for n in seen if n.startswith("A")] == [f"A{i:03d}" for i in range(1, 6)]
    assert [n for n in seen if n.startswith("YA")] == [f"YA{i:03d}" for i in range(1, 6)]


def test_two_threads_get_200_distinct_numbers(backend: EmbeddedBackend) -> None:
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(2)

    def work(name: str) -> None:
        try:
            start.wait()
            for i in range(100):
                n = backend.issue_ticket(req(), f"{name}-{i}").number
                with lock:
                    numbers.append(n)
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers) == [f"A{i:03d}" for i in range(1, 201)]


def test_two_backends_on_one_file_never_share_a_number(open_backend: OpenBackend) -> None:
    # Two objects on one file contend like two kiosk processes would.
    backends = [open_backend(), open_backend()]
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def work(backend: EmbeddedBackend, name: str) -> None:
        try:
            start.wait()
            for i in range(50):
                n = backend.issue_ticket(req(priority=i % 3 == 0), f"{name}-{i}").number
                with lock:
                    numbers.append(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(b, f"b{j}t{i}"))
        for j, b in enumerate(backends)
        for i in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(numbers) == 200 and len(set(numbers)) == 200


def test_next_day_starts_again_at_001(backend: EmbeddedBackend, clock: FakeClock) -> None:
    assert [issue(backend).number for _ in range(3)] == ["A001", "A002", "A003"]
    clock.advance(days=1)
    assert issue(backend).number == "A001"
    assert issue(backend, priority=True).number == "YA001"
    # Yesterday's waiting tickets are not today's queue.
    assert backend.queue_figures()["social_security"].waiting == 2


def test_the_day_is_the_shanghai_calendar_day(backend: EmbeddedBackend, clock: FakeClock) -> None:
    # 23:59 in Shanghai is 15:59 UTC; a clock that answers in UTC must not shift the day.
    clock.now = dt.datetime(2024, 6, 3, 15, 59, tzinfo=dt.UTC)
    assert issue(backend).number == "A001"
    clock.now = dt.datetime(2024, 6, 3, 16, 1, tzinfo=dt.UTC)  # 00:01 on 4 June
    assert issue(backend).number == "A001"
    assert issue(backend).issued_at.date() == dt.date(2024, 6, 4)


def test_the_unique_constraint_backs_the_counter(backend: EmbeddedBackend, db: Path) -> None:
    issue(backend)
    with sqlite3.connect(db) as conn:  # a corrupted counter must fail loudly, not duplicate
        conn.execute("DELETE FROM queue_counters WHERE series = 'A'")
    conn.close()
    with pytest.raises(BackendError):
        issue(backend)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["social_security", "household"]), st.booleans(),
                          st.booleans()), max_size=15))
def test_each_series_counts_up_without_gaps(
    catalog: Catalog, key: Ed25519PrivateKey, plan: list[tuple[str, bool, bool]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "k.sqlite3"
        backend = EmbeddedBackend(path, catalog, signing_key=key, key_id="k",
                                  seed=False, clock=lambda: T0)
        counts: dict[str, int] = {}
        try:
            for i, (category, priority, restart) in enumerate(plan):
                if restart:
                    backend.close()
                    backend = EmbeddedBackend(path, catalog, signing_key=key, key_id="k",
                                              seed=False, clock=lambda: T0)
                number = backend.issue_ticket(req(category, priority), f"h{i}").number
                series = ("Y" if priority else "") + catalog.get(category).prefix
                counts[series] = counts.get(series, 0) + 1
                assert number == f"{series}{counts[series]:03d}"
        finally:
            backend.close()


# ----------------------------------------------------------------------- idempotency


def test_same_key_same_request_returns_the_same_ticket(
    backend: EmbeddedBackend, open_backend: OpenBackend
) -> None:
    first = backend.issue_ticket(req(), "press-1")
    again = backend.issue_ticket(req(), "press-1")
    assert again == first
    assert backend.queue_figures()["social_security"].waiting == 1
    assert issue(backend).number == "A002"  # the retry consumed no number
    backend.close()
    assert open_backend().issue_ticket(req(), "press-1") == first  # also after a restart


def test_same_key_other_request_conflicts_and_changes_nothing(backend: EmbeddedBackend) -> None:
    first = backend.issue_ticket(req(), "press-1")
    with pytest.raises(IdempotencyConflict):
        backend.issue_ticket(req(priority=True), "press-1")
    with pytest.raises(IdempotencyConflict):
        backend.issue_ticket(req(kiosk_id="K02"), "press-1")
    assert backend.queue_figures()["social_security"].waiting == 1
    assert issue(backend, priority=True).number == "YA001"
    assert backend.issue_ticket(req(), "press-1") == first


def test_bad_requests_are_caller_errors(backend: EmbeddedBackend) -> None:
    with pytest.raises(ValueError):
        backend.issue_ticket(req("no_such_category"), "k")
    with pytest.raises(ValueError):
        backend.issue_ticket(req(), "")
    with pytest.raises(ValueError):
        backend.call_next("no_such_category")


# ------------------------------------------------------------------ queue and waiting


def test_ahead_and_estimated_wait(backend: EmbeddedBackend) -> None:
    # social_security: 8 minutes per ticket, 3 windows.
    tickets = [issue(backend) for _ in range(5)]
    assert [t.ahead for t in tickets] == [0, 1, 2, 3, 4]
    assert [t.estimated_wait_min for t in tickets] == [0, 3, 6, 8, 11]
    # housing_fund: 9 minutes, 1 window.
    assert [issue(backend, "housing_fund").estimated_wait_min for _ in range(3)] == [0, 9, 18]


def test_priority_lane_has_only_priority_tickets_ahead(backend: EmbeddedBackend) -> None:
    for _ in range(3):
        issue(backend)
    first_priority = issue(backend, priority=True)
    second_priority = issue(backend, priority=True)
    ordinary = issue(backend)
    other_category = issue(backend, "household", priority=True)
    assert (first_priority.ahead, second_priority.ahead) == (0, 1)
    assert ordinary.ahead == 5
    assert other_category.ahead == 0
    figures = backend.queue_figures()["social_security"]
    assert (figures.waiting, figures.priority_waiting) == (6, 2)


def test_call_next_serves_priority_first_then_in_order(backend: EmbeddedBackend) -> None:
    assert backend.call_next("social_security") is None
    for priority in (False, False, True, False, True):
        issue(backend, priority=priority)
    called = [backend.call_next("social_security") for _ in range(6)]
    assert called == ["YA001", "YA002", "A001", "A002", "A003", None]
    assert backend.queue_figures()["social_security"].waiting == 0


def test_served_tickets_are_no_longer_ahead(backend: EmbeddedBackend) -> None:
    issue(backend)
    issue(backend)
    backend.call_next("social_security")
    assert issue(backend).ahead == 1


def test_queue_figures_cover_every_catalog_category(
    backend: EmbeddedBackend, catalog: Catalog
) -> None:
    figures = backend.queue_figures()
    assert list(figures) == [c.id for c in catalog.categories]
    assert all(f.waiting == 0 and f.priority_waiting == 0 for f in figures.values())
    assert figures["civil_affairs"].minutes_per_ticket == 12
    issue(backend, "civil_affairs")
    issue(backend, "civil_affairs", priority=True)
    civil = backend.queue_figures()["civil_affairs"]
    assert (civil.category, civil.waiting, civil.priority_waiting) == ("civil_affairs", 2, 1)


# ------------------------------------------------------------------- tracking codes


def test_tracking_code_verifies_until_the_end_of_the_day(backend: EmbeddedBackend) -> None:
    ticket = issue(backend)
    assert re.fullmatch(r"T[A-Z2-7]{12}", ticket.ticket_id)
    keys = load_public_keys(backend.trusted_keys())
    payload = Verifier(keys, clock=T0.timestamp).verify(ticket.tracking_code, Kind.TICKET)
    assert payload.reference == ticket.ticket_id
    assert payload.issued_at == int(T0.timestamp())
    midnight = dt.datetime(2024, 6, 4, tzinfo=SHANGHAI)
    assert payload.expires == int(midnight.timestamp())
    late = Verifier(keys, clock=lambda: midnight.timestamp() + 3600)
    with pytest.raises(PayloadRefused) as refused:
        late.verify(ticket.tracking_code, Kind.TICKET)
    assert refused.value.problem is PayloadProblem.EXPIRED
    with pytest.raises(PayloadRefused) as refused:
        Verifier(keys, clock=T0.timestamp).verify(ticket.tracking_code, Kind.RESIDENT)
    assert refused.value.problem is PayloadProblem.WRONG_KIND


def test_ticket_ids_are_distinct(backend: EmbeddedBackend) -> None:
    ids = {issue(backend).ticket_id for _ in range(20)}
    assert len(ids) == 20


def test_an_invalid_key_id_fails_at_start(open_backend: OpenBackend) -> None:
    with pytest.raises(ValueError):
        open_backend(key_id="not a key id")


# ------------------------------------------------------------------------ seed data


def test_every_demo_resident_has_a_valid_id_number(backend: EmbeddedBackend) -> None:
    for role, rid in seed.DEMO_RESIDENTS.items():
        resident = backend.identify(rid)
        assert resident is not None, role
        assert seed.id_number_valid(resident.id_number), role
        assert re.fullmatch(r"1380000\d{4}", resident.phone)
    assert backend.identify("R9999") is None


def test_check_digit_matches_the_standard_examples() -> None:
    assert seed.id_check_digit("11010519491231002") == "X"  # GB 11643-1999
    assert seed.id_check_digit("44052418800101001") == "4"
    assert not seed.id_number_valid("110105194912310021")


@pytest.mark.parametrize("seed_day", [T0, dt.datetime(2024, 2, 29, 9, tzinfo=SHANGHAI),
                                      dt.datetime(2025, 3, 1, 9, tzinfo=SHANGHAI)])
def test_ages_hold_on_the_seed_day(open_backend: OpenBackend, clock: FakeClock,
                                   seed_day: dt.datetime) -> None:
    clock.now = seed_day
    backend = open_backend()
    today = seed_day.date()

    def age(role: str) -> int:
        resident = backend.identify(seed.DEMO_RESIDENTS[role])
        assert resident is not None
        return seed.age_on(seed.birth_date_of(resident.id_number), today)

    assert age("aged_85") == 85
    assert age("aged_80_birthday_today") == 80
    assert age("aged_79_birthday_tomorrow") == 79
    assert seed.age_on(
        seed.birth_date_of(backend.identify(seed.DEMO_RESIDENTS["aged_79_birthday_tomorrow"])
                           .id_number),  # type: ignore[union-attr]
        today + dt.timedelta(days=1),
    ) == 80
    assert 58 <= age("veteran") <= 62
    assert age("ordinary") >= 18


def test_entitlements_and_names(backend: EmbeddedBackend) -> None:
    def who(role: str) -> tuple[str, tuple[str, ...]]:
        r = backend.identify(seed.DEMO_RESIDENTS[role])
        assert r is not None
        return r.name, r.entitlements

    assert who("veteran")[1] == ("veteran",)
    assert who("serious_illness")[1] == ("serious_illness",)
    assert who("ordinary") == ("张伟明", ())
    assert who("compound_surname")[0].startswith("欧阳")
    assert any(ord(ch) > 0xFFFF for ch in who("rare_name")[0])  # survives the round trip
    assert "䶮" in who("rare_name_ext_a")[0]
    fpr = backend.identify(seed.DEMO_RESIDENTS["foreign_permanent_resident"])
    assert fpr is not None and fpr.id_number.startswith("9") and fpr.name.isascii()


def test_licenses(backend: EmbeddedBackend) -> None:
    ordinary = backend.licenses(seed.DEMO_RESIDENTS["ordinary"])
    kinds = [lic.kind for lic in ordinary]
    assert kinds[:3] == ["id_card", "household_register", "social_security_card"]
    assert {"marriage_certificate", "birth_medical_certificate"} <= set(kinds)
    assert ordinary[0].title == "居民身份证"
    resident = backend.identify(seed.DEMO_RESIDENTS["ordinary"])
    assert resident is not None
    masked = ordinary[0].number_masked
    assert len(masked) == 18 and resident.id_number[6:14] not in masked
    assert backend.licenses(seed.DEMO_RESIDENTS["no_licenses"]) == []
    assert backend.licenses("R9999") == []
    permit = {lic.kind: lic for lic in backend.licenses(seed.DEMO_RESIDENTS["residence_permit"])}
    assert permit["residence_permit"].valid_until == T0.date() + dt.timedelta(days=20)


def test_another_persons_licenses_only_for_their_relatives(backend: EmbeddedBackend) -> None:
    ordinary = seed.DEMO_RESIDENTS["ordinary"]
    father = seed.DEMO_PERSONS["late_father_of_ordinary"]
    found = backend.person_licenses(ordinary, father)
    assert [lic.kind for lic in found] == ["id_card", "household_register", "death_certificate"]
    assert found[2].title == "居民死亡医学证明（推断）书"
    assert all(father not in lic.number_masked and father[6:14] not in lic.number_masked
               for lic in found)
    # As typed on the keypad: spaces, a lower-case x.
    assert backend.person_licenses(ordinary, " ".join(father).lower()) == found
    # Anyone else learns nothing, not even that the platform holds a death certificate.
    assert backend.person_licenses(seed.DEMO_RESIDENTS["aged_85"], father) == []
    mother = seed.DEMO_PERSONS["late_mother_of_all_licenses"]
    assert backend.person_licenses(ordinary, mother) == []
    assert len(backend.person_licenses(seed.DEMO_RESIDENTS["all_licenses"], mother)) == 3
    # A relative whose platform holds none of their licenses; a number nobody knows.
    assert backend.person_licenses(ordinary, seed.DEMO_PERSONS["late_uncle_no_licenses"]) == []
    assert backend.person_licenses(ordinary, "110105194912310021") == []
    # Nobody is a relative of themselves.
    me = backend.identify(ordinary)
    assert me is not None and backend.person_licenses(ordinary, me.id_number) == []


def test_demo_appointments(backend: EmbeddedBackend) -> None:
    today, tomorrow = T0.date(), T0.date() + dt.timedelta(days=1)

    def on(role: str, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        return [(a.start, a.end)
                for a in backend.appointments_on(seed.DEMO_RESIDENTS[role], day)]

    assert on("appointment_today", today) == [
        (T0 + dt.timedelta(minutes=10), T0 + dt.timedelta(minutes=40))
    ]
    [(_, passed_end)] = on("appointment_passed", today)
    assert passed_end < T0
    assert on("appointment_tomorrow", today) == []
    assert len(on("appointment_tomorrow", tomorrow)) == 1
    assert on("ordinary", today) == []
    [appointment] = backend.appointments_on(seed.DEMO_RESIDENTS["appointment_today"], today)
    assert appointment.category == "social_security"
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,32}", appointment.appointment_id)


def test_a_database_from_yesterday_has_appointments_today(
    open_backend: OpenBackend, clock: FakeClock
) -> None:
    open_backend().close()
    clock.advance(days=1, hours=4)  # next day, 14:00
    backend = open_backend()
    today = clock.now.date()
    [appointment] = backend.appointments_on(seed.DEMO_RESIDENTS["appointment_today"], today)
    assert appointment.start == clock.now + dt.timedelta(minutes=10)
    assert len(backend.appointments_on(seed.DEMO_RESIDENTS["appointment_passed"], today)) == 1
    # Also while running: the first look on a new day moves the demo appointments.
    clock.advance(days=1)
    assert backend.appointments_on(seed.DEMO_RESIDENTS["appointment_today"], clock.now.date())
    assert backend.refresh_demo_appointments() is False


def test_reopening_does_not_seed_twice(open_backend: OpenBackend) -> None:
    open_backend().close()
    backend = open_backend()
    assert len(backend.licenses(seed.DEMO_RESIDENTS["ordinary"])) == 5


def test_seed_false_leaves_the_database_empty(open_backend: OpenBackend) -> None:
    backend = open_backend(seed=False)
    assert backend.identify(seed.DEMO_RESIDENTS["ordinary"]) is None
    assert backend.appointments_on(seed.DEMO_RESIDENTS["appointment_today"], T0.date()) == []
    assert issue(backend).number == "A001"


def test_appointment_times_stay_on_their_day_near_midnight(catalog: Catalog) -> None:
    ids = [c.id for c in catalog.categories]
    for now in (dt.datetime(2024, 6, 3, 23, 50, tzinfo=SHANGHAI),
                dt.datetime(2024, 6, 3, 0, 10, tzinfo=SHANGHAI)):
        by_role = {
            a.resident_id: a for a in seed.demo_appointments(now, ids)
        }
        today = by_role[seed.DEMO_RESIDENTS["appointment_today"]]
        assert today.start.date() == today.end.date() == now.date()
        assert appointment_fit(today.start, today.end, now) is AppointmentFit.ON_TIME
        passed = by_role[seed.DEMO_RESIDENTS["appointment_passed"]]
        assert passed.start.date() == now.date()


def test_hall_hours_clock_keeps_the_date_and_runs_from_ten() -> None:
    # At 00:20 the wall clock has no demo appointment that is over yet; the hall clock,
    # which demos and UI tests run on, is at 10:00 of the same day.
    night = dt.datetime(2026, 12, 5, 0, 20, tzinfo=SHANGHAI)
    clock = seed.hall_hours_clock(lambda: night)
    first = clock()
    assert first.date() == night.date() and first.tzinfo is SHANGHAI
    assert dt.time(10, 0) <= first.time() < dt.time(10, 0, 1)
    # It runs: waited for (not a fixed sleep), failing only at the hang guard if it stands.
    assert poll_until(lambda: clock() > first)
    by_role = {a.resident_id: a for a in seed.demo_appointments(first, ["social_security"])}
    passed = by_role[seed.DEMO_RESIDENTS["appointment_passed"]]
    assert appointment_fit(passed.start, passed.end, first) is AppointmentFit.TOO_LATE
    on_wall = {a.resident_id: a for a in seed.demo_appointments(night, ["social_security"])}
    late_at_night = on_wall[seed.DEMO_RESIDENTS["appointment_passed"]]
    # The reason the clock exists: on the wall clock the "passed" role is still on time.
    assert appointment_fit(late_at_night.start, late_at_night.end, night) is AppointmentFit.ON_TIME


# --------------------------------------------------------------- personal codes, once


def test_claim_nonce_once_for_the_hall_across_reopen_and_pruned_after_expiry(
    open_backend: OpenBackend, clock: FakeClock
) -> None:
    backend = open_backend()
    expires = int(clock.time()) + 70
    assert backend.claim_nonce("demo", "nonce-hall-1", expires) is True
    assert backend.claim_nonce("demo", "nonce-hall-1", expires) is False
    assert backend.claim_nonce("other", "nonce-hall-1", expires) is True
    backend.close()
    backend = open_backend()  # the hall server restarted
    assert backend.claim_nonce("demo", "nonce-hall-1", expires) is False
    clock.advance(seconds=71)
    assert backend.claim_nonce("demo", "nonce-hall-2", expires + 71) is True
    conn = backend._conn()
    assert conn.execute("SELECT count(*) FROM used_nonces").fetchone()[0] == 1
    with pytest.raises(ValueError):
        backend.claim_nonce("demo", "bad nonce!", expires)
