"""A kiosk of a hall (issue 12), driven as a resident would, against the real hall server
(FastAPI on PostgreSQL, tests/helpers/hall.py) on a clock the test moves:

- Home and the category screen say how many numbers are left today (放号量), and outside the
  opening hours from when numbers are given (tomorrow, or the working day after a holiday);
  a closed category cannot be picked, and at night the other services stay open;
- 帮办 says "正在通知工作人员" (with the hotline) until a clerk acknowledges the call at the
  hall, and "工作人员正在赶来" only then;
- a paper-out reaches the hall's list of open faults, and its clearing too;
- the 一件事 review shows the values the hall masked, not what the kiosk could make of a
  masked name; a 一件事's follow-up number shows the clerk the application just filed;
- a ticket the printer refused is printed again only when its resident asks.

Needs PostgreSQL: run inside pg_virtualenv, as the test command does. KIOSK_SHOTS=<folder>
saves the screens these tests look at as PNG files.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QWidget

from kiosk.app import Kiosk, build
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.common.clock import SHANGHAI
from kiosk.config.schema import HttpBackendConfig
from kiosk.domain.masking import mask_id_number, mask_phone
from kiosk.domain.wizard import StepKind
from kiosk.hardware.printer.errors import PrinterState
from kiosk.services.fault_reporter import FaultReporter
from kiosk.ui.controllers.services import HelpController
from tests.helpers.clock import FakeClock
from tests.helpers.config import make_config
from tests.helpers.hall import RunningHall, running_hall
from tests.helpers.paths import SHIPPED_CONFIG
from tests.helpers.resident import Resident
from tests.helpers.waits import HANG_GUARD_MS, HANG_GUARD_S
from tests.integration.test_bundles_ui import SHIPPED_BUNDLES, Walker
from tests.integration.test_http_backend import hall_kiosk
from tests.integration.test_layout import check_screen, choose, settle_layouts

ORDINARY = DEMO_RESIDENTS["ordinary"]
# A Monday in the hall's opening hours, and not a holiday in config/hall-calendar.yaml.
OPEN_MONDAY = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
MONDAY_NIGHT = OPEN_MONDAY.replace(hour=20)
# The 调休 Saturday before the Spring Festival (15-23 February 2026): its evening, and the
# Tuesday morning on which the counters give numbers again.
SATURDAY_BEFORE_HOLIDAY = dt.datetime(2026, 2, 14, 20, 0, tzinfo=SHANGHAI)
SHOTS = os.environ.get("KIOSK_SHOTS")


def shot(widget: QWidget, name: str) -> None:
    settle_layouts()
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.window().grab().save(str(Path(SHOTS) / f"{name}.png"))


def texts(widget: QWidget) -> str:
    return "\n".join(w.text() for w in widget.findChildren(QLabel) if w.isVisible())


@pytest.fixture
def clock() -> FakeClock:
    """The hall's clock and the kiosk's: one moment, so codes are fresh at both."""
    return FakeClock(OPEN_MONDAY)


@pytest.fixture
def hall(clock: FakeClock) -> Iterator[RunningHall]:
    with running_hall(clock, seed_demo_residents=True) as h:
        h.tokens["clerk-pw"] = h.add_staff("clerk", "clerk1")
        yield h


@pytest.fixture
def make_kiosk(qtbot, tmp_path: Path, hall: RunningHall, clock: FakeClock,
               caplog) -> Iterator[Any]:
    caplog.set_level(logging.INFO)
    made: list[Kiosk] = []

    def make(name: str = "XH-01", orientation: str = "landscape") -> Kiosk:
        token = hall.add_device("kiosk", name)
        if orientation == "landscape":
            kiosk = hall_kiosk(hall.url, token, tmp_path, name, clock)
        else:  # as hall_kiosk sets one up, on a portrait panel
            token_file = tmp_path / f"{name}.token"
            token_file.write_text(token + "\n", encoding="ascii")
            token_file.chmod(0o600)
            base = make_config(tmp_path / name, orientation=orientation)
            config = base.model_copy(update={
                "center": base.center.model_copy(update={"kiosk_id": name}),
                "backend": HttpBackendConfig(url=hall.url + "/", token_file=str(token_file),
                                             connect_timeout_s=0.5,
                                             read_timeout_s=HANG_GUARD_S)})
            kiosk = build(config, SHIPPED_CONFIG, kiosk_mode=False, clock=clock)
            kiosk.window.show()
        made.append(kiosk)
        return kiosk

    yield make
    for k in made:
        k.shutdown()


def wait_for_figures(kiosk: Kiosk, qtbot, category: str, expected: str) -> str:
    """The label of `category` on Home once the hall's figures are in."""
    label = kiosk.controller.home.queue_labels[category]
    qtbot.waitUntil(lambda: expected in label.text(), timeout=HANG_GUARD_MS)
    return label.text()


