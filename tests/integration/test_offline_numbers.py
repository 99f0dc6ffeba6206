"""Outages and the hall's hours, at the kiosk: the real Qt kiosk offscreen with
`backend.kind = "http"`, a real hall (FastAPI on PostgreSQL, tests/helpers/hall.py) on the
same fake clock, and between them a TCP proxy the test cuts (tests/helpers/cut_link.py).

- The link is down for three minutes: residents still get numbers, from the kiosk's leased
  block, printed as issued offline; when the link returns the outbox delivers them, the hall
  has each once, and no number is given twice, online or offline.
- A ticket request whose answer was lost is cancelled before an offline number is given, so
  the hall withdraws the ticket it issued under it: one number, not two.
- Closed (the evening) or today's numbers all taken: the hall's own words, nothing printed,
  and Home the way on. Offline, past the hours the hall last gave: no number either.

Needs PostgreSQL: run inside pg_virtualenv, as the test command does."""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kiosk.app import Kiosk
from kiosk.common.clock import SHANGHAI
from kiosk.hall.rules.config import load_hall_rules
from tests.helpers.clock import FakeClock
from tests.helpers.cut_link import CutLink
from tests.helpers.hall import RunningHall, running_hall
from tests.helpers.paths import CONFIG_DIR
from tests.helpers.resident import Resident
from tests.helpers.waits import HANG_GUARD_MS
from tests.integration.test_accessibility import COMBINATIONS, Miit
from tests.integration.test_http_backend import hall_kiosk
from tests.integration.test_layout import choose, quiet, tap_choice

# A Monday in the hall's opening hours (09:00-12:00, 13:30-17:00), not a holiday.
OPEN_MONDAY = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
TUESDAY_9 = dt.datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI)
CATEGORY = "social_security"
LEASE_SIZE = 20  # config/hall.yaml: fairness.offline_lease_size
OFFLINE_LINE = "离线取号 · 等候人数和时间未知"
OTHERS = "其他事项（一件事、办件查询、好差评、帮办）仍可办理。"


@pytest.fixture
def clock() -> FakeClock:
    """The hall's clock and the kiosk's: one moment."""
    return FakeClock(OPEN_MONDAY)


def _kiosk(hall: RunningHall, link: CutLink, tmp_path: Path, clock: FakeClock, qtbot,
           name: str = "XH-01", **screen: object) -> Kiosk:
    kiosk = hall_kiosk(link.url, hall.add_device("kiosk", name), tmp_path, name, clock,
                       **screen)
    assert kiosk.offline is not None
    # At start, off the GUI thread: a block of every category open today.
    qtbot.waitUntil(lambda: kiosk.offline.keeper.store.remaining(CATEGORY, clock().date())
                    == LEASE_SIZE, timeout=HANG_GUARD_MS)
    return kiosk


@pytest.fixture
def setup(qtbot, tmp_path: Path, clock: FakeClock, caplog) -> Iterator[
        tuple[RunningHall, CutLink, Kiosk]]:
    caplog.set_level(logging.INFO)
    with running_hall(clock) as hall:
        link = CutLink(int(hall.url.rsplit(":", 1)[1]))
        kiosk = _kiosk(hall, link, tmp_path, clock, qtbot)
        try:
            yield hall, link, kiosk
        finally:
            kiosk.shutdown()
            link.close()


def _category(resident: Resident, kiosk: Kiosk) -> None:
    """Home → 没有手机 → the category screen, its figures read from the hall."""
    resident.tap(kiosk.controller.home.no_phone_button)
    resident.wait_screen("category")
    button = kiosk.controller.category.buttons[CATEGORY]
    resident.qtbot.waitUntil(lambda: "等候" in button.text(), timeout=HANG_GUARD_MS)
    resident.qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)


def _offline_ticket(resident: Resident, kiosk: Kiosk) -> str:
    """One resident's number while the link is down: shown, printed, read off the paper."""
    c = kiosk.controller
    before = len(resident.jobs())
    resident.tap(c.home.no_phone_button)
    resident.wait_screen("category")
    resident.tap(c.category.buttons[CATEGORY])
    resident.wait_screen("ticket")
    shown = c.ticket.ticket
    assert shown is not None and shown.offline
    assert c.ticket.card.priority.text() == OFFLINE_LINE  # under the number, as on paper
    assert c.ticket.offline_notice.isVisible() and "有效" in c.ticket.offline_notice.text()
    assert not c.ticket.card.qr.isVisible()  # no tracking code until the hall has it
    paper = resident.wait_printout(before)
    numbers = re.findall(r"\b(A\d{3})\b", paper.text)
    assert numbers == [shown.number], paper.text
    assert OFFLINE_LINE in paper.text, paper.text
    # No promise it cannot keep: neither the people ahead nor the wait.
    assert re.search(r"前面等候\s+未知", paper.text) and re.search(r"预计等待\s+未知", paper.text)
    assert paper.qr_texts == []
    resident.tap(c.ticket.done_button)
    resident.wait_screen("home")
    return numbers[0]


