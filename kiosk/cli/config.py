"""`kiosk check-config [F] [--devices]` and `kiosk config-reference [-o F]`: the technician's
config tools.

`check-config` loads the file with every check `kiosk run` makes, and the catalog and every
bundle file besides, and prints every problem at once, by file and key. With `--devices` it
then opens each device and the backend (kiosk.cli.device_check) and says of each whether it
works. `config-reference` writes docs/CONFIG.md from the schema, so the reference cannot
drift from what the loader accepts. (`kiosk hash-pin`, which also writes into the config, is
kiosk.cli.pin.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from kiosk.config.checked import check_config_files, config_path

if TYPE_CHECKING:  # pydantic is loaded when the file is read, not for `kiosk --help`
    from kiosk.config.schema import KioskConfig


def cmd_check_config(args: argparse.Namespace) -> int:
    path = config_path(args.path)
    config, errors, bundles = check_config_files(path)
    for error in errors:
        print(error.message(), file=sys.stderr)
    if not errors:
        count = len(bundles.bundles) if bundles is not None else 0
        print(f"{path}: OK (with the catalog and {count} bundle file(s))")
    elif bundles is not None:
        from kiosk.domain.bundles import BUNDLE_SUFFIXES

        skipped = [e for e in bundles.errors if e.path.suffix in BUNDLE_SUFFIXES]
        if skipped:
            print(f"{len(skipped)} bundle file(s) broken: the kiosk starts, but residents are "
                  f"not offered them ({len(bundles.bundles)} bundle(s) OK)", file=sys.stderr)
    status = EXIT_BAD_INPUT if errors else EXIT_OK
    if args.devices and config is not None:
        status = max(status, _check_devices(config, path, args.timeout))
    return status


def _check_devices(config: KioskConfig, path: Path, timeout_s: float) -> int:
    from kiosk.cli.device_check import check_devices

    print(f"{path}: opening the devices and the backend (at most {timeout_s:g} s each):",
          flush=True)
    reports = check_devices(config, path, timeout_s)
    for report in reports:
        print(report.line(), file=sys.stdout if report.ok else sys.stderr, flush=True)
    broken = [r.device for r in reports if not r.ok]
    if broken:
        print(f"{len(broken)} device(s) not working ({', '.join(broken)}): the terminal will "
              "not work as configured until they are fixed", file=sys.stderr)
        return EXIT_FAILED
    print("every device answered")
    return EXIT_OK


def cmd_config_reference(args: argparse.Namespace) -> int:
    from kiosk.config.reference import config_reference

    text = config_reference()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("config-reference", help="every config key with default and meaning")
    p.add_argument("-o", "--output", help="write Markdown here (docs/CONFIG.md)")
    p.set_defaults(func=cmd_config_reference)

    p = sub.add_parser("check-config",
                       help="validate a config file, its catalog and bundles, and its devices")
    p.add_argument("path", nargs="?", help="config file")
    p.add_argument("--devices", action="store_true",
                   help="also open every device and the backend and report each (stop the "
                        "kiosk first: a device it holds is busy)")
    p.add_argument("--timeout", type=_seconds, default=5.0, metavar="S",
                   help="with --devices: seconds to wait for each device (default 5)")
    p.set_defaults(func=cmd_check_config)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, e.g. 5 (not {text!r})") from None
    if not 0 < value <= 120:
        raise argparse.ArgumentTypeError("expected between 0 and 120 seconds")
    return value
