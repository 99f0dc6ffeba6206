"""The calling board (叫号屏) in Chromium: it shows each call (number and counter) large and
announces it (a chime, then the call twice in each configured language, one clip at a time
in the order of the calls, a recall once more), keeps its device token out of the address,
says so when the token is refused, offers a button where the browser may not play sound
unprompted, still shows and chimes without espeak-ng, and is readable across a hall (7:1,
numbers of 120 px and more) on a landscape and a portrait TV in Chinese and English."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from playwright.sync_api import Page, expect
from psycopg.rows import dict_row

from kiosk.hall import admin
from kiosk.hall.api import announcements
from kiosk.hall.rules.config import load_hall_rules
from tests.hall.test_counter import take
from tests.helpers.browser import PAGE_TIMEOUT_MS, contrast_failures, screenshot
from tests.helpers.clock import FakeClock
from tests.helpers.hall import RunningHall, running_hall
from tests.helpers.paths import CONFIG_DIR
from tests.helpers.waits import HANG_GUARD_MS

OpenPage = Callable[..., Page]
# A call is announced in about 20 s (a chime, then twice in Chinese and twice in English):
# the waits for announcements allow for several in a row on a loaded machine.
ANNOUNCED_MS = 4 * HANG_GUARD_MS

SIZES = {"1920x1080": (1920, 1080), "1080x1920": (1080, 1920)}


def board_url(hall: RunningHall, lang: str = "zh", token: str | None = None) -> str:
    """The address a technician opens once on the board's TV. (open_page appends
    `lang=` itself: after the fragment, where hall.js ignores it.)"""
    url = f"{hall.url}/board?lang={lang}"
    return url if token is None else f"{url}#token={token}"


def open_board(open_page: OpenPage, hall: RunningHall, lang: str = "zh",
               size: tuple[int, int] = (1920, 1080)) -> Page:
    page = open_page(board_url(hall, lang, hall.tokens["board-1"]), width=size[0],
                     height=size[1], lang=lang)
    expect(page.locator("#board")).to_be_visible()
    expect(page.locator("#center-name")).not_to_be_empty()
    return page


def clerk_at(hall: RunningHall, username: str, counter: int) -> str:
    """A clerk signed in at `counter`; the name their token is kept under."""
    password = hall.tokens["clerk-pw"] if username == "clerk1" else hall.add_staff(
        "clerk", username)
    hall.sign_in(username, password, counter=counter)
    return username


def counter_post(hall: RunningHall, who: str, action: str,
                 body: dict[str, Any] | None = None) -> dict[str, Any]:
    r = hall.session(who).post(f"{hall.url}/v1/counter/{action}", json=body or {},
                               headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    assert r.status_code == 200, r.text
    reply: dict[str, Any] = r.json()
    return reply


def call_next(hall: RunningHall, who: str) -> dict[str, Any]:
    ticket: dict[str, Any] = counter_post(hall, who, "call-next")["ticket"]
    assert ticket is not None
    return ticket


def announcements_log(page: Page, count: int) -> list[dict[str, Any]]:
    """The board's log of clips played, once `count` of them have ended."""
    page.wait_for_function(
        "n => window.hallAnnouncements.length >= n && "
        "window.hallAnnouncements.slice(0, n).every(e => e.ended !== null)",
        arg=count, timeout=ANNOUNCED_MS)
    log: list[dict[str, Any]] = page.evaluate("window.hallAnnouncements")
    return log


def assert_one_at_a_time(log: list[dict[str, Any]]) -> None:
    for before, after in itertools.pairwise(log):
        assert after["started"] >= before["ended"], (before, after)
    for entry in log:
        # Decoded (a duration from the file) and played to its end (not cut by the guard).
        assert entry["duration"] > 0.5, entry
        assert entry["ended"] - entry["started"] >= 0.5 * entry["duration"] * 1000, entry
        assert not entry.get("guarded"), entry


def script_errors(page: Any) -> list[str]:
    """What the page threw (open_page keeps it on the page)."""
    errors: list[str] = page.js_errors
    return errors


