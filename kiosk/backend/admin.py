"""Staff commands on a kiosk's embedded database: advance an application, call a ticket.

The embedded backend has no window-side system, so center staff (and demos) drive the
queue and the 办件 timeline from the command line. Each command opens the database file the
kiosk uses, does one thing, prints the result and returns an exit code: 0 done, 2 a mistake
in the arguments (explained on stderr), 1 the database could not be used.
"""

from __future__ import annotations

import contextlib
import sys
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
from kiosk.domain.catalog import Catalog, load_catalog
from kiosk.domain.payloads import load_private_key

DEFAULT_CATALOG = Path(__file__).resolve().parents[2] / "config" / "catalog.yaml"
SIGNING_KEY_FILE = "backend-signing-key.pem"
STAFF_KEY_ID = "staff"

EXIT_OK = 0
EXIT_BACKEND = 1
EXIT_USAGE = 2


class _Refused(Exception):
    """A message for stderr and an exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


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
        raise _Refused(exc.message()) from None
    except OSError as exc:
        raise _Refused(f"{path}: cannot read the catalog: {exc}") from None


def _open(db_path: Path, catalog_path: Path | None) -> EmbeddedBackend:
    # Refuse rather than create: a typo in the path must not make a fresh, empty database
    # that then "has no such application".
    if not db_path.is_file():
        raise _Refused(f"{db_path}: no such database file (is this the kiosk's data dir?)")
    try:
        return EmbeddedBackend(
            db_path, _catalog(catalog_path), signing_key=_signing_key(db_path),
            key_id=STAFF_KEY_ID, seed=False,
        )
    except BackendError as exc:
        raise _Refused(f"{db_path}: {exc}", EXIT_BACKEND) from None


def _statuses() -> str:
    return ", ".join(f"{s.value} ({s.label('zh')})" for s in ApplicationStatus)


def format_timeline(summary: ApplicationSummary) -> str:
    lines = [
        f"{summary.reference}  {summary.bundle_id}  {summary.status.value}"
        f" ({summary.status.label('zh')})"
    ]
    for event in summary.timeline:
        note = f"  {event.note}" if event.note else ""
        lines.append(
            f"  {event.at:%Y-%m-%d %H:%M}  {event.status.value:<10}"
            f" {event.status.label('zh')}{note}"
        )
    return "\n".join(lines) + "\n"


def advance_command(
    db_path: Path, reference: str, status: str, note: str = "",
    *, catalog_path: Path | None = None,
) -> int:
    """`kiosk backend advance REF STATUS [--note TEXT]`: append a status to a 办件 timeline
    and print the timeline. STATUS is a value (accepted) or a Chinese label (受理中)."""
    by_name = {s.value: s for s in ApplicationStatus} | {s.label("zh"): s for s in
                                                         ApplicationStatus}
    try:
        target = by_name.get(status.strip().lower()) or by_name.get(status.strip())
        if target is None:
            raise _Refused(f"unknown status {status!r}; valid statuses: {_statuses()}")
        backend = _open(Path(db_path), catalog_path)
        try:
            current = backend.application(reference)
            if current is None:
                raise _Refused(f"no application with reference {reference!r}")
            try:
                summary = backend.advance_application(reference, target, note)
            except NotFound:
                raise _Refused(f"no application with reference {reference!r}") from None
            except ValueError as exc:
                allowed = [s.value for s in ApplicationStatus
                           if s in APPLICATION_TRANSITIONS[current.status]]
                hint = f"\nfrom {current.status.value} it may go to: {', '.join(allowed)}"
                raise _Refused(f"{exc}{hint if allowed else ''}") from None
        finally:
            backend.close()
    except _Refused as refused:
        print(f"advance: {refused}", file=sys.stderr)
        return refused.code
    except BackendError as exc:
        print(f"advance: {exc}", file=sys.stderr)
        return EXIT_BACKEND
    sys.stdout.write(format_timeline(summary))
    return EXIT_OK


def call_next_command(
    db_path: Path, category: str, *, catalog_path: Path | None = None
) -> int:
    """`kiosk backend call-next CATEGORY`: mark today's next ticket of a category served
    (priority lane first) and print its number, or say that nobody is waiting."""
    try:
        backend = _open(Path(db_path), catalog_path)
        try:
            try:
                number = backend.call_next(category)
            except ValueError:
                raise _Refused(
                    f"unknown category {category!r}; categories: "
                    + ", ".join(c.id for c in _catalog(catalog_path).categories)
                ) from None
        finally:
            backend.close()
    except _Refused as refused:
        print(f"call-next: {refused}", file=sys.stderr)
        return refused.code
    except BackendError as exc:
        print(f"call-next: {exc}", file=sys.stderr)
        return EXIT_BACKEND
    print(number if number is not None else f"no one is waiting for {category}")
    return EXIT_OK
