"""The hall's public links: what a phone opens from the QR code of a ticket or a receipt.

A kiosk of a hall (kiosk/hall, `backend.kind = "http"`) prints on a queue ticket the address
`<public_url>/t/<ticket id>` and on a 一件事 receipt `<public_url>/a/<public id>`: a phone's
camera opens the hall's page for it, and this kiosk's 办件查询 accepts both. The id in the
path is the capability (unguessable); the ids follow the hall's own patterns
(kiosk/hall/api/pages.py). A kiosk with no hall (the embedded backend) signs its codes
instead (payloads.py): no phone page exists for them, so its paper says to scan the code at
the kiosk.

API::

    is_web_address(text) -> bool           # http:// or https://: a phone's camera opens it
    parse_hall_link(text) -> HallLink | None
    class LinkKind(Enum): TICKET, APPLICATION
    @dataclass(frozen=True) class HallLink: kind, ident
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

# The hall's patterns for a ticket id and an application's public id.
TICKET_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{16,32}")
# A public address and an id of 64 characters: far shorter. Anything longer is not ours.
MAX_LENGTH = 512

_SCHEMES = ("http://", "https://")


class LinkKind(Enum):
    TICKET = "t"
    APPLICATION = "a"


@dataclass(frozen=True)
class HallLink:
    kind: LinkKind
    ident: str  # the ticket id, or the application's public id


def is_web_address(text: str) -> bool:
    """Whether a scanned or printed code is a web address (http or https), which a phone's
    camera opens, rather than one of the kiosk's signed codes."""
    return isinstance(text, str) and text.lstrip()[:8].lower().startswith(_SCHEMES)


def parse_hall_link(text: str) -> HallLink | None:
    """The ticket or application a hall's public link names, or None for any other text
    (another site's address, a damaged link, an id the hall would never issue).

    The address is http or https with a host; its path ends in `/t/<ticket id>` or
    `/a/<public id>` (one trailing slash tolerated), under whatever path the hall's
    public_url has. A query or fragment (a phone page's `?lang=en`) is ignored.
    """
    if not is_web_address(text) or len(text) > MAX_LENGTH:
        return None
    text = text.strip()
    if not text.isascii() or not text.isprintable() or " " in text:
        return None
    try:
        parts = urlsplit(text)
        _ = parts.port  # ValueError for a port that is not a number
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    segments = parts.path.split("/")
    if len(segments) > 1 and segments[-1] == "":
        segments.pop()  # ".../t/<id>/"
    if len(segments) < 3:  # "", kind, id at least
        return None
    kind_s, ident = segments[-2], segments[-1]
    if kind_s == LinkKind.TICKET.value and TICKET_ID.fullmatch(ident):
        return HallLink(LinkKind.TICKET, ident)
    if kind_s == LinkKind.APPLICATION.value and PUBLIC_ID.fullmatch(ident):
        return HallLink(LinkKind.APPLICATION, ident)
    return None
