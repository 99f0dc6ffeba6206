"""Queue rules: who goes first, and whether an appointment is on time."""

import datetime as dt

from kiosk.domain.queue import AppointmentFit, PriorityReason, appointment_fit, decide_priority
from tests.helpers.idnumbers import make_id


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
