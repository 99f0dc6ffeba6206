"""A finished 一件事 sends the resident to a window: its result screen offers that window's
number in one tap, for the resident (their priority) and naming the application, so that
the clerk who calls it sees what was filed (embedded backend: stored on the ticket, shown
by `kiosk backend call-next`; a hall lists the resident's applications of the day with the
ticket, tests/integration/test_hall_kiosk.py).

Screenshots: KIOSK_SHOTS=<folder> keeps them (else the test's tmp_path)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.cli import backend as staff_cli
from kiosk.domain.masking import mask_name
from kiosk.domain.wizard import StepKind
from tests.helpers.waits import HANG_GUARD_MS
from tests.integration.test_bundles_ui import SHIPPED_BUNDLES, Walker
from tests.integration.test_layout import (
    check_screen,
    choose,
    open_service,
    quiet,
    settle_layouts,
    tap_choice,
)

RETIREMENT = next(b for b in SHIPPED_BUNDLES if b.id == "retirement")


def shot(kiosk, tmp_path: Path, name: str) -> None:
    settle_layouts()
    folder = Path(os.environ.get("KIOSK_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    assert kiosk.window.grab().save(str(folder / f"{name}.png"))


def file_retirement(kiosk, resident, role: str) -> str:
    """The retirement 一件事 filed by `role`; the result screen shows; its reference."""
    walker = Walker(kiosk, resident)
    bc = kiosk.bundle_controller
    open_service(kiosk, resident, "bundles")  # in elder mode through 更多服务
    resident.wait_screen("bundles")
    tap_choice(resident, bc.list.pages, bc.list.buttons[RETIREMENT.id])
    resident.wait_screen("wizard")
    walker.walk(RETIREMENT, DEMO_RESIDENTS[role])
    assert walker.wiz.current.kind is StepKind.CONFIRM
    resident.tap(walker.screen.submit_button)
    resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    return kiosk.bundle_controller.result.reference.text()


def test_the_follow_up_number_is_one_tap_and_names_the_application(kiosk, resident, qtbot,
                                                                  tmp_path, capsys):
    reference = file_retirement(kiosk, resident, "aged_85")
    result = kiosk.bundle_controller.result
    button = result.follow_up_button
    assert button.isVisible() and button.isEnabled()
    assert (button.text(), button.detail()) == ("取号", "去“社保”窗口办理")  # retirement
    resident.wait_printout(0)  # the receipt
    check_screen(kiosk.window, "bundle_result", {})
    shot(kiosk, tmp_path, "bundle-result-follow-up-zh")
    resident.tap(button)
    resident.wait_screen("ticket", timeout=HANG_GUARD_MS)
    ticket = kiosk.controller.ticket.ticket
    # Hers: the 80+ priority lane of 社保, her masked name, on screen and on paper.
    assert ticket.number.startswith("YA") and ticket.category_title == "社保"
    assert ticket.masked_name == mask_name("李秀英")
    printed = resident.wait_printout(1)
    assert ticket.number in printed.text and "社保" in printed.text
    # The ticket names the application: the clerk calling it sees the reference.
    assert kiosk.backend.ticket_application(ticket.number) == reference
    qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    assert kiosk.backend.queue_figures()["social_security"].waiting == 1
    capsys.readouterr()
    assert staff_cli.call_next_command(kiosk.backend.db_path, "social_security") == 0
    assert capsys.readouterr().out.strip() == f"{ticket.number} (application {reference})"


def test_a_number_held_already_is_shown_again_and_linked(kiosk, resident, qtbot):
    """The resident took a 社保 number before filing: no second number, and theirs now names
    the application."""
    c = kiosk.controller
    resident.scan_in(DEMO_RESIDENTS["ordinary"])
    resident.tap(c.category.buttons["social_security"])
    resident.wait_screen("ticket")
    first = c.ticket.ticket.number
    resident.tap(c.ticket.done_button)
    resident.wait_screen("home")
    reference = file_retirement(kiosk, resident, "ordinary")
    resident.tap(kiosk.bundle_controller.result.follow_up_button)
    resident.wait_screen("ticket", timeout=HANG_GUARD_MS)
    assert c.ticket.ticket.number == first
    qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    assert kiosk.backend.queue_figures()["social_security"].waiting == 1
    assert kiosk.backend.ticket_application(first) == reference


def test_a_double_tap_asks_once(kiosk, resident, qtbot):
    file_retirement(kiosk, resident, "ordinary")
    button = kiosk.bundle_controller.result.follow_up_button
    button.click()
    button.click()
    resident.wait_screen("ticket", timeout=HANG_GUARD_MS)
    qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    assert kiosk.backend.queue_figures()["social_security"].waiting == 1


def test_no_number_is_said_on_the_result_screen(kiosk, resident, qtbot):
    file_retirement(kiosk, resident, "ordinary")
    result = kiosk.bundle_controller.result
    kiosk.link.set_mode("down")
    resident.tap(result.follow_up_button)
    qtbot.waitUntil(result.print_problem.isVisible, timeout=HANG_GUARD_MS)
    assert "号" in result.print_problem.text()
    assert resident.screen == "bundle_result"
    assert result.follow_up_button.isEnabled()  # asked again when the link is back
    kiosk.link.set_mode("up")
    resident.tap(result.follow_up_button)
    resident.wait_screen("ticket", timeout=HANG_GUARD_MS)


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
@pytest.mark.parametrize(("language", "elder"), [("zh", False), ("zh", True)])
def test_the_follow_up_button_fits_every_mode(kiosk_factory, resident_at, tmp_path,
                                              orientation, language, elder):
    kiosk = kiosk_factory(orientation=orientation)
    quiet(kiosk)
    person = resident_at(kiosk)
    choose(kiosk, person, language, elder)
    file_retirement(kiosk, person, "ordinary")
    mode = f"{orientation}-{language}{'-elder' if elder else ''}"
    shot(kiosk, tmp_path, f"bundle-result-follow-up-{mode}")
    check_screen(kiosk.window, "bundle_result", {})
    assert kiosk.bundle_controller.result.follow_up_button.isVisible()
