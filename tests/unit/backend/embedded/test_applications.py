"""一件事 applications, 预约签到 check-in, 好差评 ratings, 帮办 help calls and usage events
in the embedded backend; the v1 -> v2 schema migration."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.backend import seed
from kiosk.backend.embedded import EmbeddedBackend, schema
from kiosk.backend.embedded.schema import SCHEMA_VERSION
from kiosk.backend.interface import (
    RATING_LEVELS,
    RATING_REASONS,
    ApplicationStatus,
    Backend,
    BackendError,
    IdempotencyConflict,
    NotFound,
    TicketRequest,
)
from kiosk.domain.catalog import Catalog
from kiosk.domain.payloads import Kind, PayloadProblem, PayloadRefused, Verifier, load_public_keys
from tests.helpers.backend import (
    BANK_CARD,
    PHONE,
    OpenBackend,
    submission,
    submit,
    write_v1_ticket,
)
from tests.helpers.clock import MONDAY_MORNING, FakeClock

T0 = MONDAY_MORNING
R1 = seed.DEMO_RESIDENTS["ordinary"]
R2 = seed.DEMO_RESIDENTS["veteran"]


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        n = int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    conn.close()
    return n


# ----------------------------------------------------------------------- submitting


def test_a_submission_gets_a_reference_and_a_receipt(backend: EmbeddedBackend) -> None:
    receipt = backend.submit_application(R1, submission(), 20, "press-1")
    assert receipt.reference == "YW20240603000001"
    assert (receipt.bundle_id, receipt.processing_days) == ("retirement", 20)
    assert receipt.submitted_at == T0
    summary = backend.application(receipt.reference)
    assert summary is not None
    assert summary.status is ApplicationStatus.SUBMITTED
    assert [(e.status, e.at, e.note) for e in summary.timeline] == [
        (ApplicationStatus.SUBMITTED, T0, "")
    ]
    assert backend.application("YW20240603999999") is None


def test_progress_code_is_a_signed_receipt_valid_for_a_year(backend: EmbeddedBackend) -> None:
    receipt = backend.submit_application(R1, submission(), 20, "press-1")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,32}", receipt.reference)
    keys = load_public_keys(backend.trusted_keys())
    payload = Verifier(keys, clock=T0.timestamp).verify(receipt.progress_code, Kind.RECEIPT)
    assert payload.kind is Kind.RECEIPT
    assert payload.reference == receipt.reference
    assert payload.expires - payload.issued_at == 365 * 24 * 3600
    later = (T0 + dt.timedelta(days=364)).timestamp()
    assert Verifier(keys, clock=lambda: later).verify(receipt.progress_code, Kind.RECEIPT)
    too_late = (T0 + dt.timedelta(days=366)).timestamp()
    with pytest.raises(PayloadRefused) as refused:
        Verifier(keys, clock=lambda: too_late).verify(receipt.progress_code, Kind.RECEIPT)
    assert refused.value.problem is PayloadProblem.EXPIRED
    with pytest.raises(PayloadRefused) as refused:
        Verifier(keys, clock=T0.timestamp).verify(receipt.progress_code, Kind.TICKET)
    assert refused.value.problem is PayloadProblem.WRONG_KIND


def test_same_key_same_submission_is_one_application(
    backend: EmbeddedBackend, open_backend: OpenBackend, db: Path, clock: FakeClock
) -> None:
    first = backend.submit_application(R1, submission(), 20, "press-1")
    clock.advance(seconds=30)  # the retry comes later; the receipt must not change
    # The same data in another key order is the same submission.
    reordered = dict(reversed(list(submission().items())))
    assert backend.submit_application(R1, reordered, 20, "press-1") == first
    assert count(db, "applications") == 1
    assert count(db, "application_events") == 1
    assert submit(backend) == "YW20240603000002"  # the retry consumed no reference
    backend.close()
    assert open_backend().submit_application(R1, submission(), 20, "press-1") == first


@pytest.mark.parametrize(
    "change",
    [
        {"resident": R2},
        {"days": 21},
        {"data": submission(phone="13900009999")},
        {"data": submission(bundle="birth")},
    ],
    ids=["resident", "processing_days", "typed_field", "bundle"],
)
def test_same_key_other_submission_conflicts(
    backend: EmbeddedBackend, db: Path, change: dict[str, Any]
) -> None:
    first = backend.submit_application(R1, submission(), 20, "press-1")
    with pytest.raises(IdempotencyConflict):
        backend.submit_application(
            change.get("resident", R1), change.get("data", submission()),
            change.get("days", 20), "press-1",
        )
    assert count(db, "applications") == 1
    assert backend.submit_application(R1, submission(), 20, "press-1") == first


def test_a_key_used_for_a_ticket_cannot_file_an_application(backend: EmbeddedBackend) -> None:
    backend.issue_ticket(
        TicketRequest("social_security", False, "", None, "K01"), "press-1"
    )
    with pytest.raises(IdempotencyConflict):
        backend.submit_application(R1, submission(), 20, "press-1")


@pytest.mark.parametrize(
    ("resident", "data", "days", "idem"),
    [
        (R1, {"answers": {}}, 5, "k"),  # no bundle id
        (R1, submission(bundle="Retirement"), 5, "k"),  # would break the statistics token
        (R1, submission(bundle="bundle-with-a-very-long-name-that-exceeds-the-limit"), 5, "k"),
        (R1, submission(extra={1, 2}), 5, "k"),  # not JSON
        (R1, submission(ratio=float("nan")), 5, "k"),
        (R1, submission(), -1, "k"),
        (R1, submission(), True, "k"),
        (R1, submission(), 5, ""),
        ("", submission(), 5, "k"),
    ],
)
def test_malformed_submissions_are_caller_errors(
    backend: EmbeddedBackend, db: Path, resident: str, data: Any, days: Any, idem: str
) -> None:
    with pytest.raises(ValueError):
        backend.submit_application(resident, data, days, idem)
    assert count(db, "applications") == 0


def test_references_are_never_reused_across_restarts(
    open_backend: OpenBackend, clock: FakeClock
) -> None:
    seen: list[str] = []
    for _ in range(4):
        backend = open_backend()
        seen += [submit(backend), submit(backend)]
        backend.close()
    assert seen == [f"YW20240603{i:06d}" for i in range(1, 9)]
    clock.advance(days=1)
    backend = open_backend()
    assert submit(backend) == "YW20240604000001"
    backend.close()
    # A clock set back a day (NTP fix, dead RTC battery) continues, never restarts, a day.
    clock.advance(days=-1)
    assert submit(open_backend()) == "YW20240603000009"


def test_two_threads_submitting_get_distinct_references(open_backend: OpenBackend) -> None:
    # Two backend objects on one file, two threads each: like two kiosk processes.
    backends = [open_backend(), open_backend()]
    references: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def work(backend: EmbeddedBackend, name: str) -> None:
        try:
            start.wait()
            for i in range(15):
                ref = backend.submit_application(R1, submission(), 5, f"{name}-{i}").reference
                with lock:
                    references.append(ref)
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
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
    assert sorted(references) == [f"YW20240603{i:06d}" for i in range(1, 61)]


# ------------------------------------------------------------------ status timeline


def test_advance_appends_to_the_timeline_in_order(
    backend: EmbeddedBackend, clock: FakeClock
) -> None:
    ref = submit(backend)
    clock.advance(hours=2)
    backend.advance_application(ref, ApplicationStatus.ACCEPTED)
    clock.advance(days=1)
    summary = backend.advance_application(ref, ApplicationStatus.NEEDS_MORE, " 缺户口簿原件 ")
    assert summary.status is ApplicationStatus.NEEDS_MORE
    assert summary.timeline[-1].note == "缺户口簿原件"
    clock.advance(days=1)
    backend.advance_application(ref, "accepted")  # the stored value works too
    clock.advance(days=2)
    done = backend.advance_application(ref, ApplicationStatus.DONE, "已寄出")
    assert done.status is ApplicationStatus.DONE
    assert [(e.status.value, e.at - T0, e.note) for e in done.timeline] == [
        ("submitted", dt.timedelta(0), ""),
        ("accepted", dt.timedelta(hours=2), ""),
        ("needs_more", dt.timedelta(days=1, hours=2), "缺户口簿原件"),
        ("accepted", dt.timedelta(days=2, hours=2), ""),
        ("done", dt.timedelta(days=4, hours=2), "已寄出"),
    ]
    assert backend.application(ref) == done


def test_needs_more_must_say_what_is_missing(backend: EmbeddedBackend) -> None:
    ref = submit(backend)
    for note in ("", "   "):
        with pytest.raises(ValueError, match="missing"):
            backend.advance_application(ref, ApplicationStatus.NEEDS_MORE, note)
    summary = backend.advance_application(ref, ApplicationStatus.NEEDS_MORE, "缺结婚证")
    again = backend.advance_application(ref, ApplicationStatus.NEEDS_MORE, "另缺出生医学证明")
    assert [e.note for e in again.timeline[1:]] == ["缺结婚证", "另缺出生医学证明"]
    assert len(summary.timeline) == 2


def test_done_is_final(backend: EmbeddedBackend) -> None:
    ref = submit(backend)
    done = backend.advance_application(ref, ApplicationStatus.DONE)
    for status in ApplicationStatus:
        with pytest.raises(ValueError, match="final"):
            backend.advance_application(ref, status, "note")
    assert backend.application(ref) == done


def test_refused_moves(backend: EmbeddedBackend) -> None:
    ref = submit(backend)
    backend.advance_application(ref, ApplicationStatus.ACCEPTED)
    with pytest.raises(ValueError):
        backend.advance_application(ref, ApplicationStatus.SUBMITTED)
    with pytest.raises(ValueError):
        backend.advance_application(ref, ApplicationStatus.ACCEPTED)
    with pytest.raises(ValueError):
        backend.advance_application(ref, "archived")
    with pytest.raises(ValueError):
        backend.advance_application(ref, ApplicationStatus.DONE, "x" * 501)
    with pytest.raises(NotFound):
        backend.advance_application("YW20240603999999", ApplicationStatus.DONE)
    summary = backend.application(ref)
    assert summary is not None and len(summary.timeline) == 2


def test_applications_of_lists_newest_first(
    backend: EmbeddedBackend, clock: FakeClock
) -> None:
    first = submit(backend, bundle="retirement")
    clock.advance(days=3)
    second = submit(backend, bundle="birth")
    third = submit(backend, bundle="residence_permit")  # same second: insertion order decides
    other = submit(backend, resident=R2)
    mine = backend.applications_of(R1)
    assert [a.reference for a in mine] == [third, second, first]
    assert [a.bundle_id for a in mine] == ["residence_permit", "birth", "retirement"]
    assert [a.reference for a in backend.applications_of(R2)] == [other]
    assert backend.applications_of("R9999") == []
    backend.advance_application(first, ApplicationStatus.ACCEPTED)
    assert backend.applications_of(R1)[-1].status is ApplicationStatus.ACCEPTED


def test_summaries_carry_no_personal_data(backend: EmbeddedBackend, db: Path) -> None:
    ref = submit(backend)
    shown = repr(backend.applications_of(R1)) + repr(backend.application(ref))
    for secret in (PHONE, BANK_CARD, R1):
        assert secret not in shown
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT submission FROM applications").fetchone()[0]
        keys = " ".join(r[0] for r in conn.execute("SELECT request FROM idempotency_keys"))
    conn.close()
    assert PHONE in stored and BANK_CARD in stored  # the backend's own record keeps them
    assert PHONE not in keys and BANK_CARD not in keys  # ... in one place only


def test_status_labels() -> None:
    assert [s.value for s in ApplicationStatus] == ["submitted", "accepted", "needs_more",
                                                     "done"]
    assert [s.label("zh") for s in ApplicationStatus] == ["已提交", "受理中", "需补正", "已办结"]
    assert ApplicationStatus.DONE.label("en") == "Completed"
    assert ApplicationStatus("needs_more") is ApplicationStatus.NEEDS_MORE


def test_the_backend_still_satisfies_the_protocol(backend: EmbeddedBackend) -> None:
    as_protocol: Backend = backend
    assert as_protocol.applications_of(R1) == []


# ------------------------------------------------------------------------ check-in


def _appointment_today(backend: EmbeddedBackend) -> str:
    [appointment] = backend.appointments_on(
        seed.DEMO_RESIDENTS["appointment_today"], T0.date()
    )
    assert appointment.checked_in_at is None
    return appointment.appointment_id


def test_check_in_issues_its_priority_ticket_in_one_call(
        backend: EmbeddedBackend, open_backend: OpenBackend, clock: FakeClock) -> None:
    appointment_id = _appointment_today(backend)
    first = backend.check_in(appointment_id, "K01", "scan-1")
    assert not first.earlier
    ticket = first.ticket
    assert ticket.priority and ticket.priority_reason == "appointment"
    assert ticket.category == "social_security" and ticket.number == "YA001"
    assert ticket.issued_at == T0
    clock.advance(minutes=1)
    # A retry of the same scan (its reply was lost): the same answer, nothing new.
    assert backend.check_in(appointment_id, "K01", "scan-1") == first
    # Another scan, another kiosk: the ticket the appointment got, never a second one.
    again = backend.check_in(appointment_id, "K02", "scan-2")
    assert again.earlier and again.ticket == ticket
    assert backend.check_in(appointment_id, "K02", "scan-2") == again
    assert backend.queue_figures()["social_security"].priority_waiting == 1
    backend.close()
    reopened = open_backend()
    [appointment] = reopened.appointments_on(
        seed.DEMO_RESIDENTS["appointment_today"], T0.date()
    )
    assert appointment.checked_in_at == T0
    assert reopened.check_in(appointment_id, "K01", "scan-1") == first
    assert reopened.check_in(appointment_id, "K01", "scan-3").ticket == ticket


def test_check_in_finds_the_appointments_ticket_from_take_a_number(
        backend: EmbeddedBackend) -> None:
    """An on-time appointment's priority ticket taken through 扫码取号 is its ticket."""
    appointment_id = _appointment_today(backend)
    taken = backend.issue_ticket(TicketRequest(
        "social_security", True, "appointment", seed.DEMO_RESIDENTS["appointment_today"],
        "K01", appointment_id), "press-1")
    checked = backend.check_in(appointment_id, "K01", "scan-1")
    assert checked.earlier and checked.ticket.number == taken.number
    [appointment] = backend.appointments_on(
        seed.DEMO_RESIDENTS["appointment_today"], T0.date())
    assert appointment.checked_in_at == T0


