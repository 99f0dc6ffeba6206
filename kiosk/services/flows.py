"""The blocking steps of the resident flows, run on the backend's task queue.

They combine backend calls with the domain rules (priority, masking) and return plain,
already-masked values for the UI, so no screen ever needs the raw ID number.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from kiosk.backend.interface import (
    Appointment,
    Backend,
    IssuedTicket,
    Resident,
    TicketRequest,
)
from kiosk.domain.catalog import Catalog
from kiosk.domain.id_card import IdCard
from kiosk.domain.masking import mask_name
from kiosk.domain.queue import AppointmentFit, PriorityReason, appointment_fit, decide_priority
from kiosk.domain.ticket import TicketView


@dataclass(frozen=True)
class ResidentContext:
    """Who is at the kiosk, for the length of one session. Cleared when it ends."""

    resident_id: str
    masked_name: str
    priority: PriorityReason
    appointment: Appointment | None
    appointment_fit: AppointmentFit
    # Identified by a resident ID card on the reader, not a phone's code: such a resident
    # may have no phone to photograph a number with.
    by_card: bool = False


def identify_resident(
    backend: Backend, resident_id: str, now: dt.datetime, code: str = ""
) -> ResidentContext | None:
    resident: Resident | None = backend.identify(resident_id, code=code)
    if resident is None:
        return None
    return resident_context(backend, resident, now)


def identify_card_holder(backend: Backend, card: IdCard, now: dt.datetime
                         ) -> ResidentContext | None:
    """The resident whose ID card the reader read: from here on the same as a code's."""
    resident = backend.identify_by_id_card(card.id_number, card.name)
    if resident is None:
        return None
    return dataclasses.replace(resident_context(backend, resident, now), by_card=True)


def resident_context(backend: Backend, resident: Resident, now: dt.datetime
                     ) -> ResidentContext:
    """Priority, appointment and the masked name of an identified resident."""
    appointments = backend.appointments_on(resident.resident_id, now.date())
    best: Appointment | None = None
    fit = AppointmentFit.NONE
    # The appointment that fits now wins; otherwise the next one still to come, to explain.
    for appt in appointments:
        f = appointment_fit(appt.start, appt.end, now)
        if f is AppointmentFit.ON_TIME:
            best, fit = appt, f
            break
        if best is None or (f is AppointmentFit.TOO_EARLY and fit is not AppointmentFit.TOO_EARLY):
            best, fit = appt, f
    if resident.priority_reason is not None:
        # A hall's own derivation: it never sends the ID number the age would come from,
        # and its word is the one the ticket will carry.
        priority = PriorityReason(resident.priority_reason)
    else:
        priority = decide_priority(
            id_number=resident.id_number,
            entitlements=resident.entitlements,
            appointment_on_time=fit is AppointmentFit.ON_TIME,
            today=now.date(),
        )
    return ResidentContext(
        resident_id=resident.resident_id,
        masked_name=mask_name(resident.name),
        priority=priority,
        appointment=best,
        appointment_fit=fit,
    )


def ticket_request(
    context: ResidentContext | None, *, category_id: str, kiosk_id: str,
    application_reference: str | None = None,
) -> TicketRequest:
    """What the backend is asked for: the priority rules have been applied already.
    `application_reference`: the 一件事 application this number follows up."""
    priority = context.priority if context else PriorityReason.NONE
    appointment_id = None
    if context and priority is PriorityReason.APPOINTMENT and context.appointment is not None:
        appointment_id = context.appointment.appointment_id
    return TicketRequest(
        category=category_id,
        priority=priority is not PriorityReason.NONE,
        priority_reason=priority.value,
        resident_id=context.resident_id if context else None,
        kiosk_id=kiosk_id,
        appointment_id=appointment_id,
        application_reference=application_reference,
    )


def ticket_view(
    issued: IssuedTicket,
    catalog: Catalog,
    *,
    context: ResidentContext | None,
    center_name: str,
    language: str,
) -> TicketView:
    category = catalog.get(issued.category)
    return TicketView(
        center_name=center_name,
        number=issued.number,
        category_title=category.title.get(language),
        priority_reason=issued.priority_reason if issued.priority else "",
        ahead=issued.ahead,
        estimated_wait_min=issued.estimated_wait_min,
        issued_at=issued.issued_at,
        masked_name=context.masked_name if context else "",
        tracking_code=issued.tracking_code,
        language=language,
    )


def offline_ticket_view(
    number: str,
    category_id: str,
    issued_at: dt.datetime,
    catalog: Catalog,
    *,
    center_name: str,
    language: str,
) -> TicketView:
    """A number issued from this kiosk's leased block (kiosk.delivery.leases): ordinary and
    without a name (the hall could not verify anyone), no tracking code yet (the hall signs
    one when it receives the ticket), and no people-ahead or wait it could not keep."""
    return TicketView(
        center_name=center_name,
        number=number,
        category_title=catalog.get(category_id).title.get(language),
        priority_reason="",
        ahead=0,
        estimated_wait_min=0,
        issued_at=issued_at,
        masked_name="",
        tracking_code="",
        language=language,
        offline=True,
    )
