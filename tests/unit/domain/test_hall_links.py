"""A hall's public links (<public_url>/t/<ticket id>, <public_url>/a/<public id>): what
办件查询 accepts from a phone page's QR code, and what it leaves alone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.hall_links import (
    HallLink,
    LinkKind,
    is_web_address,
    parse_hall_link,
)

TICKET = "tk_8dF3kQ2mZp9xW1vB"  # the hall's ids: [A-Za-z0-9_-], 8..64 for tickets
PUBLIC = "ap-Xy7Qm2Lk9Pz4Rt8W"  # 16..32 for an application's public id


@pytest.mark.parametrize("text, expected", [
    (f"https://hall.example/t/{TICKET}", HallLink(LinkKind.TICKET, TICKET)),
    (f"http://192.168.1.20:8400/t/{TICKET}", HallLink(LinkKind.TICKET, TICKET)),
    (f"https://hall.example/a/{PUBLIC}", HallLink(LinkKind.APPLICATION, PUBLIC)),
    # public_url with a path of its own, a trailing slash, a query or fragment from a phone
    (f"https://gov.example/xuhui/hall/t/{TICKET}", HallLink(LinkKind.TICKET, TICKET)),
    (f"https://hall.example/t/{TICKET}/", HallLink(LinkKind.TICKET, TICKET)),
    (f"https://hall.example/a/{PUBLIC}?lang=en#top", HallLink(LinkKind.APPLICATION, PUBLIC)),
    (f"HTTPS://HALL.EXAMPLE/t/{TICKET}", HallLink(LinkKind.TICKET, TICKET)),
    (f"  https://hall.example/t/{TICKET}\n", HallLink(LinkKind.TICKET, TICKET)),
    ("https://hall.example/t/" + "a" * 8, HallLink(LinkKind.TICKET, "a" * 8)),
    ("https://hall.example/t/" + "a" * 64, HallLink(LinkKind.TICKET, "a" * 64)),
    ("https://hall.example/a/" + "b" * 32, HallLink(LinkKind.APPLICATION, "b" * 32)),
])
def test_links_of_the_hall_are_read(text, expected):
    assert is_web_address(text.strip())
    assert parse_hall_link(text) == expected


@pytest.mark.parametrize("text", [
    "https://hall.example/t/" + "a" * 7,  # too short for a ticket id
    "https://hall.example/t/" + "a" * 65,
    "https://hall.example/a/" + "b" * 15,  # too short for a public id
    "https://hall.example/a/" + "b" * 33,
    f"https://hall.example/t/{TICKET[:6]}%2F{TICKET}",  # encoded, or not the hall's id
    f"https://hall.example/x/{TICKET}",
    f"https://hall.example/T/{TICKET}",  # the hall's paths are lower case
    f"https://hall.example/{TICKET}",
    "https://hall.example/t/",
    "https://hall.example/",
    "https://hall.example",
    f"https:///t/{TICKET}",  # no host
    f"https://hall.example:port/t/{TICKET}",
    f"ftp://hall.example/t/{TICKET}",
    f"hall.example/t/{TICKET}",
    f"https://hall.example/t/{TICKET}/extra",
    f"https://hall.example/t/{TICKET[:-1]}号",
    f"https://hall.example/t/{TICKET} x",
    "https://hall.example/t/" + "a" * 600,
    "YW1.T.kiosk1.1700000000.1700003600.abcdefghijkl.TABCDEFGHIJKL." + "s" * 86,
    "",
])
def test_anything_else_is_not_a_link_of_the_hall(text):
    assert parse_hall_link(text) is None


def test_a_signed_code_is_not_a_web_address():
    assert not is_web_address("YW1.T.kiosk1.1.2.abcdefghijkl.T0000000000001." + "s" * 86)
    assert not is_web_address("")
    assert is_web_address("http://x") and is_web_address("HTTPS://x")


@given(st.text(max_size=300))
def test_any_text_gives_a_link_or_none_and_never_raises(text):
    found = parse_hall_link("https://hall.example/t/" + text)
    assert found is None or found.kind is LinkKind.TICKET
    assert parse_hall_link(text) is None or is_web_address(text.strip())
