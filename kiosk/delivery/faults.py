"""Network faults between the kiosk and its backend, injected at run time.

The embedded backend lives in the same process and never drops a packet, yet a real hall's
backend does: refused connections, hangs, 5xx answers, and the worst case, a reply lost
after the backend has already committed. This proxy stands where the network would, so the
outbox, retries and messages above it run exactly as they would against a remote backend.
It forwards every call unchanged while the link is up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from kiosk.backend.interface import BackendError


class BackendUnreachable(BackendError):
    pass


class BackendNotReached(BackendUnreachable):
    """The request never left the kiosk (connection refused, no such host): the backend
    cannot have acted on it. Other failures (a timeout, a connection cut mid-answer) leave
    that open, and a ticket request must then be resolved before the resident is told."""


class BackendTimeout(BackendError):
    pass


class BackendConnectTimeout(BackendTimeout, BackendNotReached):
    """No connection within the connect timeout (a link that drops packets, a host that is
    off): a timeout, and yet nothing was sent, so the backend cannot have acted on it."""


class FaultyLink:
    MODES = ("up", "slow", "down", "hang", "server_error", "lost_reply")

    def __init__(self, inner: Any, *, timeout_s: float = 5.0) -> None:
        self._inner = inner
        self._mode = "up"
        self._lock = threading.Lock()
        self.timeout_s = timeout_s
        self.slow_s = 0.3
        self.calls = 0
        # Told of every call forwarded, on the calling thread: its seconds and what it raised
        # (None if nothing). The terminal's metrics time backend requests here, where every
        # call passes whichever backend the kiosk has (kiosk.services.metrics).
        self.on_call: Callable[[float, BaseException | None], None] | None = None

    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}")
        with self._lock:
            self._mode = mode

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target) or name.startswith("_") or name in ("close", "trusted_keys"):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            observe = self.on_call
            if observe is None:
                return forward(*args, **kwargs)
            started = time.monotonic()
            try:
                result = forward(*args, **kwargs)
            except BaseException as exc:
                observe(time.monotonic() - started, exc)
                raise
            observe(time.monotonic() - started, None)
            return result

        def forward(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                mode = self._mode
                self.calls += 1
            if mode == "down":
                raise BackendNotReached("connection refused")
            if mode == "hang":
                # A request with a timeout (never without one) waits this long, then fails.
                time.sleep(self.timeout_s)
                raise BackendTimeout(f"no answer within {self.timeout_s:.0f} s")
            if mode == "slow":
                time.sleep(self.slow_s)  # a busy backend: late, but it answers
            if mode == "server_error":
                raise BackendError("HTTP 503 from the backend")
            result = target(*args, **kwargs)
            if mode == "lost_reply":
                raise BackendTimeout("the reply was lost after the backend acted")
            return result

        return call
