"""An emulated printer: the transport used by demos, development and tests.

It keeps every byte it receives and saves each job to disk (render them with
`kiosk receipt-render`), and it can be told at run time to behave like a printer in trouble:
out of paper (also part-way through a job), cover open, offline, near the end of the roll,
silent, unplugged, or slow. The printing service writes from its worker thread while the
admin screen or a test injects faults from another thread, so all state sits behind a lock.

Jobs: every `write()` call is one job, unless it happens between `begin_job()` and
`end_job()`, in which case all those writes form one job. The `Printer` facade sends a whole
document in one `write()`, so one document is one job. A job cut short by a fault is kept
(and saved) with the bytes accepted before the fault: that is what came out on paper.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

from kiosk.hardware.printer.errors import (
    PrinterError,
    PrinterState,
    PrinterStatus,
    PrinterUnavailable,
    error_for_status,
)

log = logging.getLogger(__name__)

_CHUNK = 1024  # write_delay_s is per KB, and faults may strike between chunks
_WRITE_FAULTS = frozenset({PrinterState.PAPER_OUT, PrinterState.COVER_OPEN,
                           PrinterState.OFFLINE, PrinterState.ERROR})
_UNPLUGGED_HINT = "The emulated printer is unplugged: plug() it back in (admin screen)."


class EmulatedPrinter:
    """A `PrinterTransport` that records what it is sent and fails on request."""

    def __init__(
        self,
        output_dir: Path | None = None,
        *,
        write_delay_s: float = 0.0,
        max_kept_bytes: int | None = None,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        """`write_delay_s` is per KB (a slow printer); `max_kept_bytes` bounds memory on a
        demo kiosk that runs for weeks (None keeps everything; files are always kept)."""
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.write_delay_s = write_delay_s
        self._max_kept = max_kept_bytes
        self._clock = clock
        self._lock = threading.RLock()
        self._received = bytearray()
        self._jobs: list[bytes] = []
        self._current: bytearray | None = None  # a job between begin_job and end_job
        self._in_explicit_job = False
        self._plugged = True
        self._open = False
        self._fault: PrinterState | None = None  # active now
        self._armed: PrinterState | None = None  # becomes active after _remaining bytes
        self._remaining: int | None = None
        self._job_seq = 0
        self.files: list[Path] = []

    # ----------------------------------------------------------------- inspection
    @property
    def received(self) -> bytes:
        with self._lock:
            return bytes(self._received)

    @property
    def jobs(self) -> list[bytes]:
        with self._lock:
            return list(self._jobs)

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._open

    @property
    def fault(self) -> PrinterState | None:
        """The fault in effect now (an armed `after_bytes` fault shows once it struck)."""
        with self._lock:
            return self._fault

    def clear(self) -> None:
        """Forget received bytes and jobs (saved files stay)."""
        with self._lock:
            self._received.clear()
            self._jobs.clear()

    # ----------------------------------------------------------------- fault injection
    def set_fault(self, state: PrinterState | None, *, after_bytes: int | None = None) -> None:
        """Make the printer misbehave from now on, or after accepting `after_bytes` more bytes.

        PAPER_OUT, COVER_OPEN, OFFLINE and ERROR make `write` raise the matching error;
        PAPER_NEAR_END prints on but reports it; NO_ANSWER/UNKNOWN makes `read_status`
        report UNKNOWN. None clears any fault.
        """
        if after_bytes is not None and after_bytes < 0:
            raise ValueError("after_bytes must be >= 0")
        with self._lock:
            if after_bytes is None:
                self._fault, self._armed, self._remaining = state, None, None
            else:
                self._fault, self._armed, self._remaining = None, state, after_bytes
                if after_bytes == 0:
                    self._strike()

    def unplug(self) -> None:
        """The cable is pulled: the connection is lost until plug() and open()."""
        with self._lock:
            self._plugged = False
            self._open = False
            self._finish_job()

    def plug(self) -> None:
        with self._lock:
            self._plugged = True

    # ----------------------------------------------------------------- transport protocol
    def open(self) -> None:
        with self._lock:
            if not self._plugged:
                raise PrinterUnavailable("cannot open emulated printer: unplugged",
                                         hint=_UNPLUGGED_HINT)
            self._open = True

    def close(self) -> None:
        with self._lock:
            self._finish_job()
            self._open = False

    def describe(self) -> str:
        return "emulated printer"

    def begin_job(self) -> None:
        with self._lock:
            self._finish_job()
            self._current = bytearray()
            self._in_explicit_job = True

    def end_job(self) -> None:
        with self._lock:
            self._finish_job()

    def write(self, data: bytes) -> None:
        """Accept `data` (in 1 KB chunks, so a slow write can be interrupted by a fault)."""
        with self._lock:
            self._check_connected("write to")
            if not self._in_explicit_job:
                self._current = bytearray()
        sent = 0
        try:
            for start in range(0, len(data), _CHUNK):
                sent += self._accept(data[start : start + _CHUNK], sent)
                if self.write_delay_s:
                    time.sleep(self.write_delay_s * min(_CHUNK, len(data) - start) / 1024)
            with self._lock:
                self._check_connected("write to")  # unplugged during the last chunk
        except PrinterError as exc:
            if exc.bytes_sent is None:
                exc.bytes_sent = sent
            raise
        finally:
            with self._lock:
                if not self._in_explicit_job:
                    self._finish_job()

    def read_status(self) -> PrinterStatus:
        with self._lock:
            self._check_connected("read status of")
            return _status_for(self._fault)

    # ----------------------------------------------------------------- internals
    def _accept(self, chunk: bytes, sent_before: int) -> int:
        """Take what the fault allows of one chunk; raise once the fault stops the job."""
        with self._lock:
            self._check_connected("write to")
            self._raise_if_blocked(sent_before)
            take = len(chunk)
            if self._remaining is not None:
                take = min(take, self._remaining)
                self._remaining -= take
            self._record(chunk[:take])
            if self._remaining == 0:
                self._strike()
                if take < len(chunk):
                    self._raise_if_blocked(sent_before + take)
            return take

    def _raise_if_blocked(self, sent: int) -> None:
        if self._fault in _WRITE_FAULTS:
            error = error_for_status(_status_for(self._fault), bytes_sent=sent)
            assert error is not None
            raise error

    def _strike(self) -> None:
        self._fault, self._armed, self._remaining = self._armed, None, None

    def _check_connected(self, action: str) -> None:
        if not self._plugged:
            raise PrinterUnavailable(f"cannot {action} emulated printer: unplugged",
                                     hint=_UNPLUGGED_HINT)
        if not self._open:
            raise PrinterUnavailable(f"cannot {action} emulated printer: not open",
                                     hint="Open the printer connection first.")

    def _record(self, chunk: bytes) -> None:
        self._received += chunk
        if self._current is not None:
            self._current += chunk

    def _finish_job(self) -> None:
        job, self._current, self._in_explicit_job = self._current, None, False
        if not job:
            return
        self._jobs.append(bytes(job))
        self._save(bytes(job))
        self._trim()

    def _trim(self) -> None:
        if self._max_kept is None:
            return
        while len(self._jobs) > 1 and sum(map(len, self._jobs)) > self._max_kept:
            self._jobs.pop(0)
        if len(self._received) > self._max_kept:
            del self._received[: len(self._received) - self._max_kept]

    def _save(self, job: bytes) -> None:
        if self.output_dir is None:
            return
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            path = self._write_new_file(self.output_dir, job)
        except OSError as exc:
            # The emulator's archive is a convenience; printing itself did not fail.
            log.error("cannot save emulated print job in %s: %s", self.output_dir, exc)
            return
        self.files.append(path)

    def _write_new_file(self, folder: Path, job: bytes) -> Path:
        stamp = self._clock().strftime("%Y%m%d-%H%M%S")
        while True:
            self._job_seq += 1
            path = folder / f"job-{stamp}-{self._job_seq:04d}.bin"
            try:
                with path.open("xb") as f:  # never overwrite a job from an earlier run
                    f.write(job)
                return path
            except FileExistsError:
                continue


class _StatusFlags(TypedDict, total=False):
    """The flags of `PrinterStatus` an injected fault sets; the rest keep their defaults."""

    offline: bool
    cover_open: bool
    paper_near_end: bool
    paper_out: bool
    error: bool


_FAULT_FLAGS: dict[PrinterState, _StatusFlags] = {
    PrinterState.PAPER_NEAR_END: {"paper_near_end": True},
    PrinterState.PAPER_OUT: {"paper_out": True, "offline": True},
    PrinterState.COVER_OPEN: {"cover_open": True, "offline": True},
    PrinterState.OFFLINE: {"offline": True},
    PrinterState.ERROR: {"error": True, "offline": True},
}


def _status_for(fault: PrinterState | None) -> PrinterStatus:
    if fault is None or fault is PrinterState.OK:
        return PrinterStatus.ok("ready (emulated)")
    flags = _FAULT_FLAGS.get(fault, {})
    if fault is PrinterState.UNKNOWN:
        return PrinterStatus.unknown("no answer (emulated)")
    return PrinterStatus(fault, detail=f"{fault.value} (emulated)", **flags)
