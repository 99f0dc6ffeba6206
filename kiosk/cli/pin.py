"""`kiosk hash-pin`: choose the maintenance PIN and write its hash into the config.

The PIN is read twice from the terminal without echo and never written anywhere; only its
salted scrypt hash goes into the config file's `[maintenance] pin_hash`. The file is edited
line by line rather than re-serialised (no TOML writer is among our dependencies, and one
would drop the technician's comments and layout): the one `pin_hash` line is replaced, or
added under `[maintenance]`, or the section is appended. The result must parse and read back
the new hash before it replaces the file, atomically and with the file's permissions.
With `--print`, or when the file does not exist, the lines are printed instead.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import sys
import tempfile
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


_SECTION = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$")
_PIN_LINE = re.compile(r"^\s*pin_hash\s*=")


def with_pin_hash(text: str, encoded: str) -> str:
    """`text` (a TOML document) with `[maintenance] pin_hash` set to `encoded`."""
    line = f'pin_hash = "{encoded}"'
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines)
                  if (m := _SECTION.match(ln)) and m.group(1) == "maintenance"), None)
    if start is None:
        body = text if text.endswith("\n") or not text else text + "\n"
        return body + ("\n" if body else "") + "[maintenance]\n" + line + "\n"
    end = next((i for i in range(start + 1, len(lines))
                if _SECTION.match(lines[i]) or lines[i].lstrip().startswith("[[")), len(lines))
    for i in range(start + 1, end):
        if _PIN_LINE.match(lines[i]):
            lines[i] = line
            break
    else:
        lines.insert(start + 1, line)
    return "\n".join(lines) + "\n"


def write_pin_hash(config_path: Path, encoded: str) -> None:
    """Put the hash into the config file; raises ValueError when the result would not read
    back (the file is then left untouched)."""
    new = with_pin_hash(config_path.read_text("utf-8"), encoded)
    try:
        read_back = tomllib.loads(new).get("maintenance", {}).get("pin_hash")
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"the file does not parse as TOML ({exc})") from exc
    if read_back != encoded:
        raise ValueError("[maintenance] pin_hash did not read back (is it set twice?)")
    mode = config_path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=config_path.parent, prefix=f".{config_path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(new)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, config_path)
    except BaseException:
        with contextlib.suppress(OSError):  # the original file is still in place
            os.unlink(tmp)
        raise


def hash_pin_command(
    config_path: Path | None,
    *,
    print_only: bool = False,
    read_secret: Callable[[str], str] = getpass.getpass,
) -> int:
    """Ask for a new PIN twice and write its hash into the config (or print the lines with
    `print_only`, or when there is no file). 0 on success."""
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
    encoded = hash_pin(first)
    line = f'pin_hash = "{encoded}"'
    if not print_only and config_path is not None and config_path.is_file():
        replacing = _has_pin(config_path)
        try:
            write_pin_hash(config_path, encoded)
        except (OSError, ValueError) as exc:
            print(f"hash-pin: could not write {config_path}: {exc}. Nothing was changed; "
                  "use --print and put the lines in by hand.", file=sys.stderr)
            return EXIT_REFUSED
        note = " (the old PIN no longer works)" if replacing else ""
        print(f"hash-pin: the new PIN's hash is in {config_path} [maintenance] pin_hash"
              f"{note}. Restart the kiosk to use it.", file=sys.stderr)
        return 0
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
