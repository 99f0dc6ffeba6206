"""The allocator settings that keep a weeks-long kiosk's memory flat."""

from __future__ import annotations

import ctypes
import subprocess
import sys

import pytest

from kiosk.services import memory

# Frames freed while smaller buffers allocated between them stay alive: the pattern of a
# kiosk that decodes camera frames and keeps queue figures, strings and images around.
PROBE = """
import sys
from kiosk.services import memory
if sys.argv[1] == "tuned":
    memory.tune_allocator()
def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
warm = bytearray(1280 * 720 * 3); del warm   # glibc raises its mmap threshold here
frames, pins = [], []
for _ in range(20):
    frames.append(bytearray(b"\\x01") * (1280 * 720 * 3))
    pins.append(bytearray(b"\\x01") * 200_000)
before = rss()
del frames
print(before - rss())
"""


def _released_kb(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                         check=True, timeout=60)
    return int(out.stdout.strip())


def test_glibc_takes_the_settings() -> None:
    assert memory.tune_allocator() is True


def test_freed_camera_frames_go_back_to_the_kernel() -> None:
    frames_kb = 20 * 1280 * 720 * 3 // 1024
    tuned, default = _released_kb("tuned"), _released_kb("default")
    print(f"freed 20 frames ({frames_kb} kB): tuned returns {tuned} kB, "
          f"glibc defaults {default} kB")
    assert tuned > 0.9 * frames_kb
    # The control: without the settings the same pattern keeps the memory, so this test
    # would notice if the settings stopped being applied.
    assert default < 0.5 * frames_kb


def test_without_glibc_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_libc(name: str) -> ctypes.CDLL:
        raise OSError(f"{name}: not found")

    monkeypatch.setattr(memory.ctypes, "CDLL", no_libc)
    assert memory.tune_allocator() is False


def test_freezing_the_startup_heap_takes_it_out_of_full_collections() -> None:
    # In a child: a frozen heap stays frozen for the life of the process.
    script = """
import gc, time
from kiosk.services import memory
junk = [[i, {"k": str(i)}] for i in range(200_000)]  # what start-up leaves alive
t = time.perf_counter(); gc.collect(); before = time.perf_counter() - t
frozen = memory.freeze_startup_heap()
t = time.perf_counter(); gc.collect(); after = time.perf_counter() - t
print(frozen, gc.get_freeze_count(), before, after)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    frozen, count, before, after = int(out[0]), int(out[1]), float(out[2]), float(out[3])
    assert frozen == count >= 200_000
    assert after < before / 3  # a full collection no longer walks the frozen objects


def test_trimming_gives_freed_heap_pages_back() -> None:
    # Many small blocks (below the mmap threshold) freed in the middle of the heap stay
    # resident until trimmed; a survivor at the end keeps the heap from simply shrinking.
    script = """
import ctypes
from kiosk.services import memory
from kiosk.services.memory import rss_mb
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.malloc.argtypes = [ctypes.c_size_t]
blocks = [libc.malloc(64 * 1024) for _ in range(1600)]  # 100 MB
for b in blocks:
    ctypes.memset(b, 1, 64 * 1024)
keep = libc.malloc(64 * 1024)
for b in blocks:
    libc.free(b)
before = rss_mb()
ok = memory.trim_heap()
print(ok, before, rss_mb())
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    ok, before, after = out[0] == "True", float(out[1]), float(out[2])
    assert ok and before - after > 80, (before, after)