def test_check_in_without_ticket_of_an_older_version_gets_its_ticket(
        backend: EmbeddedBackend) -> None:
    """Checked in by a version whose ticket was a second call that could fail: that
    resident is owed the ticket, and gets it at the next scan."""
    appointment_id = _appointment_today(backend)
    conn = backend._conn()
    conn.execute("UPDATE appointments SET checked_in_at = ? WHERE appointment_id = ?",
                 (T0.isoformat(), appointment_id))
    conn.execute("INSERT INTO idempotency_keys (key, operation, request, result_ref,"
                 " created_at) VALUES ('old-scan', 'check_in', ?, ?, ?)",
                 (appointment_id, appointment_id, T0.isoformat()))
    retried = backend.check_in(appointment_id, "K01", "old-scan")
    assert not retried.earlier and retried.ticket.priority_reason == "appointment"
    assert backend.check_in(appointment_id, "K01", "scan-2").ticket == retried.ticket


def test_check_in_is_one_transaction(backend: EmbeddedBackend,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after the ticket is allocated leaves neither the ticket nor the check-in."""
    appointment_id = _appointment_today(backend)

    def broken(*_args: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr("kiosk.backend.embedded.appointments.remember_key", broken)
    with pytest.raises(BackendError):
        backend.check_in(appointment_id, "K01", "scan-1")
    monkeypatch.undo()
    [appointment] = backend.appointments_on(
        seed.DEMO_RESIDENTS["appointment_today"], T0.date())
    assert appointment.checked_in_at is None
    assert backend.queue_figures()["social_security"].waiting == 0
    assert backend.check_in(appointment_id, "K01", "scan-1").ticket.number == "YA001"


def test_check_in_errors(backend: EmbeddedBackend) -> None:
    appointment_id = _appointment_today(backend)
    with pytest.raises(NotFound):
        backend.check_in("AP20240603R9999", "K01", "scan-1")
    backend.check_in(appointment_id, "K01", "scan-1")
    [other] = backend.appointments_on(seed.DEMO_RESIDENTS["appointment_passed"], T0.date())
    with pytest.raises(IdempotencyConflict):
        backend.check_in(other.appointment_id, "K01", "scan-1")
    with pytest.raises(ValueError):
        backend.check_in(other.appointment_id, "K01", "")
    with pytest.raises(ValueError):
        backend.check_in(other.appointment_id, "", "scan-9")


# ------------------------------------------------------------------- ratings, help


def test_rating_levels_and_reasons_are_defined() -> None:
    assert list(RATING_LEVELS) == [5, 4, 3, 2, 1]
    assert RATING_LEVELS[5].zh == "非常满意" and RATING_LEVELS[1].zh == "非常不满意"
    assert [RATING_LEVELS[n].zh for n in (4, 3, 2)] == ["满意", "基本满意", "不满意"]
    for tag in ("fast", "polite", "clear_guidance", "easy_to_use", "too_slow", "unclear",
                "machine_problem", "had_to_come_back"):
        text = RATING_REASONS[tag]
        assert text.zh and text.en and re.fullmatch(r"[a-z_]+", tag)


def test_rating_is_idempotent(backend: EmbeddedBackend, db: Path) -> None:
    args = (5, ("fast", "polite"), "application", "YW20240603000001", "K01")
    backend.rate(*args, "rate-1")
    backend.rate(*args, "rate-1")
    assert count(db, "ratings") == 1
    with pytest.raises(IdempotencyConflict):
        backend.rate(4, ("fast", "polite"), "application", "YW20240603000001", "K01", "rate-1")
    backend.rate(1, ("machine_problem",), "none", None, "K01", "rate-2")
    backend.rate(3, (), "ticket", "TABCDEFGHIJKL", "K01", "rate-3")
    assert count(db, "ratings") == 3


@pytest.mark.parametrize(
    "args",
    [
        (0, (), "none", None, "K01"),
        (6, (), "none", None, "K01"),
        (True, (), "none", None, "K01"),
        (4.0, (), "none", None, "K01"),
        (5, ("great",), "none", None, "K01"),
        (5, "fast", "none", None, "K01"),
        (5, (), "window", None, "K01"),
        (5, (), "none", "T123", "K01"),
        (5, (), "ticket", None, "K01"),
        (5, (), "application", "张伟明", "K01"),
        (5, (), "none", None, "kiosk 1"),
    ],
)
def test_bad_ratings_are_caller_errors(
    backend: EmbeddedBackend, db: Path, args: tuple[Any, ...]
) -> None:
    with pytest.raises(ValueError):
        backend.rate(*args, "rate-x")
    assert count(db, "ratings") == 0


def test_help_call_is_idempotent(backend: EmbeddedBackend, db: Path) -> None:
    call = backend.call_help("K01", "category", "help-1")
    assert re.fullmatch(r"H[A-Z2-7]{12}", call)
    assert backend.call_help("K01", "category", "help-1") == call
    assert count(db, "help_calls") == 1
    with pytest.raises(IdempotencyConflict):
        backend.call_help("K01", "home", "help-1")
    assert backend.call_help("K01", "category", "help-2") != call
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT kiosk_id, screen, at FROM help_calls ORDER BY seq").fetchall()
    conn.close()
    assert rows[0] == ("K01", "category", T0.isoformat())
    with pytest.raises(ValueError):
        backend.call_help("K01", "ID 310104199001011234", "help-3")


# ------------------------------------------------------------------- usage events


def test_record_event_stores_tokens_only(backend: EmbeddedBackend, db: Path,
                                         clock: FakeClock) -> None:
    backend.record_event("flow_started", flow="bundle:retirement", kiosk_id="K01")
    backend.record_event("flow_abandoned", flow="bundle:retirement", step="question:q2",
                         duration_s=42, kiosk_id="K01",
                         at=dt.datetime(2024, 6, 3, 23, 59, 59))  # naive: Shanghai time
    backend.record_event("fault", flow="take_number", step="printer:paper_out",
                         kiosk_id="K01", at=dt.datetime(2024, 6, 3, 16, 30, tzinfo=dt.UTC))
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT day, kind, flow, step, duration_s FROM stat_events ORDER BY seq"
        ).fetchall()
    conn.close()
    assert rows == [
        ("2024-06-03", "flow_started", "bundle:retirement", "", None),
        ("2024-06-03", "flow_abandoned", "bundle:retirement", "question:q2", 42.0),
        ("2024-06-04", "fault", "take_number", "printer:paper_out", None),  # 00:30 Shanghai
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"flow": "take_number", "step": "13800001234"},  # a phone number
        {"flow": "take_number", "step": "id:310104199001011234"},
        {"flow": "query", "step": "yw20240603000001"},  # a reference, lower-cased
        {"flow": "take_number", "step": "张伟明"},
        {"flow": "take_number", "step": "R0001"},  # upper case: not a token
        {"flow": "take_number", "step": "name zhang"},
        {"flow": "take_number", "step": "a" * 65},
        {"flow": "", "step": ""},
        {"flow": "bundle:Retirement"},
        {"flow": "take_number", "step": "q2\n"},
        {"flow": "take_number", "duration_s": -1.0},
        {"flow": "take_number", "duration_s": float("nan")},
        {"flow": "take_number", "duration_s": "12"},
        {"flow": "take_number", "kiosk_id": ""},
    ],
)
def test_record_event_refuses_personal_looking_strings(
    backend: EmbeddedBackend, db: Path, kwargs: dict[str, Any]
) -> None:
    args: dict[str, Any] = {"kiosk_id": "K01", **kwargs}
    with pytest.raises(ValueError):
        backend.record_event("flow_finished", **args)
    with pytest.raises(ValueError):
        backend.record_event("flow_opened", flow="take_number", kiosk_id="K01")
    assert count(db, "stat_events") == 0


# ----------------------------------------------------------------------- migration


def _make_v1_database(db: Path, catalog: Catalog, key: Ed25519PrivateKey,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A seeded version-1 file with a ticket in it, written by the version-1 migration (a
    released migration is never edited, so this is the schema old kiosks have)."""
    with monkeypatch.context() as patch:
        patch.setattr(schema, "SCHEMA_VERSION", 1)
        old = EmbeddedBackend(db, catalog, signing_key=key, key_id="kiosk1",
                              clock=lambda: T0)
        old.close()
    write_v1_ticket(db, T0, "social_security", "A")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert "applications" not in tables


def test_a_v1_database_upgrades_in_place(
    db: Path, catalog: Catalog, key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch,
    open_backend: OpenBackend,
) -> None:
    _make_v1_database(db, catalog, key, monkeypatch)
    assert SCHEMA_VERSION == 6
    backend = open_backend()
    assert backend.pragmas()["user_version"] == SCHEMA_VERSION
    # What was there survives: the ticket sequence continues, the seed is not repeated.
    number = backend.issue_ticket(
        TicketRequest("social_security", False, "", None, "K01"), "new-1").number
    assert number == "A002"
    assert len(backend.licenses(R1)) == 5
    # A demo database of before schema 5 gets the demo's other people (身后一件事), once.
    father = seed.DEMO_PERSONS["late_father_of_ordinary"]
    assert len(backend.person_licenses(R1, father)) == 3
    assert len(open_backend().person_licenses(R1, father)) == 3
    # ... and the new features work on the old file.
    backend.check_in(_appointment_today(backend), "K01", "scan-1")
    assert submit(backend) == "YW20240603000001"
    backend.rate(5, (), "none", None, "K01", "rate-1")
    backend.call_help("K01", "home", "help-1")
    backend.record_event("flow_started", flow="take_number", kiosk_id="K01")
    assert backend.claim_nonce("demo", "nonce-v1-file", int(T0.timestamp()) + 70)


def test_two_processes_upgrading_at_once_both_succeed(
    db: Path, catalog: Catalog, key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch,
    open_backend: OpenBackend,
) -> None:
    _make_v1_database(db, catalog, key, monkeypatch)
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def upgrade() -> None:
        try:
            start.wait()
            open_backend()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert open_backend().pragmas()["user_version"] == SCHEMA_VERSION


# ------------------------------------------------------------------ staff commands
