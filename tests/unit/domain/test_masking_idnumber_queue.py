import datetime as dt

import pytest

from kiosk.domain import idnumber
from kiosk.domain.masking import mask_id_number, mask_name, mask_phone
from kiosk.domain.queue import AppointmentFit, PriorityReason, appointment_fit, decide_priority


def make_id(birth: str, region: str = "310104", seq: str = "123") -> str:
    first17 = region + birth + seq
    return first17 + idnumber.check_digit(first17)


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张伟", "张*"), ("张伟明", "张**"), ("欧阳明华", "欧阳**"), ("吉𠮷祥", "吉**"),
     ("欧阳", "欧*"), ("John Smith", "J*** S****")],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_id_and_phone_hide_birth_date():
    number = make_id("19420315")
    masked = mask_id_number(number)
    assert masked.startswith("310") and masked.endswith(number[-4:])
    assert "19420315" not in masked and len(masked) == 18
    assert mask_phone("13812345678") == "138****5678"


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


def test_priority_rules_in_order():
    today = dt.date(2026, 11, 22)
    old = make_id("19410101")
    young = make_id("19900101")
    assert decide_priority(id_number=old, entitlements=(), appointment_on_time=False,
                           today=today) is PriorityReason.AGE
    assert decide_priority(id_number=young, entitlements=("veteran",),
                           appointment_on_time=True, today=today) is PriorityReason.ENTITLEMENT
    assert decide_priority(id_number=young, entitlements=(), appointment_on_time=True,
                           today=today) is PriorityReason.APPOINTMENT
    assert decide_priority(id_number=young, entitlements=("library_card",),
                           appointment_on_time=False, today=today) is PriorityReason.NONE
    assert decide_priority(id_number="bogus", entitlements=(), appointment_on_time=False,
                           today=today) is PriorityReason.NONE


def test_appointment_window():
    start = dt.datetime(2026, 11, 22, 10, 0)
    end = start + dt.timedelta(minutes=30)
    assert appointment_fit(start, end, start - dt.timedelta(minutes=31)) is AppointmentFit.TOO_EARLY
    assert appointment_fit(start, end, start - dt.timedelta(minutes=30)) is AppointmentFit.ON_TIME
    assert appointment_fit(start, end, end + dt.timedelta(minutes=15)) is AppointmentFit.ON_TIME
    assert appointment_fit(start, end, end + dt.timedelta(minutes=16)) is AppointmentFit.TOO_LATE