def clips(log: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(e["clip"], e["number"], e["counter"]) for e in log]


# ------------------------------------------------------------------ calls and announcements

def test_a_call_is_shown_and_announced_with_a_chime_then_twice_in_each_language(
    hall: RunningHall, open_page: OpenPage,
) -> None:
    page = open_board(open_page, hall)
    # The token left the address at once, kept by the board for the next start.
    assert "#" not in page.url and "token" not in page.url
    assert page.evaluate("localStorage.getItem('hall.board.token')") == hall.tokens["board-1"]
    expect(page.locator("#hero-empty")).to_be_visible()
    ticket = take(hall)
    clerk = clerk_at(hall, "clerk1", 3)

    called = call_next(hall, clerk)

    assert called["number"] == ticket["number"]
    number = ticket["number"]
    expect(page.locator("#hero-number")).to_have_text(number)
    expect(page.locator("#hero-counter")).to_have_text("3")
    expect(page.locator("#hero-sentence")).to_have_text(f"请 {number} 号到 3号窗口")
    expect(page.locator("#hero-sentence-other")).to_have_text(
        f"Number {number}, please go to Counter 3")
    log = announcements_log(page, 5)
    assert clips(log) == [("chime", number, 3), ("zh", number, 3), ("zh", number, 3),
                          ("en", number, 3), ("en", number, 3)]
    assert_one_at_a_time(log)
    assert page.evaluate("window.hallAnnouncementFailures") == []
    assert script_errors(page) == []


@pytest.fixture
def zh_hall(clock: FakeClock, tmp_path: Path) -> Iterator[RunningHall]:
    """A hall whose rules say calls in Chinese only (announce_languages: [zh])."""
    data = yaml.safe_load((CONFIG_DIR / "hall.yaml").read_text(encoding="utf-8"))
    data["centers"][0]["announce_languages"] = ["zh"]
    path = tmp_path / "hall.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    rules = load_hall_rules(path, CONFIG_DIR / "hall-calendar.yaml")
    with running_hall(clock, rules=rules) as h:
        h.add_device("kiosk", "kiosk-1")
        h.add_device("board", "board-1")
        h.tokens["clerk-pw"] = h.add_staff("clerk", "clerk1")
        yield h


def test_calls_in_quick_succession_queue_and_a_recall_is_announced_again(
    zh_hall: RunningHall, open_page: OpenPage,
) -> None:
    hall = zh_hall
    page = open_board(open_page, hall)
    first, second = take(hall), take(hall)
    at_3, at_1 = clerk_at(hall, "clerk1", 3), clerk_at(hall, "clerk9", 1)

    # Three calls before the first announcement is through.
    a = call_next(hall, at_3)
    b = call_next(hall, at_1)
    counter_post(hall, at_3, "recall", {"ticket_id": a["ticket_id"]})

    assert (a["number"], b["number"]) == (first["number"], second["number"])
    log = announcements_log(page, 9)
    one, two = a["number"], b["number"]
    assert clips(log) == [
        ("chime", one, 3), ("zh", one, 3), ("zh", one, 3),
        ("chime", two, 1), ("zh", two, 1), ("zh", two, 1),
        ("chime", one, 3), ("zh", one, 3), ("zh", one, 3)]
    assert_one_at_a_time(log)
    # The recalled number is the one the board shows large; the other is at its counter.
    expect(page.locator("#hero-number")).to_have_text(one)
    expect(page.locator(f'#serving-list li[data-number="{two}"] .counter')).to_have_text("1")
    assert script_errors(page) == []


