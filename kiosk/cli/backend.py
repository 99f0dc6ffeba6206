"""`kiosk backend advance | call-next`: staff tools for the embedded backend.

They drive the embedded database's 办件 timeline and queue (kiosk.backend.admin does the
work; this module finds the database from the config, prints and chooses the exit status).
A hall of kiosks shares the hall server instead (`kiosk hall serve`), whose staff work at
the counter pages. The staff helpers here also serve `kiosk stats`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from kiosk.config.checked import config_path

if TYPE_CHECKING:
    from kiosk.backend.interface import ApplicationSummary


def _database_path(config_arg: str | None) -> Path:
    """The embedded backend's database file named by the config (for staff commands)."""
    from kiosk.config.loader import ConfigFileError, load_config, resolve

    path = config_path(config_arg)
    config = load_config(path)
    if config.backend.kind != "embedded":
        # The kiosk keeps no database of its own then: staff tools run where it lives.
        raise ConfigFileError(path, [(
            "backend.kind",
            f"{config.backend.kind!r}: this kiosk uses the hall server, whose staff work at"
            " the counter pages (`kiosk hall serve`), not with this command")])
    data_dir = resolve(path.resolve().parent, config.paths.data_dir)
    return resolve(data_dir, config.backend.database)


def _catalog_path(config_arg: str | None) -> Path:
    """The catalog file named by the config."""
    from kiosk.config.loader import load_config, resolve

    path = config_path(config_arg)
    return resolve(path.resolve().parent, load_config(path).paths.catalog)


def staff_command(args: argparse.Namespace, run: Callable[[Path, Path], int]) -> int:
    """`run(database, catalog)` for the config in `args.config`, or its problems on stderr."""
    from kiosk.config.loader import ConfigFileError

    try:
        db, catalog = _database_path(args.config), _catalog_path(args.config)
    except ConfigFileError as e:
        print(e.message(), file=sys.stderr)
        return EXIT_BAD_INPUT
    return int(run(db, catalog))


def format_timeline(summary: ApplicationSummary) -> str:
    """An application's reference, bundle and status, then one line per step of its timeline."""
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
    from kiosk.backend.admin import StaffRefused, advance
    from kiosk.backend.interface import BackendError

    try:
        summary = advance(db_path, reference, status, note, catalog_path=catalog_path)
    except StaffRefused as refused:
        print(f"advance: {refused}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BackendError as exc:
        print(f"advance: {exc}", file=sys.stderr)
        return EXIT_FAILED
    sys.stdout.write(format_timeline(summary))
    return EXIT_OK


def call_next_command(
    db_path: Path, category: str, *, catalog_path: Path | None = None
) -> int:
    """`kiosk backend call-next CATEGORY`: mark today's next ticket of a category served
    (priority lane first) and print its number, or say that nobody is waiting."""
    from kiosk.backend.admin import StaffRefused, call_next
    from kiosk.backend.interface import BackendError

    try:
        number = call_next(db_path, category, catalog_path=catalog_path)
    except StaffRefused as refused:
        print(f"call-next: {refused}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BackendError as exc:
        print(f"call-next: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(number if number is not None else f"no one is waiting for {category}")
    return EXIT_OK


def cmd_backend_advance(args: argparse.Namespace) -> int:
    return staff_command(args, lambda db, cat: advance_command(
        db, args.reference, args.status, args.note, catalog_path=cat))


def cmd_backend_call_next(args: argparse.Namespace) -> int:
    return staff_command(args, lambda db, cat: call_next_command(db, args.category,
                                                                 catalog_path=cat))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backend = sub.add_parser(
        "backend", help="staff tools for the embedded backend")
    bsub = backend.add_subparsers(dest="backend_command", required=True)
    p = bsub.add_parser("advance", help="move an application to a new status")
    p.add_argument("reference", help="办件编号, e.g. YW20261122000001")
    p.add_argument("status", help="accepted | needs_more | done (or 受理中 / 需补正 / 已办结)")
    p.add_argument("--note", default="", help="for needs_more: what is still missing")
    p.add_argument("--config", help="config file (for the database)")
    p.set_defaults(func=cmd_backend_advance)
    p = bsub.add_parser("call-next", help="call the next waiting ticket of a category")
    p.add_argument("category", help="catalog id, e.g. social_security")
    p.add_argument("--config", help="config file (for the database)")
    p.set_defaults(func=cmd_backend_call_next)
