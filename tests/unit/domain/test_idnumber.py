"""ID numbers: the check digit, the birth date and the age they carry."""

import datetime as dt

import pytest

from kiosk.domain import idnumber
from tests.helpers.idnumbers import make_id


def test_id_number_check_digit_and_birth_date():
    number = make_id("19420315")
    assert idnumber.is_valid(number)
    assert idnumber.birth_date(number) == dt.date(1942, 3, 15)
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert not idnumber.is_valid(wrong)
    assert not idnumber.is_valid("31010419420230123X")  # 30 February


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [("19460522", dt.date(2026, 5, 21), 79), ("19460522", dt.date(2026, 5, 22), 80)],
)
def test_age_turns_on_the_birthday(birth, day, age):
    assert idnumber.age_on(make_id(birth), day) == age
