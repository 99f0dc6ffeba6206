"""The counter's page (窗口) in Chromium: a clerk signs in at a counter, sees the queue of
the categories it serves change live, calls, recalls, marks no-shows, lets them return,
transfers and finishes; opens an application by its reference and moves it along; all of
it by keyboard too, readable (contrast) in Chinese and English."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from kiosk.backend.seed import DEMO_RESIDENTS
from tests.hall.test_counter import take
from tests.hall.test_residents import as_resident, identify
from tests.helpers.browser import contrast_failures, screenshot
from tests.helpers.hall import RunningHall
from tests.helpers.waits import poll_until

OpenPage = Callable[..., Page]


def js_errors(page: Page) -> list[str]:
    """The page's uncaught script errors, as the open_page fixture records them."""
    found: list[str] = page.js_errors  # type: ignore[attr-defined]
    return found
BOOKED = DEMO_RESIDENTS["appointment_today"]  # 刘芳: an appointment in social security at 10:10


def sign_in(page: Page, hall: RunningHall, counter: int = 3) -> None:
    page.fill("#username", "clerk1")
    page.fill("#password", hall.tokens["clerk-pw"])
    page.fill("#counter-no", str(counter))
    page.click("#signin-submit")
    expect(page.locator("#desk")).to_be_visible()
    expect(page.locator("#link")).to_have_class("bar-link live")


def waiting(page: Page, category: str = "social_security") -> Any:
    return page.locator(f'#waiting li[data-category="{category}"] .w-count')


