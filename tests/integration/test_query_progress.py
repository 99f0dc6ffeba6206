"""办件查询 of a queue ticket, and the words under a ticket's or receipt's QR code: the whole
kiosk offscreen, a resident holding the paper's code to the emulated camera.

With the embedded backend (no hall) the code is the kiosk's signed one: the paper says to
scan it here, and 办件查询 shows the ticket's progress. A kiosk of a hall prints the hall's
public links (<public_url>/t/<id>, /a/<public id>) for the resident's phone, and 办件查询
accepts them too; here a hall-shaped backend stands in for the hall (the embedded backend
dressed in the hall's links and states), the client's wire is tests/unit/delivery's.

Screenshots: KIOSK_SHOTS=<folder> keeps them (else the test's tmp_path)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from pytestqt.exceptions import TimeoutError as QtWaitTimeout

from kiosk.backend.embedded import EmbeddedBackend
from kiosk.backend.interface import (
    ApplicationReceipt,
    ApplicationSummary,
    CheckIn,
    IssuedTicket,
    TicketProgress,
    TicketRequest,
    TicketState,
)
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain import payloads
from kiosk.domain.text import Bilingual
from kiosk.ui import messages
from tests.helpers.printout import Printed
from tests.helpers.waits import HANG_GUARD_MS
from tests.integration.test_bundles_ui import SHIPPED_BUNDLES, Walker
from tests.integration.test_layout import check_screen, choose, open_service, settle_layouts

HALL = "https://hall.example"
PUBLIC = "pub-"  # the hall-shaped backend's public id: this prefix and the reference
SHOTS = os.environ.get("KIOSK_SHOTS")


class HallShaped:
    """The embedded backend as a hall answers a kiosk: tickets and receipts carry the
    hall's public links, `application` takes the public id those links carry, and a test
    may set a ticket's state to what only a hall's counters make (called, no-show,
    transferred)."""

    def __init__(self, inner: EmbeddedBackend) -> None:
        self.inner = inner
        self.states: dict[str, TicketProgress] = {}
        self.asked: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _linked(self, ticket: IssuedTicket) -> IssuedTicket:
        return dataclasses.replace(ticket, tracking_code=f"{HALL}/t/{ticket.ticket_id}")

    def issue_ticket(self, request: TicketRequest, idempotency_key: str) -> IssuedTicket:
        return self._linked(self.inner.issue_ticket(request, idempotency_key))

    def check_in(self, appointment_id: str, kiosk_id: str, idempotency_key: str) -> CheckIn:
        found = self.inner.check_in(appointment_id, kiosk_id, idempotency_key)
        return dataclasses.replace(found, ticket=self._linked(found.ticket))

    def submit_application(self, *args: Any, **kwargs: Any) -> ApplicationReceipt:
        receipt = self.inner.submit_application(*args, **kwargs)
        return dataclasses.replace(receipt,
                                   progress_code=f"{HALL}/a/{PUBLIC}{receipt.reference}")

    def application(self, reference: str) -> ApplicationSummary | None:
        self.asked.append(reference)
        if not reference.startswith(PUBLIC):
            return None
        return self.inner.application(reference.removeprefix(PUBLIC))

    def ticket_progress(self, ticket_id: str) -> TicketProgress | None:
        self.asked.append(ticket_id)
        return self.states.get(ticket_id) or self.inner.ticket_progress(ticket_id)


def of_hall(kiosk) -> HallShaped:
    """The kiosk, from now on, a kiosk of a (hall-shaped) hall."""
    shaped = HallShaped(kiosk.backend)
    kiosk.link._inner = shaped  # what the controllers and the outbox call through
    kiosk.controller.ctx.of_hall = True
    return shaped


def visible_text(widget: QWidget) -> str:
    parts = [w.text() for w in widget.findChildren(QLabel) if w.isVisible()]
    parts += [b.text() for b in widget.findChildren(QAbstractButton) if b.isVisible()]
    return "\n".join(parts)


def flat(text: str) -> str:
    return "".join(text.split())


def shot(kiosk, tmp_path: Path, name: str) -> Path:
    settle_layouts()
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    assert kiosk.window.grab().save(str(path))
    return path


def take_number(kiosk, resident, category: str = "household") -> tuple[str, Printed]:
    """没有手机 → a category → the ticket: its number and the paper."""
    before = len(resident.jobs())
    resident.tap(kiosk.controller.home.no_phone_button)
    resident.wait_screen("category")
    resident.tap(kiosk.controller.category.buttons[category])
    resident.wait_screen("ticket")
    printed = resident.wait_printout(before)
    shown = kiosk.controller.ticket.ticket
    assert shown is not None
    return shown.number, printed


def query(kiosk, resident, code: str, *, screen: str = "query_result",
          expect: str = "") -> str:
    """办件查询 from Home, the code held to the camera: what the resident then reads (the
    result screen, or the scan screen's message when `screen` is "query_scan": `expect`,
    waited for, as a code shown before may still be in the camera's pipeline)."""
    kiosk.window.go_home("home")
    resident.wait_screen("home")
    open_service(kiosk, resident, "query")
    resident.wait_screen("query_scan")
    resident.show_phone(code)
    if screen == "query_scan":
        scan = kiosk.window.current()
        try:
            resident.qtbot.waitUntil(lambda: scan.message.isVisible() and (
                not expect or scan.message.text() == expect), timeout=HANG_GUARD_MS)
        except QtWaitTimeout as exc:  # say what the resident read instead
            raise AssertionError(
                f"waited for {expect!r}; the scan screen shows "
                f"{scan.message.text()!r} (visible: {scan.message.isVisible()}), the kiosk is "
                f"on {kiosk.window.current().name}: "
                f"{visible_text(kiosk.window.current())!r}") from exc
        resident.put_phone_away()
        assert kiosk.window.current().name == "query_scan"
        return str(scan.message.text())
    resident.wait_screen(screen, timeout=HANG_GUARD_MS)
    camera = kiosk.camera
    asked = time.monotonic()
    resident.put_phone_away()
    # The camera (in its worker process, where the kiosk runs it so) takes the phone away at
    # its own pace: until it reads an empty view, its frames still show this code, and the
    # next 办件查询 screen, opened after them, would answer this code again.
    resident.qtbot.waitUntil(lambda: camera.override_shown_at >= asked, timeout=HANG_GUARD_MS)
    return visible_text(kiosk.window.current())


# ------------------------------------------------------------------ embedded backend


def test_an_embedded_ticket_says_scan_here_and_shows_its_progress(kiosk, resident, tmp_path):
    kiosk.backend.issue_ticket(TicketRequest("household", False, "", None, "OTHER"), "k-1")
    number, printed = take_number(kiosk, resident)
    # The paper: the signed code, and what it is for (no phone page exists).
    [code] = printed.qr_texts
    assert payloads.parse(code)[0].kind is payloads.Kind.TICKET
    assert flat("请在本机「办件查询」扫描此码查看进度") in flat(printed.text)
    assert "手机" not in printed.text
    # The screen says the same under the same code.
    card = kiosk.controller.ticket.card
    assert card.qr_caption.text() == messages.ticket_code_caption(False)
    assert card.qr_caption.text() == "请在本机「办件查询」扫描此码查看进度"

    shown = query(kiosk, resident, code)
    assert number in shown and "户籍" in shown
    assert "前面还有 1 人" in shown and "预计等待约" in shown
    assert kiosk.window.current().spoken_text().startswith("排队进度")
    shot(kiosk, tmp_path, "query-ticket-embedded-waiting")

    kiosk.backend.call_next("household")
    shown = query(kiosk, resident, code)
    assert "下一个就是您" in shown
    kiosk.backend.call_next("household")
    shown = query(kiosk, resident, code)
    assert number in shown and "已办理完毕" in shown


def test_a_hall_link_at_a_kiosk_with_no_hall_is_explained(kiosk, resident):
    for link in (f"{HALL}/t/tk_8dF3kQ2mZp9xW1vB", f"{HALL}/a/{PUBLIC}YW20261207000001"):
        said = query(kiosk, resident, link, screen="query_scan",
                     expect=messages.hall_link_here())
        assert "手机" in said and "本机查不到" in said
    # Another site's address: not a code this kiosk reads, said as such.
    query(kiosk, resident, "https://example.org/promo?id=1", screen="query_scan",
          expect=messages.query_code_unknown())


def test_an_unknown_or_yesterdays_ticket_code_is_said_plainly(kiosk, resident):
    key = resident.key
    now = int(kiosk.controller.ctx.clock().timestamp())
    unknown = payloads.sign(key, "demo", payloads.Kind.TICKET, "TZZZZZZZZZZZZ", issued_at=now,
                            lifetime_s=3600)
    # The demo key signs here like the kiosk's own: the kiosk trusts it.
    query(kiosk, resident, unknown, screen="query_scan", expect=messages.ticket_not_found())
    old = payloads.sign(key, "demo", payloads.Kind.TICKET, "TZZZZZZZZZZZZ",
                        issued_at=now - 2 * 86400, lifetime_s=3600)
    query(kiosk, resident, old, screen="query_scan", expect=messages.ticket_code_expired())


def test_the_backend_down_is_said_without_a_traceback(kiosk, resident, caplog):
    _number, printed = take_number(kiosk, resident)
    kiosk.link.set_mode("down")
    query(kiosk, resident, printed.qr_texts[0], screen="query_scan",
          expect=messages.backend_unavailable())
    assert "Traceback" not in caplog.text


# ---------------------------------------------------------------------- a hall's links


def test_a_hall_ticket_prints_its_link_for_the_phone_and_the_kiosk_reads_it(
        kiosk, resident, tmp_path):
    hall = of_hall(kiosk)
    number, printed = take_number(kiosk, resident)
    ticket = kiosk.controller.ticket.ticket
    assert ticket is not None
    link = f"{HALL}/t/{ticket.tracking_code.rsplit('/', 1)[1]}"
    assert printed.qr_texts == [link]  # the phone's camera opens it
    assert flat("用手机扫码查看排队进度") in flat(printed.text)
    assert "本机「办件查询」" not in printed.text
    assert kiosk.controller.ticket.card.qr_caption.text() == "用手机扫码查看排队进度"
    shot(kiosk, tmp_path, "ticket-hall-link")

    shown = query(kiosk, resident, link)
    assert number in shown and "户籍" in shown
    assert "下一个就是您" in shown
    ticket_id = link.rsplit("/", 1)[1]
    assert hall.asked[-1] == ticket_id

    base = hall.inner.ticket_progress(ticket_id)
    assert base is not None
    hall.states[ticket_id] = dataclasses.replace(
        base, state=TicketState.CALLED, ahead=None, estimated_wait_min=None, counter=3)
    shown = query(kiosk, resident, link)
    assert "请到 3 号窗口" in shown and "正在叫您的号" in shown
    shot(kiosk, tmp_path, "query-ticket-called")

    hall.states[ticket_id] = dataclasses.replace(
        base, state=TicketState.CALLED, ahead=None, counter=5,
        counter_name=Bilingual(zh="5号窗口（综合）", en="Counter 5 (general)"))
    assert "请到 5号窗口（综合）" in query(kiosk, resident, link)

    now = kiosk.controller.ctx.clock()
    hall.states[ticket_id] = dataclasses.replace(
        base, state=TicketState.NO_SHOW, ahead=None, counter=3,
        return_until=now + dt.timedelta(minutes=20))
    shown = query(kiosk, resident, link)
    until = f"{now + dt.timedelta(minutes=20):%H:%M}"
    assert "已过号" in shown and f"{until} 前到任一窗口说明" in shown
    hall.states[ticket_id] = dataclasses.replace(
        base, state=TicketState.NO_SHOW, return_until=now - dt.timedelta(minutes=1))
    shown = query(kiosk, resident, link)
    assert "已过号" in shown and "请重新取号" in shown

    hall.states[ticket_id] = dataclasses.replace(base, state=TicketState.WITHDRAWN)
    assert "这个号已作废" in query(kiosk, resident, link)


def test_a_transferred_ticket_shows_the_ticket_it_became(kiosk, resident):
    hall = of_hall(kiosk)
    number, printed = take_number(kiosk, resident)
    [link] = printed.qr_texts
    ticket_id = link.rsplit("/", 1)[1]
    became = kiosk.backend.issue_ticket(
        TicketRequest("social_security", False, "", None, "COUNTER"), "transfer-1")
    base = hall.inner.ticket_progress(ticket_id)
    assert base is not None
    hall.states[ticket_id] = dataclasses.replace(
        base, state=TicketState.TRANSFERRED, now_ticket_id=became.ticket_id)
    shown = query(kiosk, resident, link)
    assert became.number in shown and "社保" in shown
    assert f"您的号已从 {number} 转为 {became.number}" in shown
    # The ticket it became unknown (removed since): where the first one went is said.
    hall.states[ticket_id] = dataclasses.replace(
        base, state=TicketState.TRANSFERRED, now_ticket_id="T" + "9" * 12)
    assert "已转到其他业务排队" in query(kiosk, resident, link)


def test_unknown_links_are_not_found_not_a_failure(kiosk, resident):
    of_hall(kiosk)
    said = query(kiosk, resident, f"{HALL}/t/tk_nobody_has_this", screen="query_scan",
                 expect=messages.ticket_not_found())
    assert "没有找到这个号" in said
    said = query(kiosk, resident, f"{HALL}/a/{PUBLIC}YW19990101000001", screen="query_scan",
                 expect=messages.application_not_found())
    assert "没有找到这个办件" in said


def test_a_hall_receipt_prints_its_link_and_the_kiosk_shows_its_timeline(
        kiosk, resident, tmp_path):
    from kiosk.backend.interface import ApplicationStatus

    of_hall(kiosk)
    bundle = SHIPPED_BUNDLES[0]
    walker = Walker(kiosk, resident)
    walker.open(bundle.id)
    walker.walk(bundle, DEMO_RESIDENTS["ordinary"])
    before = len(resident.jobs())
    resident.tap(walker.screen.submit_button)
    resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    reference = kiosk.bundle_controller.result.reference.text()
    printed = resident.wait_printout(before)
    link = f"{HALL}/a/{PUBLIC}{reference}"
    assert printed.qr_texts == [link]
    assert flat("用手机扫码查看办理进度") in flat(printed.text)
    assert kiosk.bundle_controller.result.qr_caption.text() == "用手机扫码查看办理进度"
    kiosk.backend.advance_application(reference, ApplicationStatus.NEEDS_MORE, "请补交 照片")

    shown = query(kiosk, resident, link)
    for words in (reference, "已提交", "需补正", "请补交 照片"):
        assert words in shown, words
    shot(kiosk, tmp_path, "query-application-link")


def test_an_embedded_receipt_says_scan_here(kiosk, resident):
    bundle = SHIPPED_BUNDLES[0]
    walker = Walker(kiosk, resident)
    walker.open(bundle.id)
    walker.walk(bundle, DEMO_RESIDENTS["ordinary"])
    before = len(resident.jobs())
    resident.tap(walker.screen.submit_button)
    resident.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    printed = resident.wait_printout(before)
    [code] = printed.qr_texts
    assert payloads.parse(code)[0].kind is payloads.Kind.RECEIPT
    assert flat("请在本机「办件查询」扫描此码查看办理进度") in flat(printed.text)
    assert "手机" not in printed.text
    assert (kiosk.bundle_controller.result.qr_caption.text()
            == messages.receipt_code_caption(False))


# ------------------------------------------------------------------ readable, both ways


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
@pytest.mark.parametrize("language, elder", [("zh", False), ("en", False), ("zh", True),
                                             ("en", True)])
def test_the_progress_is_large_and_fits_every_panel(kiosk_factory, resident_at, tmp_path,
                                                    orientation, language, elder):
    kiosk = kiosk_factory(orientation=orientation)
    person = resident_at(kiosk)
    hall = of_hall(kiosk)
    _number, printed = take_number(kiosk, person)
    [link] = printed.qr_texts
    ticket_id = link.rsplit("/", 1)[1]
    for n in range(12):  # a busy morning: two-digit figures
        kiosk.backend.issue_ticket(TicketRequest("household", False, "", None, "X"), f"b-{n}")
    base = hall.inner.ticket_progress(ticket_id)
    assert base is not None
    hall.states[ticket_id] = dataclasses.replace(base, ahead=12, estimated_wait_min=95)
    kiosk.window.go_home("home")
    choose(kiosk, person, language, elder)
    open_service(kiosk, person, "query")
    person.wait_screen("query_scan")
    person.show_phone(link)
    person.wait_screen("query_result", timeout=HANG_GUARD_MS)
    person.put_phone_away()
    screen = kiosk.window.current()
    ahead = "12 ahead of you" if language == "en" else "前面还有 12 人"
    assert ahead in visible_text(screen)
    check_screen(kiosk.window, "query_result", {})
    # Large: the number as the ticket shows it, where it stands a step below it.
    number_px = QFontInfo(screen.ticket_number.font()).pixelSize()
    state_px = QFontInfo(screen.ticket_state.font()).pixelSize()
    assert number_px >= 2 * state_px and state_px >= (81 if elder else 54), (number_px, state_px)
    shot(kiosk, tmp_path, f"query-ticket-{orientation}-{language}{'-elder' if elder else ''}")
    # The language changed on the result screen: the words follow.
    kiosk.window.language_button.click()
    settle_layouts()
    other = "前面还有 12 人" if language == "en" else "12 ahead of you"
    assert other in visible_text(screen)
