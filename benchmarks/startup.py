"""Start-up time and memory at Home, against the bare import of the libraries (the anchor).

Each round runs, alternately, the kiosk until Home accepts touches (`kiosk run --windowed
--exit-when-ready`, offscreen, emulated hardware) and the anchor command
`python -c "import PySide6.QtWidgets, cv2, pyzbar.pyzbar, escpos.printer"`, timing each from
process start. Machines here are shared and noisy: compare the ratio, not the seconds.

    python benchmarks/startup.py --runs 15
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIOSK = [sys.executable, "-m", "kiosk", "run", "--windowed", "--exit-when-ready"]
ANCHOR = [sys.executable, "-c", "import PySide6.QtWidgets, cv2, pyzbar.pyzbar, escpos.printer"]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    elapsed = time.monotonic() - start
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr[-500:]}")
    return elapsed, out.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    # The kiosk as packaging/setup.sh leaves it: its modules compiled to bytecode (the
    # anchor's libraries were compiled by pip when they were installed).
    subprocess.run([sys.executable, "-m", "compileall", "-q", "kiosk"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    timed(KIOSK, env)  # warm the file cache once; cold starts are another question
    kiosk_s, anchor_s, rss = [], [], []
    for _ in range(args.runs):
        t, out = timed(KIOSK, env)
        kiosk_s.append(t)
        line = next(ln for ln in out.splitlines() if ln.startswith("ready"))
        rss.append(float(line.split()[3]))
        anchor_s.append(timed(ANCHOR, env)[0])
    km, am = statistics.median(kiosk_s), statistics.median(anchor_s)
    print(f"start-up to Home, median of {args.runs}: {km * 1000:.0f} ms "
          f"(anchor: bare import {am * 1000:.0f} ms; ratio {km / am:.2f}x)")
    print(f"resident memory at Home: median {statistics.median(rss):.0f} MB, "
          f"max {max(rss):.0f} MB")
    print(f"reproduce: python benchmarks/startup.py --runs {args.runs}")


if __name__ == "__main__":
    main()