def file_application(hall: RunningHall, resident: str) -> tuple[str, str]:
    """An application filed at kiosk-1 for `resident`, and a ticket the same resident took
    there: (reference, ticket number)."""
    me = identify(hall, "kiosk-1", resident)
    r = as_resident(hall, "kiosk-1", me["session"]).post(
        f"{hall.url}/v1/applications",
        json={"bundle_id": "birth", "processing_days": 5, "submission": {
            "answers": {"q_married": "yes"}, "fields": {}, "materials": {
                "exempt": ["id_card"], "to_bring": ["photo"]}, "prefilled": {}}},
        headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    assert r.status_code == 200, r.text
    ticket = take(hall, resident=resident)
    return str(r.json()["reference"]), str(ticket["number"])


def ticket_state(hall: RunningHall, number: str) -> str:
    return str(hall.sql("SELECT state FROM ticket WHERE number = %s", (number,))[0][0])


def test_a_wrong_password_is_refused_in_the_halls_words(
    hall: RunningHall, open_page: OpenPage,
) -> None:
    page = open_page(f"{hall.url}/counter")
    page.fill("#username", "clerk1")
    page.fill("#password", "not-the-password")
    page.fill("#counter-no", "3")
    page.click("#signin-submit")
    expect(page.locator("#signin-error")).to_have_text("用户名或密码不正确。")
    page.click("#lang")
    expect(page.locator("#signin-error")).to_have_text("Wrong username or password.")
    expect(page.locator("#desk")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    assert js_errors(page) == []


def test_the_session_outlives_a_reload_and_signing_out_ends_it(
    hall: RunningHall, open_page: OpenPage,
) -> None:
    page = open_page(f"{hall.url}/counter")
    sign_in(page, hall)
    token = page.evaluate("JSON.parse(sessionStorage.getItem('hall.counter.session')).token")
    page.reload()
    expect(page.locator("#title")).to_have_text("3号窗口")
    expect(page.locator("#desk")).to_be_visible()
    page.click("#sign-out")
    expect(page.locator("#signin-view")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    r = hall.session(None).get(f"{hall.url}/v1/staff/me", timeout=30,
                               headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert js_errors(page) == []


def test_the_queue_updates_live_and_every_counter_action_works(
    hall: RunningHall, open_page: OpenPage,
) -> None:
    page = open_page(f"{hall.url}/counter")
    sign_in(page, hall)
    expect(waiting(page)).to_have_text("0")
    page.evaluate("window.notReloaded = true")
    tickets = [take(hall) for _ in range(3)]
    expect(waiting(page)).to_have_text("3")
    assert page.evaluate("window.notReloaded") is True  # live, not by a reload
    # Nobody is being served: finishing does not apply, and says why.
    expect(page.locator("#finish")).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#reason")).to_contain_text("没有正在办理的号")

    first, second, third = (t["number"] for t in tickets)
    page.click("#call-next")
    expect(page.locator("#cur-number")).to_have_text(first)
    expect(page.locator("#result")).to_contain_text(f"已叫 {first} 号")
    expect(waiting(page)).to_have_text("2")
    expect(page.locator("#call-next")).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#reason")).to_contain_text(f"正在办理 {first}")
    assert ticket_state(hall, first) == "called"

    page.click("#recall")
    expect(page.locator("#result")).to_contain_text(f"已重呼 {first} 号（第 1 次）")
    expect(page.locator("#cur-called")).to_contain_text("已重呼 1 次")

    page.click("#no-show")
    expect(page.locator("#result")).to_contain_text(f"{first} 号已过号")
    expect(page.locator("#current-none")).to_be_visible()
    expect(page.locator("#return-number")).to_have_value(first)
    assert ticket_state(hall, first) == "no_show"

    page.click("#return")
    expect(page.locator("#result")).to_contain_text(f"{first} 号已回队，前面还有 0 人")
    expect(waiting(page)).to_have_text("3")
    assert ticket_state(hall, first) == "waiting"

    page.fill("#call-number", third.lower())
    page.press("#call-number", "Enter")
    expect(page.locator("#cur-number")).to_have_text(third)
    assert ticket_state(hall, third) == "called"

    page.select_option("#transfer-to", "medical_insurance")
    page.click("#transfer")
    expect(page.locator("#result")).to_contain_text(f"{third} 号已转至“医保”，新号 B001")
    assert ticket_state(hall, third) == "transferred"
    assert ticket_state(hall, "B001") == "waiting"
    expect(waiting(page)).to_have_text("2")  # counter 3 serves social security only

    page.click("#call-next")
    expect(page.locator("#cur-number")).to_have_text(first)  # back at its old place
    page.click("#finish")
    expect(page.locator("#result")).to_contain_text(f"{first} 号已办结")
    expect(page.locator("#current-none")).to_be_visible()
    assert ticket_state(hall, first) == "finished"
    assert ticket_state(hall, second) == "waiting"
    assert js_errors(page) == []


def test_an_action_retried_after_a_lost_answer_sends_the_same_key(
    hall: RunningHall, open_page: OpenPage,
) -> None:
    page = open_page(f"{hall.url}/counter")
    sign_in(page, hall)
    number = take(hall)["number"]
    expect(waiting(page)).to_have_text("1")
    keys: list[str] = []

    def lose_the_first_answer(route: Route) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # the hall does it, but the answer never reaches the page
            route.abort("connectionreset")
        else:
            route.continue_()

    def offline_until_pressed_again(route: Route) -> None:
        # Meanwhile the page cannot read the state either: it does not know the call
        # went through, as on a real network outage.
        if len(keys) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/v1/counter/call-next", lose_the_first_answer)
    page.route("**/v1/counter/state", offline_until_pressed_again)
    page.click("#call-next")
    expect(page.locator("#result")).to_contain_text("无法连接排队系统")
    page.click("#call-next")
    expect(page.locator("#cur-number")).to_have_text(number)
    assert len(keys) == 2 and keys[0] == keys[1]
    assert hall.sql("SELECT count(*) FROM hall_event WHERE kind = 'called'") == [(1,)]
    # A new press after an answer is a new action with a new key.
    page.click("#finish")
    expect(page.locator("#current-none")).to_be_visible()
    assert js_errors(page) == []


def test_an_application_is_opened_by_reference_and_moved_along(
    hall: RunningHall, open_page: OpenPage,
) -> None:
    reference, number = file_application(hall, BOOKED)
    page = open_page(f"{hall.url}/counter")
    sign_in(page, hall)
    page.click("#call-next")
    expect(page.locator("#cur-number")).to_have_text(number)
    page.get_by_role("button", name=f"打开办件 {reference}").click()
    expect(page.locator("#app-status")).to_have_text("已提交")
    expect(page.locator("#app-reference")).to_have_text(reference)
    expect(page.locator("#app-name")).to_have_text("刘*")

    page.click("#to-needs-more")  # without saying what is missing
    expect(page.locator("#app-msg")).to_contain_text("须写明还缺哪些材料")
    assert hall.sql("SELECT status FROM application") == [("submitted",)]
    page.fill("#app-note", "请补交出生医学证明原件")
    page.click("#to-needs-more")
    expect(page.locator("#app-status")).to_have_text("需补正")
    expect(page.locator("#app-timeline")).to_contain_text("请补交出生医学证明原件")
    assert hall.sql("SELECT status FROM application") == [("needs_more",)]

    page.click("#to-done")
    expect(page.locator("#app-status")).to_have_text("已办结")
    expect(page.locator("#to-accepted")).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#advance-reason")).to_have_text("该办件已办结，不能再更改。")
    assert hall.sql("SELECT status FROM application") == [("done",)]

    # Typed in: a reference the resident reads out from the receipt.
    page.fill("#app-ref", "YW20261207999999")
    page.press("#app-ref", "Enter")
    expect(page.locator("#app-msg")).to_have_text("没有查到这个办件。")
    page.fill("#app-ref", reference.lower())
    page.press("#app-ref", "Enter")
    expect(page.locator("#app-status")).to_have_text("已办结")

    # The next resident called: the last one's application leaves the screen.
    following = take(hall)["number"]
    page.click("#finish")
    page.click("#call-next")
    expect(page.locator("#cur-number")).to_have_text(following)
    expect(page.locator("#app")).to_be_hidden()
    expect(page.locator("#app-hint")).to_be_visible()
    assert js_errors(page) == []


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until `selector` has the focus."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement === document.querySelector('{selector}')"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_a_clerk_works_by_keyboard_alone_and_every_control_is_reached(
    hall: RunningHall, open_page: OpenPage,
) -> None:
    reference, number = file_application(hall, BOOKED)
    page = open_page(f"{hall.url}/counter")
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type("clerk1")
    page.keyboard.press("Tab")
    page.keyboard.type(hall.tokens["clerk-pw"])
    page.keyboard.press("Tab")
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    expect(page.locator("#call-next")).to_be_focused()
    expect(waiting(page)).to_have_text("1")
    page.keyboard.press("Enter")
    expect(page.locator("#cur-number")).to_have_text(number)
    # The focus ring shows where the keyboard is.
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"

    # Every control of the page, the application panel open, is reached by Tab.
    tab_to(page, "#app-ref")
    page.keyboard.type(reference)
    page.keyboard.press("Enter")
    expect(page.locator("#app-status")).to_have_text("已提交")
    controls = page.evaluate("""() => {
        const all = [...document.querySelectorAll('button, input, select, textarea, a[href]')]
            .filter((el) => el.getClientRects().length > 0);
        all.forEach((el, i) => { el.dataset.probe = String(i); });
        return all.length;
    }""")
    assert controls >= 19  # bar 2, ticket 1, actions 10, application 6
    reached: set[str] = set()
    for _ in range(controls * 2 + 4):
        page.keyboard.press("Tab")
        probe = page.evaluate("document.activeElement.dataset.probe ?? null")
        if probe is not None:
            reached.add(probe)
    assert reached == {str(i) for i in range(controls)}

    tab_to(page, "#finish")
    page.keyboard.press("Enter")
    expect(page.locator("#result")).to_contain_text(f"{number} 号已办结")
    assert ticket_state(hall, number) == "finished"
    assert js_errors(page) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_screenshots_of_the_counter(
    hall: RunningHall, open_page: OpenPage, tmp_path: Path, lang: str,
) -> None:
    reference, number = file_application(hall, BOOKED)
    for _ in range(4):
        take(hall)
    take(hall, resident=DEMO_RESIDENTS["aged_85"])
    take(hall, "medical_insurance")
    page = open_page(f"{hall.url}/counter", width=1280, height=800, lang=lang)
    expect(page.locator("#username")).to_be_focused()
    assert contrast_failures(page) == []
    screenshot(page, f"counter-signin-{lang}", tmp_path)

    sign_in(page, hall)
    page.click("#call-next")
    expect(page.locator("#cur-number")).to_have_text(number)
    expect(page.locator("#cur-priority")).to_be_visible()
    assert contrast_failures(page) == []
    screenshot(page, f"counter-serving-{lang}", tmp_path)

    page.locator("#cur-refs button").click()
    expect(page.locator("#app-reference")).to_have_text(reference)
    page.click("#to-accepted")
    expect(page.locator("#app-status")).not_to_have_text("已提交" if lang == "zh" else "Submitted")
    page.fill("#app-note", "缺少出生医学证明原件" if lang == "zh"
              else "The original birth certificate is missing")
    page.click("#to-needs-more")
    expect(page.locator("#app-timeline li")).to_have_count(3)
    assert contrast_failures(page) == []
    screenshot(page, f"counter-application-{lang}", tmp_path)
    assert poll_until(lambda: hall.sql("SELECT status FROM application") == [("needs_more",)])
    assert js_errors(page) == []