# ------------------------------------------------------------------ hours and daily caps


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_home_and_the_tiles_say_how_many_numbers_are_left_today(make_kiosk, hall, qtbot,
                                                               orientation):
    kiosk = make_kiosk(orientation=orientation)
    home = kiosk.controller.home
    # 户籍 gives 120 numbers a day (config/hall.yaml); the others have no cap.
    assert wait_for_figures(kiosk, qtbot, "household", "今日剩余 120 号") == (
        "户籍：0 人 · 今日剩余 120 号")
    assert home.queue_labels["social_security"].text() == "社保：0 人"
    assert not home.closed_notice.isVisible()
    shot(home, f"home-remaining-{orientation}")
    resident = Resident(kiosk, qtbot)
    resident.tap(home.no_phone_button)
    resident.wait_screen("category")
    category = kiosk.controller.category
    tile = category.buttons["household"]
    resident.tap(tile)
    resident.wait_screen("ticket")
    resident.tap(kiosk.controller.ticket.done_button)
    resident.wait_screen("home")
    wait_for_figures(kiosk, qtbot, "household", "今日剩余 119 号")

    # The other 119 go to other kiosks meanwhile: none left today.
    hall.sql("UPDATE number_counter SET last = 120 WHERE series = '#household'")
    resident.tap(home.no_phone_button)
    resident.wait_screen("category")
    qtbot.waitUntil(lambda: "今日号已取完" in tile.text(), timeout=HANG_GUARD_MS)
    assert tile.property("closed") is True  # drawn closed
    assert not category.buttons["social_security"].property("closed")
    shot(category, f"category-cap-reached-{orientation}")
    resident.tap(tile)
    assert resident.screen == "category"
    assert category.problem.isVisible()
    assert category.problem.text() == "户籍现在不能取号：今日号已取完。"
    assert hall.sql("SELECT count(*) FROM ticket")[0][0] == 1  # nothing was asked for
    check_screen(kiosk.window, "category", {})
    resident.tap(category.buttons["social_security"])  # an open one still works
    resident.wait_screen("ticket")
    resident.tap(kiosk.controller.ticket.done_button)
    resident.wait_screen("home")
    # The tiles' figures fit in English and in elder mode too.
    for language, elder in (("en", False), ("zh", True), ("en", True)):
        choose(kiosk, resident, language, elder)
        resident.tap(home.no_phone_button)
        resident.wait_screen("category")
        qtbot.waitUntil(lambda: tile.property("closed") is True, timeout=HANG_GUARD_MS)
        check_screen(kiosk.window, "category", {})
        shot(category, f"category-cap-reached-{orientation}-{language}"
                       f"{'-elder' if elder else ''}")
        kiosk.window.go_home("home")


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_at_night_numbers_wait_for_the_morning_and_the_other_services_stay_open(
    make_kiosk, hall, clock, qtbot, orientation
):
    clock.now = MONDAY_NIGHT
    kiosk = make_kiosk(orientation=orientation)
    home = kiosk.controller.home
    assert wait_for_figures(kiosk, qtbot, "social_security", "起取号") == (
        "社保：明天 09:00 起取号")
    for category, label in home.queue_labels.items():
        assert label.text().endswith("明天 09:00 起取号"), (category, label.text())
    notice = home.closed_notice
    assert notice.isVisible()
    assert notice.text() == ("现在不取号，明天 09:00 起可取号。"
                             "一件事、办件查询、好差评和帮办照常办理。")
    assert home.scan_button.property("closed") is True
    shot(home, f"home-night-{orientation}")
    resident = Resident(kiosk, qtbot)
    # The notice fits Home in both languages and both modes: nothing overlaps, nothing is
    # squeezed or cut off.
    for language, elder in (("zh", True), ("en", False), ("en", True)):
        choose(kiosk, resident, language, elder)
        assert notice.isVisible() and ("09:00" in notice.text())
        check_screen(kiosk.window, "home", {})
        shot(home, f"home-night-{orientation}-{language}{'-elder' if elder else ''}")
    kiosk.window.go_home("home")  # the next resident: Chinese, the normal mode
    check_screen(kiosk.window, "home", {})
    # A number at night would be a false promise: the tiles answer with the notice.
    with qtbot.waitSignal(home.announced, timeout=HANG_GUARD_MS) as said:
        resident.tap(home.no_phone_button)
    assert said.args == [notice.text(), False]
    resident.tap(home.scan_button)
    assert resident.screen == "home"
    # 一件事 and the rest work around the clock.
    resident.tap(home.service_buttons["bundles"])
    resident.wait_screen("bundles")
    kiosk.window.go_home("home")
    resident.tap(kiosk.window.help_button)
    resident.wait_screen("help")


