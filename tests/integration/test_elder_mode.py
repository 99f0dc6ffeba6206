"""长辈模式 (elder mode) as a resident meets it: one toggle on Home that re-renders at once,
for one session only; longer timeouts; spoken prompts and scan results (fake engine); the
sound cue on a good scan and not on a bad one (fake player); Home to a printed ticket in at
most three taps.

The MIIT figures (targets, type, contrast) on every screen are test_accessibility.py's.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from PySide6.QtGui import QFontInfo

from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain.masking import mask_name
from kiosk.domain.payloads import PayloadProblem
from kiosk.ui import messages
from kiosk.ui.audio.sound import SCAN_OK
from kiosk.ui.theme import ELDER_SCALE
from tests.helpers.waits import HANG_GUARD_MS, settle_events
from tests.integration.test_layout import quiet, tap_choice


@pytest.fixture
def fakes(kiosk):
    quiet(kiosk)
    ctx = kiosk.controller.ctx
    return ctx.speech, ctx.sound


def px(widget) -> int:
    return QFontInfo(widget.font()).pixelSize()


def test_toggle_on_home_restyles_the_screen_at_once(kiosk, resident, fakes):
    w = kiosk.window
    home = kiosk.controller.home
    assert w.elder_button.isVisible() and w.elder_button.text() == "长辈模式"
    normal = {"welcome": px(home.welcome), "footer": px(home.footer),
              "button": px(home.scan_button)}
    assert all(not b.isVisible() for b in [home.help_button, home.more_button])
    resident.tap(w.elder_button)
    # At once: no other tap, no navigation.
    assert w.elder and w.current().name == "home"
    assert w.elder_button.text() == "标准模式"
    assert px(home.welcome) >= ELDER_SCALE * normal["welcome"]
    assert px(home.footer) >= ELDER_SCALE * normal["footer"]
    assert px(home.scan_button) >= ELDER_SCALE * normal["button"]
    # Fewer, larger choices: scan, no phone, call staff; the rest on a second page.
    assert home.help_button.isVisible() and home.more_button.isVisible()
    assert not any(b.isVisible() for b in home.service_buttons.values())
    assert not any(lab.isVisible() for lab in home.queue_labels.values())
    assert w.idle_timer.isActive()  # a session has started on Home
    resident.tap(w.elder_button)
    assert not w.elder and px(home.welcome) == normal["welcome"]
    assert all(b.isVisible() for b in home.service_buttons.values())
    assert not w.idle_timer.isActive()


def test_elder_mode_and_english_together_keep_the_session(kiosk, resident, fakes):
    w = kiosk.window
    resident.tap(w.language_button)
    resident.tap(w.elder_button)
    assert (w.language, w.elder) == ("en", True)
    assert w.elder_button.text() == "Standard mode"
    resident.tap(w.elder_button)  # back to normal: English still holds the session
    assert w.idle_timer.isActive()
    resident.tap(w.language_button)
    assert not w.idle_timer.isActive()
    # And the other way round: back to Chinese, elder mode still holds it (the idle
    # countdown must run on Home, or the next resident would find elder mode on).
    resident.tap(w.elder_button)
    resident.tap(w.language_button)
    resident.tap(w.language_button)
    assert (w.language, w.elder) == ("zh", True)
    assert w.idle_timer.isActive()


def test_the_next_resident_starts_in_normal_mode(kiosk, resident, qtbot, fakes):
    w = kiosk.window
    resident.tap(w.elder_button)
    resident.scan_in(DEMO_RESIDENTS["ordinary"])
    assert w.elder and kiosk.controller.category.pages.pages() == 2  # four to a page
    w.set_countdown(1)
    w.set_idle_timeout(0.2)
    w.keep_alive()
    resident.wait_screen("home", timeout=HANG_GUARD_MS)
    assert not w.elder and w.elder_button.text() == "长辈模式"
    speech, _ = fakes
    assert any("您还在使用吗" in text for text in speech.texts())  # the countdown, heard
    assert kiosk.controller.category.pages.pages() == 1
    # And after a ticket, too.
    resident.tap(w.elder_button)
    resident.tap(kiosk.controller.home.no_phone_button)
    resident.wait_screen("category")
    resident.tap(kiosk.controller.category.buttons["social_security"])
    resident.wait_screen("ticket")
    resident.tap(kiosk.controller.ticket.done_button)
    resident.wait_screen("home")
    assert not w.elder


def test_elder_mode_gives_more_time(kiosk, resident, fakes):
    w = kiosk.window
    s = kiosk.config.session
    timer = kiosk.controller.ticket_timer
    assert w._idle_timeout_ms == (s.idle_timeout_s - s.idle_countdown_s) * 1000
    assert timer.interval() == s.ticket_screen_s * 1000
    resident.tap(w.elder_button)
    assert w._idle_timeout_ms == (s.elder_idle_timeout_s - s.elder_idle_countdown_s) * 1000
    assert w._countdown_total == s.elder_idle_countdown_s
    assert timer.interval() == s.elder_ticket_screen_s * 1000
    assert s.elder_idle_timeout_s > s.idle_timeout_s
    w.go_home("home")
    assert w._idle_timeout_ms == (s.idle_timeout_s - s.idle_countdown_s) * 1000
    assert w._countdown_total == s.idle_countdown_s


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_home_to_printed_ticket_in_three_taps(kiosk, resident, fakes, elder):
    """The scan path, every category: the resident's taps from Home to the paper."""
    c = kiosk.controller
    counts = {}
    for category in kiosk.catalog.categories:
        if elder:
            resident.tap(kiosk.window.elder_button)  # the mode: chosen once, not a step
        taps: list = []
        tap = resident.tap
        resident.tap = lambda b, tap=tap, taps=taps: (taps.append(b), tap(b))
        try:
            before = len(resident.jobs())
            resident.tap(c.home.scan_button)
            resident.wait_screen("scan")
            resident.show_phone(resident.code(DEMO_RESIDENTS["ordinary"]))  # not a tap
            resident.wait_screen("category", timeout=HANG_GUARD_MS)
            resident.put_phone_away()
            tap_choice(resident, c.category.pages, c.category.buttons[category.id])
            resident.wait_screen("ticket")
            resident.wait_printout(before)
        finally:
            resident.tap = tap
        counts[category.id] = len(taps)
        resident.tap(c.ticket.done_button)
        resident.wait_screen("home")
    print(f"{'elder' if elder else 'normal'}: taps from Home to the printed ticket {counts}")
    assert max(counts.values()) <= 3, counts
    # The categories of the first page (the busiest ones) take two taps.
    first = kiosk.catalog.categories[0].id
    assert counts[first] == 2


