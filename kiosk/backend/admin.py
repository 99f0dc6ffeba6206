"""Staff operations on a kiosk's embedded database: advance an application, call a ticket.

The embedded backend has no window-side system, so center staff (and demos) drive the
queue and the 办件 timeline from the command line (kiosk.cli.backend prints and exits).
Each operation opens the database file the kiosk uses and does one thing. A mistake in what
staff asked for raises StaffRefused with a message for them; a database that cannot be used
raises BackendError.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.backend.embedded import EmbeddedBackend
from kiosk.backend.interface import (
    APPLICATION_TRANSITIONS,
    ApplicationStatus,
    ApplicationSummary,
    BackendError,
    NotFound,
)
from kiosk.common import resources
from kiosk.domain.catalog import Catalog, load_catalog
from kiosk.domain.payloads import load_private_key

DEFAULT_CATALOG = resources.default_catalog()
SIGNING_KEY_FILE = "backend-signing-key.pem"
STAFF_KEY_ID = "staff"


class StaffRefused(Exception):
    """Staff asked for something that cannot be done (an unknown status or category, no such
    application or database file, a step the timeline does not allow); the message says
    what to do instead."""


def _signing_key(db_path: Path) -> Ed25519PrivateKey:
    # These commands sign nothing a resident will scan, but the backend signs a probe at
    # start; the kiosk's own key keeps that honest when it is there, a throwaway otherwise.
    pem = db_path.parent / SIGNING_KEY_FILE
    if pem.is_file():
        # A damaged key file is the kiosk's problem, not the staff command's.
        with contextlib.suppress(OSError, ValueError):
            return load_private_key(pem.read_bytes())
    return Ed25519PrivateKey.generate()


def _catalog(catalog_path: Path | None) -> Catalog:
    from kiosk.config.loader import ConfigFileError

    path = catalog_path or DEFAULT_CATALOG
    try:
        return load_catalog(path)
    except ConfigFileError as exc:
        raise StaffRefused(exc.message()) from None
    except OSError as exc:
        raise StaffRefused(f"{path}: cannot read the catalog: {exc}") from None


def _open(db_path: Path, catalog_path: Path | None) -> EmbeddedBackend:
    # Refuse rather than create: a typo in the path must not make a fresh, empty database
    # that then "has no such application".
    if not db_path.is_file():
        raise StaffRefused(f"{db_path}: no such database file (is this the kiosk's data dir?)")
    try:
        return EmbeddedBackend(
            db_path, _catalog(catalog_path), signing_key=_signing_key(db_path),
            key_id=STAFF_KEY_ID, seed=False,
        )
    except BackendError as exc:
        raise BackendError(f"{db_path}: {exc}") from None


def _statuses() -> str:
    return ", ".join(f"{s.value} ({s.label('zh')})" for s in ApplicationStatus)


def parse_status(text: str) -> ApplicationStatus:
    """A status by its value (accepted) or its Chinese label (受理中)."""
    by_name = {s.value: s for s in ApplicationStatus} | {s.label("zh"): s for s in
                                                         ApplicationStatus}
    target = by_name.get(text.strip().lower()) or by_name.get(text.strip())
    if target is None:
        raise StaffRefused(f"unknown status {text!r}; valid statuses: {_statuses()}")
    return target


def advance(
    db_path: Path, reference: str, status: str, note: str = "",
    *, catalog_path: Path | None = None,
) -> ApplicationSummary:
    """Append a status to a 办件 timeline; the application as it now stands."""
    target = parse_status(status)
    backend = _open(Path(db_path), catalog_path)
    try:
        current = backend.application(reference)
        if current is None:
            raise StaffRefused(f"no application with reference {reference!r}")
        try:
            return backend.advance_application(reference, target, note)
        except NotFound:
            raise StaffRefused(f"no application with reference {reference!r}") from None
        except ValueError as exc:
            allowed = [s.value for s in ApplicationStatus
                       if s in APPLICATION_TRANSITIONS[current.status]]
            hint = f"\nfrom {current.status.value} it may go to: {', '.join(allowed)}"
            raise StaffRefused(f"{exc}{hint if allowed else ''}") from None
    finally:
        backend.close()


def call_next(db_path: Path, category: str, *, catalog_path: Path | None = None) -> str | None:
    """Mark today's next ticket of a category served (priority lane first); its number, or
    None when nobody is waiting. A 一件事's follow-up number is followed by the reference
    of its application, which the clerk is to look at: "A012 (application BJ…)"."""
    backend = _open(Path(db_path), catalog_path)
    try:
        try:
            number = backend.call_next(category)
            reference = backend.ticket_application(number) if number is not None else None
            return f"{number} (application {reference})" if reference else number
        except ValueError:
            raise StaffRefused(
                f"unknown category {category!r}; categories: "
                + ", ".join(c.id for c in _catalog(catalog_path).categories)
            ) from None
    finally:
        backend.close()
