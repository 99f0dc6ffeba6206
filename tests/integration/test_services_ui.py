"""预约签到, 好差评, 帮办 and the statistics they leave behind, driven through the UI."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QLabel

from kiosk.backend.seed import DEMO_RESIDENTS, hall_hours_clock
from kiosk.backend.stats import export_stats
from kiosk.common.clock import shanghai_now
from kiosk.ui.controllers.services import HelpController
from tests.helpers.paths import CONFIG_DIR
from tests.helpers.waits import HANG_GUARD_MS
from tests.integration.test_layout import check_screen, settle_layouts


def texts(widget) -> str:
    return "\n".join(w.text() for w in widget.findChildren(QLabel) if w.isVisible())


def check_in(kiosk, resident, role: str) -> None:
    resident.tap(kiosk.controller.home.service_buttons["checkin"])
    resident.wait_screen("checkin_scan")
    resident.show_phone(resident.code(DEMO_RESIDENTS[role]))


def test_check_in_on_time_gives_a_priority_ticket(kiosk, resident):
    before = len(resident.jobs())
    check_in(kiosk, resident, "appointment_today")
    resident.wait_screen("ticket", timeout=HANG_GUARD_MS)
    printed = resident.wait_printout(before)
    number = kiosk.controller.ticket.ticket.number
    assert re.fullmatch(r"Y[A-G]\d{3}", number), number
    assert number in printed.text and "预约" in printed.text
    appts = kiosk.backend.appointments_on(DEMO_RESIDENTS["appointment_today"],
                                          kiosk.controller.ctx.clock().date())
    assert appts[0].checked_in_at is not None


def test_check_in_too_late_explains_and_offers_an_ordinary_ticket(kiosk, resident):
    check_in(kiosk, resident, "appointment_passed")
    resident.wait_screen("checkin_result", timeout=HANG_GUARD_MS)
    assert "已超过签到时间" in kiosk.window.current().explanation.text()
    before = len(resident.jobs())
    resident.tap(kiosk.window.current().ordinary_button)
    resident.wait_screen("category")
    resident.tap(kiosk.controller.category.buttons["medical_insurance"])
    resident.wait_screen("ticket")
    printed = resident.wait_printout(before)
    assert re.fullmatch(r"B\d{3}", kiosk.controller.ticket.ticket.number)
    assert kiosk.controller.ticket.ticket.number in printed.text


def test_check_in_without_appointment(kiosk, resident):
    check_in(kiosk, resident, "ordinary")
    resident.wait_screen("checkin_result", timeout=HANG_GUARD_MS)
    assert "没有查到您今天的预约" in kiosk.window.current().explanation.text()


def test_check_in_too_early(kiosk_factory, resident_at):
    offset = {"minutes": 0}
    hall = hall_hours_clock(shanghai_now)

    def clock() -> dt.datetime:
        return hall() + dt.timedelta(minutes=offset["minutes"])

    k = kiosk_factory(clock=clock)  # seeds the appointment at now+10 min
    person = resident_at(k)
    offset["minutes"] = -90  # the resident comes an hour and a half early
    check_in(k, person, "appointment_today")
    person.wait_screen("checkin_result", timeout=HANG_GUARD_MS)
    assert "现在还早" in k.window.current().explanation.text()


def rate_from_home(kiosk, resident, level: int, reason: str):
    """好差评 from Home: a level, a reason, 提交评价. Returns the rating screen."""
    resident.tap(kiosk.controller.home.service_buttons["rating"])
    resident.wait_screen("rating")
    screen = kiosk.window.current()
    resident.tap(screen.level_buttons[level])
    resident.tap(screen.reason_buttons[reason])
    resident.tap(screen.submit_button)
    return screen


def test_rating_from_home_and_after_a_ticket(kiosk, resident, qtbot):
    screen = rate_from_home(kiosk, resident, 5, "fast")
    qtbot.waitUntil(screen.thanks.isVisible, timeout=HANG_GUARD_MS)
    resident.tap(screen.done_button)
    resident.wait_screen("home")
    # After a ticket, the rating is about that ticket.
    resident.tap(kiosk.controller.home.no_phone_button)
    resident.wait_screen("category")
    resident.tap(kiosk.controller.category.buttons["other"])
    resident.wait_screen("ticket")
    number = kiosk.controller.ticket.ticket.number
    resident.tap(kiosk.controller.ticket.rate_button)
    resident.wait_screen("rating")
    assert number in screen.target.text()
    resident.tap(screen.level_buttons[2])
    resident.tap(screen.reason_buttons["too_slow"])
    screen.submit_button.click()
    screen.submit_button.click()  # a double tap rates once
    qtbot.waitUntil(screen.thanks.isVisible, timeout=HANG_GUARD_MS)
    qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    today = shanghai_now().date()
    rows = {(r["section"], r["key"], r["subkey"]): r["value"]
            for r in export_stats(kiosk.backend, today, today)}
    assert rows[("ratings", "5", "")] == 1
    assert rows[("ratings", "2", "")] == 1
    assert rows[("ratings", "count", "")] == 2


def stats_rows(kiosk) -> dict:
    today = shanghai_now().date()
    return {(r["section"], r["key"], r["subkey"]): r["value"]
            for r in export_stats(kiosk.backend, today, today)}


def offered(screen) -> list[str]:
    """The reason tags on screen, in the order a resident reads them (rows, then columns)."""
    settle_layouts()
    shown = [(b.y(), b.x(), tag) for tag, b in screen.reason_buttons.items() if b.isVisible()]
    return [tag for _y, _x, tag in sorted(shown)]


def test_a_chosen_level_is_kept_when_the_resident_leaves_with_done(kiosk, resident, qtbot,
                                                                   tmp_path):
    resident.tap(kiosk.controller.home.service_buttons["rating"])
    resident.wait_screen("rating")
    screen = kiosk.window.current()
    resident.tap(screen.level_buttons[5])
    assert offered(screen) == ["fast", "polite", "clear_guidance", "easy_to_use"]
    resident.tap(screen.reason_buttons["fast"])
    # The resident changes their mind: 不满意 offers complaints only, and the praise ticked
    # before is not sent with it.
    resident.tap(screen.level_buttons[2])
    assert offered(screen) == ["too_slow", "unclear", "machine_problem", "had_to_come_back"]
    assert not screen.reason_buttons["fast"].isChecked()
    resident.tap(screen.reason_buttons["too_slow"])
    # The familiar way out says that it sends the rating, and does.
    assert screen.done_button.text() == "提交评价，返回首页"
    check_screen(kiosk.window, "rating", {})
    assert kiosk.window.grab().save(str(shot_path(tmp_path, "rating-dissatisfied-zh")))
    resident.tap(screen.done_button)
    resident.wait_screen("home")
    qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    rows = stats_rows(kiosk)
    assert rows[("ratings", "2", "")] == 1
    assert rows[("ratings", "count", "")] == 1
    assert rows[("rating_reasons", "too_slow", "")] == 1
    assert rows[("rating_reasons", "fast", "")] == 0
    assert rows[("flows", "rate", "finished")] == 1
    assert ("flows", "rate", "abandoned") not in rows or rows[("flows", "rate", "abandoned")] == 0


def test_the_middle_level_offers_both_and_done_without_a_level_rates_nothing(kiosk, resident,
                                                                            qtbot):
    resident.tap(kiosk.controller.home.service_buttons["rating"])
    resident.wait_screen("rating")
    screen = kiosk.window.current()
    assert offered(screen) == []
    assert screen.done_button.text() == "完成，返回首页"
    resident.tap(screen.level_buttons[3])
    assert set(offered(screen)) == set(screen.reason_buttons)
    resident.tap(screen.submit_button)
    qtbot.waitUntil(screen.thanks.isVisible, timeout=HANG_GUARD_MS)
    # Sent once: the way out is plain 完成 again and sends nothing more.
    assert screen.done_button.text() == "完成，返回首页"
    resident.tap(screen.done_button)
    resident.wait_screen("home")
    resident.tap(kiosk.controller.home.service_buttons["rating"])
    resident.wait_screen("rating")
    resident.tap(screen.done_button)  # no level: nothing to keep
    resident.wait_screen("home")
    qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    rows = stats_rows(kiosk)
    assert rows[("ratings", "count", "")] == 1
    assert rows[("ratings", "3", "")] == 1


def test_help_from_any_screen(kiosk, resident, qtbot):
    resident.tap(kiosk.controller.home.no_phone_button)
    resident.wait_screen("category")
    resident.tap(kiosk.window.help_button)
    resident.wait_screen("help")
    screen = kiosk.window.current()
    qtbot.waitUntil(lambda: screen.state == "notifying", timeout=HANG_GUARD_MS)
    qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    # The embedded backend has nobody to answer the call: the screen says it is notifying,
    # with the hotline, and never that someone is coming (nothing follows the call).
    assert screen.heading.text() == "正在通知工作人员…"
    assert "如需立即帮助，请拨打 12345" in texts(screen)
    assert "正在赶来" not in texts(screen)
    helper = kiosk.window.findChild(HelpController)
    assert not helper.poll_timer.isActive()
    resident.tap(kiosk.window.current().back_button)
    resident.wait_screen("category")
    qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    today = shanghai_now().date()
    rows = {(r["section"], r["key"], r["subkey"]): r["value"]
            for r in export_stats(kiosk.backend, today, today)}
    assert rows[("help_calls", "screen", "category")] == 1


def shot_path(tmp_path: Path, name: str) -> Path:
    """Screenshots: KIOSK_SHOTS=<folder> keeps them (else the test's tmp_path)."""
    folder = Path(os.environ.get("KIOSK_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


def copy_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "cfg"
    shutil.copytree(CONFIG_DIR, cfg)
    toml = cfg / "kiosk.toml"
    text = toml.read_text("utf-8").replace('data_dir = "../var"',
                                           f'data_dir = "{tmp_path / "data"}"')
    toml.write_text(text, "utf-8")
    return toml


def test_stats_and_staff_commands_on_a_known_session(kiosk_factory, resident_at, tmp_path):
    config = copy_config(tmp_path)
    k = kiosk_factory(data_dir=tmp_path / "data")
    person = resident_at(k)
    for category in ("social_security", "social_security", "household"):
        person.tap(k.controller.home.no_phone_button)
        person.wait_screen("category")
        person.tap(k.controller.category.buttons[category])
        person.wait_screen("ticket")
        person.tap(k.controller.ticket.done_button)
        person.wait_screen("home")
    person.scan_in(DEMO_RESIDENTS["aged_85"])
    person.tap(k.controller.category.buttons["medical_insurance"])
    person.wait_screen("ticket")
    person.qtbot.waitUntil(lambda: not k.busy(), timeout=HANG_GUARD_MS)
    k.shutdown()
    today = shanghai_now().date().isoformat()
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", "stats", "--config", str(config), "--from", today,
         "--to", today, "--csv"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = set(out.stdout.splitlines())
    assert "tickets,social_security,ordinary,2" in lines
    assert "tickets,household,ordinary,1" in lines
    assert "tickets,medical_insurance,priority:age,1" in lines
    assert any(ln.startswith("flows,take_number,") for ln in lines), sorted(lines)
    # No personal data in the export.
    assert "R0002" not in out.stdout and "李秀英" not in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "kiosk", "stats", "--config", str(config), "--from", "2026-13-01",
         "--to", today], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