def _leased(hall: RunningHall) -> set[str]:
    return {f"{series}{n:03d}" for series, first, last in hall.sql(
        "SELECT series, first, last FROM number_lease") for n in range(first, last + 1)}


def test_three_minutes_without_the_hall(setup, clock: FakeClock, qtbot):
    hall, link, kiosk = setup
    resident = Resident(kiosk, qtbot)
    today = clock().date()
    held = {f"A{n:03d}" for x in kiosk.offline.keeper.store.leases(today)
            if x["category"] == CATEGORY for n in range(x["first"], x["last"] + 1)}
    assert len(held) == LEASE_SIZE

    link.cut()  # 10:00: the kiosk cannot reach the hall
    numbers = []
    for _ in range(3):
        clock.advance(minutes=1)
        numbers.append(_offline_ticket(resident, kiosk))
    assert len(set(numbers)) == 3 and set(numbers) <= held
    assert hall.sql("SELECT count(*) FROM ticket")[0][0] == 0  # the hall knows nothing yet
    assert kiosk.outbox.pending()[0] == 3  # each on disk before the resident saw it

    clock.advance(seconds=30)  # 10:03:30: the link returns
    link.restore()
    with qtbot.waitSignal(kiosk.offline.roundDone, timeout=HANG_GUARD_MS,
                          check_params_cb=lambda reachable: reachable):
        kiosk.offline.refresh()  # the round its timer runs: the hall answers again
    qtbot.waitUntil(lambda: kiosk.outbox.pending()[0] == 0, timeout=HANG_GUARD_MS)
    rows = hall.sql("SELECT t.number, t.offline, t.state, t.issued_at, d.name FROM ticket t "
                    "JOIN device d ON d.id = t.device_id ORDER BY t.issued_at")
    assert [(n, off, state, who) for n, off, state, _at, who in rows] == [
        (n, True, "waiting", "XH-01") for n in numbers]
    # Queued by the time the kiosk issued them, a minute apart.
    assert [at.astimezone(SHANGHAI).time() for *_, at, _who in rows] == [
        dt.time(10, 1), dt.time(10, 2), dt.time(10, 3)]

    # A resident now gets an online number: never one of a block.
    before = len(resident.jobs())
    resident.tap(kiosk.controller.home.no_phone_button)
    resident.wait_screen("category")
    resident.tap(kiosk.controller.category.buttons[CATEGORY])
    resident.wait_screen("ticket")
    online = kiosk.controller.ticket.ticket
    assert online is not None and not online.offline
    paper = resident.wait_printout(before)
    assert online.number in paper.text and OFFLINE_LINE not in paper.text
    assert paper.qr_texts  # the hall's tracking code
    assert online.number not in _leased(hall) and online.number not in numbers
    # Every number once.
    assert hall.sql("SELECT number, count(*) FROM ticket GROUP BY number "
                    "HAVING count(*) > 1") == []
    assert hall.sql("SELECT count(*) FROM ticket WHERE offline")[0][0] == 3
    # Delivered again (a second drain, a restart): nothing new at the hall.
    kiosk.outbox._conn.execute("UPDATE outbox SET state='pending', next_at=0 "
                               "WHERE kind='offline_ticket'")
    kiosk.delivery.drain()
    qtbot.waitUntil(lambda: kiosk.outbox.pending()[0] == 0, timeout=HANG_GUARD_MS)
    assert hall.sql("SELECT count(*) FROM ticket WHERE offline")[0][0] == 3


def test_offline_numbers_are_never_given_again_after_a_restart(qtbot, tmp_path, clock):
    with running_hall(clock) as hall:
        link = CutLink(int(hall.url.rsplit(":", 1)[1]))
        kiosk = _kiosk(hall, link, tmp_path, clock, qtbot)
        try:
            link.cut()
            first = _offline_ticket(Resident(kiosk, qtbot), kiosk)
        finally:
            kiosk.shutdown()
        # The same terminal starts again, still without the hall.
        again = hall_kiosk(link.url, hall.tokens["XH-01"], tmp_path, "XH-01", clock)
        try:
            second = _offline_ticket(Resident(again, qtbot), again)
            assert second != first and int(second[1:]) == int(first[1:]) + 1
            link.restore()
            again.offline.refresh()
            qtbot.waitUntil(lambda: again.outbox.pending()[0] == 0, timeout=HANG_GUARD_MS)
            assert sorted(r[0] for r in hall.sql("SELECT number FROM ticket")) == sorted(
                [first, second])
        finally:
            again.shutdown()
            link.close()