def test_the_saturday_before_a_holiday_points_to_the_working_day_after_it(
    make_kiosk, hall, clock, qtbot
):
    clock.now = SATURDAY_BEFORE_HOLIDAY
    kiosk = make_kiosk()
    home = kiosk.controller.home
    # Sunday, then the Spring Festival up to Monday the 23rd: Tuesday the 24th, 09:00.
    assert wait_for_figures(kiosk, qtbot, "household", "起取号") == "户籍：2月24日 09:00 起取号"
    assert "2月24日 09:00 起可取号" in home.closed_notice.text()
    shot(home, "home-before-holiday")
    # That morning the kiosk gives numbers again (the figures are read when Home shows).
    clock.now = dt.datetime(2026, 2, 24, 9, 0, tzinfo=SHANGHAI)
    kiosk.controller.refresh_queue()
    wait_for_figures(kiosk, qtbot, "household", "今日剩余 120 号")
    assert not home.closed_notice.isVisible()
    assert not home.no_phone_button.property("closed")


# ----------------------------------------------------------------------------- help calls


def acknowledge(hall: RunningHall, kiosk_name: str) -> str:
    """A clerk at the hall's console acknowledges the open call of `kiosk_name`."""
    clerk = hall.session("clerk1")
    calls = clerk.get(f"{hall.url}/v1/help-calls?open=true", timeout=30).json()
    (call,) = [c for c in calls if c["kiosk"] == kiosk_name]
    r = clerk.post(f"{hall.url}/v1/help-calls/{call['call_id']}/acknowledge", json={},
                   headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    assert r.status_code == 200, r.text
    return str(call["call_id"])


def test_staff_on_the_way_only_once_a_clerk_acknowledged_the_call(make_kiosk, hall, qtbot,
                                                                 monkeypatch):
    hall.sign_in("clerk1", hall.tokens["clerk-pw"], counter=3)
    kiosk = make_kiosk()
    helper = kiosk.window.findChild(HelpController)
    helper.poll_timer.setInterval(20)  # the kiosk asks every 3 s; a test need not wait
    asked: list[str | None] = []
    read = kiosk.backend.help_call_state

    def counted(call_id: str) -> str | None:
        state = read(call_id)
        asked.append(state)
        return state

    monkeypatch.setattr(kiosk.backend, "help_call_state", counted)
    resident = Resident(kiosk, qtbot)
    resident.tap(kiosk.controller.home.no_phone_button)
    resident.wait_screen("category")
    resident.tap(kiosk.window.help_button)
    resident.wait_screen("help")
    screen = kiosk.window.current()
    qtbot.waitUntil(lambda: screen.state == "notifying", timeout=HANG_GUARD_MS)
    # The hall has the call, and says nobody has answered it yet: still notifying.
    qtbot.waitUntil(lambda: asked.count("raised") >= 2, timeout=HANG_GUARD_MS)
    assert screen.heading.text() == "正在通知工作人员…"
    assert screen.status.text() == "如需立即帮助，请拨打 12345 政务服务热线。"
    assert "正在赶来" not in texts(screen)
    shot(screen, "help-notifying")

    call_id = acknowledge(hall, "XH-01")
    qtbot.waitUntil(lambda: screen.state == "coming", timeout=HANG_GUARD_MS)
    assert screen.heading.text() == "工作人员正在赶来，请稍候"
    assert "acknowledged" in asked
    assert not helper.poll_timer.isActive()  # nothing more to ask
    assert hall.sql("SELECT state FROM help_call WHERE id = %s", (call_id,)) == [
        ("acknowledged",)]
    shot(screen, "help-coming")
    resident.tap(screen.back_button)
    resident.wait_screen("category")


def test_a_call_nobody_answers_before_the_resident_leaves_is_no_longer_followed(
    make_kiosk, hall, qtbot
):
    hall.sign_in("clerk1", hall.tokens["clerk-pw"], counter=3)
    kiosk = make_kiosk()
    helper = kiosk.window.findChild(HelpController)
    helper.poll_timer.setInterval(20)
    resident = Resident(kiosk, qtbot)
    resident.tap(kiosk.window.help_button)
    resident.wait_screen("help")
    screen = kiosk.window.current()
    qtbot.waitUntil(helper.poll_timer.isActive, timeout=HANG_GUARD_MS)
    kiosk.window.go_home("home")
    assert not helper.poll_timer.isActive()
    acknowledge(hall, "XH-01")
    assert screen.state != "coming"  # cleared with the session; the next resident never reads it


# -------------------------------------------------------------------------------- faults


def open_faults(hall: RunningHall) -> dict[str, set[str]]:
    r = hall.session("clerk1").get(f"{hall.url}/v1/faults", timeout=30)
    assert r.status_code == 200, r.text
    return {d["device"]: {f["kind"] for f in d["faults"]} for d in r.json()}


def test_a_paper_out_reaches_the_halls_faults_and_so_does_the_new_roll(make_kiosk, hall,
                                                                       qtbot):
    hall.sign_in("clerk1", hall.tokens["clerk-pw"], counter=3)
    kiosk = make_kiosk()
    reporter = kiosk.window.findChild(FaultReporter)
    kiosk.printer_transport.set_fault(PrinterState.PAPER_OUT)
    resident = Resident(kiosk, qtbot)
    resident.tap(kiosk.controller.home.no_phone_button)
    resident.wait_screen("category")
    resident.tap(kiosk.controller.category.buttons["social_security"])
    resident.wait_screen("ticket")  # the ticket stays on screen; the printer refused it
    qtbot.waitUntil(lambda: "paper_out" in open_faults(hall).get("XH-01", set()),
                    timeout=HANG_GUARD_MS)
    assert hall.sql("SELECT detail FROM device_fault WHERE kind = 'paper_out'") == [
        ("printer: paper_out",)]
    # A fault, not also a help call nobody at the kiosk made.
    assert hall.sql("SELECT count(*) FROM help_call") == [(0,)]
    kiosk.printer_transport.set_fault(None)  # a new roll
    reporter.read_printer()  # the kiosk reads its printer now and then (every 30 s)
    qtbot.waitUntil(lambda: "paper_out" not in open_faults(hall).get("XH-01", set()),
                    timeout=HANG_GUARD_MS)
    assert hall.sql("SELECT cleared_at IS NOT NULL FROM device_fault "
                    "WHERE kind = 'paper_out'") == [(True,)]
    # The held ticket is offered to its resident, still at the screen, and printed once
    # asked: never by itself into the tray.
    kiosk.printing.poll.setInterval(20)
    ticket = kiosk.controller.ticket
    qtbot.waitUntil(ticket.reprint_button.isVisible, timeout=HANG_GUARD_MS)
    assert resident.jobs() == []
    resident.tap(ticket.reprint_button)
    resident.wait_printout(0)


# ------------------------------------------------------------------------- 一件事 prefill


def test_a_bundles_follow_up_number_shows_the_clerk_its_application(make_kiosk, hall, qtbot):
    """取号 on a 一件事's result screen: the ticket is the resident's (their session), and the
    hall lists their applications of the day with it, so the clerk calling it sees the one
    just filed."""
    hall.sign_in("clerk1", hall.tokens["clerk-pw"], counter=3)  # counter 3: social_security
    kiosk = make_kiosk()
    resident = Resident(kiosk, qtbot)
    walker = Walker(kiosk, resident)
    bundle = next(b for b in SHIPPED_BUNDLES if b.id == "retirement")
    walker.open(bundle.id)
    walker.walk(bundle, ORDINARY)
    resident.tap(walker.screen.submit_button)
    resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    result = kiosk.bundle_controller.result
    reference = result.reference.text()
    resident.tap(result.follow_up_button)
    resident.wait_screen("ticket", timeout=HANG_GUARD_MS)
    number = kiosk.controller.ticket.ticket.number
    r = hall.session("clerk1").post(f"{hall.url}/v1/counter/call-next", json={},
                                    headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    assert r.status_code == 200, r.text
    called = r.json()["ticket"]
    assert called["number"] == number
    assert called["application_references"] == [reference]


def test_the_review_shows_the_values_the_hall_masked(make_kiosk, hall, qtbot):
    kiosk = make_kiosk()
    resident = Resident(kiosk, qtbot)
    walker = Walker(kiosk, resident)
    bundle = next(b for b in SHIPPED_BUNDLES
                  if {"resident.id_number", "resident.phone"} <= {p.source for p in b.prefilled})
    walker.open(bundle.id)
    wiz = kiosk.bundle_controller
    while walker.wiz.current.kind is not StepKind.REVIEW:
        step = walker.wiz.current
        if step.kind is StepKind.IDENTIFY:
            resident.show_phone(resident.code(ORDINARY))
            qtbot.waitUntil(lambda: walker.wiz.current.kind is not StepKind.IDENTIFY,
                            timeout=HANG_GUARD_MS)
            resident.put_phone_away()
        elif step.kind is StepKind.QUESTION:
            walker.choose_option(bundle, step.ref, want_ineligible=False,
                                 prefer_branch=False)
        else:
            resident.tap(wiz.wizard_screen.next_button)
    shown = texts(wiz.wizard_screen)
    ((id_number, phone, name),) = hall.sql(
        "SELECT id_number, phone, name FROM resident WHERE resident_id = %s", (ORDINARY,))
    assert mask_id_number(id_number) in shown and mask_phone(phone) in shown
    assert id_number not in shown and phone not in shown and name not in shown
    # Each of the resident's own values came from the hall (a license the resident does not
    # hold reads 未获取, as at an embedded kiosk).
    review = dict(walker.wiz.review("zh"))
    for p in bundle.prefilled:
        if p.source.startswith("resident."):
            assert review[p.label.zh] != "未获取", p.source
    held = {k for (k,) in hall.sql("SELECT kind FROM license WHERE resident_id = %s",
                                   (ORDINARY,))}
    assert walker.wiz._licenses == held  # the materials they exempt
    shot(wiz.wizard_screen, "bundle-review")
