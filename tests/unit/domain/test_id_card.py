"""Whether a resident ID card is in force on a day."""

from __future__ import annotations

import datetime as dt

from kiosk.domain.id_card import CardValidity, IdCard


def card(valid_from: dt.date, valid_until: dt.date | None) -> IdCard:
    return IdCard(name="张三", sex="1", ethnic_code="01", birth_date=dt.date(1990, 1, 1),
                  address="", id_number="310104199001011234", authority="",
                  valid_from=valid_from, valid_until=valid_until)


def test_in_force_from_the_first_to_the_last_day():
    c = card(dt.date(2020, 3, 1), dt.date(2030, 3, 1))
    assert c.validity(dt.date(2020, 3, 1)) is CardValidity.VALID
    assert c.validity(dt.date(2030, 3, 1)) is CardValidity.VALID
    assert c.validity(dt.date(2030, 3, 2)) is CardValidity.EXPIRED
    assert c.validity(dt.date(2020, 2, 29)) is CardValidity.NOT_YET_VALID


def test_long_term_cards_never_expire():
    assert card(dt.date(2000, 1, 1), None).validity(dt.date(2099, 1, 1)) is CardValidity.VALID
