"""A resident's ID card for integration tests: made from a demo resident's record and put
on (or taken off) the kiosk's emulated reader."""

from __future__ import annotations

from kiosk.app import Kiosk
from kiosk.domain.id_card import IdCard
from kiosk.hardware.id_card.emulated import EmulatedIdCardDevice, demo_card


def device(kiosk: Kiosk) -> EmulatedIdCardDevice:
    assert kiosk.id_card_device is not None, "this kiosk has no emulated ID card reader"
    return kiosk.id_card_device


def card_of(kiosk: Kiosk, resident_id: str, *, expired: bool = False) -> IdCard:
    """The card of a demo resident, valid today by the kiosk's clock (or a month expired)."""
    person = kiosk.backend.identify(resident_id)
    assert person is not None, resident_id
    today = kiosk.controller.ctx.clock().date()
    return demo_card(person.name, person.id_number, today, expired=expired)
