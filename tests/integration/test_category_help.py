"""The category screen helps a resident who does not know which department does what: each
tile says what it covers (the catalog's hint), and 按事项找 lists the matters residents come
for ("办退休") as buttons that take a number for the right category (社保). No keyboard.

Screenshots: KIOSK_SHOTS=<folder> keeps them (else the test's tmp_path)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.backend.interface import QueueFigures
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain.catalog import load_catalog
from tests.helpers.id_card import card_of, device
from tests.helpers.paths import CONFIG_DIR
from tests.helpers.resident import Resident
from tests.helpers.waits import HANG_GUARD_MS
from tests.integration.test_id_card import card_kiosk_factory  # noqa: F401  # a fixture
from tests.integration.test_layout import check_screen, choose, quiet, settle_layouts, tap_choice

CATALOG = load_catalog(CONFIG_DIR / "catalog.yaml")


def shot(kiosk, tmp_path: Path, name: str) -> None:
    settle_layouts()
    folder = Path(os.environ.get("KIOSK_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    assert kiosk.window.grab().save(str(folder / f"{name}.png"))


def matter_button(screen, text: str):
    found = [b for b, _c, _i in screen.matter_buttons if b.text() == text]
    assert len(found) == 1, [b.text() for b, _c, _i in screen.matter_buttons]
    return found[0]


def test_every_category_says_what_it_covers(kiosk, resident):
    resident.tap(kiosk.controller.home.no_phone_button)
    resident.wait_screen("category")
    screen = kiosk.controller.category
    assert all(c.hint is not None for c in CATALOG.categories)  # the shipped catalog's
    for cat in CATALOG.categories:
        assert cat.hint is not None
        assert screen.buttons[cat.id].detail() == cat.hint.zh
    assert screen.buttons["social_security"].detail() == "养老 · 就业 · 社保卡"


def test_a_matter_finds_its_category(kiosk, resident, qtbot, tmp_path):
    c = kiosk.controller
    resident.tap(c.home.no_phone_button)
    resident.wait_screen("category")
    screen = c.category
    assert not screen.matter_pages.isVisible()
    resident.tap(screen.find_button)
    # The matters instead of the tiles, each saying where it leads; no keyboard anywhere.
    assert screen.matter_pages.isVisible() and not screen.pages.isVisible()
    assert screen.question.text() == "您要办什么事？点一下，取对应业务的号"
    retire = matter_button(screen, "办退休")
    assert retire.detail() == "取“社保”的号"
    assert screen.spoken_text().endswith("您要办什么事？点一下，取对应业务的号。")
    check_screen(kiosk.window, "category", {})
    shot(kiosk, tmp_path, "category-matters-zh")
    # Back is back to the categories, not to Home.
    resident.tap(kiosk.window.back_button)
    assert resident.screen == "category" and screen.pages.isVisible()
    assert screen.question.text() == "请选择要办理的业务"
    resident.tap(screen.find_button)
    before = len(resident.jobs())
    tap_choice(resident, screen.matter_pages, matter_button(screen, "办退休"))
    resident.wait_screen("ticket")
    ticket = c.ticket.ticket
    assert ticket.number.startswith("A") and ticket.category_title == "社保"
    printed = resident.wait_printout(before)
    assert ticket.number in printed.text and "社保" in printed.text
    # The next resident starts at the categories again.
    resident.tap(c.ticket.done_button)
    resident.wait_screen("home")
    resident.tap(c.home.no_phone_button)
    resident.wait_screen("category")
    assert screen.pages.isVisible() and not screen.finding


def test_every_matter_leads_where_the_catalog_says(kiosk, resident, qtbot):
    screen = kiosk.controller.category
    listed = {(cid, b.text()) for b, cid, _i in screen.matter_buttons}
    assert listed == {(c.id, m.zh) for c in CATALOG.categories for m in c.matters}
    assert len(listed) >= 15  # a few for each department
    for cat in CATALOG.categories:
        assert cat.matters, f"{cat.id} has no matters to find it by"


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
@pytest.mark.parametrize(("language", "elder"), [("zh", False), ("zh", True), ("en", False),
                                                 ("en", True)])
def test_the_matters_fit_every_mode(kiosk_factory, resident_at, tmp_path, orientation,
                                    language, elder):
    kiosk = kiosk_factory(orientation=orientation)
    quiet(kiosk)
    person = resident_at(kiosk)
    c = kiosk.controller
    screen = c.category
    choose(kiosk, person, language, elder)
    person.tap(c.home.no_phone_button)
    person.wait_screen("category")
    mode = f"{orientation}-{language}{'-elder' if elder else ''}"
    shot(kiosk, tmp_path, f"category-hints-{mode}")
    check_screen(kiosk.window, "category", {})  # the tiles with their hints
    if language == "zh":  # in English they give way where the titles wrap (landscape)
        assert screen.buttons["social_security"].detail() == "养老 · 就业 · 社保卡"
    person.tap(screen.find_button)
    pages = screen.matter_pages
    for page in range(pages.pages()):
        shot(kiosk, tmp_path, f"category-matters-{mode}-p{page + 1}")
        check_screen(kiosk.window, "category", {})
        if page + 1 < pages.pages():
            person.tap(pages.more_button)
    # The last matter, on the last page, still takes its number.
    last, category_id, _i = screen.matter_buttons[-1]
    person.tap(last)
    person.wait_screen("ticket", timeout=HANG_GUARD_MS)
    assert c.ticket.ticket.category_title == CATALOG.get(category_id).title.get(language)


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_a_tile_short_of_room_gives_up_its_own_hint_only(
        card_kiosk_factory, qtbot, tmp_path, monkeypatch, orientation):  # noqa: F811
    """A kiosk of a hall: 户籍 has a daily cap, so its tile has a line for the numbers left
    today, and an 80+ resident's card puts the priority notice above the tiles. That tile has
    no room for its hint; the others keep theirs (they all lost them, for that one tile)."""
    kiosk = card_kiosk_factory(orientation=orientation)
    quiet(kiosk)
    person = Resident(kiosk, qtbot)
    figures = {c.id: QueueFigures(c.id, waiting=0, priority_waiting=0, minutes_per_ticket=5.0)
               for c in CATALOG.categories}
    figures["household"] = replace(figures["household"], remaining_today=120)
    monkeypatch.setattr(kiosk.backend, "queue_figures", lambda: figures)
    aged = kiosk.backend.identify(DEMO_RESIDENTS["aged_85"])
    assert aged is not None
    person.tap(kiosk.controller.home.scan_button)
    person.wait_screen("scan")
    device(kiosk).place(card_of(kiosk, aged.resident_id))
    person.wait_screen("category")
    screen = kiosk.controller.category
    assert screen.priority.isVisible()
    qtbot.waitUntil(lambda: "今日剩余 120 号" in screen.buttons["household"].text(),
                    timeout=HANG_GUARD_MS)
    qtbot.waitUntil(lambda: not screen._fit_pending, timeout=HANG_GUARD_MS)
    shot(kiosk, tmp_path, f"category-hall-priority-{orientation}")
    check_screen(kiosk.window, "category", {})  # every tile's lines fit
    kept = {cid for cid, b in screen.buttons.items() if b.detail()}
    assert kept >= {"social_security", "housing_fund", "residence_permit", "other"}, kept
