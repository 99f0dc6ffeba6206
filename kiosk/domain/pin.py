"""The maintenance PIN: a salted scrypt hash in the config, and a lockout that survives restarts.

The config holds only `scrypt$n=16384,r=8,p=1$<salt>$<hash>` (standard base64), never the
PIN. scrypt is in the standard library (hashlib), so no dependency is needed; its cost
parameters travel inside the string, so they can be raised later without breaking old
hashes.

`PinGuard` counts wrong PINs in a small JSON file written atomically (temp file, fsync,
os.replace, fsync of the folder): 5 wrong PINs lock the maintenance screen for 15 minutes,
and neither a restart nor a power cut resets the count.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

log = logging.getLogger(__name__)

PIN_MIN_DIGITS = 6
PIN_MAX_DIGITS = 12
_PIN_RE = re.compile(rf"[0-9]{{{PIN_MIN_DIGITS},{PIN_MAX_DIGITS}}}")

# A PIN is checked rarely, so the cost is spent where it matters: on someone who copied the
# config (the time per check: docs/PERFORMANCE.md, "Measured choices in the code").
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32

# Bounds on what a config may ask for: a hand-edited n=2**30 must be refused at load time,
# not take gigabytes and minutes when someone first types a PIN.
_N_RANGE = (2**10, 2**20)
_R_RANGE = (1, 32)
_P_RANGE = (1, 16)
_MAX_MEMORY = 2**28  # 256 MiB: 128 * n * r bytes
_HASH_RE = re.compile(
    r"scrypt\$n=(?P<n>[0-9]{1,8}),r=(?P<r>[0-9]{1,3}),p=(?P<p>[0-9]{1,3})"
    r"\$(?P<salt>[A-Za-z0-9+/]+={0,2})\$(?P<hash>[A-Za-z0-9+/]+={0,2})"
)


@dataclass(frozen=True)
class ScryptHash:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    def encode(self) -> str:
        salt = base64.b64encode(self.salt).decode("ascii")
        digest = base64.b64encode(self.digest).decode("ascii")
        return f"scrypt$n={self.n},r={self.r},p={self.p}${salt}${digest}"


def _scrypt(pin: str, n: int, r: int, p: int, salt: bytes, dklen: int) -> bytes:
    # OpenSSL's default maxmem (32 MiB) is below what n=2**15, r=8 needs (128*n*r bytes);
    # allow the largest the accepted parameters can ask for.
    maxmem = 128 * n * r * p + 2**20
    return hashlib.scrypt(pin.encode("ascii"), salt=salt, n=n, r=r, p=p, maxmem=maxmem,
                          dklen=dklen)


def is_valid_pin(pin: str) -> bool:
    """6-12 ASCII digits (str.isdigit would also take '٣' and '³')."""
    # fullmatch, not "^...$": "$" also matches before a final newline.
    return isinstance(pin, str) and bool(_PIN_RE.fullmatch(pin))


def weak_pin_reason(pin: str) -> str | None:
    """Why a PIN is too easy to guess, or None. Only for choosing a PIN (`kiosk hash-pin`)."""
    if not is_valid_pin(pin):
        return f"the PIN must be {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits"
    digits = [int(c) for c in pin]
    if len(set(digits)) == 1:
        return "all digits are the same"
    steps = {(b - a) % 10 for a, b in itertools.pairwise(digits)}
    if steps in ({1}, {9}):
        return "the digits count up or down (like 123456)"
    for block in (2, 3):
        if len(pin) % block == 0 and pin == pin[:block] * (len(pin) // block):
            return "the PIN repeats a short pattern (like 121212)"
    return None


def parse_hash(encoded: str) -> ScryptHash:
    """Split a stored hash; ValueError (with a message for the technician) if malformed."""
    m = _HASH_RE.fullmatch(encoded) if isinstance(encoded, str) else None
    if m is None:
        raise ValueError(
            "expected scrypt$n=...,r=...,p=...$<salt>$<hash>, as printed by `kiosk hash-pin`"
        )
    n, r, p = int(m["n"]), int(m["r"]), int(m["p"])
    if n & (n - 1) or not _N_RANGE[0] <= n <= _N_RANGE[1]:
        raise ValueError(f"scrypt n must be a power of two from {_N_RANGE[0]} to {_N_RANGE[1]}")
    if not _R_RANGE[0] <= r <= _R_RANGE[1] or not _P_RANGE[0] <= p <= _P_RANGE[1]:
        raise ValueError(f"scrypt r must be in {_R_RANGE} and p in {_P_RANGE}")
    if 128 * n * r > _MAX_MEMORY:
        raise ValueError("scrypt n and r ask for more than 256 MiB")
    try:
        salt = base64.b64decode(m["salt"], validate=True)
        digest = base64.b64decode(m["hash"], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the salt and hash must be base64") from None
    if len(salt) < SALT_BYTES:
        raise ValueError(f"the salt must be at least {SALT_BYTES} bytes")
    if not 16 <= len(digest) <= 64:
        raise ValueError("the hash must be 16 to 64 bytes")
    return ScryptHash(n, r, p, salt, digest)


def hash_pin(pin: str) -> str:
    """A new salted hash for the config. ValueError if the PIN is not 6-12 digits."""
    if not is_valid_pin(pin):
        raise ValueError(f"the PIN must be {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits")
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(pin, SCRYPT_N, SCRYPT_R, SCRYPT_P, salt, HASH_BYTES)
    return ScryptHash(SCRYPT_N, SCRYPT_R, SCRYPT_P, salt, digest).encode()


def verify_pin(pin: str, encoded: str) -> bool:
    """True if `pin` matches; False for a wrong, ill-formed PIN or an ill-formed hash."""
    try:
        stored = parse_hash(encoded)
    except ValueError:
        return False
    if not is_valid_pin(pin):
        return False  # the format is public knowledge; returning early reveals nothing
    digest = _scrypt(pin, stored.n, stored.r, stored.p, stored.salt, len(stored.digest))
    return hmac.compare_digest(digest, stored.digest)


class PinStatus(Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    DISABLED = "disabled"  # no PIN configured: the maintenance screen cannot be opened


@dataclass(frozen=True)
class PinResult:
    status: PinStatus
    remaining: int = 0  # WRONG: attempts left before the lock
    until: float | None = None  # LOCKED: when it opens again (the guard's clock, Unix s)

    @property
    def ok(self) -> bool:
        return self.status is PinStatus.OK


@dataclass
class _State:
    failures: int = 0
    locked_until: float | None = None


class PinGuard:
    """Checks maintenance PINs, locking after `lock_after` wrong ones in a row.

    The clock is wall time, not monotonic: the lock must outlive a reboot. A clock set back
    cannot stretch a lock beyond `lock_minutes` from now (see `_load`). Thread-safe, so a
    caller may run `try_pin` (about 50 ms of scrypt) off the GUI thread.
    """

    def __init__(
        self,
        state_file: Path,
        encoded_hash: str,
        clock: Callable[[], float] = time.time,
        *,
        lock_after: int = 5,
        lock_minutes: float = 15,
    ) -> None:
        if lock_after < 1 or lock_minutes <= 0:
            raise ValueError("lock_after must be >= 1 and lock_minutes > 0")
        if encoded_hash:
            parse_hash(encoded_hash)  # a broken hash is a config error, not "every PIN wrong"
        self.state_file = Path(state_file)
        self._hash = encoded_hash
        self._clock = clock
        self.lock_after = lock_after
        self.lock_s = lock_minutes * 60.0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self._hash)

    def locked_until(self) -> float | None:
        """When the lock opens again (the guard's clock), or None if not locked."""
        with self._lock:
            return self._load(self._clock()).locked_until

    def attempts_left(self) -> int:
        """Wrong PINs still allowed before the lock (0 while locked)."""
        with self._lock:
            state = self._load(self._clock())
        return 0 if state.locked_until is not None else self.lock_after - state.failures

    def try_pin(self, pin: str) -> PinResult:
        if not self.enabled:
            log.warning("maintenance PIN entered, but no PIN is configured")
            return PinResult(PinStatus.DISABLED)
        with self._lock:
            now = self._clock()
            state = self._load(now)
            if state.locked_until is not None:
                log.warning("maintenance PIN entered while locked")
                return PinResult(PinStatus.LOCKED, until=state.locked_until)
            # Counted before checking: a power cut during the check (or a kill timed to it)
            # must not give a free attempt.
            state.failures += 1
            self._save(state)
            if verify_pin(pin, self._hash):
                self._save(_State())
                log.info("maintenance PIN accepted")
                return PinResult(PinStatus.OK)
            if state.failures >= self.lock_after:
                state.locked_until = now + self.lock_s
                self._save(state)
                log.warning("maintenance PIN wrong %d times: locked for %.0f min",
                            state.failures, self.lock_s / 60)
                return PinResult(PinStatus.LOCKED, until=state.locked_until)
            remaining = self.lock_after - state.failures
            log.warning("maintenance PIN wrong (%d attempts left)", remaining)
            return PinResult(PinStatus.WRONG, remaining=remaining)

    # --- the state file ------------------------------------------------------------------
    def _load(self, now: float) -> _State:
        """The current state, with an expired lock cleared and a stretched lock clamped."""
        try:
            raw = json.loads(self.state_file.read_text("utf-8"))
            failures = raw["failures"]
            until = raw["locked_until"]
            if not isinstance(failures, int) or isinstance(failures, bool) or failures < 0:
                raise ValueError("failures")
            if until is not None and not isinstance(until, int | float):
                raise ValueError("locked_until")
            state = _State(failures, None if until is None else float(until))
        except FileNotFoundError:
            return _State()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Fail closed: an unreadable counter must not become a fresh set of attempts.
            log.error("PIN state file %s unreadable (%s): locking", self.state_file,
                      type(exc).__name__)
            state = _State(self.lock_after, now + self.lock_s)
            self._save(state)
            return state
        changed = False
        if state.failures >= self.lock_after and state.locked_until is None:
            # The last attempt was counted but the process died before writing the lock.
            state.locked_until = now + self.lock_s
            changed = True
        if state.locked_until is not None:
            if state.locked_until > now + self.lock_s:
                state.locked_until = now + self.lock_s  # the clock was set back
                changed = True
            elif state.locked_until <= now:
                state = _State()  # the lock has run out: a fresh set of attempts
                changed = True
        if changed:
            self._save(state)
        return state

    def _save(self, state: _State) -> None:
        data = json.dumps({"failures": state.failures, "locked_until": state.locked_until})
        atomic_write(self.state_file, data.encode("utf-8"))


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # The rename itself lives in the folder: sync it too, or a power cut may undo it.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
