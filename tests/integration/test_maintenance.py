"""The technicians' maintenance screen: hidden gesture, PIN lockout that survives a restart,
and every action on emulated hardware, logged without personal data."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from kiosk.app import install_maintenance
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain.pin import PinStatus, hash_pin
from kiosk.hardware.printer.errors import PrinterState
from kiosk.ui.controllers.maintenance import MaintenanceController
from tests.helpers.paths import CONFIG_DIR
from tests.helpers.waits import HANG_GUARD_MS

PIN = "2468013579"
WRONG_PIN = "1357998642"
PIN_HASH = hash_pin(PIN)  # once: each Argon2id hash is meant to be slow
ORDINARY = DEMO_RESIDENTS["ordinary"]


def config_with_pin(folder: Path, pin_hash: str = PIN_HASH, broken_bundle: bool = False) -> Path:
    """A copy of the shipped config folder whose kiosk.toml carries `pin_hash`."""
    shutil.copytree(CONFIG_DIR, folder)
    toml = folder / "kiosk.toml"
    text = toml.read_text("utf-8")
    assert 'pin_hash = ""' in text
    toml.write_text(text.replace('pin_hash = ""', f'pin_hash = "{pin_hash}"'), "utf-8")
    if broken_bundle:
        (folder / "bundles" / "broken.yaml").write_text("id: broken\nfoo: [\n", "utf-8")
    return toml


class Technician:
    """Someone with the PIN, at the kiosk."""

    def __init__(self, kiosk, qtbot, *, installed: bool = True) -> None:
        self.kiosk = kiosk
        self.qtbot = qtbot
        self.mc: MaintenanceController = install_maintenance(kiosk)
        if installed and self.mc.guard.enabled:
            # As `kiosk hash-pin` / `kiosk reset-pin-lock` leave a terminal: without a lock
            # state the PIN screen fails closed (locked).
            self.mc.guard.reset()
        self.quits: list[int] = []
        self.mc.quit_app = self.quits.append  # ending the application would end the tests

    @property
    def screen(self) -> str:
        return self.kiosk.window.current().name

    def tap(self, widget) -> None:
        assert widget.isVisible() and widget.isEnabled(), getattr(widget, "text", str)()
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)

    def wait_screen(self, name: str) -> None:
        self.qtbot.waitUntil(lambda: self.screen == name, timeout=HANG_GUARD_MS)

    def gesture(self) -> None:
        for _ in range(5):
            self.qtbot.mouseClick(self.kiosk.window.title, Qt.MouseButton.LeftButton)
        self.wait_screen("maintenance_pin")

    def enter_pin(self, pin: str) -> None:
        pad = self.mc.pin_screen.keypad
        for ch in pin:
            self.tap(pad.keys[ch])
        assert self.mc.pin_screen.entry.text() == "●" * len(pin)  # masked
        self.tap(self.mc.pin_screen.confirm_button)
        self.qtbot.waitUntil(lambda: not self.mc._checking_pin, timeout=HANG_GUARD_MS)

    def log_in(self) -> None:
        self.gesture()
        self.enter_pin(PIN)
        self.wait_screen("maintenance")

    def section(self, key: str) -> None:
        self.tap(self.mc.screen.nav_buttons[key])
        assert self.mc.screen.section == key


def pin_message(t: Technician) -> str:
    return t.mc.pin_screen.message.text()


def test_gesture_opens_the_pin_screen_only_from_home_and_only_quickly(kiosk_factory, qtbot,
                                                                      tmp_path):
    k = kiosk_factory(config_file=config_with_pin(tmp_path / "config"))
    t = Technician(k, qtbot)
    now = [1000.0]
    t.mc.clock = lambda: now[0]
    title = k.window.title

    def taps(n: int, step: float) -> None:
        for _ in range(n):
            qtbot.mouseClick(title, Qt.MouseButton.LeftButton)
            now[0] += step

    taps(4, 0.2)
    assert t.screen == "home"  # four taps are not enough
    now[0] += 10
    taps(5, 1.1)
    assert t.screen == "home"  # five taps over 4.4 s are too slow
    now[0] += 10
    t.tap(k.controller.home.no_phone_button)
    t.wait_screen("category")
    taps(5, 0.1)
    assert t.screen == "category"  # only on Home
    k.window.go_home("home")
    taps(5, 0.1)
    assert t.screen == "maintenance_pin"
    pad = t.mc.pin_screen.keypad
    assert not pad.keys["X"].isVisible()
    t.tap(k.window.back_button)
    t.wait_screen("home")


def test_without_a_configured_pin_the_screen_explains_kiosk_hash_pin(kiosk, qtbot):
    t = Technician(kiosk, qtbot)
    t.gesture()
    qtbot.waitUntil(lambda: "kiosk hash-pin" in pin_message(t), timeout=HANG_GUARD_MS)
    assert not t.mc.pin_screen.keypad.keys["1"].isEnabled()


def test_five_wrong_pins_lock_it_and_a_restart_does_not_unlock(kiosk_factory, qtbot, tmp_path):
    toml = config_with_pin(tmp_path / "config")
    data = tmp_path / "data"
    k = kiosk_factory(config_file=toml, data_dir=data)
    t = Technician(k, qtbot)
    t.gesture()
    for left in (4, 3, 2, 1):
        t.enter_pin(WRONG_PIN)
        assert t.screen == "maintenance_pin"
        assert f"再输错 {left} 次" in pin_message(t)
    t.enter_pin(WRONG_PIN)
    assert "已锁定" in pin_message(t) and re.search(r"\d\d:\d\d", pin_message(t))
    assert not t.mc.pin_screen.keypad.keys["2"].isEnabled()  # the right PIN cannot be typed
    assert t.mc.guard.try_pin(PIN).status is PinStatus.LOCKED
    k.shutdown()

    again = kiosk_factory(config_file=toml, data_dir=data)  # the kiosk restarted
    t2 = Technician(again, qtbot, installed=False)
    t2.gesture()
    qtbot.waitUntil(lambda: "已锁定" in pin_message(t2), timeout=HANG_GUARD_MS)
    assert t2.mc.guard.try_pin(PIN).status is PinStatus.LOCKED


def test_every_maintenance_action(kiosk_factory, resident_at, qtbot, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    toml = config_with_pin(tmp_path / "config", broken_bundle=True)
    k = kiosk_factory(config_file=toml)
    t = Technician(k, qtbot)
    s = t.mc.screen
    printer = k.printer_transport
    k.printing.poll.setInterval(100)

    # A resident takes a number first, so there is personal data that must not show up.
    person = resident_at(k)
    name = k.backend.identify(ORDINARY).name
    person.scan_in(ORDINARY)
    before = len(person.jobs())
    person.tap(k.controller.category.buttons["social_security"])
    person.wait_screen("ticket")
    person.wait_printout(before)
    person.tap(k.controller.ticket.done_button)
    person.wait_screen("home")

    t.gesture()
    t.enter_pin(WRONG_PIN)
    assert "再输错 4 次" in pin_message(t)
    t.enter_pin(PIN)
    t.wait_screen("maintenance")
    assert not k.window.back_button.isVisible()  # Back would lead to the PIN screen

    from tests.integration.test_layout import check_screen

    report: dict = {}
    for key in ("printer", "camera", "link", "errors", "config", "stats", "bundles", "exit"):
        t.section(key)
        check_screen(k.window, "maintenance", report)  # big targets, big text, on screen

    # 打印机: a test page with the printer's settings; held jobs retried or cancelled.
    t.section("printer")
    assert s.printer_info.value("charset") == "GB2312"
    qtbot.waitUntil(lambda: s.printer_info.value("status").startswith("正常"),
                    timeout=HANG_GUARD_MS)
    before = len(person.jobs())
    t.tap(s.test_page_button)
    page = person.wait_printout(before)
    assert "80 mm, 576 dots" in page.text and "GB2312" in page.text
    assert "48 ASCII" in page.text
    qtbot.waitUntil(lambda: "测试页已打印" in s.printer_message.text(), timeout=HANG_GUARD_MS)

    printer.set_fault(PrinterState.PAPER_OUT)
    t.tap(s.test_page_button)
    qtbot.waitUntil(lambda: len(k.printing.held) == 1, timeout=HANG_GUARD_MS)
    qtbot.waitUntil(lambda: s.printer_info.value("status").startswith("缺纸"),
                    timeout=HANG_GUARD_MS)
    assert s.printer_info.value("held") == "1 张"
    k.printing.poll.stop()  # the technician, not the recovery poll, reprints it
    printer.set_fault(None)
    before = len(person.jobs())
    t.tap(s.retry_button)
    qtbot.waitUntil(lambda: len(person.jobs()) == before + 1 and not k.printing.held,
                    timeout=HANG_GUARD_MS)
    qtbot.waitUntil(lambda: "已全部补打" in s.printer_message.text(), timeout=HANG_GUARD_MS)

    printer.set_fault(PrinterState.COVER_OPEN)
    t.tap(s.test_page_button)
    qtbot.waitUntil(lambda: len(k.printing.held) == 1, timeout=HANG_GUARD_MS)
    qtbot.waitUntil(s.cancel_held_button.isEnabled, timeout=HANG_GUARD_MS)
    t.tap(s.cancel_held_button)
    assert not k.printing.held and s.printer_info.value("held") == "0 张"
    printer.set_fault(None)
    before = len(person.jobs())
    # A cancelled job never prints, not even once the printer is back: run the recovery
    # poll's own check now (its timer ticks every 3 s) and wait until the service has read
    # the printer ready and has nothing queued; a job it still held would be sent from that
    # very status reading, so it would be queued or printed by then.
    k.printing._check_recovery()
    qtbot.waitUntil(lambda: k.printing.problem == "" and not k.printing.queue.pending(),
                    timeout=HANG_GUARD_MS)
    assert len(person.jobs()) == before

    # 摄像头: what a code is, never whose.
    t.section("camera")
    qtbot.waitUntil(lambda: s.camera_info.value("fps") != "—", timeout=HANG_GUARD_MS)
    assert s.camera_info.value("exposure") == "auto (emulated)"
    k.camera.set_exposure(120.0)  # what a technician's fixed exposure reads as
    qtbot.waitUntil(lambda: s.camera_info.value("exposure") == "120 (emulated)",
                    timeout=HANG_GUARD_MS)
    k.camera.set_exposure(None)
    state = s.camera_info.value("state")
    s.set_camera_state("restarting")  # what the scanner reports while its worker restarts
    assert s.camera_info.value("state") == "识别进程重启中"
    s.set_camera_state("running")
    assert s.camera_info.value("state") == "正常" and state
    person.show_phone(person.code(ORDINARY))
    qtbot.waitUntil(lambda: s.camera_info.value("last") != "—", timeout=HANG_GUARD_MS)
    last = s.camera_info.value("last")
    assert "随申码" in last and "demo" in last and "已信任" in last
    assert ORDINARY not in last
    person.put_phone_away()

    # 后台连接: a timed check, up and down; the outbox depth.
    t.section("link")
    t.tap(s.check_link_button)
    qtbot.waitUntil(lambda: s.link_info.value("check").startswith("正常"), timeout=HANG_GUARD_MS)
    k.link.set_mode("down")
    t.tap(s.check_link_button)
    qtbot.waitUntil(lambda: s.link_info.value("check").startswith("失败"), timeout=HANG_GUARD_MS)
    assert "BackendNotReached" in s.link_message.text()  # refused: the request never left
    assert "down" in s.link_info.value("mode")
    # A help call made while the network is down waits in the outbox: depth and age shown.
    k.delivery.deliver("help", "maintenance-test-call", {"kiosk_id": k.controller.ctx.kiosk_id,
                                                          "screen": "home"},
                       lambda _d: None, lambda _e: None)
    qtbot.waitUntil(lambda: k.outbox.pending()[0] == 1, timeout=HANG_GUARD_MS)
    t.section("printer")
    t.section("link")  # the page reads the outbox when it is shown
    qtbot.waitUntil(lambda: s.link_info.value("outbox") == "1 条", timeout=HANG_GUARD_MS)
    assert "前存入" in s.link_info.value("oldest")
    k.link.set_mode("up")
    # The failed try put the call on a backoff: it is sent once due, by this drain or by
    # the retry timer, whichever comes first (how soon depends on the machine, not the code).
    qtbot.waitUntil(lambda: k.outbox.pending()[0] == 0 or bool(k.outbox.due()),
                    timeout=HANG_GUARD_MS)
    k.delivery.drain()
    qtbot.waitUntil(lambda: k.outbox.pending()[0] == 0, timeout=HANG_GUARD_MS)
    qtbot.waitUntil(lambda: s.link_info.value("outbox").endswith("条"), timeout=HANG_GUARD_MS)

    # 最近错误: WARNING and up, from the in-memory buffer.
    logging.getLogger("kiosk.test").warning("maintenance test warning %d", 42)
    t.section("errors")
    qtbot.waitUntil(lambda: "maintenance test warning 42" in s.errors_text.toPlainText(),
                    timeout=HANG_GUARD_MS)

    # 配置: secrets hidden; a reload reports every problem of a broken file, then OK.
    t.section("config")
    config_shown = s.config_text.toPlainText()
    assert PIN_HASH not in config_shown and "scrypt" not in config_shown
    assert "pin_hash = （已设置）" in config_shown
    assert "[printer]" in config_shown and "paper_width_mm = 80" in config_shown
    public_key = k.config.qr.public_keys["demo"]
    assert public_key not in config_shown and public_key[:6] in config_shown
    good = toml.read_text("utf-8")
    toml.write_text(good.replace("paper_width_mm = 80", "paper_width_mm = 70")
                    + "\n[bogus]\nx = 1\n", "utf-8")
    t.tap(s.reload_button)
    qtbot.waitUntil(lambda: s.reload_button.isEnabled() and s.reload_result.isVisible(),
                    timeout=HANG_GUARD_MS)
    problems = s.reload_result.text().replace("\u200b", "")
    assert "2 problem(s)" in problems
    assert "paper_width_mm" in problems and "bogus" in problems
    assert PIN_HASH not in problems
    toml.write_text(good, "utf-8")
    t.tap(s.reload_button)
    qtbot.waitUntil(lambda: s.reload_result.text().startswith("OK"), timeout=HANG_GUARD_MS)
    assert "重启" in s.reload_result.text()
    t.tap(s.restart_button)
    t.tap(s.restart_confirm.yes)
    assert t.quits == [75]

    # 今日统计: the resident's ticket is counted, by category, without the resident.
    t.section("stats")
    category = next(c for c in k.catalog.categories if c.id == "social_security").title.zh
    qtbot.waitUntil(lambda: category in s.stats_body.text(), timeout=HANG_GUARD_MS)
    assert name not in s.stats_body.text()

    # 一件事文件: the broken file, with its message.
    t.section("bundles")
    assert "1 个文件有问题" in s.bundles_summary.text()
    assert any("broken.yaml" in lab.text().replace("\u200b", "")
               for lab in s.bundle_error_labels)

    # 结束维护 goes Home and forgets the camera page; the idle timeout applies too.
    t.tap(s.leave_button)
    t.wait_screen("home")
    assert s.camera_info.value("last") == "—"
    t.log_in()
    k.window.set_idle_timeout(0.2)
    k.window.keep_alive()
    qtbot.waitUntil(k.window.countdown_active, timeout=HANG_GUARD_MS)
    k.window.keep_alive()
    k.window.set_idle_timeout(60)

    # 退出自助模式: only after a confirmation.
    t.section("exit")
    t.tap(s.exit_button)
    assert s.exit_confirm.isVisible()
    t.tap(s.exit_confirm.no)
    assert not s.exit_confirm.isVisible() and t.quits == [75]
    t.tap(s.exit_button)
    t.tap(s.exit_confirm.yes)
    assert t.quits == [75, 10] and k.window.allow_close
    qtbot.waitUntil(lambda: not k.window.isVisible(), timeout=HANG_GUARD_MS)

    # Every action left a "maintenance:" line; no line names the resident.
    lines = [r.getMessage() for r in caplog.records]
    actions = [r.getMessage() for r in caplog.records
               if r.levelno == logging.INFO and r.getMessage().startswith("maintenance:")]
    for expected in (
        "hidden gesture", "wrong PIN", "PIN accepted", "section printer shown",
        "section camera shown", "test page requested", "retry of 1 held",
        "cancelled 1 held", "backend connection check", "backend check ok",
        "backend check failed", "config file check requested", "config file check found",
        "config file check OK", "restart requested", "today's statistics shown",
        "maintenance screen closed", "kiosk mode left",
    ):
        assert any(expected in m for m in actions), expected
    assert [m for m in lines if name in m] == []
    assert not any(name in line.message for line in t.mc.log_buffer.lines())
    assert name not in s.errors_text.toPlainText()


@pytest.mark.parametrize("orientation", ["portrait"])
def test_portrait_sections_fit(kiosk_factory, qtbot, tmp_path, orientation):
    k = kiosk_factory(config_file=config_with_pin(tmp_path / "config"), orientation=orientation)
    t = Technician(k, qtbot)
    t.log_in()
    from tests.integration.test_layout import check_screen

    report: dict = {}
    for key in ("printer", "camera", "link", "errors", "config", "stats", "bundles", "exit"):
        t.section(key)
        check_screen(k.window, "maintenance", report)
    assert report["target"] >= 80 and report["text"] >= 28


def test_a_network_printer_without_realtime_status_prints_and_says_paper_is_unknown(
        kiosk_factory, resident_at, qtbot, tmp_path):
    """Many LAN printers never answer DLE EOT: the kiosk held every ticket for them, and the
    guide said to use kind = "file", which a network printer cannot be."""
    import os

    import tomlkit

    from tests.helpers.escpos_peers import tcp_printer
    from tests.helpers.printout import read_printout
    from tests.integration.test_layout import settle_layouts

    with tcp_printer(answers=False) as peer:
        toml = config_with_pin(tmp_path / "config")
        doc = tomlkit.parse(toml.read_text("utf-8"))
        doc["printer"] = {"kind": "network", "host": "127.0.0.1", "port": peer.port,
                          "timeout_s": 2.0, "realtime_status": False}
        toml.write_text(tomlkit.dumps(doc), "utf-8")
        k = kiosk_factory(config_file=toml)
        person = resident_at(k)
        c = k.controller
        person.tap(c.home.no_phone_button)
        person.wait_screen("category")
        person.tap(c.category.buttons["household"])
        person.wait_screen("ticket")
        number = c.ticket.ticket.number
        qtbot.waitUntil(lambda: number.encode() in peer.data(), timeout=HANG_GUARD_MS)
        qtbot.waitUntil(lambda: not k.printing.queue.pending(), timeout=HANG_GUARD_MS)
        data = peer.data()
        assert b"\x10\x04" not in data  # never asked: a silent printer is not a dead one
        printed = read_printout(data)
        assert number in printed.text and len(printed.qr_texts) == 1
        assert not k.printing.held
        person.tap(c.ticket.done_button)
        person.wait_screen("home")

        t = Technician(k, qtbot)
        t.log_in()
        t.section("printer")
        s = t.mc.screen
        qtbot.waitUntil(lambda: s.printer_info.value("status") != "", timeout=HANG_GUARD_MS)
        status = s.printer_info.value("status")
        assert status.startswith("状态未知：此打印机不回报状态，缺纸、开盖时本机无法得知"), status
        assert "realtime_status = false" in status
        assert "network 127.0.0.1" in s.printer_info.value("connection")
        settle_layouts()
        folder = Path(os.environ.get("KIOSK_SHOTS") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        assert k.window.grab().save(str(folder / "maintenance-printer-no-status.png"))
