"""Fixtures of the developer tools' tests: a child process that renders ESC/POS streams and
says what each cost (see render_probe.py)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.waits import HANG_GUARD_S

PROBE = Path(__file__).with_name("render_probe.py")


def probe_env() -> dict[str, str]:
    # One BLAS thread: the probe measures the renderer, not a thread pool's reservations.
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


class RenderProbe:
    """The client of `render_probe.py serve`: one worker, restarted if a stream kills it."""

    def __init__(self) -> None:
        self.proc = self._start()

    @staticmethod
    def _start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, str(PROBE), "serve"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, env=probe_env())

    def render(self, data: bytes) -> dict[str, Any]:
        """What rendering `data` cost; "code" -2 if the worker died or hung on it."""
        proc = self.proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(struct.pack(">I", len(data)) + data)
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], HANG_GUARD_S)
            line = proc.stdout.readline() if ready else b""
        except BrokenPipeError:
            line = b""
        if line:
            reply: dict[str, Any] = json.loads(line)
            return reply
        self._stop(kill=True)
        self.proc = self._start()
        return {"code": -2, "cpu_s": 0.0, "peak_mb": 0.0, "err": "",
                "traceback": f"the worker died or hung (status {proc.returncode})"}

    def _stop(self, *, kill: bool) -> None:
        proc = self.proc
        if kill:
            proc.kill()
        for pipe in (proc.stdin, proc.stdout):  # stdin first: the worker's end of input
            if pipe is not None:
                with contextlib.suppress(BrokenPipeError):  # a dead worker reads nothing
                    pipe.close()
        proc.wait(timeout=HANG_GUARD_S)

    def close(self) -> None:
        self._stop(kill=False)


@pytest.fixture(scope="module")
def render_probe() -> Iterator[RenderProbe]:
    probe = RenderProbe()
    yield probe
    probe.close()
