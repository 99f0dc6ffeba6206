"""The 服务指数 statistics export: exact rows for a known set of sessions, the period
boundaries, no personal data, read-only on old files, and the CLI function."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.backend import seed
from kiosk.backend.embedded import EmbeddedBackend, schema
from kiosk.backend.interface import TicketRequest
from kiosk.backend.stats import StatsError, export_stats
from kiosk.cli.stats import stats_command, stats_csv
from kiosk.common.clock import SHANGHAI
from kiosk.domain.catalog import Catalog
from tests.helpers.backend import write_v1_ticket
from tests.helpers.clock import FakeClock

PHONE = "13900001234"
D2, D3, D4, D5 = (dt.date(2024, 6, d) for d in (2, 3, 4, 5))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime.combine(D2, dt.time(9), tzinfo=SHANGHAI))


@pytest.fixture
def backend(db: Path, catalog: Catalog, clock: FakeClock) -> Iterator[EmbeddedBackend]:
    backend = EmbeddedBackend(db, catalog, signing_key=Ed25519PrivateKey.generate(),
                              key_id="kiosk1", clock=clock)
    yield backend
    backend.close()


class Session:
    """Plays what the UI would report for resident sessions on one kiosk."""

    def __init__(self, backend: EmbeddedBackend) -> None:
        self.b = backend
        self.n = 0

    def key(self) -> str:
        self.n += 1
        return f"k{self.n}"

    def event(self, kind: str, flow: str, step: str = "", duration: float | None = None) -> None:
        self.b.record_event(kind, flow=flow, step=step, duration_s=duration, kiosk_id="K01")

    def ticket(self, category: str, reason: str = "", resident: str | None = None) -> str:
        request = TicketRequest(category, bool(reason), reason, resident, "K01")
        return self.b.issue_ticket(request, self.key()).ticket_id

    def take_number(self, category: str, reason: str, seconds: float) -> str:
        self.event("flow_started", "take_number")
        # One person, one waiting number a category: the 80+ lane is another resident.
        who = seed.DEMO_RESIDENTS["aged_85" if reason == "age" else "ordinary"]
        ticket = self.ticket(category, reason, who)
        self.event("flow_finished", "take_number", "ticket", seconds)
        return ticket

    def bundle(self, bundle: str, *, abandon_at: str = "", seconds: float = 0) -> str | None:
        self.event("flow_started", f"bundle:{bundle}")
        if abandon_at:
            self.event("flow_abandoned", f"bundle:{bundle}", abandon_at, seconds)
            return None
        data = {"bundle_id": bundle, "answers": {}, "fields": {"phone": PHONE}, "materials": []}
        ref = self.b.submit_application(seed.DEMO_RESIDENTS["veteran"], data, 10, self.key())
        self.event("flow_finished", f"bundle:{bundle}", "receipt", seconds)
        return ref.reference

    def rate(self, level: int, *reasons: str, target: tuple[str, str | None] = ("none", None)
             ) -> None:
        self.b.rate(level, reasons, target[0], target[1], "K01", self.key())

    def help(self, screen: str) -> None:
        self.b.call_help("K01", screen, self.key())


def play_sessions(backend: EmbeddedBackend, clock: FakeClock) -> None:
    s = Session(backend)

    clock.at(D2, 15)  # the day before the period: none of this may count
    s.take_number("social_security", "", 999)
    s.bundle("retirement", seconds=999)
    s.rate(1, "too_slow")
    s.help("home")
    s.event("fault", "take_number", "printer:offline")

    clock.at(D3, 9)
    ticket = s.take_number("social_security", "", 30)
    s.rate(5, "fast", target=("ticket", ticket))
    clock.at(D3, 9, 20)
    ticket = s.take_number("social_security", "age", 53)
    s.rate(5, "fast", "polite", target=("ticket", ticket))
    s.event("flow_started", "take_number")
    s.help("category")
    s.event("flow_abandoned", "take_number", "category", 75)
    clock.at(D3, 10)
    s.bundle("retirement", abandon_at="question:q2", seconds=40)
    s.bundle("retirement", abandon_at="question:q2", seconds=50)
    reference = s.bundle("retirement", seconds=300)
    s.rate(4, "clear_guidance", target=("application", reference))
    s.bundle("birth", abandon_at="materials", seconds=120)
    clock.at(D3, 11)
    s.event("flow_started", "check_in")
    [appointment] = backend.appointments_on(seed.DEMO_RESIDENTS["appointment_today"], D3)
    # The check-in issues the appointment's priority ticket (in its category) itself.
    backend.check_in(appointment.appointment_id, "K01", s.key())
    s.event("flow_finished", "check_in", "ticket", 20)
    s.event("fault", "take_number", "printer:paper_out")
    s.event("fault", "take_number", "printer:paper_out")
    s.event("fault", "query", "camera:no_frames")
    s.ticket("medical_insurance")  # from a staff console: no kiosk events
    clock.at(D3, 23, 59)
    s.rate(1, "machine_problem", "too_slow")

    clock.at(D4, 0, 1)
    s.take_number("social_security", "", 60)
    s.rate(3)
    s.help("home")
    s.bundle("birth", seconds=200)
    s.event("flow_started", "query")
    s.event("flow_finished", "query", "timeline", 15)

    clock.at(D5, 8)  # the day after
    s.take_number("civil_affairs", "", 10)
    s.rate(2)


EXPECTED_CSV = """\
section,key,subkey,value
period,from,,2024-06-03
period,to,,2024-06-04
tickets,medical_insurance,ordinary,1
tickets,social_security,ordinary,2
tickets,social_security,priority:age,1
tickets,social_security,priority:appointment,1
applications,birth,submitted,1
applications,retirement,submitted,1
bundles,birth,started,2
bundles,birth,finished,1
bundles,birth,abandoned,1
bundles,birth,abandoned_at:materials,1
bundles,retirement,started,3
bundles,retirement,finished,1
bundles,retirement,abandoned,2
bundles,retirement,abandoned_at:question:q2,2
flows,check_in,started,1
flows,check_in,finished,1
flows,check_in,abandoned,0
flows,query,started,1
flows,query,finished,1
flows,query,abandoned,0
flows,take_number,started,4
flows,take_number,finished,3
flows,take_number,abandoned,1
flows,take_number,abandoned_at:category,1
ratings,5,,2
ratings,4,,1
ratings,3,,1
ratings,2,,0
ratings,1,,1
ratings,count,,5
ratings,mean,,3.6
rating_reasons,fast,,2
rating_reasons,polite,,1
rating_reasons,clear_guidance,,1
rating_reasons,easy_to_use,,0
rating_reasons,too_slow,,1
rating_reasons,unclear,,0
rating_reasons,machine_problem,,1
rating_reasons,had_to_come_back,,0
help_calls,total,,2
help_calls,screen,category,1
help_calls,screen,home,1
faults,total,,3
faults,query,camera:no_frames,1
faults,take_number,printer:paper_out,2
flow_median_s,bundle:birth,,200.0
flow_median_s,bundle:retirement,,300.0
flow_median_s,check_in,,20.0
flow_median_s,query,,15.0
flow_median_s,take_number,,53.0
"""


def test_export_of_known_sessions(backend: EmbeddedBackend, clock: FakeClock) -> None:
    play_sessions(backend, clock)
    assert stats_csv(export_stats(backend, D3, D4)) == EXPECTED_CSV


def test_one_day_and_the_median_of_an_even_count(
    backend: EmbeddedBackend, clock: FakeClock, db: Path
) -> None:
    play_sessions(backend, clock)
    rows = {(r["section"], r["key"], r["subkey"]): r["value"]
            for r in export_stats(db, D3, D3)}
    assert rows[("flow_median_s", "take_number", "")] == 41.5  # (30 + 53) / 2
    assert rows[("ratings", "mean", "")] == 3.75  # 5, 5, 4, 1 (the 23:59 one is on D3)
    assert rows[("tickets", "social_security", "ordinary")] == 1
    assert ("bundles", "birth", "finished") in rows and rows[("bundles", "birth", "finished")] == 0
    assert ("applications", "birth", "submitted") not in rows


def test_an_empty_period_still_has_every_fixed_row(backend: EmbeddedBackend) -> None:
    text = stats_csv(export_stats(str(backend.db_path), D3, D4))
    assert text == (
        "section,key,subkey,value\nperiod,from,,2024-06-03\nperiod,to,,2024-06-04\n"
        "ratings,5,,0\nratings,4,,0\nratings,3,,0\nratings,2,,0\nratings,1,,0\n"
        "ratings,count,,0\n"
        "rating_reasons,fast,,0\nrating_reasons,polite,,0\nrating_reasons,clear_guidance,,0\n"
        "rating_reasons,easy_to_use,,0\nrating_reasons,too_slow,,0\nrating_reasons,unclear,,0\n"
        "rating_reasons,machine_problem,,0\nrating_reasons,had_to_come_back,,0\n"
        "help_calls,total,,0\nfaults,total,,0\n"
    )


def test_the_export_holds_no_personal_data(backend: EmbeddedBackend, clock: FakeClock,
                                           db: Path) -> None:
    play_sessions(backend, clock)
    text = stats_csv(export_stats(db, D2, D5))
    residents = {r.resident_id: r for r in seed.demo_residents(D2)}
    with sqlite3.connect(db) as conn:
        references = [r[0] for r in conn.execute("SELECT reference FROM applications")]
        tickets = conn.execute("SELECT ticket_id, number FROM tickets").fetchall()
    conn.close()
    assert references and tickets
    forbidden = [PHONE, *references, *(t for pair in tickets for t in pair)]
    for rid, r in residents.items():
        forbidden += [rid, r.name, r.id_number, r.phone]
    for value in forbidden:
        assert value not in text, value
    assert "YW2024" not in text


def test_the_period_is_shanghai_days_inclusive(backend: EmbeddedBackend, clock: FakeClock) -> None:
    clock.now = dt.datetime(2024, 6, 3, 15, 59, tzinfo=dt.UTC)  # 23:59 in Shanghai
    backend.record_event("fault", flow="take_number", kiosk_id="K01")
    clock.now = dt.datetime(2024, 6, 3, 16, 1, tzinfo=dt.UTC)  # 00:01 on 4 June
    backend.record_event("fault", flow="take_number", kiosk_id="K01")

    def faults(start: dt.date, end: dt.date) -> object:
        [total] = [r["value"] for r in export_stats(backend, start, end)
                   if (r["section"], r["key"]) == ("faults", "total")]
        return total

    assert (faults(D3, D3), faults(D4, D4), faults(D3, D4), faults(D2, D2)) == (1, 1, 2, 0)


def test_a_version_1_file_is_read_without_being_changed(
    db: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(schema, "SCHEMA_VERSION", 1)
        old = EmbeddedBackend(db, catalog, signing_key=Ed25519PrivateKey.generate(),
                              key_id="k", clock=lambda: dt.datetime(2024, 6, 3, 9,
                                                                    tzinfo=SHANGHAI))
        old.close()
    write_v1_ticket(db, dt.datetime(2024, 6, 3, 9, tzinfo=SHANGHAI), "other", "G")
    rows = export_stats(db, D3, D3)
    assert {"section": "tickets", "key": "other", "subkey": "ordinary", "value": 1} in rows
    assert [r for r in rows if r["section"] == "ratings"][-1]["value"] == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()


def test_unusable_inputs_raise_stats_error(tmp_path: Path, backend: EmbeddedBackend) -> None:
    with pytest.raises(StatsError, match="after"):
        export_stats(backend, D4, D3)
    missing = tmp_path / "none.sqlite3"
    with pytest.raises(StatsError, match="no such"):
        export_stats(missing, D3, D3)
    assert not missing.exists()
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StatsError):
        export_stats(junk, D3, D3)
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    with pytest.raises(StatsError, match="not a kiosk database"):
        export_stats(empty, D3, D3)


def test_stats_command(backend: EmbeddedBackend, clock: FakeClock, db: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    play_sessions(backend, clock)
    assert stats_command(db, "2024-06-03", "2024-06-04", csv=True) == 0
    assert capsys.readouterr().out == EXPECTED_CSV
    assert stats_command(db, "2024-06-03", "2024-06-04", csv=False) == 0
    table = capsys.readouterr().out
    lines = table.splitlines()
    assert lines[0] == "period" and "tickets" in lines
    assert any(line.split() == ["take_number", "53.0"] for line in lines)
    assert any(line.split() == ["retirement", "abandoned_at:question:q2", "2"] for line in lines)
    for bad in (("2024-6-3x", "2024-06-04"), ("2024-06-03", "tomorrow"),
                ("2024-06-04", "2024-06-03")):
        assert stats_command(db, *bad, csv=True) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.startswith("stats: ")
    assert stats_command(db.parent / "missing.sqlite3", "2024-06-03", "2024-06-03",
                         csv=False) == 2
    assert "no such database" in capsys.readouterr().err


def test_a_hall_kiosk_says_where_its_statistics_are() -> None:
    from kiosk.delivery.http_client import HttpBackend

    hall = HttpBackend("https://backend.example.invalid", token="dev_test")
    with pytest.raises(StatsError, match="kiosk stats"):
        export_stats(hall, dt.date(2026, 11, 1), dt.date(2026, 11, 2))
