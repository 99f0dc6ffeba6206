"""A resident without a phone, with the resident ID card: placed on the (emulated) reader at
each screen that takes a 随申码, it identifies them just as a code does.

Screenshots: KIOSK_SHOTS=<folder> keeps them (else the test's tmp_path)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from kiosk.app import Kiosk, build
from kiosk.backend.seed import DEMO_RESIDENTS, hall_hours_clock
from kiosk.common.clock import shanghai_now
from kiosk.config.schema import EmulatedIdCardConfig
from kiosk.domain import idnumber
from kiosk.domain.masking import mask_id_number, mask_name
from kiosk.domain.wizard import StepKind
from kiosk.hardware.id_card import protocol
from kiosk.hardware.id_card.emulated import demo_card
from kiosk.ui import messages
from tests.helpers.config import make_config
from tests.helpers.id_card import card_of, device
from tests.helpers.paths import SHIPPED_CONFIG
from tests.helpers.resident import Resident
from tests.helpers.waits import HANG_GUARD_MS
from tests.integration.test_bundles_ui import SHIPPED_BUNDLES, Walker
from tests.integration.test_layout import check_screen, choose, quiet, settle_layouts

SHOTS = os.environ.get("KIOSK_SHOTS")


@pytest.fixture
def card_kiosk_factory(qtbot, tmp_path) -> Iterator:
    built: list[Kiosk] = []

    def factory(**screen: object) -> Kiosk:
        config = make_config(tmp_path / f"data{len(built)}", **screen)
        config = config.model_copy(update={"id_card": EmulatedIdCardConfig()})
        k = build(config, SHIPPED_CONFIG, kiosk_mode=False,
                  clock=hall_hours_clock(shanghai_now))
        k.window.show()
        built.append(k)
        return k

    yield factory
    for k in built:
        k.shutdown()


@pytest.fixture
def card_kiosk(card_kiosk_factory) -> Kiosk:
    return card_kiosk_factory()


@pytest.fixture
def person(card_kiosk, qtbot) -> Resident:
    return Resident(card_kiosk, qtbot)


def visible_text(widget: QWidget) -> str:
    parts = [w.text() for w in widget.findChildren(QLabel) if w.isVisible()]
    parts += [b.text() for b in widget.findChildren(QAbstractButton) if b.isVisible()]
    return "\n".join(parts)


def shot(kiosk: Kiosk, tmp_path: Path, name: str) -> Path:
    settle_layouts()
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    assert kiosk.window.grab().save(str(path))
    return path


def finds_after(kiosk: Kiosk, count: int) -> int:
    """How many times the kiosk has asked the reader for a card after `count` commands."""
    return sum(1 for c in device(kiosk).commands[count:] if c == protocol.FIND_CARD)


def wait_polls(kiosk: Kiosk, qtbot, polls: int = 3) -> None:
    """Until the kiosk has asked the reader for a card `polls` more times: what it would
    have done with a card by then, it has done."""
    start = len(device(kiosk).commands)
    qtbot.waitUntil(lambda: finds_after(kiosk, start) >= polls, timeout=HANG_GUARD_MS)
    qtbot.wait(0)  # and the signals of those polls have reached the screens


def test_card_of_an_aged_resident_gives_priority(card_kiosk, person, qtbot):
    k = card_kiosk
    aged = k.backend.identify(DEMO_RESIDENTS["aged_85"])
    assert aged is not None
    before = len(person.jobs())
    person.tap(k.controller.home.scan_button)
    person.wait_screen("scan")
    device(k).place(card_of(k, aged.resident_id))
    person.wait_screen("category")
    category = k.controller.category
    assert category.priority.isVisible()
    assert "80" in category.priority.text()
    assert mask_name(aged.name) in category.greeting.text()
    shown = visible_text(k.window)
    assert aged.name not in shown and aged.id_number not in shown
    assert k.controller.ctx.session.context.by_card
    person.tap(category.buttons["medical_insurance"])
    person.wait_screen("ticket")
    printed = person.wait_printout(before)
    ticket = k.controller.ticket.ticket
    assert ticket is not None and ticket.priority_reason
    assert "80岁以上" in printed.text and mask_name(aged.name) in printed.text
    assert aged.name not in printed.text and aged.id_number not in printed.text
    # The session ends: nothing of the card's holder is left on any screen.
    person.tap(k.controller.ticket.done_button)
    person.wait_screen("home")
    assert k.controller.ctx.session.context is None
    assert mask_name(aged.name) not in visible_text(k.window)
    assert category.greeting.text() == ""


def test_card_placed_before_the_scan_screen_is_read_when_it_opens(card_kiosk, person):
    k = card_kiosk
    rid = DEMO_RESIDENTS["ordinary"]
    device(k).place(card_of(k, rid))  # on Home: nothing reads it yet
    person.tap(k.controller.home.scan_button)
    person.wait_screen("category")
    assert k.controller.ctx.session.context.resident_id == rid


def test_a_card_forgotten_on_the_reader_is_not_the_next_residents(card_kiosk, person, qtbot):
    k = card_kiosk
    device(k).place(card_of(k, DEMO_RESIDENTS["aged_85"]))
    person.tap(k.controller.home.scan_button)
    person.wait_screen("category")
    person.tap(k.window.home_button)  # the first resident leaves; the card stays
    person.wait_screen("home")
    person.tap(k.controller.home.scan_button)  # the next resident, with a phone
    person.wait_screen("scan")
    wait_polls(k, qtbot)
    assert person.screen == "scan" and k.controller.ctx.session.context is None
    # Lifted and placed again: read again.
    device(k).remove()
    wait_polls(k, qtbot)
    device(k).place(card_of(k, DEMO_RESIDENTS["aged_85"]))
    person.wait_screen("category")


def test_a_card_left_before_a_session_ended_is_not_read_in_the_next(card_kiosk, person, qtbot):
    k = card_kiosk
    # Placed while nothing reads it (a resident who then took a number without it).
    device(k).place(card_of(k, DEMO_RESIDENTS["aged_85"]))
    person.tap(k.controller.home.no_phone_button)
    person.wait_screen("category")
    wait_polls(k, qtbot)
    person.tap(k.window.home_button)
    person.wait_screen("home")
    person.tap(k.controller.home.scan_button)  # the next resident
    person.wait_screen("scan")
    wait_polls(k, qtbot)
    assert person.screen == "scan" and k.controller.ctx.session.context is None


def test_expired_card_is_refused_with_its_date(card_kiosk, person, qtbot):
    k = card_kiosk
    person.tap(k.controller.home.scan_button)
    person.wait_screen("scan")
    card = card_of(k, DEMO_RESIDENTS["ordinary"], expired=True)
    device(k).place(card)
    scan = k.controller.scan
    qtbot.waitUntil(lambda: scan.message.isVisible(), timeout=HANG_GUARD_MS)
    assert scan.message.text() == messages.id_card_refusal(card, k.controller.ctx.clock().date())
    assert "不在有效期内" in scan.message.text()
    until = card.valid_until
    shown = scan.message.text().replace("\u2060", "")  # word joiners keep the date whole
    assert f"{until.year}年{until.month}月{until.day}日" in shown
    assert person.screen == "scan" and k.controller.ctx.session.context is None


def test_bad_read_asks_to_place_the_card_again(card_kiosk, person, qtbot):
    k = card_kiosk
    person.tap(k.controller.home.scan_button)
    person.wait_screen("scan")
    card = card_of(k, DEMO_RESIDENTS["veteran"])
    device(k).place(card, unreadable=True)
    scan = k.controller.scan
    qtbot.waitUntil(lambda: scan.message.isVisible(), timeout=HANG_GUARD_MS)
    assert scan.message.text() == messages.id_card_unreadable()
    assert "请重新放置身份证" in scan.message.text()
    device(k).remove()
    wait_polls(k, qtbot)
    device(k).place(card)
    person.wait_screen("category")


def test_one_failed_read_is_tried_again_without_bothering_the_resident(card_kiosk, person):
    k = card_kiosk
    person.tap(k.controller.home.scan_button)
    person.wait_screen("scan")
    device(k).fail_next_read(protocol.Status.READ_FAILED)
    device(k).place(card_of(k, DEMO_RESIDENTS["veteran"]))
    person.wait_screen("category")
    assert k.controller.category.priority.isVisible()


def test_unknown_card_holder_is_told_so(card_kiosk, person, qtbot):
    k = card_kiosk
    person.tap(k.controller.home.scan_button)
    person.wait_screen("scan")
    # A card of someone this backend has no record of (an invented, well-formed number).
    head = "11010119800101001"
    stranger = demo_card("陌生人", head + idnumber.check_digit(head),
                         k.controller.ctx.clock().date())
    device(k).place(stranger)
    scan = k.controller.scan
    qtbot.waitUntil(lambda: scan.message.isVisible(), timeout=HANG_GUARD_MS)
    assert scan.message.text() == messages.unknown_resident()


def test_a_card_whose_name_differs_from_the_record_identifies_nobody(card_kiosk, person, qtbot):
    k = card_kiosk
    person.tap(k.controller.home.scan_button)
    person.wait_screen("scan")
    real = card_of(k, DEMO_RESIDENTS["aged_85"])
    device(k).place(demo_card("王二", real.id_number, k.controller.ctx.clock().date()))
    scan = k.controller.scan
    qtbot.waitUntil(lambda: scan.message.isVisible(), timeout=HANG_GUARD_MS)
    assert scan.message.text() == messages.unknown_resident()
    assert k.controller.ctx.session.context is None


def test_bundle_identify_step_prefilled_from_the_card(card_kiosk, person, qtbot, tmp_path):
    k = card_kiosk
    rid = DEMO_RESIDENTS["aged_85"]
    owner = k.backend.identify(rid)
    bundle = next(b for b in SHIPPED_BUNDLES if b.id == "retirement")
    walker = Walker(k, person)
    walker.open(bundle.id)
    person.tap(walker.screen.next_button)  # the intro
    assert walker.wiz.current.kind is StepKind.IDENTIFY
    assert "身份证" in visible_text(walker.screen)
    shot(k, tmp_path, "wizard-identify-card-hint")
    device(k).place(card_of(k, rid))
    qtbot.waitUntil(lambda: walker.wiz.identified, timeout=HANG_GUARD_MS)
    assert walker.wiz.masked_name == mask_name(owner.name)
    assert walker.bc._resident_id == rid
    # The review shows what the card's holder has on record, masked.
    while walker.wiz.current.kind is not StepKind.REVIEW:
        step = walker.wiz.current
        if step.kind is StepKind.QUESTION:
            walker.choose_option(bundle, step.ref, want_ineligible=False, prefer_branch=False)
        else:
            person.tap(walker.screen.next_button)
    shown = visible_text(walker.screen)
    assert mask_name(owner.name) in shown and mask_id_number(owner.id_number) in shown
    assert owner.name not in shown and owner.id_number not in shown
    person.tap(k.window.home_button)
    person.wait_screen("home")
    assert k.bundle_controller.wizard is None


def test_query_by_card_shows_the_holders_applications(card_kiosk, person):
    k = card_kiosk
    person.tap(k.controller.home.service_buttons["query"])
    person.wait_screen("query_scan")
    assert k.window.current().card_hint.isVisible()
    device(k).place(card_of(k, DEMO_RESIDENTS["ordinary"]))
    person.wait_screen("query_result")


def test_check_in_by_card(card_kiosk, person):
    k = card_kiosk
    person.tap(k.controller.home.service_buttons["checkin"])
    person.wait_screen("checkin_scan")
    device(k).place(card_of(k, DEMO_RESIDENTS["appointment_today"]))
    person.wait_screen("ticket")
    ticket = k.controller.ticket.ticket
    assert ticket is not None and ticket.priority_reason


def test_reader_out_of_order_hides_the_hint(card_kiosk, person, qtbot):
    k = card_kiosk
    scan = k.controller.scan
    person.tap(k.controller.home.scan_button)
    person.wait_screen("scan")
    qtbot.waitUntil(lambda: k.id_card.state == "running", timeout=HANG_GUARD_MS)
    assert scan.card_hint.isVisible() and "身份证" in scan.card_hint.text()
    device(k).unplug()
    qtbot.waitUntil(lambda: not scan.card_hint.isVisible(), timeout=HANG_GUARD_MS)
    assert k.id_card.state == "unavailable"
    device(k).plug_in()
    qtbot.waitUntil(lambda: scan.card_hint.isVisible(), timeout=HANG_GUARD_MS)
    device(k).place(card_of(k, DEMO_RESIDENTS["ordinary"]))
    person.wait_screen("category")


def test_no_hint_without_a_reader(kiosk, resident):
    resident.tap(kiosk.controller.home.scan_button)
    resident.wait_screen("scan")
    assert kiosk.id_card is None
    assert not kiosk.controller.scan.card_hint.isVisible()
    assert "身份证" not in visible_text(kiosk.window)


def test_the_card_leaves_no_trace_in_the_log(card_kiosk, person, caplog):
    k = card_kiosk
    rid = DEMO_RESIDENTS["aged_85"]
    owner = k.backend.identify(rid)
    caplog.set_level(logging.DEBUG)
    person.tap(k.controller.home.scan_button)
    person.wait_screen("scan")
    device(k).place(card_of(k, rid))
    person.wait_screen("category")
    text = caplog.text
    assert "ID card read" in text
    for secret in (owner.name, owner.id_number, owner.id_number[6:14], mask_name(owner.name)):
        assert secret not in text


@pytest.mark.parametrize(("orientation", "elder"),
                         [("landscape", False), ("landscape", True), ("portrait", False),
                          ("portrait", True)])
def test_scan_screen_with_the_card_hint(card_kiosk_factory, qtbot, tmp_path, orientation,
                                        elder):
    k = card_kiosk_factory(orientation=orientation)
    quiet(k)
    person = Resident(k, qtbot)
    choose(k, person, elder=elder)
    person.tap(k.controller.home.scan_button)
    person.wait_screen("scan")
    qtbot.waitUntil(lambda: k.controller.scan.card_hint.isVisible(), timeout=HANG_GUARD_MS)
    check_screen(k.window, "scan", {})
    shot(k, tmp_path, f"scan-card-hint-{orientation}{'-elder' if elder else ''}")
    device(k).place(card_of(k, DEMO_RESIDENTS["ordinary"], expired=True))
    qtbot.waitUntil(lambda: k.controller.scan.message.isVisible(), timeout=HANG_GUARD_MS)
    check_screen(k.window, "scan", {})
    shot(k, tmp_path, f"scan-card-expired-{orientation}{'-elder' if elder else ''}")
