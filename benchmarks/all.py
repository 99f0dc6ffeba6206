"""Every figure of docs/PERFORMANCE.md, one benchmark after the other, in one command.

Each script runs its alternatives and anchors side by side in its own run and prints ratios
(these machines are shared and noisy); this only runs them in turn, one at a time so that
they do not load the machine for each other, and prints their output under one heading
each, with the time each took. About 6 minutes on 2 cores, the first time a minute more
(the QR frame set is built and cached in the temp folder).

    .venv/bin/python benchmarks/all.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

RUNS: list[tuple[str, list[str]]] = [
    ("QR decoding: the pipeline against pyzbar, zxing-cpp and OpenCV alone",
     ["scan_bench.py", "--count", "400", "--seed", "2026", "--steps"]),
    ("End to end: frame with a code to ticket bytes at the printer",
     ["e2e_scan_to_print.py", "--runs", "40", "--decoders", "combined,pyzbar"]),
    ("Start-up to Home and memory at Home", ["startup.py", "--runs", "10"]),
    ("Printing: bytes per ticket and receipt against raster", ["printing.py"]),
    ("Event-loop stalls, preview rate, tap to printer", ["responsiveness.py", "--tickets", "30"]),
]


def main() -> int:
    failed = 0
    for title, args in RUNS:
        print(f"\n## {title}\n\n$ python benchmarks/{' '.join(args)}", flush=True)
        started = time.monotonic()
        code = subprocess.run([sys.executable, str(HERE / args[0]), *args[1:]]).returncode
        print(f"({time.monotonic() - started:.0f} s, exit {code})", flush=True)
        failed += code != 0
    print("\nreproduce: python benchmarks/all.py")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
