"""End to end through every screen of a hall (issue 13): the real kiosk (Qt, offscreen) takes a
number from the hall → the phone page opened from the QR code decoded off the rendered paper
shows it and how many are ahead → a clerk calls it on the counter page → within a second the
board shows and announces it and the phone says which counter → finish → the rating given on
the phone is stored against that ticket and that counter. And a help call from the kiosk
reaches the staff console within a second; acknowledged there, the kiosk's screen changes.

"Within a second" is measured in the browsers' own clock (Date.now(), the machine's clock,
shared by every page and by this process): a MutationObserver notes when the text appeared,
so Playwright's polling interval is not counted.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kiosk.app import Kiosk
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.ui.controllers.services import HelpController
from tests.helpers.browser import screenshot
from tests.helpers.clock import FakeClock
from tests.helpers.hall import RunningHall, running_hall
from tests.helpers.resident import Resident
from tests.helpers.waits import HANG_GUARD_MS
from tests.integration.test_http_backend import hall_kiosk

ORDINARY = DEMO_RESIDENTS["ordinary"]
WITHIN_S = 1.0

# Notes Date.now() when an element matching `selector` first shows `text` (a substring).
_WATCH = """([selector, text, name]) => {
  window.__seen = window.__seen || {};
  const check = () => {
    if (window.__seen[name]) return;
    for (const el of document.querySelectorAll(selector)) {
      if (el.textContent.includes(text) && el.getClientRects().length) {
        window.__seen[name] = Date.now();
        return;
      }
    }
  };
  new MutationObserver(check).observe(document.body,
    {subtree: true, childList: true, characterData: true, attributes: true});
  check();
}"""


def watch(page: Any, selector: str, text: str, name: str) -> None:
    page.evaluate(_WATCH, [selector, text, name])


def seen_at(page: Any, name: str) -> float:
    """When (epoch seconds) the watched text appeared; waits for it."""
    page.wait_for_function("(name) => window.__seen && window.__seen[name]", arg=name)
    return float(page.evaluate("(name) => window.__seen[name]", name)) / 1000


@pytest.fixture
def hall(clock: FakeClock) -> Iterator[RunningHall]:
    with running_hall(clock, seed_demo_residents=True) as h:
        h.tokens["clerk-pw"] = h.add_staff("clerk", "clerk1")
        h.tokens["super-pw"] = h.add_staff("supervisor", "boss")
        yield h


@pytest.fixture
def make_kiosk(qtbot: Any, tmp_path: Path, hall: RunningHall, clock: FakeClock,
               caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[str], Kiosk]]:
    caplog.set_level(logging.INFO)
    made: list[Kiosk] = []

    def make(name: str) -> Kiosk:
        kiosk = hall_kiosk(hall.url, hall.add_device("kiosk", name), tmp_path, name, clock)
        made.append(kiosk)
        return kiosk

    yield make
    for k in made:
        k.shutdown()


def sign_in(page: Any, username: str, password: str, counter: int | None = None) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    if counter is not None:
        page.fill("#counter-no", str(counter))
    page.click("#signin-submit")
    expect(page.locator("#desk")).to_be_visible()


def test_a_number_from_the_kiosk_to_the_phone_the_counter_and_the_board(
    make_kiosk: Callable[[str], Kiosk], hall: RunningHall, qtbot: Any,
    open_page: Callable[..., Any], tmp_path: Path,
) -> None:
    board_token = hall.add_device("board", "board-1")
    counter = open_page(f"{hall.url}/counter", 1366, 768)
    sign_in(counter, "clerk1", hall.tokens["clerk-pw"], counter=3)

    # Someone is already waiting, so the phone has somebody ahead to count down.
    kiosk = make_kiosk("XH-01")
    first = hall.session("XH-01").post(f"{hall.url}/v1/tickets", json={
        "category": "social_security"}, headers={"Idempotency-Key": "e2e-first-0001"},
        timeout=30)
    assert first.status_code == 200, first.text

    resident = Resident(kiosk, qtbot)
    resident.scan_in(ORDINARY)
    before = len(resident.jobs())
    resident.tap(kiosk.controller.category.buttons["social_security"])
    paper = resident.wait_printout(before)
    (url,) = paper.qr_texts
    assert url.startswith(f"{hall.url}/t/"), url
    ticket_id = url.rsplit("/", 1)[1]
    ((number,),) = hall.sql("SELECT number FROM ticket WHERE id = %s", (ticket_id,))
    assert number in paper.text
    assert "手机扫码" in paper.text  # a phone promise the hall keeps

    phone = open_page(url, 360, 640)
    expect(phone.locator("#number")).to_have_text(number)
    expect(phone.locator("#ahead")).to_contain_text("1")
    screenshot(phone, "e2e-phone-waiting", tmp_path)

    # The counter calls the first resident, then ours.
    counter.click("#call-next")
    expect(counter.locator("#cur-number")).to_have_text(first.json()["number"])
    expect(phone.locator("#ahead")).to_have_text("下一位就是您")  # live, without a reload
    counter.click("#finish")
    expect(counter.locator("#current-none")).to_be_visible()
    # The board is switched on now: it announces only the call this test times (each call
    # takes some 20 s of real sound).
    board = open_page(f"{hall.url}/board#token={board_token}", 1920, 1080)
    expect(board.locator("#hero-number")).to_have_text(first.json()["number"])

    watch(board, "#hero-number", number, "board")
    watch(phone, "#called", "3", "phone")
    clicked = float(counter.evaluate("Date.now()")) / 1000
    counter.click("#call-next")
    expect(counter.locator("#cur-number")).to_have_text(number)
    on_board = seen_at(board, "board") - clicked
    on_phone = seen_at(phone, "phone") - clicked
    assert on_board < WITHIN_S, f"the board showed {number} {on_board:.2f} s after the call"
    assert on_phone < WITHIN_S, f"the phone showed the counter {on_phone:.2f} s after the call"
    expect(board.locator("#hero-counter")).to_contain_text("3")
    expect(phone.locator("#called-where")).to_contain_text("3")

    # The board announced it: a chime, then Mandarin twice and English twice, one at a time.
    # Played in real time: the five clips take about 20 s.
    board.wait_for_function(
        "(n) => (window.hallAnnouncements || []).filter(a => a.number === n && a.ended)"
        ".length >= 5", arg=number, timeout=HANG_GUARD_MS)
    clips = board.evaluate(
        "(n) => window.hallAnnouncements.filter(a => a.number === n)", number)
    assert [c["clip"] for c in clips][:5] == ["chime", "zh", "zh", "en", "en"]
    for earlier, later in itertools.pairwise(clips):
        assert later["started"] >= earlier["ended"], "two announcements overlapped"
    started = (float(board.evaluate("performance.timeOrigin")) + clips[0]["started"]) / 1000
    assert started - clicked < WITHIN_S, "the chime came late"
    screenshot(board, "e2e-board", tmp_path)

    counter.click("#finish")
    expect(phone.locator("#rating")).to_be_visible()
    phone.locator("#levels button").first.click()  # the best level comes first
    phone.click("#submit")
    expect(phone.locator("#thanks")).to_be_visible()
    assert hall.sql("SELECT level, target_kind, target_id, counter_no FROM rating") == [
        (5, "ticket", ticket_id, 3)]
    for p in (board, counter, phone):
        assert p.js_errors == []


def test_a_help_call_reaches_the_console_and_its_answer_the_kiosk(
    make_kiosk: Callable[[str], Kiosk], hall: RunningHall, qtbot: Any,
    open_page: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    console = open_page(f"{hall.url}/console", 1366, 768)
    sign_in(console, "boss", hall.tokens["super-pw"])
    watch(console, "#calls", "XH-07", "call")
    kiosk = make_kiosk("XH-07")
    helper = kiosk.window.findChild(HelpController)
    helper.poll_timer.setInterval(20)  # the kiosk asks every 3 s; a test need not wait
    raised: list[float] = []
    call_help = kiosk.backend.call_help

    def timed(*args: Any, **kwargs: Any) -> str:
        call_id = call_help(*args, **kwargs)
        raised.append(time.time())  # the hall has committed the call by now
        return call_id

    monkeypatch.setattr(kiosk.backend, "call_help", timed)
    resident = Resident(kiosk, qtbot)
    resident.tap(kiosk.window.help_button)
    resident.wait_screen("help")
    screen = kiosk.window.current()
    qtbot.waitUntil(lambda: bool(raised), timeout=HANG_GUARD_MS)
    late = seen_at(console, "call") - raised[0]
    assert late < WITHIN_S, f"the console showed the call {late:.2f} s after it was made"
    qtbot.waitUntil(lambda: screen.state == "notifying", timeout=HANG_GUARD_MS)
    screenshot(console, "e2e-console-call", tmp_path)

    console.click("#calls button[data-act='acknowledge']")
    qtbot.waitUntil(lambda: screen.state == "coming", timeout=HANG_GUARD_MS)
    assert screen.heading.text() == "工作人员正在赶来，请稍候"
    console.click("#calls button[data-act='resolve']")
    expect(console.locator("#calls-none")).to_be_visible()
    assert hall.sql("SELECT state FROM help_call") == [("resolved",)]
    assert console.js_errors == []
