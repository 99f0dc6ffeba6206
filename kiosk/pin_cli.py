"""`kiosk hash-pin`: choose the maintenance PIN and print the line for the config.

The PIN is read twice from the terminal without echo and never written anywhere; only its
salted scrypt hash is printed, for the technician to paste under `[maintenance]`. The line
is printed rather than written into the config, so the file's comments and layout stay as
the technician left them.
"""

from __future__ import annotations

import getpass
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

from kiosk.domain.pin import PIN_MAX_DIGITS, PIN_MIN_DIGITS, hash_pin, weak_pin_reason

EXIT_REFUSED = 1


def _has_pin(config_path: Path) -> bool:
    # A light look only: the config may be mid-edit and need not validate to set a PIN.
    try:
        data = tomllib.loads(config_path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    section = data.get("maintenance")
    return isinstance(section, dict) and bool(section.get("pin_hash"))


def hash_pin_command(
    config_path: Path | None,
    *,
    read_secret: Callable[[str], str] = getpass.getpass,
) -> int:
    """Ask for a new PIN twice; print `[maintenance] pin_hash = "..."`. 0 on success."""
    try:
        first = read_secret(f"New maintenance PIN ({PIN_MIN_DIGITS}-{PIN_MAX_DIGITS} digits): ")
        reason = weak_pin_reason(first)
        if reason:
            print(f"hash-pin: PIN refused: {reason}. Nothing was changed.", file=sys.stderr)
            return EXIT_REFUSED
        second = read_secret("The same PIN again: ")
    except (EOFError, KeyboardInterrupt):
        print("\nhash-pin: cancelled. Nothing was changed.", file=sys.stderr)
        return EXIT_REFUSED
    if first != second:
        print("hash-pin: the two PINs differ. Nothing was changed.", file=sys.stderr)
        return EXIT_REFUSED
    line = f'pin_hash = "{hash_pin(first)}"'
    where = str(config_path) if config_path is not None else "the kiosk's config file"
    print(f"hash-pin: put these two lines in {where} and restart the kiosk:", file=sys.stderr)
    if config_path is not None and _has_pin(config_path):
        print("hash-pin: (replace the pin_hash already there; the old PIN stops working)",
              file=sys.stderr)
    # Only the lines to paste go to stdout, so `kiosk hash-pin >> kiosk.toml` also works
    # when the file has no [maintenance] section yet.
    print("[maintenance]")
    print(line)
    return 0
