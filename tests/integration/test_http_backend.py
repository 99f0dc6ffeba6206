"""The whole kiosk with `backend.kind = "http"` against the real hall server (FastAPI on
PostgreSQL, tests/helpers/hall.py): a resident gets a ticket end to end, the hall deciding
who they are and what priority they have; 预约签到 and 办件查询 go through it; a personal
code used at one kiosk is refused at the next; and with the hall stopped an application is
已暂存 in the outbox and delivered once, when the hall is back.

Needs PostgreSQL: run inside pg_virtualenv, as the test command does."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.app import Kiosk, build
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.common.clock import SHANGHAI, shanghai_now
from kiosk.config.schema import EmulatedIdCardConfig, HttpBackendConfig
from kiosk.delivery.http_client import HttpBackend
from kiosk.domain.payloads import PayloadProblem
from kiosk.ui import messages
from tests.helpers.clock import FakeClock
from tests.helpers.config import make_config
from tests.helpers.hall import RunningHall, free_port, fresh_database, running_hall
from tests.helpers.hall_process import HallProcess, write_settings
from tests.helpers.paths import CONFIG_DIR, SHIPPED_CONFIG
from tests.helpers.resident import Resident
from tests.helpers.waits import HANG_GUARD_MS, HANG_GUARD_S
from tests.integration.test_bundles_ui import SHIPPED_BUNDLES, Walker
from tests.integration.test_check_in import start_check_in, visible_text
from tests.integration.test_code_once import USED, shows_again

ORDINARY = DEMO_RESIDENTS["ordinary"]
AGED = DEMO_RESIDENTS["aged_85"]
APPOINTED = DEMO_RESIDENTS["appointment_today"]
# A Monday in the hall's opening hours, and not a holiday in config/hall-calendar.yaml.
OPEN_MONDAY = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def clock() -> FakeClock:
    """The hall's clock and the kiosks': one moment, so codes are fresh at both."""
    return FakeClock(OPEN_MONDAY)


@pytest.fixture
def hall(clock: FakeClock) -> Iterator[RunningHall]:
    with running_hall(clock, seed_demo_residents=True) as h:
        yield h


def hall_kiosk(hall_url: str, token: str, tmp_path: Path, name: str, clock,
               id_card: bool = False, **screen: object) -> Kiosk:
    """A kiosk of the hall: its device token in a file the config names, as a technician
    sets it up from `kiosk hall add-device`'s output (`screen`: [screen] keys; `id_card`:
    with the emulated resident ID card reader)."""
    token_file = tmp_path / f"{name}.token"
    token_file.write_text(token + "\n", encoding="ascii")
    token_file.chmod(0o600)
    base = make_config(tmp_path / name, **screen)
    config = base.model_copy(update={
        "center": base.center.model_copy(update={"kiosk_id": name}),
        # The hall answers from a thread of this busy process: its read timeout is a hang
        # guard here, so a loaded machine's slow answer is not taken for a dead hall.
        "backend": HttpBackendConfig(url=hall_url + "/", token_file=str(token_file),
                                     connect_timeout_s=0.5, read_timeout_s=HANG_GUARD_S),
        **({"id_card": EmulatedIdCardConfig()} if id_card else {})})
    kiosk = build(config, SHIPPED_CONFIG, kiosk_mode=False, clock=clock)
    kiosk.window.show()
    return kiosk


@pytest.fixture
def kiosks(qtbot, tmp_path: Path, hall: RunningHall, clock, caplog) -> Iterator[list[Kiosk]]:
    caplog.set_level(logging.INFO)
    made = [hall_kiosk(hall.url, hall.add_device("kiosk", name), tmp_path, name, clock)
            for name in ("XH-01", "XH-02")]
    yield made
    for k in made:
        k.shutdown()


@pytest.fixture
def http_kiosk(kiosks: list[Kiosk]) -> Kiosk:
    return kiosks[0]


def test_a_resident_gets_a_ticket_through_the_hall(http_kiosk, hall, qtbot, caplog):
    kiosk = http_kiosk
    assert isinstance(kiosk.backend, HttpBackend)
    started = "\n".join(r.getMessage() for r in caplog.get_records("setup"))
    assert "plain http" in started  # http:// (loopback only) warns at every start
    resident = Resident(kiosk, qtbot)
    code = resident.code(ORDINARY)
    resident.tap(kiosk.controller.home.scan_button)
    resident.wait_screen("scan")
    resident.show_phone(code)  # the hall verifies it and opens a session for it
    resident.wait_screen("category")
    resident.put_phone_away()
    resident.tap(kiosk.controller.category.buttons["social_security"])
    resident.wait_screen("ticket")
    shown = kiosk.controller.ticket.ticket
    assert shown is not None and re.fullmatch(r"A\d{3}", shown.number)
    printed = resident.wait_printout(0)
    assert shown.number in printed.text
    # Issued by the hall's database, to the resident the hall found behind the code, from
    # this kiosk's credential.
    assert hall.sql("SELECT t.number, t.resident_id, d.name FROM ticket t "
                    "JOIN device d ON d.id = t.device_id") == [(shown.number, ORDINARY,
                                                                "XH-01")]
    assert not (kiosk.paths.data_dir / "kiosk.sqlite3").exists()
    # The hall's signing key was fetched on a worker at start (its signed codes verify here).
    hall_keys = hall.session("XH-01").get(f"{hall.url}/v1/trusted-keys", timeout=10).json()
    qtbot.waitUntil(lambda: set(hall_keys) <= set(kiosk.backend.trusted_keys()),
                    timeout=HANG_GUARD_MS)
    # The paper's QR code is the hall's public link: a phone opens it, and so does 办件查询
    # (tests/integration/test_hall_query.py).
    [(ticket_id,)] = hall.sql("SELECT id FROM ticket")
    assert printed.qr_texts == [f"{hall.url}/t/{ticket_id}"]
    for secret in (ORDINARY, code, hall.tokens["XH-01"]):
        assert secret not in caplog.text + started  # log lines name routes, not people


def test_the_halls_priority_is_the_one_shown_and_printed(http_kiosk, hall, qtbot):
    """The hall never sends the ID number the kiosk computed the age from: its own
    derivation is what the resident reads, and what the ticket carries."""
    kiosk = http_kiosk
    resident = Resident(kiosk, qtbot)
    resident.scan_in(AGED)
    notice = messages.priority_notice(kiosk.controller.session.context.priority)
    assert kiosk.controller.session.context.priority.value == "age" and notice
    assert kiosk.controller.session.context.masked_name.endswith("*")
    resident.tap(kiosk.controller.category.buttons["social_security"])
    resident.wait_screen("ticket")
    shown = kiosk.controller.ticket.ticket
    assert re.fullmatch(r"YA\d{3}", shown.number), shown.number
    assert hall.sql("SELECT priority_reason FROM ticket") == [("age",)]


def test_check_in_through_the_hall(http_kiosk, hall, qtbot):
    kiosk = http_kiosk
    resident = Resident(kiosk, qtbot)
    before = len(resident.jobs())
    start_check_in(kiosk, resident, APPOINTED)
    resident.wait_screen("ticket")
    resident.put_phone_away()
    printed = resident.wait_printout(before)
    number = kiosk.controller.ticket.ticket.number
    assert re.fullmatch(r"Y[A-G]\d{3}", number) and number in printed.text
    assert hall.sql("SELECT a.checked_in_at IS NOT NULL, t.number FROM appointment a "
                    "JOIN ticket t ON t.id = a.ticket_id WHERE a.resident_id = %s",
                    (APPOINTED,)) == [(True, number)]
    resident.tap(kiosk.controller.ticket.done_button)
    resident.wait_screen("home")
    start_check_in(kiosk, resident, APPOINTED)  # a fresh code: the same ticket again
    resident.wait_screen("checkin_result")
    resident.put_phone_away()
    assert number in visible_text(kiosk.window.current())
    assert hall.sql("SELECT count(*) FROM ticket")[0][0] == 1


def test_a_code_used_at_one_kiosk_is_refused_at_the_next(kiosks, qtbot):
    first, second = (Resident(k, qtbot) for k in kiosks)
    code = first.code(ORDINARY)
    first.tap(first.c.home.scan_button)
    first.wait_screen("scan")
    first.show_phone(code)
    first.wait_screen("category")
    # The same phone (or a photo of it) at the neighbouring kiosk, within the code's life.
    shows_again(second, code)
    assert messages.payload_problem(PayloadProblem.REPLAYED) == USED


def test_progress_query_by_personal_code_goes_through_the_halls_session(http_kiosk, hall,
                                                                        qtbot):
    kiosk = http_kiosk
    resident = Resident(kiosk, qtbot)
    walker = Walker(kiosk, resident)
    bundle = SHIPPED_BUNDLES[0]
    walker.open(bundle.id)
    walker.walk(bundle, ORDINARY)
    resident.tap(walker.screen.submit_button)
    resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    (reference,) = hall.sql("SELECT reference FROM application WHERE resident_id = %s",
                            (ORDINARY,))[0]
    kiosk.window.go_home("home")
    resident.tap(kiosk.controller.home.service_buttons["query"])
    resident.wait_screen("query_scan")
    resident.show_phone(resident.code(ORDINARY))
    resident.wait_screen("query_result")
    resident.put_phone_away()
    assert reference in visible_text(kiosk.window.current())


@pytest.fixture
def hall_server(tmp_path: Path) -> Iterator[HallProcess]:
    """`kiosk hall serve` in a process of its own (so it can be stopped and started again
    on its port), with the demo residents, on the real clock."""
    with fresh_database() as dsn:
        port = free_port()
        settings = write_settings(tmp_path, port)
        # The demo people, and the demo issuer their codes are signed by, as shipped.
        shipped = (CONFIG_DIR / "hall-server.toml").read_text("utf-8")
        issuers = shipped[shipped.index("[issuers]"):]
        settings.write_text(settings.read_text("utf-8").replace(
            "seed_demo_residents = false", "seed_demo_residents = true") + issuers, "utf-8")
        server = HallProcess(dsn, settings, tmp_path / "hall.log", port)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def test_application_waits_in_the_outbox_while_the_hall_is_down(hall_server, tmp_path,
                                                               qtbot):
    kiosk = hall_kiosk(hall_server.url, hall_server.add_device("kiosk", "XH-09"), tmp_path,
                       "XH-09", shanghai_now)
    try:
        resident = Resident(kiosk, qtbot)
        walker = Walker(kiosk, resident)
        bundle = SHIPPED_BUNDLES[0]
        walker.open(bundle.id)
        walker.walk(bundle, ORDINARY)  # identified by the hall
        hall_server.stop()  # the hall goes away (its open connections too)
        jobs = len(resident.jobs())
        resident.tap(walker.screen.submit_button)
        resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
        result = kiosk.bundle_controller.result
        assert result.heading.text() == "申请已暂存"
        shown = "\n".join(w.text() for w in result.findChildren(type(result.heading)))
        assert messages.application_stored() in shown
        assert kiosk.outbox.pending()[0] == 1
        assert "BackendNotReached" in kiosk.outbox.all_items()[-1].last_error  # never sent
        assert len(resident.jobs()) == jobs  # no receipt without a reference

        hall_server.restart()  # the hall returns at the same address
        kiosk.outbox._conn.execute("UPDATE outbox SET next_at = 0")
        kiosk.delivery.drain()
        qtbot.waitUntil(lambda: kiosk.outbox.pending()[0] == 0, timeout=HANG_GUARD_MS)
        kiosk.outbox._conn.execute("UPDATE outbox SET next_at = 0")
        kiosk.delivery.drain()  # a second drain sends nothing again
        qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
        rows = hall_server.sql("SELECT bundle_id, resident_id FROM application")
        assert rows == [{"bundle_id": bundle.id, "resident_id": ORDINARY}]
    finally:
        kiosk.shutdown()


def test_no_ticket_while_the_hall_is_down(hall_server, tmp_path, qtbot):
    """A kiosk that never reached the hall holds no offline numbers (those are
    tests/integration/test_offline_numbers.py's): no ticket, and the screen says why."""
    token = hall_server.add_device("kiosk", "XH-08")
    hall_server.stop()
    kiosk = hall_kiosk(hall_server.url, token, tmp_path, "XH-08", shanghai_now)
    try:
        resident = Resident(kiosk, qtbot)
        resident.tap(kiosk.controller.home.no_phone_button)
        resident.wait_screen("category")
        resident.tap(kiosk.controller.category.buttons["social_security"])
        problem = kiosk.controller.category.problem
        qtbot.waitUntil(problem.isVisible, timeout=HANG_GUARD_MS)
        assert problem.text() == messages.ticket_unavailable("12345")
        assert resident.screen == "category" and resident.jobs() == []
        assert kiosk.offline is not None and kiosk.offline.keeper.store.leases() == []
    finally:
        kiosk.shutdown()
