"""glibc allocator settings for a process that runs for weeks.

Measured with `kiosk simulate --sessions 1000 --every 100`: with glibc's defaults the
kiosk's resident set wandered between 308 and 328 MB and kept creeping up, because
(1) glibc raises its mmap threshold every time a large block is freed, so after the first
camera frame or printed-ticket image every later 1-3 MB buffer comes from the heap instead of
its own mapping, and the heap fragments; (2) every thread that allocates gets its own arena
(up to 8 per core), each holding on to freed memory. A fixed mmap threshold returns large
buffers to the kernel on free, and two arenas are plenty for a GUI thread and a handful of
workers. Same run with these settings: 243 -> 255 MB, +4 MB after the first 500 sessions.

Environment variables (MALLOC_MMAP_THRESHOLD_, MALLOC_ARENA_MAX) would do the same, but only
if set before the interpreter starts; `mallopt` works from here for every later allocation
and also covers `kiosk simulate`, the tests and a hand-started kiosk. No library wraps this,
hence ctypes.
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

# From <malloc.h>.
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

MMAP_THRESHOLD_BYTES = 256 * 1024
ARENA_MAX = 2


def _libc() -> ctypes.CDLL | None:
    # By soname: ctypes.util.find_library runs ldconfig in a subprocess, which start-up
    # cannot afford.
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") else None  # musl has no mallopt


def tune_allocator() -> bool:
    """Apply the settings above; False (and nothing changed) where glibc is not in use."""
    libc = _libc()
    if libc is None:
        log.info("allocator: not glibc, defaults kept")
        return False
    ok = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        libc.mallopt(M_ARENA_MAX, ARENA_MAX))
    log.debug("allocator: mmap threshold %d B, %d arenas: %s", MMAP_THRESHOLD_BYTES,
              ARENA_MAX, "set" if ok else "refused")
    return ok


def freeze_startup_heap() -> int:
    """Move everything alive after start-up out of the cyclic collector's sight.

    A full (generation 2) collection walks every tracked object; with the kiosk's ~200,000
    start-up objects (Qt wrappers, pydantic models, the catalog) one took 34 ms on the GUI
    thread in `benchmarks/responsiveness.py` — the single worst event-loop stall of the
    session. What exists once Home is up lives as long as the process, so `gc.freeze()`
    (made for this, see its documentation) lets later collections walk only what sessions
    create. Reference counting still frees frozen objects; only cycles among them would stay,
    and start-up objects do not become garbage. Returns the number of objects frozen.
    """
    import gc

    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("start-up heap frozen: %d objects", frozen)
    return frozen


def trim_heap() -> bool:
    """Give the heap's free pages back to the kernel (glibc `malloc_trim(0)`); called when a
    resident's session ends, when the kiosk is idle.

    A session leaves free holes of many MB inside the heap (bundle pages, receipt images,
    QR codes, Python objects), and glibc keeps those pages resident until the holes happen to
    be reused: in `kiosk simulate` the resident set wandered 175-240 MB from one snapshot to
    the next (+26 MB between the 500th and the 5,000th session, no object count growing).
    With a trim after each session the same sessions stay at 197-203 MB once warm. It costs
    0.2 ms median, 10 ms at worst, on the GUI thread at Home. Returns False where there is
    no glibc.
    """
    libc = _libc()
    if libc is None or not hasattr(libc, "malloc_trim"):
        return False
    libc.malloc_trim(0)
    return True


def rss_mb(pid: int | str = "self") -> float:
    """A process's resident set in MB from /proc (this one by default); 0.0 when it is gone
    or there is no /proc. `kiosk run --exit-when-ready` and `kiosk simulate` report it."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:  # a worker between restarts
        pass
    return 0.0