def test_a_request_whose_answer_was_lost_is_withdrawn_before_a_number_is_given_offline(
        setup, clock: FakeClock, qtbot):
    """The hall issued a ticket under the request, and the kiosk never heard: the request is
    cancelled (stored, sent when the link returns), so the hall withdraws that ticket; the
    resident holds one number, the offline one."""
    hall, link, kiosk = setup
    resident = Resident(kiosk, qtbot)
    # Not half a minute of asking again (the resolve rule's wait) in a test: cancelled at once.
    kiosk.delivery.deliverer.resolve_s = 0.0
    _category(resident, kiosk)
    link.lose_replies()
    before = len(resident.jobs())
    resident.tap(kiosk.controller.category.buttons[CATEGORY])
    resident.wait_screen("ticket")
    shown = kiosk.controller.ticket.ticket
    assert shown is not None and shown.offline
    resident.wait_printout(before)
    # The hall had issued an online ticket, and the cancellation that went with the lost
    # answers has withdrawn it already; the kiosk does not know that yet.
    assert link.lost_replies >= 2
    online = hall.sql("SELECT number, state, offline FROM ticket")
    assert len(online) == 1 and online[0][1:] == ("withdrawn", False), online
    assert [i.kind for i in kiosk.outbox.all_items() if i.state == "pending"] == [
        "ticket_cancel", "offline_ticket"]

    link.restore()
    kiosk.offline.refresh()
    qtbot.waitUntil(lambda: kiosk.outbox.pending()[0] == 0, timeout=HANG_GUARD_MS)
    rows = hall.sql("SELECT number, state, offline FROM ticket ORDER BY offline")
    assert rows == [(online[0][0], "withdrawn", False), (shown.number, "waiting", True)]
    assert online[0][0] != shown.number


def test_closed_in_the_evening_the_halls_words_and_nothing_printed(setup, clock, qtbot):
    hall, _link, kiosk = setup
    resident = Resident(kiosk, qtbot)
    refused = kiosk.controller.refused
    _category(resident, kiosk)  # the tiles as the hall gave them at 10:00: open
    clock.at(clock().date(), 20)  # the resident taps at 20:00
    before = len(resident.jobs())
    resident.tap(kiosk.controller.category.buttons[CATEGORY])
    resident.wait_screen("ticket_refused")
    assert refused.heading.text() == "现在不能取号"
    # The hall's own message names the next opening: 09:00 on Tuesday.
    assert refused.message.text() == "该业务现在不取号，12月08日 09:00 起可取号。"
    assert not refused.next_opening.isVisible()
    assert refused.others.text() == OTHERS
    assert resident.jobs()[before:] == [] and hall.sql("SELECT count(*) FROM ticket") == [(0,)]
    resident.tap(refused.done_button)
    resident.wait_screen("home")



def test_offline_in_the_evening_no_number_from_a_block(setup, clock, qtbot):
    """The hall's figures, read at 20:00 by the kiosk's own round, said closed until 09:00
    tomorrow; the link then drops. The resident's tiles were read by day, and a tap goes
    through: no number from the block, and the next opening as the hall last gave it."""
    _hall, link, kiosk = setup
    resident = Resident(kiosk, qtbot)
    _category(resident, kiosk)
    clock.at(clock().date(), 20)
    with qtbot.waitSignal(kiosk.offline.roundDone, timeout=HANG_GUARD_MS,
                          check_params_cb=lambda reachable: reachable):
        kiosk.offline.refresh()
    link.cut()
    before = len(resident.jobs())
    resident.tap(kiosk.controller.category.buttons[CATEGORY])
    resident.wait_screen("ticket_refused")
    refused = kiosk.controller.refused
    assert refused.heading.text() == "现在不能取号"
    assert refused.message.text() == "该业务现在不取号。"
    assert refused.next_opening.text() == "下次可取号时间：12月8日 09:00"
    assert refused.others.text() == OTHERS
    assert resident.jobs()[before:] == []
    assert kiosk.offline.keeper.store.issued() == []
    resident.tap(refused.done_button)
    resident.wait_screen("home")


def test_offline_past_the_hours_the_hall_last_gave(setup, clock, qtbot):
    """The figures read at 10:00 said the morning period ends at 12:00: at 12:30, with the
    link down, a block is no licence to issue."""
    _hall, link, kiosk = setup
    resident = Resident(kiosk, qtbot)
    _category(resident, kiosk)
    link.cut()
    clock.at(clock().date(), 12, 30)
    before = len(resident.jobs())
    resident.tap(kiosk.controller.category.buttons[CATEGORY])
    resident.wait_screen("ticket_refused")
    refused = kiosk.controller.refused
    assert refused.message.text() == "该业务现在不取号。"
    assert not refused.next_opening.isVisible()  # when it opens next was not said
    assert resident.jobs()[before:] == []
    assert kiosk.offline.keeper.store.issued() == []
    assert kiosk.offline.keeper.store.remaining(CATEGORY, clock().date()) == LEASE_SIZE


