"""The `kiosk` command: its parser and `main()`; each command group lives in its own module.

| module     | commands                                                               |
|------------|------------------------------------------------------------------------|
| run        | `run` (and the logging set-up the long-running commands share)         |
| dev        | `demo`, `receipt-render`, `make-code`, `simulate`, `scan-bench`, `make-bench` |
| bundles    | `check-bundles`, `bundle-reference`                                    |
| stats      | `stats`                                                                |
| backend    | `backend advance`, `backend call-next`                                 |
| hall       | `hall migrate`, `hall serve`, `hall add-device` and the hall's other set-up |
| pin        | `hash-pin`                                                             |
| config     | `config-reference`, `check-config` (`--devices`: device_check.py)      |

A new command goes into the module of its group (or a new module added to `_GROUPS`) as a
`cmd_*` function plus its lines in that module's `register(sub)`. Every command turns
expected failures (a broken config, a missing file) into one clear message and an exit
status from kiosk.common.exitcodes; a technician never reads a traceback.

Command modules import only the standard library, kiosk.common and kiosk.config.checked at
their top; Qt, the application, the backend and kiosk.devtools are imported inside the
command that needs them, so `kiosk --help` and `kiosk check-config` stay quick.
"""

from __future__ import annotations

import argparse

# `run` first: start-up (`kiosk run --exit-when-ready`) is timed from its import.
from kiosk.cli import run  # isort: skip
from kiosk.cli import backend, bundles, config, dev, hall, pin, stats
from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_INTERRUPTED
from kiosk.config.checked import ConfigRefused

# In the order `kiosk --help` lists them.
_GROUPS = (run, dev, bundles, stats, backend, hall, pin, config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk", description="一网通办 24-hour self-service kiosk"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in _GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from kiosk.services.memory import tune_allocator

    tune_allocator()  # before the first thread and the first large buffer
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigRefused:
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