def test_prompts_and_scan_results_are_spoken_in_elder_mode_only(kiosk, resident, qtbot,
                                                                fakes):
    speech, _ = fakes
    person = kiosk.backend.identify(DEMO_RESIDENTS["aged_85"])
    # Normal mode: silent.
    resident.scan_in(person.resident_id)
    settle_events(qtbot)  # each screen's prompt is spoken "after the current event"
    assert speech.spoken == []
    kiosk.window.go_home("home")
    # Elder mode: Home's instruction at once, then each screen's.
    resident.tap(kiosk.window.elder_button)
    qtbot.waitUntil(lambda: bool(speech.spoken), timeout=HANG_GUARD_MS)
    assert "扫码取号" in speech.spoken[-1][0] and speech.spoken[-1][1] == "zh"
    resident.tap(kiosk.controller.home.scan_button)
    resident.wait_screen("scan")
    qtbot.waitUntil(lambda: "请出示随申码" in speech.spoken[-1][0], timeout=HANG_GUARD_MS)
    # A refused code: its message.
    resident.show_phone(resident.code(person.resident_id, "expired"))
    qtbot.waitUntil(lambda: "过期" in speech.spoken[-1][0], timeout=HANG_GUARD_MS)
    # A good one: the greeting with the masked name, read without its asterisks.
    resident.show_phone(resident.code(person.resident_id))
    resident.wait_screen("category", timeout=HANG_GUARD_MS)
    resident.put_phone_away()
    masked = mask_name(person.name)
    qtbot.waitUntil(lambda: "您好" in speech.spoken[-1][0], timeout=HANG_GUARD_MS)
    greeting = speech.spoken[-1][0]
    assert masked.replace("*", "") in greeting and "*" not in greeting
    assert "80" in greeting  # the priority notice
    # The ticket number, character by character, and "take your ticket" after it.
    resident.tap(kiosk.controller.category.buttons["social_security"])
    resident.wait_screen("ticket")
    number = kiosk.controller.ticket.ticket.number
    qtbot.waitUntil(lambda: any(" ".join(number) in t for t, _ in speech.spoken),
                    timeout=HANG_GUARD_MS)
    qtbot.waitUntil(lambda: "请取走凭条" in speech.spoken[-1][0], timeout=HANG_GUARD_MS)
    # Never the full name or the ID number.
    everything = " ".join(speech.texts())
    assert person.name not in everything and person.id_number not in everything
    assert not re.search(r"\d{17}[\dX]", everything)
    # The session ends: silence, and no more speaking in the normal mode.
    stops = speech.stops
    kiosk.window.go_home("home")
    assert speech.stops > stops
    count = len(speech.spoken)
    resident.tap(kiosk.controller.home.scan_button)
    resident.wait_screen("scan")
    settle_events(qtbot)  # the scan screen's prompt would have been spoken by now
    assert len(speech.spoken) == count


