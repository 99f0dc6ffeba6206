"""The last warnings and errors, kept in memory for the maintenance screen's 最近错误 page.

A technician at the terminal at night has no shell; the log (the systemd journal, or a file
outside systemd) cannot be read from the touch screen. This handler keeps the newest
WARNING-and-up records in a ring buffer, under systemd as anywhere else; the journal adds
the earlier runs' (kiosk.services.journal_log, read by the maintenance controller). Only
the formatted message is kept, never the record: a record holds its `args` and `exc_info`,
and with them objects (and tracebacks with local variables) that would outlive the session
they came from.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass

CAPACITY = 200

_install_lock = threading.Lock()
_installed: LogBuffer | None = None


@dataclass(frozen=True)
class LogLine:
    created: float  # Unix seconds, from the record
    level: str
    logger: str
    message: str


class LogBuffer(logging.Handler):
    """A thread-safe ring buffer of the newest `capacity` WARNING+ records."""

    def __init__(self, capacity: int = CAPACITY, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._lines: deque[LogLine] = deque(maxlen=capacity)
        self._lock_lines = threading.Lock()
        self._seq = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:
            # A broken format string must not lose the fact that something went wrong.
            message = str(record.msg)
        line = LogLine(record.created, record.levelname, record.name, message)
        with self._lock_lines:
            self._lines.append(line)
            self._seq += 1

    @property
    def seq(self) -> int:
        """Grows with every record kept, so a view can tell that it is out of date."""
        with self._lock_lines:
            return self._seq

    def lines(self, last: int | None = None) -> list[LogLine]:
        """The kept records, oldest first; only the newest `last` if given."""
        with self._lock_lines:
            lines = list(self._lines)
        return lines[-last:] if last else lines

    def clear(self) -> None:
        with self._lock_lines:
            self._lines.clear()
            self._seq += 1


def install_log_buffer() -> LogBuffer:
    """The process's one buffer, attached to the root logger on first call.

    Once per process, not per window: tests and `kiosk simulate` build many kiosks, and a
    handler per build would keep every build's buffer alive and count each record twice.
    """
    global _installed
    with _install_lock:
        if _installed is None:
            _installed = LogBuffer()
        root = logging.getLogger()
        # Checked every time: `logging.basicConfig(force=True)` removes the root's handlers.
        if _installed not in root.handlers:
            root.addHandler(_installed)
        return _installed
