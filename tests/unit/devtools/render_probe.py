"""A child process that renders ESC/POS streams and measures what each one cost.

Run by the tests of the renderer's limits (test_escpos_render_limits.py), never imported by
them: memory is measured in a process of its own, where nothing else the test run holds
(Qt, other tests' leftovers) counts against the stream, and an address-space ceiling keeps
a stream that would take gigabytes from taking them from the machine (it fails with
MemoryError instead, which the test reports).

    python render_probe.py cli receipt-render FILE ...   the real `kiosk` command line;
                                                         the parent reads its rusage
    python render_probe.py serve                         a worker: on stdin, streams as
        4-byte big-endian length + bytes; on stdout, one JSON line per stream:
        {"code": exit status, "cpu_s": CPU seconds, "peak_mb": peak resident MB,
         "err": what the command wrote to stderr (its start), "traceback": "" or one}

Each stream goes through `main_render_command`, what `kiosk receipt-render FILE --text -o
ticket.png` runs after parsing its options: text, drawing and PNG file included.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import struct
import sys
import tempfile
import time
import traceback
from pathlib import Path

# Far above the 300 MB a stream may use, far below what the machine has.
ADDRESS_SPACE_LIMIT = 3 * 1024**3
STDERR_KEPT = 2000


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def _reset_peak() -> bool:
    """Start a new peak (VmHWM) from the current resident size (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _peak_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    # No /proc: the process's lifetime peak, an upper bound of this stream's.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _read_exactly(stream: io.BufferedReader, n: int) -> bytes | None:
    chunks: list[bytes] = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def serve() -> None:
    _limit_memory()
    from kiosk.cli.dev import main_render_command

    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    requests = sys.stdin.buffer
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as devnull:
        src, png = Path(tmp) / "stream.bin", Path(tmp) / "stream.png"
        while True:
            head = _read_exactly(requests, 4)
            if head is None:
                break
            data = _read_exactly(requests, struct.unpack(">I", head)[0])
            if data is None:
                break
            src.write_bytes(data)
            png.unlink(missing_ok=True)
            err = io.StringIO()
            tb = ""
            _reset_peak()
            start = time.process_time()
            with contextlib.redirect_stdout(devnull), contextlib.redirect_stderr(err):
                try:
                    code = main_render_command(str(src), text=True, out=str(png), columns=48,
                                               paper_dots=576, chinese_default=True)
                except BaseException:  # reported to the test, which fails
                    code, tb = -1, traceback.format_exc()
            reply = {"code": code, "cpu_s": time.process_time() - start,
                     "peak_mb": _peak_mb(), "err": err.getvalue()[:STDERR_KEPT],
                     "traceback": tb}
            replies.write(json.dumps(reply) + "\n")
            replies.flush()
    replies.close()


def cli(argv: list[str]) -> int:
    """The command line; with KIOSK_PROBE_PEAK_FILE set, its own peak memory is written
    there. The kernel's ru_maxrss of a child also counts the parent's resident size at
    fork, which after a long test session is hundreds of MB that are not the command's."""
    _limit_memory()
    _reset_peak()
    from kiosk.cli import main

    try:
        return main(argv)
    finally:
        peak_file = os.environ.get("KIOSK_PROBE_PEAK_FILE")
        if peak_file:
            Path(peak_file).write_text(f"{_peak_mb():.1f}\n", "utf-8")


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve()
    elif sys.argv[1:2] == ["cli"]:
        raise SystemExit(cli(sys.argv[2:]))
    else:
        raise SystemExit("usage: render_probe.py serve | cli ARGS...")
