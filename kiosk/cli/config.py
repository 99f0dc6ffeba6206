"""`kiosk check-config [F]` and `kiosk config-reference [-o F]`: the technician's config tools.

`check-config` loads the file with every check `kiosk run` makes and prints every problem at
once, by file and key. `config-reference` writes docs/CONFIG.md from the schema, so the
reference cannot drift from what the loader accepts. (`kiosk hash-pin`, which also writes
into the config, is kiosk.cli.pin.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_OK
from kiosk.config.checked import config_path, load_checked_config


def cmd_check_config(args: argparse.Namespace) -> int:
    from kiosk.config.loader import ConfigFileError

    path = config_path(args.path)
    try:
        load_checked_config(path)
    except ConfigFileError as e:
        print(e.message(), file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{path}: OK")
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

    p = sub.add_parser("check-config", help="validate a config file and its devices")
    p.add_argument("path", nargs="?", help="config file")
    p.set_defaults(func=cmd_check_config)
