"""The staff console in Chromium: a help call raised at a kiosk shows within a second, with
a chime, where the resident is and how long they have waited; acknowledging it is what the
kiosk then reads; resolving takes it off the list; device faults and last-seen times show
live; readable (contrast) in Chinese and English."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.helpers.browser import contrast_failures, screenshot
from tests.helpers.clock import FakeClock
from tests.helpers.hall import RunningHall
from tests.helpers.waits import poll_until

OpenPage = Callable[..., Page]


def js_errors(page: Page) -> list[str]:
    """The page's uncaught script errors, as the open_page fixture records them."""
    found: list[str] = page.js_errors  # type: ignore[attr-defined]
    return found


def sign_in(page: Page, username: str, password: str) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#signin-submit")
    expect(page.locator("#desk")).to_be_visible()
    expect(page.locator("#link")).to_have_class("bar-link live")


def post(hall: RunningHall, who: str, path: str, body: dict[str, Any] | None = None) -> Any:
    r = hall.session(who).post(f"{hall.url}{path}", json=body or {},
                               headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def call_state(hall: RunningHall, call_id: str) -> str:
    r = hall.session("kiosk-1").get(f"{hall.url}/v1/help-calls/{call_id}", timeout=30)
    assert r.status_code == 200, r.text
    return str(r.json()["state"])


def test_a_help_call_shows_within_a_second_rings_and_is_acknowledged_and_resolved(
    hall: RunningHall, clock: FakeClock, open_page: OpenPage,
) -> None:
    page = open_page(f"{hall.url}/console")
    sign_in(page, "clerk1", hall.tokens["clerk-pw"])
    expect(page.locator("#calls-none")).to_be_visible()
    assert page.evaluate("window.hallConsoleSounds") == 0

    raised = post(hall, "kiosk-1", "/v1/help-calls", {"screen": "wizard"})
    returned = time.monotonic()
    row = page.locator(f'#calls li[data-call="{raised["call_id"]}"]')
    expect(row).to_be_visible()
    assert time.monotonic() - returned < 1.0
    page.wait_for_function("window.hallConsoleSounds === 1")
    expect(row).to_contain_text("kiosk-1")
    expect(row).to_contain_text("所在页面：一件事 · 填写申请")
    expect(row).to_contain_text("等待处理")

    # How long: the hall's count at each read, ticking on in between.
    clock.advance(seconds=125)
    other = post(hall, "kiosk-2", "/v1/help-calls", {"screen": "home"})
    expect(page.locator(f'#calls li[data-call="{other["call_id"]}"]')).to_be_visible()
    page.wait_for_function("window.hallConsoleSounds === 2")
    waited = row.locator(".waited")
    expect(waited).to_have_text(re.compile(r"^2 分 0\d 秒$"))
    shown = waited.inner_text()
    expect(waited).not_to_have_text(shown)  # a second later, without any event
    expect(page.locator("#calls-count")).to_have_text("2")

    page.get_by_role("button", name="响应 kiosk-1 的呼叫").click()
    assert poll_until(lambda: call_state(hall, raised["call_id"]) == "acknowledged")
    expect(row).to_contain_text("clerk1 已响应 10:02")
    expect(page.locator("#calls-msg")).to_contain_text("已响应 kiosk-1 的呼叫")
    expect(row.get_by_role("button", name="响应 kiosk-1 的呼叫")).to_have_attribute(
        "aria-disabled", "true")

    page.get_by_role("button", name="将 kiosk-1 的呼叫标为已解决").click()
    expect(row).to_have_count(0)
    assert call_state(hall, raised["call_id"]) == "resolved"
    expect(page.locator("#calls-count")).to_have_text("1")
    # Another clerk resolves the other one: it goes from this console too.
    hall.sign_in("boss", hall.tokens["super-pw"])
    post(hall, "boss", f"/v1/help-calls/{other['call_id']}/resolve")
    expect(page.locator("#calls-none")).to_be_visible()
    assert page.evaluate("window.hallConsoleSounds") == 2
    assert js_errors(page) == []


def test_device_faults_show_live_with_since_when_and_last_seen(
    hall: RunningHall, clock: FakeClock, open_page: OpenPage,
) -> None:
    page = open_page(f"{hall.url}/console")
    sign_in(page, "clerk1", hall.tokens["clerk-pw"])
    expect(page.locator("#faults-none")).to_be_visible()

    post(hall, "kiosk-1", "/v1/faults", {"kind": "paper_near_end", "state": "open"})
    device = page.locator('#faults li[data-device="kiosk-1"]')
    expect(device).to_contain_text("打印纸将尽")
    expect(device).to_contain_text("自 10:00 起")
    expect(device).to_contain_text("最近在线 10:00")
    clock.advance(minutes=2)
    post(hall, "kiosk-1", "/v1/faults", {"kind": "cover_open", "detail": "前盖", "state": "open"})
    expect(device.locator('[data-fault="cover_open"]')).to_contain_text("打印机盖未关")
    expect(device.locator('[data-fault="cover_open"]')).to_contain_text("前盖")

    post(hall, "kiosk-1", "/v1/faults", {"kind": "paper_near_end", "state": "cleared"})
    expect(device.locator('[data-fault="paper_near_end"]')).to_have_count(0)
    post(hall, "kiosk-1", "/v1/faults", {"kind": "cover_open", "state": "cleared"})
    expect(page.locator("#faults-none")).to_be_visible()
    # A clerk sees the faulty devices; the list of every device is the supervisor's.
    expect(page.locator("#all-devices")).to_be_hidden()
    assert js_errors(page) == []


def test_a_supervisor_sees_every_device_and_its_last_seen_time(
    hall: RunningHall, clock: FakeClock, open_page: OpenPage,
) -> None:
    post(hall, "kiosk-2", "/v1/faults", {"kind": "camera_down", "state": "open"})
    clock.advance(minutes=7)
    page = open_page(f"{hall.url}/console", lang="en")
    sign_in(page, "boss", hall.tokens["super-pw"])
    rows = page.locator("#devices tr")
    expect(rows).to_have_count(4)
    expect(page.locator('#devices tr[data-device="kiosk-2"]')).to_contain_text(
        "10:00 (7 min ago)")
    expect(page.locator('#devices tr[data-device="kiosk-2"]')).to_contain_text("1 fault")
    expect(page.locator('#devices tr[data-device="kiosk-1"]')).to_contain_text("never")
    expect(page.locator('#faults li[data-device="kiosk-2"]')).to_contain_text(
        "since 10:00, 7 min")
    assert js_errors(page) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_screenshot_of_the_console(
    hall: RunningHall, clock: FakeClock, open_page: OpenPage, tmp_path: Path, lang: str,
) -> None:
    post(hall, "kiosk-2", "/v1/faults", {"kind": "paper_near_end", "state": "open"})
    clock.advance(minutes=5)
    post(hall, "kiosk-2", "/v1/faults", {"kind": "outbox_backlog", "state": "open",
                                         "detail": "37 records waiting"})
    hall.sign_in("boss", hall.tokens["super-pw"])
    hall.session("board-1").get(f"{hall.url}/v1/board", timeout=30)
    clock.advance(minutes=6)
    first = post(hall, "kiosk-1", "/v1/help-calls", {"screen": "wizard"})
    clock.advance(seconds=150)
    second = post(hall, "kiosk-2", "/v1/help-calls", {"screen": "checkin_scan"})
    hall.sign_in("clerk1", hall.tokens["clerk-pw"], counter=3)
    clock.advance(seconds=40)
    post(hall, "clerk1", f"/v1/help-calls/{second['call_id']}/acknowledge")

    page = open_page(f"{hall.url}/console", width=1280, height=800, lang=lang)
    assert contrast_failures(page) == []
    sign_in(page, "boss", hall.tokens["super-pw"])
    expect(page.locator("#calls li")).to_have_count(2)
    expect(page.locator(f'#calls li[data-call="{first["call_id"]}"]')).to_be_visible()
    post(hall, "kiosk-1", "/v1/faults", {"kind": "paper_out", "state": "open"})
    expect(page.locator("#faults > li")).to_have_count(2)
    expect(page.locator("#devices tr")).to_have_count(4)
    assert contrast_failures(page) == []
    screenshot(page, f"console-{lang}", tmp_path)
    assert js_errors(page) == []
