"""`kiosk hash-pin`: choose the maintenance PIN and write its hash into the config;
`kiosk reset-pin-lock`: end a lockout of the maintenance screen.

The PIN is read twice from the terminal without echo and never written anywhere; only its
salted Argon2id hash goes into the config file's `[maintenance] pin_hash`. The file is edited
with tomlkit, which keeps the technician's comments and layout: the one `pin_hash` value is
replaced (its line's comment kept), or added to `[maintenance]`, or the section is appended;
every other byte stays as it was. The result must read back the new hash with the standard
library's parser (the one the kiosk loads the file with) before it replaces the file,
atomically, with its owner and group, and readable by nobody else (0600; 0640 is kept, for a
config that root owns and the kiosk's group only reads). Then the lock state in the kiosk's
data folder is started afresh for the new PIN: the old one was authenticated with the old
hash and would read as forged, which locks.
With `--print`, or when the file does not exist, the lines are printed instead.

`kiosk reset-pin-lock` writes a fresh lock state (no wrong PINs, no lock) that the running
kiosk takes at its next check. Writing a valid state takes the PIN hash, so it runs as root
(or the kiosk's user); as root the file is given to the data folder's owner.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path

import tomlkit
import tomlkit.exceptions

from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from kiosk.config.checked import config_path as _config_path
from kiosk.domain.pin import (
    PIN_MAX_DIGITS,
    PIN_MIN_DIGITS,
    STATE_FILE_NAME,
    PinGuard,
    hash_pin,
    weak_pin_reason,
)

# Owner read and write only; group read is kept when the file had it without "other" read
# (root:kiosk 0640, deliberately): a world-readable file's group bit came from the umask.
_PRIVATE = 0o600


def private_mode(mode: int) -> int:
    """The mode for the rewritten config: nobody but its owner (and a deliberate group)."""
    if mode & 0o040 and not mode & 0o004:
        return _PRIVATE | 0o040
    return _PRIVATE


def _has_pin(config_path: Path) -> bool:
    # A light look only: the config may be mid-edit and need not validate to set a PIN.
    try:
        data = tomllib.loads(config_path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    section = data.get("maintenance")
    return isinstance(section, dict) and bool(section.get("pin_hash"))


def with_pin_hash(text: str, encoded: str) -> str:
    """`text` (a TOML document) with `[maintenance] pin_hash` set to `encoded`; raises
    ValueError when `text` is not TOML or its `maintenance` is not a table."""
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as exc:
        raise ValueError(f"the file does not parse as TOML ({exc})") from exc
    section = doc.get("maintenance")
    if section is None:
        section = tomlkit.table()
        doc.append("maintenance", section)
    elif not isinstance(section, dict):  # tomlkit's tables and inline tables are dicts
        raise ValueError("maintenance is not a [maintenance] section")
    section["pin_hash"] = encoded
    return tomlkit.dumps(doc)


def write_pin_hash(config_path: Path, encoded: str) -> None:
    """Put the hash into the config file; raises ValueError when the result would not read
    back (the file is then left untouched)."""
    new = with_pin_hash(config_path.read_text("utf-8"), encoded)
    # Read back with tomllib, which the kiosk loads configs with, not with tomlkit.
    try:
        read_back = tomllib.loads(new).get("maintenance", {}).get("pin_hash")
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"the file does not parse as TOML ({exc})") from exc
    if read_back != encoded:
        raise ValueError("[maintenance] pin_hash did not read back (is it set twice?)")
    st = config_path.stat()
    fd, tmp = tempfile.mkstemp(dir=config_path.parent, prefix=f".{config_path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), private_mode(st.st_mode))
            if os.geteuid() == 0:  # root editing the kiosk's file: it stays theirs
                os.fchown(f.fileno(), st.st_uid, st.st_gid)
            f.write(new)
            f.flush()
            os.fsync(f.fileno())
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
            return EXIT_FAILED
        second = read_secret("The same PIN again: ")
    except (EOFError, KeyboardInterrupt):
        print("\nhash-pin: cancelled. Nothing was changed.", file=sys.stderr)
        return EXIT_FAILED
    if first != second:
        print("hash-pin: the two PINs differ. Nothing was changed.", file=sys.stderr)
        return EXIT_FAILED
    encoded = hash_pin(first)
    line = f'pin_hash = "{encoded}"'
    if not print_only and config_path is not None and config_path.is_file():
        replacing = _has_pin(config_path)
        try:
            write_pin_hash(config_path, encoded)
        except (OSError, ValueError) as exc:
            print(f"hash-pin: could not write {config_path}: {exc}. Nothing was changed; "
                  "use --print and put the lines in by hand.", file=sys.stderr)
            return EXIT_FAILED
        note = " (the old PIN no longer works)" if replacing else ""
        print(f"hash-pin: the new PIN's hash is in {config_path} [maintenance] pin_hash"
              f"{note}.", file=sys.stderr)
        from kiosk.config.loader import ConfigFileError

        try:
            state = reset_pin_lock(config_path)
        except _ResetRefused as exc:
            print(f"hash-pin: {exc}.", file=sys.stderr)
        except ConfigFileError as exc:
            print(f"{exc.message()}\nhash-pin: fix the config, then run `kiosk reset-pin-lock`"
                  " (as root); until then the PIN screen locks at its first try.",
                  file=sys.stderr)
        else:
            print(f"hash-pin: the lock count starts afresh ({state}).", file=sys.stderr)
        print("hash-pin: restart the kiosk to use the new PIN.", file=sys.stderr)
        return EXIT_OK
    where = str(config_path) if config_path is not None else "the kiosk's config file"
    print(f"hash-pin: put these two lines in {where}, run `kiosk reset-pin-lock` (as root)"
          " and restart the kiosk; without the reset the PIN screen stays locked for"
          " [maintenance] lock_minutes after the first try:", file=sys.stderr)
    if config_path is not None and _has_pin(config_path):
        print("hash-pin: (replace the pin_hash already there; the old PIN stops working)",
              file=sys.stderr)
    # Only the lines to paste go to stdout, so `kiosk hash-pin >> kiosk.toml` also works
    # when the file has no [maintenance] section yet.
    print("[maintenance]")
    print(line)
    return EXIT_OK


class _ResetRefused(Exception):
    """Why the lock state could not be written; the message is for the technician."""


def reset_pin_lock(config_path: Path) -> Path:
    """Write a fresh lock state for the config's PIN; the state file's path. Raises
    _ResetRefused (with what to do) or ConfigFileError."""
    from kiosk.config.loader import load_config, resolve

    config = load_config(config_path)
    encoded = config.maintenance.pin_hash
    if not encoded:
        raise _ResetRefused(f"{config_path} has no [maintenance] pin_hash: set one with "
                            "`kiosk hash-pin` first")
    data_dir = resolve(config_path.resolve().parent, config.paths.data_dir).resolve()
    if not data_dir.is_dir():
        # Made by the kiosk itself at its first start, as its user: a folder made here (as
        # root) would be one the kiosk cannot write.
        raise _ResetRefused(f"the data folder {data_dir} does not exist yet: start the kiosk"
                            " once, then run `kiosk reset-pin-lock`")
    state_file = data_dir / STATE_FILE_NAME
    guard = PinGuard(state_file, encoded)
    try:
        # As root, the file goes to the data folder's owner: the kiosk's user must read it.
        st = data_dir.stat()
        guard.reset(owner=(st.st_uid, st.st_gid) if os.geteuid() == 0 else None)
    except OSError as exc:
        raise _ResetRefused(f"could not write {state_file}: {exc.strerror or exc}; run it as"
                            " root (sudo)") from None
    return state_file


def reset_pin_lock_command(config_path: Path) -> int:
    from kiosk.config.loader import ConfigFileError

    try:
        state_file = reset_pin_lock(config_path)
    except ConfigFileError as exc:
        print(exc.message(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except _ResetRefused as exc:
        print(f"reset-pin-lock: {exc}. Nothing was changed.", file=sys.stderr)
        return EXIT_FAILED
    print(f"reset-pin-lock: the maintenance PIN lock is reset ({state_file}): "
          "the PIN screen takes the PIN again at once.", file=sys.stderr)
    return EXIT_OK


def cmd_reset_pin_lock(args: argparse.Namespace) -> int:
    return reset_pin_lock_command(_config_path(args.config))


def cmd_hash_pin(args: argparse.Namespace) -> int:
    return hash_pin_command(_config_path(args.config), print_only=args.print_only)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("hash-pin",
                       help="set the maintenance PIN: writes its hash into the config")
    p.add_argument("--config", help="the config file to write (default: the kiosk's config)")
    p.add_argument("--print", dest="print_only", action="store_true",
                   help="print the config lines instead of writing them")
    p.set_defaults(func=cmd_hash_pin)
    r = sub.add_parser("reset-pin-lock",
                       help="end a lockout of the maintenance screen (as root)")
    r.add_argument("--config", help="the kiosk's config file (default: the kiosk's config)")
    r.set_defaults(func=cmd_reset_pin_lock)