def test_speech_follows_the_language(kiosk, resident, qtbot, fakes):
    speech, _ = fakes
    resident.tap(kiosk.window.language_button)
    resident.tap(kiosk.window.elder_button)
    qtbot.waitUntil(lambda: bool(speech.spoken), timeout=HANG_GUARD_MS)
    text, language = speech.spoken[-1]
    assert language == "en" and "Scan to take a number" in text
    resident.tap(kiosk.window.language_button)  # back to Chinese: Home again, in Chinese
    qtbot.waitUntil(lambda: speech.spoken[-1][1] == "zh", timeout=HANG_GUARD_MS)
    assert "扫码取号" in speech.spoken[-1][0]


def test_speech_always_when_configured(kiosk, resident, qtbot, fakes):
    speech, _ = fakes
    ctx = kiosk.controller.ctx
    ctx.modes = dataclasses.replace(ctx.modes, speak_when="always")
    resident.tap(kiosk.controller.home.scan_button)
    resident.wait_screen("scan")
    qtbot.waitUntil(lambda: bool(speech.spoken), timeout=HANG_GUARD_MS)
    assert "请出示随申码" in speech.spoken[-1][0]


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_scan_cue_on_a_good_scan_not_on_a_bad_one(kiosk, resident, qtbot, fakes, elder):
    _, sound = fakes
    if elder:
        resident.tap(kiosk.window.elder_button)
    resident.tap(kiosk.controller.home.scan_button)
    resident.wait_screen("scan")
    message = kiosk.controller.scan.message
    for variant, problem in (("expired", PayloadProblem.EXPIRED),
                             ("bad-signature", PayloadProblem.BAD_SIGNATURE),
                             ("garbage", PayloadProblem.NOT_OURS)):
        resident.show_phone(resident.code(DEMO_RESIDENTS["ordinary"], variant))
        # This code's own refusal (the message stays visible from the code before): the
        # code has been judged, and a cue for it would have been played by now.
        qtbot.waitUntil(lambda problem=problem: message.isVisible()
                        and message.text() == messages.payload_problem(problem),
                        timeout=HANG_GUARD_MS)
        resident.put_phone_away()
    assert sound.played == []
    resident.show_phone(resident.code(DEMO_RESIDENTS["ordinary"]))
    resident.wait_screen("category", timeout=HANG_GUARD_MS)
    resident.put_phone_away()
    assert sound.played == [SCAN_OK]


