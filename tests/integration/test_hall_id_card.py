"""A resident without a phone at a kiosk of a hall: the resident ID card on the kiosk's
(emulated) reader identifies them through the hall, which takes the card only from a kiosk
its administrator marked as having a reader (`kiosk hall add-device --id-card-reader`):
the resident is greeted by the masked name and gets the hall's priority ticket. At a kiosk
the hall was not told of, the resident reads the hall's words (the 随申码, or staff) and the
technician the command that fixes it.

Needs PostgreSQL: run inside pg_virtualenv, as the test command does."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from kiosk.app import Kiosk
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain.id_card import IdCard
from kiosk.domain.masking import mask_id_number, mask_name
from kiosk.domain.wizard import StepKind
from kiosk.hardware.id_card.emulated import demo_card
from kiosk.ui import messages
from tests.helpers.clock import FakeClock
from tests.helpers.hall import RunningHall
from tests.helpers.id_card import device
from tests.helpers.resident import Resident
from tests.helpers.waits import HANG_GUARD_MS
from tests.integration import test_http_backend
from tests.integration.test_bundles_ui import SHIPPED_BUNDLES, Walker, valid_value
from tests.integration.test_http_backend import hall_kiosk
from tests.integration.test_id_card import visible_text

AGED = DEMO_RESIDENTS["aged_85"]

# The hall of test_http_backend, seeded with the demo residents, and its clock: one moment
# for the hall and the kiosks, in its opening hours.
clock = test_http_backend.clock
hall = test_http_backend.hall


def card_in_hall(hall: RunningHall, kiosk: Kiosk, resident_id: str) -> tuple[IdCard, str, str]:
    """The card of a resident the hall knows, valid today by the kiosk's clock; with the
    name and number on it (what must never show unmasked)."""
    name, id_number = hall.sql("SELECT name, id_number FROM resident WHERE resident_id = %s",
                               (resident_id,))[0]
    return demo_card(name, id_number, kiosk.controller.ctx.clock().date()), name, id_number


@pytest.fixture
def card_kiosks(qtbot: QtBot, tmp_path: Path, hall: RunningHall, clock: FakeClock,
                caplog: pytest.LogCaptureFixture) -> Iterator[dict[str, Kiosk]]:
    caplog.set_level(logging.INFO)
    made = {
        "trusted": hall_kiosk(hall.url, hall.add_device("kiosk", "XH-CARD", reads_id_cards=True),
                              tmp_path, "XH-CARD", clock, id_card=True),
        "untold": hall_kiosk(hall.url, hall.add_device("kiosk", "XH-02"), tmp_path, "XH-02",
                             clock, id_card=True),
    }
    yield made
    for k in made.values():
        k.shutdown()


def test_a_card_on_a_trusted_kiosk_gives_the_halls_priority_ticket(
    card_kiosks: dict[str, Kiosk], hall: RunningHall, qtbot: QtBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    k = card_kiosks["trusted"]
    person = Resident(k, qtbot)
    card, name, id_number = card_in_hall(hall, k, AGED)
    before = len(person.jobs())
    person.tap(k.controller.home.scan_button)
    person.wait_screen("scan")
    device(k).place(card)
    person.wait_screen("category")
    category = k.controller.category
    assert category.priority.isVisible() and "80" in category.priority.text()
    assert mask_name(name) in category.greeting.text()
    shown = visible_text(k.window)
    assert name not in shown and id_number not in shown
    context = k.controller.ctx.session.context
    assert context is not None and context.by_card and context.priority.value == "age"
    person.tap(category.buttons["social_security"])
    person.wait_screen("ticket")
    ticket = k.controller.ticket.ticket
    assert ticket is not None and re.fullmatch(r"YA\d{3}", ticket.number), ticket
    printed = person.wait_printout(before)
    assert ticket.number in printed.text and mask_name(name) in printed.text
    assert name not in printed.text and id_number not in printed.text
    # The hall issued it, to the resident it found by the card, from this kiosk's credential.
    assert hall.sql("SELECT t.number, t.resident_id, t.priority_reason, d.name FROM ticket t "
                    "JOIN device d ON d.id = t.device_id") == [
        (ticket.number, AGED, "age", "XH-CARD")]
    for secret in (name, id_number, id_number[6:14], hall.tokens["XH-CARD"]):
        assert secret not in caplog.text


def test_a_card_prefills_a_bundle_from_the_halls_records(
    card_kiosks: dict[str, Kiosk], hall: RunningHall, qtbot: QtBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """一件事 at a hall by card: the identify step takes the card, the review shows the
    hall's masked record, and the hall files the application for the card's holder."""
    k = card_kiosks["trusted"]
    person = Resident(k, qtbot)
    card, name, id_number = card_in_hall(hall, k, AGED)
    bundle = next(b for b in SHIPPED_BUNDLES if b.id == "retirement")
    walker = Walker(k, person)
    walker.open(bundle.id)
    person.tap(walker.screen.next_button)  # the intro
    assert walker.wiz.current.kind is StepKind.IDENTIFY
    device(k).place(card)
    qtbot.waitUntil(lambda: walker.wiz.identified, timeout=HANG_GUARD_MS)
    assert walker.wiz.masked_name == mask_name(name)
    reviewed = ""
    for _ in range(40):
        step = walker.wiz.current
        if step.kind is StepKind.CONFIRM:
            break
        if step.kind is StepKind.QUESTION:
            walker.choose_option(bundle, step.ref, want_ineligible=False)
            continue
        if step.kind is StepKind.FIELD:
            field = next(f for f in bundle.fields if f.id == step.ref)
            walker.type_value(valid_value(field.kind, field))
        elif step.kind is StepKind.REVIEW:
            reviewed = visible_text(walker.screen)
        person.tap(walker.screen.next_button)
        assert walker.wiz.current.key != step.key, walker.screen.problem.text()
    confirm: StepKind = walker.wiz.current.kind
    assert confirm is StepKind.CONFIRM
    assert mask_name(name) in reviewed and mask_id_number(id_number) in reviewed
    assert name not in reviewed and id_number not in reviewed
    person.tap(walker.screen.submit_button)
    person.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    # Filed by the hall for the card's holder, found behind the session the card opened.
    assert hall.sql("SELECT resident_id, bundle_id FROM application") == [(AGED, "retirement")]
    for secret in (name, id_number, id_number[6:14]):
        assert secret not in caplog.text


def test_a_card_on_a_kiosk_the_hall_was_not_told_of_sends_to_the_code(
    card_kiosks: dict[str, Kiosk], hall: RunningHall, qtbot: QtBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    k = card_kiosks["untold"]
    person = Resident(k, qtbot)
    card, name, id_number = card_in_hall(hall, k, AGED)
    person.tap(k.controller.home.scan_button)
    person.wait_screen("scan")
    device(k).place(card)
    scan = k.controller.scan
    qtbot.waitUntil(lambda: scan.message.isVisible(), timeout=HANG_GUARD_MS)
    text = scan.message.text()
    assert "随申码" in text and "工作人员" in text
    assert text != messages.backend_unavailable()
    assert person.screen == "scan" and k.controller.ctx.session.context is None
    assert "kiosk hall set-id-card-reader XH-02 on" in caplog.text
    assert hall.sql("SELECT count(*) FROM resident_session") == [(0,)]
    for secret in (name, id_number, id_number[6:14]):
        assert secret not in caplog.text and secret not in text
