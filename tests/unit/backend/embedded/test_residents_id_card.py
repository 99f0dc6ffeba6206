"""A resident found by the ID card the kiosk's reader read: by number and name, then the
same resident context (priority from the birth date, the masked name) as a code gives."""

from __future__ import annotations

import dataclasses

from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain.masking import mask_name
from kiosk.domain.queue import PriorityReason
from kiosk.hardware.id_card.emulated import demo_card
from kiosk.services import flows
from tests.helpers.clock import MONDAY_MORNING


def test_found_by_number_and_name(backend):
    aged = backend.identify(DEMO_RESIDENTS["aged_85"])
    found = backend.identify_by_id_card(aged.id_number.lower(), f" {aged.name} ")
    assert found == aged


def test_a_name_that_differs_finds_nobody(backend):
    aged = backend.identify(DEMO_RESIDENTS["aged_85"])
    assert backend.identify_by_id_card(aged.id_number, "王二") is None
    assert backend.identify_by_id_card("110101198001010015", aged.name) is None


def test_card_holder_context_is_a_codes_context(backend):
    aged = backend.identify(DEMO_RESIDENTS["aged_85"])
    card = demo_card(aged.name, aged.id_number, MONDAY_MORNING.date())
    by_card = flows.identify_card_holder(backend, card, MONDAY_MORNING)
    by_code = flows.identify_resident(backend, aged.resident_id, MONDAY_MORNING)
    assert by_card is not None and by_code is not None
    assert by_card.priority is PriorityReason.AGE
    assert by_card.masked_name == mask_name(aged.name)
    assert by_card.by_card and not by_code.by_card
    assert dataclasses.replace(by_card, by_card=False) == by_code

