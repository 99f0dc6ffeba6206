"""Queue rules: who gets a priority number.

Priority (优先办) goes automatically to residents aged 80 or over (from the ID number's birth
date), to those with an entitlement flag (优抚对象, seriously ill), and to holders of an
appointment today whose slot is near (预约优先). An unknown resident (no phone) gets an
ordinary number.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from enum import Enum

from kiosk.domain import idnumber

PRIORITY_AGE = 80
# An appointment counts for priority from this long before its slot until this long after.
APPOINTMENT_EARLY = dt.timedelta(minutes=30)
APPOINTMENT_LATE = dt.timedelta(minutes=15)

PRIORITY_ENTITLEMENTS = frozenset({"veteran", "serious_illness", "disability"})


class PriorityReason(Enum):
    NONE = ""
    AGE = "age"
    ENTITLEMENT = "entitlement"
    APPOINTMENT = "appointment"


class AppointmentFit(Enum):
    ON_TIME = "on_time"
    TOO_EARLY = "too_early"
    TOO_LATE = "too_late"
    NONE = "none"


@dataclass(frozen=True)
class SlotLike:
    start: dt.datetime
    end: dt.datetime


def appointment_fit(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> AppointmentFit:
    if now < start - APPOINTMENT_EARLY:
        return AppointmentFit.TOO_EARLY
    if now > end + APPOINTMENT_LATE:
        return AppointmentFit.TOO_LATE
    return AppointmentFit.ON_TIME


def decide_priority(
    *,
    id_number: str | None,
    entitlements: tuple[str, ...] | frozenset[str],
    appointment_on_time: bool,
    today: dt.date,
) -> PriorityReason:
    """The first rule that applies, in the order a window clerk would check them."""
    if id_number:
        # A bad number on file decides nothing; the other rules still apply.
        with contextlib.suppress(idnumber.InvalidIdNumber):
            if idnumber.age_on(id_number, today) >= PRIORITY_AGE:
                return PriorityReason.AGE
    if PRIORITY_ENTITLEMENTS.intersection(entitlements):
        return PriorityReason.ENTITLEMENT
    if appointment_on_time:
        return PriorityReason.APPOINTMENT
    return PriorityReason.NONE