def test_scan_cue_in_the_other_flows(kiosk, resident, qtbot, fakes):
    """一件事's identification, 办件查询 and 预约签到 accept a scan with the same cue."""
    _, sound = fakes
    c = kiosk.controller
    resident.tap(c.home.service_buttons["query"])
    resident.wait_screen("query_scan")
    resident.show_phone(resident.code(DEMO_RESIDENTS["ordinary"]))
    resident.wait_screen("query_result", timeout=HANG_GUARD_MS)
    resident.put_phone_away()
    assert sound.played == [SCAN_OK]
    kiosk.window.go_home("home")
    resident.tap(c.home.service_buttons["checkin"])
    resident.wait_screen("checkin_scan")
    resident.show_phone(resident.code(DEMO_RESIDENTS["appointment_passed"]))
    resident.wait_screen("checkin_result", timeout=HANG_GUARD_MS)
    resident.put_phone_away()
    assert sound.played == [SCAN_OK] * 2
    kiosk.window.go_home("home")
    bc = kiosk.bundle_controller
    resident.tap(c.home.service_buttons["bundles"])
    resident.wait_screen("bundles")
    resident.tap(bc.list.buttons["retirement"])
    resident.wait_screen("wizard")
    resident.tap(bc.wizard_screen.next_button)  # the intro: then identify
    resident.show_phone(resident.code(DEMO_RESIDENTS["ordinary"]))
    qtbot.waitUntil(lambda: bc.wizard.identified, timeout=HANG_GUARD_MS)
    resident.put_phone_away()
    assert sound.played == [SCAN_OK] * 3


def test_maintenance_opens_in_the_normal_mode(kiosk_factory, qtbot, tmp_path):
    from tests.integration.test_maintenance import Technician, config_with_pin

    kiosk = kiosk_factory(config_file=config_with_pin(tmp_path / "config"))
    quiet(kiosk)
    t = Technician(kiosk, qtbot)
    t.tap(kiosk.window.elder_button)
    assert kiosk.window.elder
    t.gesture()  # the technicians' hidden gesture works in elder mode too
    assert not kiosk.window.elder  # its screens are laid out for the normal type


def test_a_ticket_printed_before_the_prompt_is_still_heard(kiosk, resident, qtbot, fakes):
    """On a busy GUI thread the printer can finish before the ticket screen's prompt is
    spoken; the prompt (which interrupts what is being said) must then carry "请取走凭条"
    itself, or the resident never hears it."""
    speech, _ = fakes
    person = kiosk.backend.identify(DEMO_RESIDENTS["aged_85"])
    resident.tap(kiosk.window.elder_button)
    resident.tap(kiosk.controller.home.scan_button)
    resident.wait_screen("scan")
    resident.show_phone(resident.code(person.resident_id))
    resident.wait_screen("category", timeout=HANG_GUARD_MS)
    resident.put_phone_away()
    resident.tap(kiosk.controller.category.buttons["social_security"])
    resident.wait_screen("ticket")
    qtbot.waitUntil(lambda: "请取走凭条" in speech.spoken[-1][0], timeout=HANG_GUARD_MS)
    # The printer's word given first, then the screen's prompt spoken (as when the print
    # job's signal is handled before the prompt's zero-timer).
    kiosk.controller.ticket.set_print_status("请取走凭条，留意叫号。", announce=True)
    spoken = kiosk.controller.ticket.spoken_text()
    assert " ".join(kiosk.controller.ticket.ticket.number) in spoken
    assert spoken.rstrip("。").endswith("请取走凭条，留意叫号")
