"""The resident's phone pages in a real browser (Chromium at 360 × 640): the ticket's page
opened from the address a kiosk's ticket carries, following the queue live, the call within
a second, the 好差评 stored against the ticket and the counter; the application's timeline.
Readable on a small phone: text ≥ 16 px, targets ≥ 44 px, no sideways scrolling, contrast
≥ 4.5:1, in Chinese and in English."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kiosk.backend.seed import DEMO_RESIDENTS
from tests.hall.test_counter import call_next, clerk, ok, post, take
from tests.hall.test_residents import as_resident, identify
from tests.helpers.browser import PAGE_TIMEOUT_MS, contrast_failures, screenshot
from tests.helpers.hall import RunningHall

PHONE = {"width": 360, "height": 640}
WAIT = {"timeout": PAGE_TIMEOUT_MS}

TEXT = {
    "zh": {"ahead3": "前面还有 3 人", "next": "下一位就是您", "go": "请到 3 号窗口",
           "very_satisfied": "非常满意", "dissatisfied": "不满意", "fast": "办理快捷",
           "too_slow": "等待太久", "send": "提交评价", "thanks": "感谢您的评价！",
           "lost": "网络连接中断", "bundle": "出生一件事", "submitted": "已提交",
           "needs_more": "需补正", "accepted": "受理中", "switch": "English"},
    "en": {"ahead3": "3 people ahead of you", "next": "You are next",
           "go": "Please go to Counter 3", "very_satisfied": "Very satisfied",
           "dissatisfied": "Dissatisfied", "fast": "Quick service", "too_slow": "Waited too long",
           "send": "Send rating", "thanks": "Thank you for your rating!",
           "lost": "Connection lost", "bundle": "Birth of a Child", "submitted": "Submitted",
           "needs_more": "More needed", "accepted": "Being processed", "switch": "中文"},
}

# Every visible piece of text: its font size.
_SMALL_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent.trim();
    const el = n.parentElement;
    const box = el.getBoundingClientRect();
    if (!text || box.width === 0 || box.height === 0 || el.closest('[hidden]')) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 16) out.push({text: text.slice(0, 40), size});
  }
  return out;
}"""

