"""The kiosk's log in the systemd journal, with the fields a district searches by, and the
terminal's earlier warnings read back for the maintenance screen.

Under systemd (the packaged units) each log record becomes one journal entry through
cysystemd's `JournaldLogHandler`, and no file is written on the terminal's disk: the journal
already rotates, caps and (with persistent storage) keeps the log, and a second rotating file
would only wear the flash and hold a copy nobody forwards. Besides the handler's own fields
(PRIORITY, CODE_FILE, CODE_LINE, CODE_FUNC, LOGGER_NAME, THREAD_NAME, TRACEBACK, ...) every
entry carries:

- `CENTER`: `center.name` of kiosk.toml, `KIOSK`: `center.kiosk_id`;
- `EVENT`: the name the code gives with `extra={"event": "..."}`, else the logger's name;
- `SYSLOG_IDENTIFIER=kiosk`, as the units' `SyslogIdentifier=`, so `journalctl -t kiosk`
  shows these entries and the process's stderr (faulthandler's tracebacks) together.

For example `journalctl -t kiosk KIOSK=XH-03 EVENT=kiosk.services.printing -p warning`.

Personal data: an entry holds what the text log held, nothing more. The message is taken as
formatted, after the loggers' filters that mask (kiosk.delivery.http_client's for URL paths),
and the call's arguments are dropped: cysystemd would add each as an ARGUMENT_<n> field, and
a mapping argument with every one of its keys, shown in the message or not.

Outside systemd (a shell, the tests, the demo) nothing here is used: `kiosk.cli.run` logs to
stderr and the data folder's rotating file as before.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import stat
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cysystemd.journal import JournaldLogHandler, Priority

# libsystemd sends every entry here; the path is compiled into it (sd-journal's journal-send.c).
JOURNAL_SOCKET = Path("/run/systemd/journal/socket")
IDENTIFIER = "kiosk"
EVENT = "event"  # the `extra=` key a call names its event with
HISTORY_LINES = 50  # what the maintenance screen's 最近错误 page shows at most

_STANDARD_LEVELS = (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR,
                    logging.CRITICAL)
_LEVEL_NAMES = {0: "CRITICAL", 1: "CRITICAL", 2: "CRITICAL", 3: "ERROR", 4: "WARNING"}


# --------------------------------------------------------------------- where the log goes

def stderr_is_journal(environ: Mapping[str, str] | None = None, stderr_fd: int = 2) -> bool:
    """Whether stderr is a stream into the journal, as systemd.exec(5) says to tell.

    systemd sets JOURNAL_STREAM to the stream's "device:inode". The variable alone is not
    enough: children inherit it after their stderr was redirected, and every shell of a
    desktop terminal (itself a user unit) has it. INVOCATION_ID is no better a sign for the
    same reason, and the journal's socket exists on any systemd machine, in a technician's
    SSH shell too, where they expect to read the log on their screen.
    """
    env = os.environ if environ is None else environ
    device, sep, inode = env.get("JOURNAL_STREAM", "").partition(":")
    if not sep:
        return False
    try:
        st = os.fstat(stderr_fd)
        return (int(device), int(inode)) == (st.st_dev, st.st_ino)
    except (OSError, ValueError):
        return False


def journal_socket_present(path: Path = JOURNAL_SOCKET) -> bool:
    try:
        return stat.S_ISSOCK(path.stat().st_mode)
    except OSError:
        return False


def use_journal(environ: Mapping[str, str] | None = None, stderr_fd: int = 2,
                socket_path: Path = JOURNAL_SOCKET) -> bool:
    """Log to the journal natively: stderr already goes there and the journal takes entries
    (without the socket libsystemd would drop every entry without a word)."""
    return stderr_is_journal(environ, stderr_fd) and journal_socket_present(socket_path)


# ------------------------------------------------------------------------ the handler

def journal_record(record: logging.LogRecord, *, center: str | None,
                   kiosk: str | None) -> logging.LogRecord:
    """A copy of `record` as the journal gets it: the message resolved and the arguments
    dropped (see the module's docstring), a standard level, and the kiosk's fields."""
    entry = copy.copy(record)  # the other handlers see the record as it came
    try:
        entry.msg = record.getMessage()
    except Exception:
        # A broken format string must not lose the fact that something was logged.
        entry.msg = str(record.msg)
    entry.args = None
    # cysystemd's priority table knows only the standard levels (any other is a KeyError).
    entry.levelno = max((n for n in _STANDARD_LEVELS if n <= record.levelno),
                        default=logging.DEBUG)
    entry.levelname = logging.getLevelName(entry.levelno)
    event = getattr(record, EVENT, None)
    entry.event = str(event) if event else record.name
    entry.center = center
    entry.kiosk = kiosk
    return entry


class KioskJournalHandler(JournaldLogHandler):
    """cysystemd's handler, given the kiosk's fields and a safer priority table."""

    # The library's table maps CRITICAL to 0 ("emerg"): logging.FATAL is logging.CRITICAL,
    # and the later key of its dict wins. journald writes emerg entries on every logged-in
    # terminal (ForwardToWall=), which a kiosk's critical error has no business doing.
    LEVELS = {  # noqa: RUF012 (the base class's name and type: its emit reads it)
        logging.DEBUG: Priority.DEBUG.value,
        logging.INFO: Priority.INFO.value,
        logging.WARNING: Priority.WARNING.value,
        logging.ERROR: Priority.ERROR.value,
        logging.CRITICAL: Priority.CRITICAL.value,
    }

    def __init__(self, *, center: str | None = None, kiosk: str | None = None,
                 identifier: str = IDENTIFIER) -> None:
        super().__init__(identifier=identifier)  # type: ignore[no-untyped-call]
        self.center = center
        self.kiosk = kiosk
        # Only the message: the journal keeps the time, priority and logger name as fields.
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            entry = journal_record(record, center=self.center, kiosk=self.kiosk)
            super().emit(entry)  # type: ignore[no-untyped-call]
        except Exception:
            self.handleError(record)


def installed_handler() -> KioskJournalHandler | None:
    """The journal handler on the root logger (put there by `kiosk run` under systemd)."""
    return next((h for h in logging.getLogger().handlers
                 if isinstance(h, KioskJournalHandler)), None)


# ------------------------------------------------------------------ reading it back

@dataclass(frozen=True)
class JournalLine:
    """One earlier warning or error of the kiosk, as the maintenance screen shows it."""

    created: float  # Unix seconds
    level: str
    logger: str
    message: str  # the first line: a traceback stays in the journal
    pid: int


class JournalReadError(RuntimeError):
    """journalctl could not be run, or said why it read nothing."""


def _text(value: Any) -> str:
    # journalctl -o json: a string; a list when the entry has the field more than once; a
    # list of byte values when the value is not UTF-8 text; null when it is too large.
    if isinstance(value, list):
        if value and all(isinstance(b, int) for b in value):
            return bytes(value).decode("utf-8", "replace")
        return _text(value[0]) if value else ""
    return "" if value is None else str(value)


def parse_entry(entry: Mapping[str, Any]) -> JournalLine | None:
    """A journalctl JSON entry as a line of the page, or None if it is not a warning+."""
    try:
        priority = int(_text(entry.get("PRIORITY")))
        created = int(_text(entry.get("__REALTIME_TIMESTAMP"))) / 1_000_000
        pid = int(_text(entry.get("_PID")) or 0)
    except ValueError:
        return None
    if priority not in _LEVEL_NAMES:
        return None
    message = _text(entry.get("MESSAGE")).split("\n", 1)[0]
    logger = _text(entry.get("LOGGER_NAME")) or _text(entry.get("SYSLOG_IDENTIFIER"))
    return JournalLine(created, _LEVEL_NAMES[priority], logger, message, pid)


def read_warnings(*, last: int = HISTORY_LINES, identifier: str = IDENTIFIER,
                  directory: Path | None = None, exclude_pid: int | None = None,
                  journalctl: str = "journalctl", timeout_s: float = 20.0,
                  ) -> list[JournalLine]:
    """The newest `last` warnings and errors of `identifier` in the journal, oldest first,
    without those of process `exclude_pid` (this kiosk's own are in its memory already).

    Blocking (a subprocess reading the journal files): call it off the GUI thread.
    journalctl rather than cysystemd's reader: it filters by priority and counts from the
    newest entry itself, and the reader of cysystemd 2.0.5, stepping back from the tail with
    a match, skipped the newest matching entry.
    """
    # --all: without it journalctl writes null for a field over 4 KiB (a long traceback).
    cmd = [journalctl, "--output=json", "--all", "--no-pager", f"--identifier={identifier}",
           "--priority=warning", f"--lines={last}"]
    if directory is not None:
        cmd.append(f"--directory={directory}")
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False,
                              env={**os.environ, "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise JournalReadError(f"{journalctl}: {exc}") from exc
    lines: list[JournalLine] = []
    for raw in done.stdout.splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        line = parse_entry(entry) if isinstance(entry, dict) else None
        if line is not None and line.pid != exclude_pid:
            lines.append(line)
    said = done.stderr.decode("utf-8", "replace").strip()
    if not lines and said:
        # Typically: the kiosk user may not read the system journal (its entries are
        # there; members of systemd-journal or adm may read them).
        raise JournalReadError(f"{journalctl}: {said.splitlines()[0]}")
    return lines