def test_without_espeak_the_board_still_shows_the_call_and_chimes(
    hall: RunningHall, open_page: OpenPage, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The server runs in this process: the hall's espeak-ng is "missing".
    monkeypatch.setattr(announcements, "ESPEAK", "espeak-ng-not-installed")
    announcements.clips.clear()
    page = open_board(open_page, hall)
    take(hall)

    called = call_next(hall, clerk_at(hall, "clerk1", 3))

    number = called["number"]
    expect(page.locator("#hero-number")).to_have_text(number)
    assert clips(announcements_log(page, 1)) == [("chime", number, 3)]
    page.wait_for_function("window.hallAnnouncementFailures.length === 4")
    failures = page.evaluate("window.hallAnnouncementFailures")
    assert [f["clip"] for f in failures] == ["zh", "zh", "en", "en"]
    assert page.evaluate("window.hallAnnouncements.length") == 1
    assert script_errors(page) == []


# Headless Chromium plays media whatever --autoplay-policy says (and Playwright's page
# counts as touched already), so the refusal a TV's Chromium gives without the board's
# autoplay flag is played here: play() rejects with NotAllowedError until a real click.
REFUSE_UNPROMPTED_PLAY = """
let touched = false;
addEventListener("click", (event) => { if (event.isTrusted) touched = true; }, true);
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  if (!touched) {
    return Promise.reject(new DOMException("play() needs a user gesture", "NotAllowedError"));
  }
  return play.call(this);
};
"""


def test_a_board_that_may_not_play_sound_unprompted_offers_a_button(
    hall: RunningHall, browser: Any,
) -> None:
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    try:
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        context.add_init_script(REFUSE_UNPROMPTED_PLAY)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(board_url(hall, "zh", hall.tokens["board-1"]))
        expect(page.locator("#center-name")).not_to_be_empty()
        take(hall)
        take(hall)

        first = call_next(hall, clerk_at(hall, "clerk1", 3))

        expect(page.locator("#hero-number")).to_have_text(first["number"])
        button = page.locator("#sound")
        expect(button).to_be_visible()
        expect(button).to_contain_text("点击开启声音")
        expect(button).to_contain_text("Tap to enable sound")
        assert contrast_failures(page, 7.0) == []
        # Another call before anyone taps: when sound comes, the latest call is said, not
        # every call since the board started.
        second = call_next(hall, clerk_at(hall, "clerk9", 1))
        expect(page.locator("#hero-number")).to_have_text(second["number"])
        page.wait_for_function("window.hallAnnouncementFailures.length === 5")
        assert page.evaluate("window.hallAnnouncements") == []
        button.click()
        expect(button).to_be_hidden()
        log = announcements_log(page, 5)
        assert clips(log) == [(clip, second["number"], 1)
                              for clip in ("chime", "zh", "zh", "en", "en")]
        assert_one_at_a_time(log)
        skipped = page.evaluate("window.hallAnnouncementFailures")
        assert {(f["number"], f["error"]) for f in skipped} == {
            (first["number"], "skipped: later calls were waiting")}
        assert errors == []
    finally:
        context.close()


# ------------------------------------------------------------------ the credential

def test_without_a_token_the_board_asks_for_one_and_says_when_it_is_refused(
    hall: RunningHall, open_page: OpenPage,
) -> None:
    page = open_page(board_url(hall), width=1920, height=1080)
    expect(page.locator("#setup")).to_be_visible()
    expect(page.locator("#board")).to_be_hidden()
    expect(page.locator("#refused")).to_be_hidden()

    page.fill("#token", "dev_" + "x" * 40)  # not a token the hall issued
    page.click("#token-form button")

    refused = page.locator("#refused")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("排队系统拒绝了此凭证")
    expect(refused).to_contain_text("The hall refused this token")
    assert page.evaluate("localStorage.getItem('hall.board.token')") is None
    assert contrast_failures(page, 7.0) == []

    page.fill("#token", hall.tokens["kiosk-1"])  # a valid token, but a kiosk's: 403
    page.click("#token-form button")
    expect(refused).to_be_visible()
    expect(page.locator("#board")).to_be_hidden()

    page.fill("#token", hall.tokens["board-1"])
    page.click("#token-form button")
    expect(page.locator("#board")).to_be_visible()
    expect(page.locator("#center-name")).to_have_text("区政务服务中心")
    expect(page.locator("#setup")).to_be_hidden()
    assert script_errors(page) == []


def test_a_revoked_boards_token_is_refused_in_both_languages(
    hall: RunningHall, open_page: OpenPage,
) -> None:
    page = open_board(open_page, hall, lang="en")
    with psycopg.connect(hall.dsn, row_factory=dict_row) as conn:
        admin.revoke_device(conn, "board-1")
    page.reload()
    expect(page.locator("#refused")).to_contain_text("The hall refused this token")
    expect(page.locator("#refused")).to_contain_text("排队系统拒绝了此凭证")
    assert script_errors(page) == []


# ------------------------------------------------------------------ readable across a hall

def busy_morning(hall: RunningHall, clock: FakeClock) -> str:
    """A hall at half past ten: residents waiting in every service, seven counters serving,
    a dozen calls made. Returns a clerk at counter 11, which has called no one yet."""
    waiting = {"social_security": 14, "medical_insurance": 7, "civil_affairs": 3,
               "household": 5, "housing_fund": 2, "residence_permit": 2, "other": 1}
    for category, count in waiting.items():
        for _ in range(count):
            take(hall, category)
    # 85 years old: a priority number (YB001), the widest kind.
    take(hall, "medical_insurance", resident="R0002", kiosk="kiosk-2")
    clock.advance(minutes=12)
    clerks = {n: clerk_at(hall, "clerk1" if n == 3 else f"clerk{n}", n)
              for n in (1, 2, 3, 4, 5, 7, 9, 10, 11)}
    for n in (3, 1, 2, 4, 7, 5, 9, 10, 1, 3):
        ticket = call_next(hall, clerks[n])
        clock.advance(minutes=1, seconds=20)
        if n in (1, 3, 7):
            counter_post(hall, clerks[n], "finish", {"ticket_id": ticket["ticket_id"]})
    for n in (1, 7):
        call_next(hall, clerks[n])
        clock.advance(seconds=40)
    return clerks[11]


def numbers_px(page: Page, selector: str) -> list[float]:
    sizes: list[float] = page.eval_on_selector_all(
        selector, "els => els.filter(e => e.offsetParent !== null)"
                  ".map(e => parseFloat(getComputedStyle(e).fontSize))")
    return sizes


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_board_reads_across_a_hall(
    hall: RunningHall, clock: FakeClock, open_page: OpenPage, tmp_path: Path,
    lang: str, size: str,
) -> None:
    at_11 = busy_morning(hall, clock)
    page = open_board(open_page, hall, lang, SIZES[size])
    expect(page.locator("#serving-list li.call").first).to_be_visible()
    # One more call with the board watching: it is marked as new while it is announced.
    called = call_next(hall, at_11)
    expect(page.locator("#hero-number")).to_have_text(called["number"])
    expect(page.locator("#hero-counter")).to_have_text("11")
    expect(page.locator("#waiting-list li")).to_have_count(7)
    expect(page.locator("#recent-list li.row").first).to_be_visible()
    screenshot(page, f"board-{lang}-{size}", tmp_path)

    assert contrast_failures(page, 7.0) == []
    hero = numbers_px(page, "#hero-number")
    serving = numbers_px(page, "#serving-list .number")
    assert hero and hero[0] >= 120, hero
    assert len(serving) >= 3 and min(serving) >= 120, serving
    # Nothing spills off the screen.
    overflow = page.evaluate(
        "[document.documentElement.scrollWidth > innerWidth,"
        " document.documentElement.scrollHeight > innerHeight]")
    assert overflow == [False, False]
    clipped = page.evaluate("""() => {
      const out = [];
      for (const e of document.querySelectorAll('#waiting-list li, #serving-list li, #hero')) {
        const box = e.getBoundingClientRect();
        const panel = (e.closest('section') || e).getBoundingClientRect();
        if (box.bottom > panel.bottom + 0.5 || box.right > innerWidth) out.push(e.textContent);
      }
      return out;
    }""")
    assert clipped == []
    assert script_errors(page) == []