def _capped_rules(folder: Path, cap: int):
    data = yaml.safe_load((CONFIG_DIR / "hall.yaml").read_text("utf-8"))
    for category in data["centers"][0]["categories"]:
        if category["id"] == CATEGORY:
            category["daily_cap"] = cap
    path = folder / "hall.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return load_hall_rules(path, CONFIG_DIR / "hall-calendar.yaml")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_todays_numbers_all_taken(qtbot, tmp_path, clock, language):
    """放号量 2: the resident at the category screen while the last two are taken at the
    kiosk beside it. The hall's words, in the resident's language, and when numbers are
    given next; nothing printed."""
    with running_hall(clock, rules=_capped_rules(tmp_path, 2)) as hall:
        link = CutLink(int(hall.url.rsplit(":", 1)[1]))
        kiosk = _kiosk(hall, link, tmp_path, clock, qtbot)
        try:
            quiet(kiosk)
            resident = Resident(kiosk, qtbot)
            choose(kiosk, resident, language)
            resident.tap(kiosk.controller.home.no_phone_button)
            resident.wait_screen("category")
            resident.qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
            hall.add_device("kiosk", "XH-02")
            for _ in range(2):
                r = hall.session("XH-02").post(f"{hall.url}/v1/tickets",
                                               json={"category": CATEGORY}, timeout=30,
                                               headers={"Idempotency-Key": uuid.uuid4().hex})
                assert r.status_code == 200, r.text
            before = len(resident.jobs())
            resident.tap(kiosk.controller.category.buttons[CATEGORY])
            resident.wait_screen("ticket_refused")
            refused = kiosk.controller.refused
            if language == "zh":
                assert refused.heading.text() == "今日号源已取完"
                assert refused.message.text() == "今日该业务号源已取完，请改日再来或预约。"
                assert refused.next_opening.text() == "下次可取号时间：12月8日 09:00"
                assert refused.others.text() == OTHERS
            else:
                assert refused.message.text() == (
                    "Today's numbers for this service are all taken: come another day or "
                    "book an appointment.")
                assert refused.next_opening.text().endswith("8 Dec 09:00")
            Miit(kiosk, elder=False)("ticket_refused")  # sizes, contrast, nothing cut
            assert resident.jobs()[before:] == []
            assert hall.sql("SELECT count(*) FROM ticket") == [(2,)]
            resident.tap(refused.done_button)
            resident.wait_screen("home")
        finally:
            kiosk.shutdown()
            link.close()


@pytest.mark.parametrize(("language", "elder", "orientation"), COMBINATIONS,
                         ids=[f"{lang}-{'elder' if e else 'normal'}-{o}"
                              for lang, e, o in COMBINATIONS])
def test_the_offline_ticket_and_the_refusal_fit_every_mode(qtbot, tmp_path, clock, language,
                                                           elder, orientation):
    """Both new screens as the accessibility walk checks every screen: targets, type sizes,
    contrast on the painted pixels, nothing cut or off the panel; in both languages, both
    modes and both panel orientations."""
    with running_hall(clock) as hall:
        link = CutLink(int(hall.url.rsplit(":", 1)[1]))
        kiosk = _kiosk(hall, link, tmp_path, clock, qtbot, orientation=orientation)
        try:
            quiet(kiosk)
            c = kiosk.controller
            person = Resident(kiosk, qtbot)
            miit = Miit(kiosk, elder)

            def to_category() -> None:
                choose(kiosk, person, language, elder)
                person.tap(c.home.no_phone_button)
                person.wait_screen("category")
                person.qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)

            to_category()
            link.cut()
            before = len(person.jobs())
            tap_choice(person, c.category.pages, c.category.buttons[CATEGORY])
            person.wait_screen("ticket")
            person.wait_printout(before)
            person.qtbot.waitUntil(lambda: c.ticket.print_status.text() != "",
                                   timeout=HANG_GUARD_MS)
            assert c.ticket.ticket is not None and c.ticket.ticket.offline
            miit("ticket")
            person.tap(c.ticket.done_button)
            person.wait_screen("home")

            link.restore()
            to_category()
            clock.at(clock().date(), 20)
            tap_choice(person, c.category.pages, c.category.buttons[CATEGORY])
            person.wait_screen("ticket_refused")
            miit("ticket_refused")
            person.tap(c.refused.done_button)
            person.wait_screen("home")
        finally:
            kiosk.shutdown()
            link.close()
