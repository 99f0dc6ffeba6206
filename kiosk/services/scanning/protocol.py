"""What the scanner's parts share: camera states, code de-duplication, and the worker's wire.

Standard library only. The GUI process imports this (the scanner proxy), the camera worker
process imports it, and so does the in-process scanner; none of them should pay for OpenCV
or Qt to learn what a message or a state is called.

The worker protocol, both ways over `multiprocessing.connection` pipes (pickled tuples
whose first item is the tag):

  GUI -> worker (commands)   ("spec", WorkerSpec) first, then ("scanning", bool),
                             ("camera", method, args) for the emulated camera and exposure,
                             ("quit",)
  worker -> GUI (events)     ("hello", pid), ("beat", capture_busy_s, decode_busy_s),
                             ("state", state, error, camera), ("frame", slot, seq, w, h,
                             stride, fmt), ("codes", [texts], captured_at), ("stats", dict),
                             ("shown", t), ("log", levelno, logger, message)

Preview pixels do not go through the pipe: they go through `PreviewRing`, a few slots of
shared memory; the ("frame", ...) event only says which slot holds the newest one.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

STARTING = "starting"
RUNNING = "running"
UNAVAILABLE = "unavailable"
STALE = "stale"
# The camera worker process died or hung and is being started again (process isolation).
RESTARTING = "restarting"

# Preview pixel formats, as plain numbers so the worker need not import Qt to name them.
FMT_GRAY8 = 1
FMT_BGR888 = 3


@dataclass
class _Presence:
    last_seen: float
    emitted: bool = False


class Deduplicator:
    """Decides which decoded texts are new: once per presence of a code in view.

    A text counts again only after it has been out of sight for `repeat_block_s`.
    `generation` changes with `reset()`, so a text decided before a reset can be recognised
    (and dropped) when it reaches the GUI thread after it; and a frame captured before a
    reset but decoded after it is not reported at all: a scan screen opens with `reset()`,
    and the code the last resident held up (still in the decoder, or queued behind it on a
    busy machine) must not answer for the next one. Thread-safe.

    It lives in the GUI process in both scanner modes, so a restarted camera worker does not
    report again a code that was already reported while still in view (the verifier would
    refuse it as a replay).
    """

    def __init__(self, repeat_block_s: float) -> None:
        self.repeat_block_s = repeat_block_s
        self._lock = threading.Lock()
        self._presence: dict[str, _Presence] = {}
        self._generation = 0
        self._since = float("-inf")  # frames captured before this (monotonic) are old

    @property
    def generation(self) -> int:
        return self._generation

    def note(self, texts: list[str], seen_at: float, scanning: bool) -> tuple[list[str], int]:
        """Record `texts` seen in a frame taken at `seen_at` (time.monotonic); the texts to
        report now (only when `scanning`) and the generation they belong to."""
        to_emit: list[str] = []
        block = self.repeat_block_s
        with self._lock:
            generation = self._generation
            if seen_at < self._since:
                return [], generation
            for text in texts:
                presence = self._presence.get(text)
                if presence is None or seen_at - presence.last_seen > block:
                    presence = self._presence[text] = _Presence(seen_at)
                presence.last_seen = max(presence.last_seen, seen_at)
                if scanning and not presence.emitted:
                    presence.emitted = True
                    to_emit.append(text)
            for text in [t for t, p in self._presence.items() if seen_at - p.last_seen > block]:
                del self._presence[text]
        return to_emit, generation

    def unreport(self, text: str) -> None:
        """`text` was decided but not reported (scanning went off): report it if it is
        still in view when scanning resumes."""
        with self._lock:
            presence = self._presence.get(text)
            if presence is not None:
                presence.emitted = False

    def reset(self, now: float | None = None) -> None:
        """Forget every code seen, and ignore frames captured before `now` (time.monotonic,
        the clock of the frames' `seen_at` in every process)."""
        with self._lock:
            self._presence.clear()
            self._generation += 1
            self._since = time.monotonic() if now is None else now


@dataclass(frozen=True)
class WorkerSpec:
    """Everything the camera worker needs to build its source and decoder, picklable.

    `camera` is the camera config section as plain data (`model_dump()`): unpickling the
    pydantic model would make the worker import pydantic and the schema (0.2-0.6 s of a
    restart measured here) for nothing. `code_factory` signs the emulated camera's demo
    codes and must be picklable (`kiosk.hardware.camera.demo_codes.DemoCodes`).
    `scene` is the emulated camera's state to restore (what it shows, its faults) as
    ("camera", method, args) commands, applied before the first frame is read.
    """

    camera: dict[str, Any]
    decoder: str = "combined"
    code_factory: Any = None
    preview_max_side: int = 960
    stale_after_s: float = 1.0
    log_level: int = 20
    scene: tuple[tuple[Any, ...], ...] = field(default_factory=tuple)


def preview_stride(width: int, channels: int) -> int:
    """Bytes per preview row, as QImage lays them out (rows padded to 4 bytes), so the
    GUI copies a frame into its QImage with one memcpy."""
    return (width * channels + 3) & ~3


class PreviewRing:
    """Preview frames in shared memory: `slots` buffers, each with a sequence header.

    One writer (the worker's capture thread) and one reader (the GUI process's supervisor
    thread). The writer zeroes a slot's sequence number, writes the pixels, then sets the
    new number and tells the reader (slot, seq) over the event pipe. The reader copies the
    slot and checks the number again afterwards; a changed number means the writer came
    round to that slot during the copy (the reader is two frames behind), and the torn
    frame is dropped. A preview frame is only ever shown, so a dropped one costs nothing.

    The memory is an anonymous memfd, not a named `multiprocessing.shared_memory`
    segment: its fd is handed to each worker at spawn and nothing appears in /dev/shm, so
    nothing can be left there however the processes end (a SIGKILLed GUI process included,
    which a named segment would survive without the resource tracker, itself another
    process). One ring serves every worker the scanner starts: restarts allocate nothing.
    """

    HEADER = struct.Struct("<Q")  # per slot: sequence number, 0 while being written

    def __init__(self, fd: int, slots: int, slot_bytes: int, *, owner: bool) -> None:
        self.fd = fd
        self.slots = slots
        self.slot_bytes = slot_bytes
        self._owner = owner
        self._span = self.HEADER.size + slot_bytes
        self._mm = mmap.mmap(fd, self._span * slots)
        self._view = memoryview(self._mm)
        self._seq = 0

    @classmethod
    def create(cls, max_side: int, slots: int = 3) -> PreviewRing:
        """A new ring for frames of at most `max_side` x `max_side` BGR pixels."""
        slot_bytes = preview_stride(max_side, 3) * max_side
        size = (cls.HEADER.size + slot_bytes) * slots
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create("kiosk-preview", os.MFD_CLOEXEC)
        else:  # not Linux: an unlinked temporary file maps the same way
            with tempfile.TemporaryFile(prefix="kiosk-preview-") as f:
                fd = os.dup(f.fileno())
        try:
            os.ftruncate(fd, size)  # sparse: pages are only allocated where written
            return cls(fd, slots, slot_bytes, owner=True)
        except BaseException:
            os.close(fd)
            raise

    @classmethod
    def attach(cls, fd: int, slots: int, slot_bytes: int) -> PreviewRing:
        return cls(fd, slots, slot_bytes, owner=False)

    def _offset(self, slot: int) -> int:
        return slot * self._span

    # -- writer -----------------------------------------------------------------------------

    @property
    def buffer(self) -> memoryview:
        """The whole mapping (slot headers included), for the writer's pixel copies."""
        return self._view

    def begin(self) -> tuple[int, int, int]:
        """(slot, seq, offset of the pixels in `buffer`) for the next frame; write at most
        `slot_bytes` there, then call `commit(slot, seq)`."""
        self._seq += 1
        slot = self._seq % self.slots
        off = self._offset(slot)
        self.HEADER.pack_into(self._mm, off, 0)
        return slot, self._seq, off + self.HEADER.size

    def commit(self, slot: int, seq: int) -> None:
        self.HEADER.pack_into(self._mm, self._offset(slot), seq)

    # -- reader -----------------------------------------------------------------------------

    def read_into(self, slot: int, seq: int, nbytes: int, dest: memoryview) -> bool:
        """Copy `nbytes` of frame `seq` from `slot` into `dest`; False if it was torn or
        already replaced (then `dest` holds garbage)."""
        if not 0 <= slot < self.slots or nbytes > self.slot_bytes:
            return False
        off = self._offset(slot)
        if self._seq_at(off) != seq:
            return False
        start = off + self.HEADER.size
        dest[:nbytes] = self._view[start:start + nbytes]
        return self._seq_at(off) == seq

    def _seq_at(self, off: int) -> int:
        seq: int = self.HEADER.unpack_from(self._mm, off)[0]
        return seq

    def close(self) -> None:
        view, self._view = self._view, memoryview(b"")
        view.release()
        # BufferError: a writer's numpy view of the mapping is still alive (a worker ending);
        # the mapping then goes with its process.
        with contextlib.suppress(BufferError):
            self._mm.close()
        if self._owner:
            os.close(self.fd)