# Every visible control: its size.
_SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, a[href], input, select, textarea, [role=button], [role=radio]')]
  .map(el => ({el, box: el.getBoundingClientRect()}))
  .filter(({el, box}) => box.width > 0 && box.height > 0 && !el.closest('[hidden]'))
  .filter(({box}) => box.width < 44 || box.height < 44)
  .map(({el, box}) => ({text: el.textContent.trim().slice(0, 40), width: box.width,
                        height: box.height}))"""


def check_readable(page: Any) -> None:
    """What a 360 px phone needs of every state of the page."""
    assert page.evaluate(_SMALL_TEXT) == []
    assert page.evaluate(_SMALL_TARGETS) == []
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"scrolls sideways: {widths}"
    assert contrast_failures(page) == []
    assert page.js_errors == []


def open_phone(open_page: Callable[..., Any], url: str, lang: str) -> Any:
    return open_page(url, lang=lang, **PHONE)


def rows(hall: RunningHall, ticket_id: str) -> list[tuple[Any, ...]]:
    return hall.sql("SELECT level, reasons, target_kind, target_id, counter_no FROM rating "
                    "WHERE target_id = %s", (ticket_id,))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_phone_follows_its_ticket_to_the_counter_and_rates_the_visit(
        hall: RunningHall, open_page: Callable[..., Any], tmp_path: Path, lang: str) -> None:
    words = TEXT[lang]
    for _ in range(3):
        take(hall)
    mine = take(hall, resident=DEMO_RESIDENTS["ordinary"])
    # The address the kiosk printed in the ticket's QR code.
    page = open_phone(open_page, mine["tracking_code"], lang)
    expect(page.locator("#number")).to_have_text(mine["number"], **WAIT)
    expect(page.locator("#ahead")).to_have_text(words["ahead3"], **WAIT)
    expect(page.locator("#holder")).to_contain_text("张*")
    expect(page.locator("#wait")).to_contain_text(str(mine["estimated_wait_min"]))
    expect(page.locator("#lang")).to_have_text(words["switch"])
    check_readable(page)
    screenshot(page, f"phone-ticket-waiting-{lang}", tmp_path)

    c3 = clerk(hall, "c3", 3)
    for _ in range(3):  # the three ahead are served
        served = call_next(hall, c3)
        hall.clock.advance(minutes=4)
        ok(post(hall, c3, "finish", {"ticket_id": served["ticket_id"]}))
    expect(page.locator("#ahead")).to_have_text(words["next"], **WAIT)
    started = time.monotonic()
    called = call_next(hall, c3)
    expect(page.locator("#called-where")).to_have_text(words["go"], **WAIT)
    elapsed = time.monotonic() - started
    assert called["ticket_id"] == mine["ticket_id"]
    assert elapsed < 1.0, f"the phone showed the counter {elapsed:.2f} s after the call"
    expect(page.locator("#called-number")).to_have_text(mine["number"])
    expect(page.locator("#ticket")).to_be_hidden()
    check_readable(page)
    screenshot(page, f"phone-ticket-called-{lang}", tmp_path)

    hall.clock.advance(minutes=6)
    ok(post(hall, c3, "finish", {"ticket_id": mine["ticket_id"]}))
    levels = page.locator("#levels button")
    expect(levels).to_have_count(5, **WAIT)
    expect(levels.first).to_have_text(words["very_satisfied"])
    expect(page.locator("#submit")).to_be_disabled()
    levels.filter(has_text=words["very_satisfied"]).click()
    reasons = page.locator("#reasons button")
    expect(reasons.filter(has_text=words["fast"])).to_be_visible()
    expect(reasons.filter(has_text=words["too_slow"])).to_have_count(0)  # praise only
    reasons.filter(has_text=words["fast"]).click()
    expect(reasons.filter(has_text=words["fast"])).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#submit")).to_be_in_viewport()  # the page brought the form up
    check_readable(page)
    screenshot(page, f"phone-ticket-rating-{lang}", tmp_path)
    page.locator("#submit").click()
    expect(page.locator("#thanks")).to_have_text(words["thanks"], **WAIT)
    expect(page.locator("#rating")).to_be_hidden()
    assert rows(hall, mine["ticket_id"]) == [(5, ["fast"], "ticket", mine["ticket_id"], 3)]
    check_readable(page)


def test_a_dissatisfied_rating_offers_complaints_and_a_rated_visit_says_thanks(
        hall: RunningHall, open_page: Callable[..., Any]) -> None:
    words = TEXT["zh"]
    mine = take(hall)
    c3 = clerk(hall, "c3", 3)
    call_next(hall, c3)
    ok(post(hall, c3, "finish", {"ticket_id": mine["ticket_id"]}))
    page = open_phone(open_page, mine["tracking_code"], "zh")
    page.locator("#levels button").filter(has_text=words["dissatisfied"]).first.click()
    reasons = page.locator("#reasons button")
    expect(reasons.filter(has_text=words["too_slow"])).to_be_visible(**WAIT)
    expect(reasons.filter(has_text=words["fast"])).to_have_count(0)
    reasons.filter(has_text=words["too_slow"]).click()
    # Switching the language keeps the choice.
    page.locator("#lang").click()
    expect(page.locator("#reasons button").filter(has_text=TEXT["en"]["too_slow"])
           ).to_have_attribute("aria-pressed", "true")
    page.locator("#submit").click()
    expect(page.locator("#thanks")).to_have_text(TEXT["en"]["thanks"], **WAIT)
    assert rows(hall, mine["ticket_id"]) == [(2, ["too_slow"], "ticket", mine["ticket_id"], 3)]
    # Opened again (another phone, the same QR code): thanks, and no form.
    again = open_phone(open_page, mine["tracking_code"], "zh")
    expect(again.locator("#thanks")).to_have_text(words["thanks"], **WAIT)
    expect(again.locator("#rating")).to_be_hidden()
    assert page.js_errors == again.js_errors == []


def test_offline_the_page_says_so_and_catches_up_when_back(
        hall: RunningHall, open_page: Callable[..., Any]) -> None:
    mine = take(hall)
    page = open_phone(open_page, mine["tracking_code"], "zh")
    expect(page.locator("#ahead")).to_have_text(TEXT["zh"]["next"], **WAIT)
    # Live (the stream in place), then the network goes: not while the stream is still
    # connecting, whose reply, on its way already, would arrive anyway.
    expect(page.locator("#link")).to_have_attribute("data-link", "up", **WAIT)
    expect(page.locator("#link")).to_be_hidden()
    page.context.set_offline(True)
    expect(page.locator("#link")).to_contain_text(TEXT["zh"]["lost"], **WAIT)
    check_readable(page)
    call_next(hall, clerk(hall, "c3", 3))
    page.context.set_offline(False)
    expect(page.locator("#called-where")).to_have_text(TEXT["zh"]["go"], **WAIT)
    expect(page.locator("#link")).to_be_hidden(**WAIT)
    assert page.js_errors == []


def test_a_page_refused_a_live_stream_reads_its_ticket_and_says_so(
        hall: RunningHall, open_page: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    from kiosk.hall.api import public

    # Every stream refused, as for a page past a ticket's STREAMS_PER_TICKET; the page
    # is told to read the ticket every second.
    monkeypatch.setattr(public, "STREAMS_PER_TICKET", 0)
    monkeypatch.setattr(public, "BUSY_RETRY_S", 1)
    mine = take(hall)
    page = open_phone(open_page, mine["tracking_code"], "zh")
    expect(page.locator("#ahead")).to_have_text(TEXT["zh"]["next"], **WAIT)
    expect(page.locator("#link")).to_have_text(
        "这个号码已在多个页面实时更新，本页每 1 秒刷新一次。", **WAIT)
    check_readable(page)
    screenshot(page, "phone-ticket-refreshed-zh", tmp_path)
    c3 = clerk(hall, "c3", 3)
    call_next(hall, c3)
    expect(page.locator("#called-where")).to_have_text(TEXT["zh"]["go"], **WAIT)
    ok(post(hall, c3, "finish", {"ticket_id": mine["ticket_id"]}))
    expect(page.locator("#levels button")).to_have_count(5, **WAIT)
    expect(page.locator("#link")).to_be_hidden()  # final: nothing more to refresh
    assert page.js_errors == []


def test_a_call_vibrates_and_a_missed_call_says_until_when_to_return(
        hall: RunningHall, open_page: Callable[..., Any]) -> None:
    mine = take(hall)
    page = open_phone(open_page, mine["tracking_code"], "zh")
    page.add_init_script("window.vibrated = []; "
                         "navigator.vibrate = (p) => { window.vibrated.push(p); return true; };")
    page.reload()
    expect(page.locator("#ahead")).to_have_text(TEXT["zh"]["next"], **WAIT)
    c3 = clerk(hall, "c3", 3)
    call_next(hall, c3)
    expect(page.locator("#called-where")).to_have_text(TEXT["zh"]["go"], **WAIT)
    assert page.evaluate("window.vibrated.length") == 1
    ok(post(hall, c3, "no-show", {"ticket_id": mine["ticket_id"]}))
    # Called at 10:00 (the hall's clock); the rules let a no-show return for 30 minutes.
    expect(page.locator("#missed-text")).to_contain_text("10:30 前", **WAIT)
    expect(page.locator("#number")).to_have_text(mine["number"])
    check_readable(page)


def test_a_transferred_ticket_follows_to_the_new_one(
        hall: RunningHall, open_page: Callable[..., Any]) -> None:
    mine = take(hall)
    page = open_phone(open_page, mine["tracking_code"], "en")
    expect(page.locator("#ahead")).to_have_text(TEXT["en"]["next"], **WAIT)
    c3 = clerk(hall, "c3", 3)
    call_next(hall, c3)
    moved = ok(post(hall, c3, "transfer", {"ticket_id": mine["ticket_id"],
                                           "category": "medical_insurance"}))
    new = moved["new_ticket"]
    expect(page.locator("#number")).to_have_text(new["number"], **WAIT)
    expect(page.locator("#category")).to_have_text("Medical Insurance")
    assert page.url.split("?")[0].endswith(f"/t/{new['ticket_id']}")
    assert page.js_errors == []


def test_an_unknown_ticket_says_so(hall: RunningHall, open_page: Callable[..., Any]) -> None:
    page = open_phone(open_page, f"{hall.url}/t/NoSuchTicket_0123456789", "zh")
    expect(page.locator("#problem")).to_contain_text("没有查到这个号", **WAIT)
    check_readable(page)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_application_page_shows_where_it_stands(
        hall: RunningHall, open_page: Callable[..., Any], tmp_path: Path, lang: str) -> None:
    words = TEXT[lang]
    me = identify(hall, "kiosk-1", DEMO_RESIDENTS["ordinary"])
    receipt = ok(as_resident(hall, "kiosk-1", me["session"]).post(
        f"{hall.url}/v1/applications", timeout=30,
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={"bundle_id": "birth", "processing_days": 5, "submission": {}}))
    page = open_phone(open_page, receipt["progress_code"], lang)
    expect(page.locator("#bundle")).to_have_text(words["bundle"], **WAIT)
    expect(page.locator("#reference")).to_have_text(receipt["reference"])
    expect(page.locator("#status")).to_have_text(words["submitted"])
    expect(page.locator("#timeline li")).to_have_count(1)
    check_readable(page)

    hall.sign_in("clerk1", hall.tokens["clerk-pw"], counter=3)
    note = "请补交新生儿父母双方身份证复印件各一份"
    for hours, status, text in ((1, "accepted", ""), (2, "needs_more", note)):
        hall.clock.advance(hours=hours)
        ok(hall.session("clerk1").post(
            f"{hall.url}/v1/staff/applications/{receipt['reference']}/status",
            json={"status": status, "note": text}, timeout=30,
            headers={"Idempotency-Key": uuid.uuid4().hex}))
    page.reload()
    expect(page.locator("#timeline li")).to_have_count(3, **WAIT)
    expect(page.locator("#timeline li .step")).to_have_text(
        [words["submitted"], words["accepted"], words["needs_more"]])
    expect(page.locator("#status")).to_have_text(words["needs_more"])
    expect(page.locator("#status-note")).to_have_text(note)
    check_readable(page)
    screenshot(page, f"phone-application-{lang}", tmp_path)
