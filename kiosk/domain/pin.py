"""The maintenance PIN: a salted Argon2id hash in the config, and a lockout nobody can reset
by deleting a file or stepping the clock.

The config holds only `argon2id$v=19,m=65536,t=3,p=1$<salt>$<hash>` (standard base64), never
the PIN. PINs are 10-12 digits and each guess costs a memory-hard hash, so that searching
every PIN of the shortest length takes years on the terminal's own hardware
(`benchmarks/pin_cost.py`, docs/PERFORMANCE.md). Hashes written by an older `kiosk hash-pin`
(`scrypt$n=...`, 6-12 digits) still verify, so an upgraded terminal keeps working; the guard
logs that the PIN should be set again.

`PinGuard` keeps the count of wrong PINs in a small JSON file written atomically (temp file,
fsync, os.replace, fsync of the folder, mode 0600): 5 wrong PINs lock the maintenance screen
for 15 minutes. The file is authenticated with an HMAC keyed by the PIN hash, so writing a
valid one takes the hash, and whoever can read the hash can search for the PIN offline anyway
(years). A missing, unreadable, malformed, non-finite or forged file means "locked": for one
full lock period, or until a technician runs `kiosk reset-pin-lock`. Lock time is counted on
the monotonic clock within a boot; across a reboot only the time served before it counts.
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
import math
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
from typing import Any

from argon2.low_level import Type, hash_secret_raw

log = logging.getLogger(__name__)

STATE_FILE_NAME = "maintenance-pin-state.json"  # in the kiosk's data_dir

# 10 digits at least: with the Argon2id cost below, all 10**10 PINs of the shortest length
# take years to search on the terminal itself (figures: docs/PERFORMANCE.md).
PIN_MIN_DIGITS = 10
PIN_MAX_DIGITS = 12
_PIN_RE = re.compile(rf"[0-9]{{{PIN_MIN_DIGITS},{PIN_MAX_DIGITS}}}")
# What an old scrypt hash may have been made from: checked, never chosen any more.
LEGACY_PIN_MIN_DIGITS = 6
_ANY_PIN_RE = re.compile(rf"[0-9]{{{LEGACY_PIN_MIN_DIGITS},{PIN_MAX_DIGITS}}}")

# RFC 9106's second recommended setting (64 MiB, 3 passes, 1 lane). One lane: a guesser
# with many cores runs many guesses side by side anyway, so lanes only speed the kiosk up
# as much as the guesser.
ARGON2_MEMORY_KIB = 64 * 1024
ARGON2_TIME = 3
ARGON2_LANES = 1
ARGON2_VERSION = 19
SALT_BYTES = 16
HASH_BYTES = 32

# Bounds on what a config may ask for: a hand-edited m=2**30 must be refused at load time,
# not take gigabytes and minutes when someone first types a PIN.
_ARGON2_MEMORY_RANGE = (8 * 1024, 256 * 1024)  # KiB
_ARGON2_TIME_RANGE = (1, 16)
_ARGON2_LANES_RANGE = (1, 8)
_N_RANGE = (2**10, 2**20)
_R_RANGE = (1, 32)
_P_RANGE = (1, 16)
_MAX_MEMORY = 2**28  # 256 MiB: 128 * n * r bytes
_B64 = r"[A-Za-z0-9+/]+={0,2}"
_HASH_RE = re.compile(
    r"scrypt\$n=(?P<n>[0-9]{1,8}),r=(?P<r>[0-9]{1,3}),p=(?P<p>[0-9]{1,3})"
    rf"\$(?P<salt>{_B64})\$(?P<hash>{_B64})"
)
_ARGON2_RE = re.compile(
    r"argon2id\$v=(?P<v>[0-9]{1,3}),m=(?P<m>[0-9]{1,8}),t=(?P<t>[0-9]{1,3}),"
    rf"p=(?P<p>[0-9]{{1,3}})\$(?P<salt>{_B64})\$(?P<hash>{_B64})"
)
_EXPECTED = ("expected argon2id$v=19,m=...,t=...,p=...$<salt>$<hash>, as printed by"
             " `kiosk hash-pin`")


@dataclass(frozen=True)
class ScryptHash:
    """A hash made by `kiosk hash-pin` before Argon2id; still verified."""

    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    def encode(self) -> str:
        salt = base64.b64encode(self.salt).decode("ascii")
        digest = base64.b64encode(self.digest).decode("ascii")
        return f"scrypt$n={self.n},r={self.r},p={self.p}${salt}${digest}"

    def compute(self, pin: str) -> bytes:
        return _scrypt(pin, self.n, self.r, self.p, self.salt, len(self.digest))


@dataclass(frozen=True)
class Argon2Hash:
    memory_kib: int
    time_cost: int
    lanes: int
    salt: bytes
    digest: bytes

    def encode(self) -> str:
        salt = base64.b64encode(self.salt).decode("ascii")
        digest = base64.b64encode(self.digest).decode("ascii")
        return (f"argon2id$v={ARGON2_VERSION},m={self.memory_kib},t={self.time_cost},"
                f"p={self.lanes}${salt}${digest}")

    def compute(self, pin: str) -> bytes:
        return _argon2(pin, self.memory_kib, self.time_cost, self.lanes, self.salt,
                       len(self.digest))


def _scrypt(pin: str, n: int, r: int, p: int, salt: bytes, dklen: int) -> bytes:
    # OpenSSL's default maxmem (32 MiB) is below what n=2**15, r=8 needs (128*n*r bytes);
    # allow the largest the accepted parameters can ask for.
    maxmem = 128 * n * r * p + 2**20
    return hashlib.scrypt(pin.encode("ascii"), salt=salt, n=n, r=r, p=p, maxmem=maxmem,
                          dklen=dklen)


def _argon2(pin: str, memory_kib: int, time_cost: int, lanes: int, salt: bytes,
            dklen: int) -> bytes:
    # argon2-cffi releases the GIL while it hashes, so a check on a worker thread leaves
    # the GUI thread free.
    return hash_secret_raw(pin.encode("ascii"), salt, time_cost=time_cost,
                           memory_cost=memory_kib, parallelism=lanes, hash_len=dklen,
                           type=Type.ID, version=ARGON2_VERSION)


def is_valid_pin(pin: str) -> bool:
    """10-12 ASCII digits (str.isdigit would also take '٣' and '³')."""
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
        return "the digits count up or down (like 1234567890)"
    for block in range(2, len(pin) // 2 + 1):
        if len(pin) % block == 0 and pin == pin[:block] * (len(pin) // block):
            return "the PIN repeats a short pattern (like 1212121212)"
    return None


def _b64(salt: str, digest: str) -> tuple[bytes, bytes]:
    try:
        raw_salt = base64.b64decode(salt, validate=True)
        raw_digest = base64.b64decode(digest, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the salt and hash must be base64") from None
    if len(raw_salt) < SALT_BYTES:
        raise ValueError(f"the salt must be at least {SALT_BYTES} bytes")
    if not 16 <= len(raw_digest) <= 64:
        raise ValueError("the hash must be 16 to 64 bytes")
    return raw_salt, raw_digest


def parse_hash(encoded: str) -> Argon2Hash | ScryptHash:
    """Split a stored hash; ValueError (with a message for the technician) if malformed."""
    if not isinstance(encoded, str):
        raise ValueError(_EXPECTED)
    m = _ARGON2_RE.fullmatch(encoded)
    if m is not None:
        mem, t, p = int(m["m"]), int(m["t"]), int(m["p"])
        if int(m["v"]) != ARGON2_VERSION:
            raise ValueError(f"argon2id v must be {ARGON2_VERSION}")
        lo, hi = _ARGON2_MEMORY_RANGE
        if not lo <= mem <= hi:
            raise ValueError(f"argon2id m must be {lo} to {hi} KiB")
        if not _ARGON2_TIME_RANGE[0] <= t <= _ARGON2_TIME_RANGE[1]:
            raise ValueError(f"argon2id t must be in {_ARGON2_TIME_RANGE}")
        if not _ARGON2_LANES_RANGE[0] <= p <= _ARGON2_LANES_RANGE[1]:
            raise ValueError(f"argon2id p must be in {_ARGON2_LANES_RANGE}")
        if mem < 8 * p:
            raise ValueError("argon2id m must be at least 8 KiB per lane")
        return Argon2Hash(mem, t, p, *_b64(m["salt"], m["hash"]))
    m = _HASH_RE.fullmatch(encoded)
    if m is None:
        raise ValueError(_EXPECTED)
    n, r, p = int(m["n"]), int(m["r"]), int(m["p"])
    if n & (n - 1) or not _N_RANGE[0] <= n <= _N_RANGE[1]:
        raise ValueError(f"scrypt n must be a power of two from {_N_RANGE[0]} to {_N_RANGE[1]}")
    if not _R_RANGE[0] <= r <= _R_RANGE[1] or not _P_RANGE[0] <= p <= _P_RANGE[1]:
        raise ValueError(f"scrypt r must be in {_R_RANGE} and p in {_P_RANGE}")
    if 128 * n * r > _MAX_MEMORY:
        raise ValueError("scrypt n and r ask for more than 256 MiB")
    return ScryptHash(n, r, p, *_b64(m["salt"], m["hash"]))


def hash_advice(encoded: str) -> str | None:
    """What a technician should do about a (valid) stored hash, or None if nothing."""
    if isinstance(parse_hash(encoded), ScryptHash):
        return ("the maintenance PIN hash was written by an older `kiosk hash-pin` (scrypt,"
                " PINs of 6 digits allowed: searchable offline in hours); run `kiosk hash-pin`"
                f" again to set a PIN of {PIN_MIN_DIGITS}-{PIN_MAX_DIGITS} digits")
    return None


def hash_pin(pin: str) -> str:
    """A new salted hash for the config. ValueError if the PIN is not 10-12 digits."""
    if not is_valid_pin(pin):
        raise ValueError(f"the PIN must be {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits")
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _argon2(pin, ARGON2_MEMORY_KIB, ARGON2_TIME, ARGON2_LANES, salt, HASH_BYTES)
    return Argon2Hash(ARGON2_MEMORY_KIB, ARGON2_TIME, ARGON2_LANES, salt, digest).encode()


def verify_pin(pin: str, encoded: str) -> bool:
    """True if `pin` matches; False for a wrong, ill-formed PIN or an ill-formed hash."""
    try:
        stored = parse_hash(encoded)
    except ValueError:
        return False
    # 6-12 digits: an old scrypt hash may hold a 6-digit PIN. The format is public
    # knowledge; returning early reveals nothing.
    if not isinstance(pin, str) or not _ANY_PIN_RE.fullmatch(pin):
        return False
    return hmac.compare_digest(stored.compute(pin), stored.digest)


def read_boot_id() -> str:
    """The kernel's id of this boot ("" where there is none: every start is then a boot)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text("ascii").strip()
    except OSError:
        return ""


class PinStatus(Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    DISABLED = "disabled"  # no PIN configured: the maintenance screen cannot be opened


@dataclass(frozen=True)
class PinResult:
    status: PinStatus
    remaining: int = 0  # WRONG: attempts left before the lock
    until: float | None = None  # LOCKED: when it opens again, for display (Unix s)

    @property
    def ok(self) -> bool:
        return self.status is PinStatus.OK


@dataclass
class _State:
    failures: int = 0
    lock_left_s: float | None = None  # locked: seconds still to serve, as of `mono`


class _Untrusted(Exception):
    """The state file cannot be believed; the reason is the message (no content)."""


_MAC_CONTEXT = b"kiosk maintenance PIN lock state v2"


def _state_key(encoded_hash: str) -> bytes:
    # The PIN hash is the one secret the kiosk has that a person at the data folder should
    # not; whoever can read it can search for the PIN offline, so forging the state would
    # give them nothing they lack.
    return hmac.new(encoded_hash.encode("ascii"), _MAC_CONTEXT, hashlib.sha256).digest()


def _mac(key: bytes, fields: dict[str, Any]) -> str:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def _refuse_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name}")


def _finite(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Untrusted(f"{name} is not a number")
    result = float(value)
    if not math.isfinite(result):
        raise _Untrusted(f"{name} is not finite")
    return result


class PinGuard:
    """Checks maintenance PINs, locking after `lock_after` wrong ones in a row.

    Lock time is counted on `clock` (monotonic: a stepped wall clock neither shortens nor
    stretches it) and tied to the boot it was counted in: after a reboot only the time
    served before it (as last written down) counts, so a reboot never ends a lock early.
    `wall` only turns the time left into a time of day for the screen. Thread-safe, so a
    caller runs `try_pin` (a few hundred ms of Argon2id) off the GUI thread.
    """

    def __init__(
        self,
        state_file: Path,
        encoded_hash: str,
        clock: Callable[[], float] = time.monotonic,
        *,
        wall: Callable[[], float] = time.time,
        boot_id: Callable[[], str] = read_boot_id,
        lock_after: int = 5,
        lock_minutes: float = 15,
    ) -> None:
        if lock_after < 1 or lock_minutes <= 0:
            raise ValueError("lock_after must be >= 1 and lock_minutes > 0")
        if encoded_hash:
            parse_hash(encoded_hash)  # a broken hash is a config error, not "every PIN wrong"
            advice = hash_advice(encoded_hash)
            if advice:
                log.warning("%s", advice)
        self.state_file = Path(state_file)
        self._hash = encoded_hash
        self._key = _state_key(encoded_hash) if encoded_hash else b""
        self._clock = clock
        self._wall = wall
        self._boot_id = boot_id
        self.lock_after = lock_after
        self.lock_s = lock_minutes * 60.0
        self._lock = threading.Lock()
        # The highest sequence number seen or written: a valid file older than that was
        # copied back, and is refused like a forged one.
        self._seq = 0

    @property
    def enabled(self) -> bool:
        return bool(self._hash)

    def locked_until(self) -> float | None:
        """When the lock opens again (wall time, for display), or None if not locked."""
        with self._lock:
            left = self._load().lock_left_s
        return None if left is None else self._wall() + left

    def attempts_left(self) -> int:
        """Wrong PINs still allowed before the lock (0 while locked)."""
        with self._lock:
            state = self._load()
        return 0 if state.lock_left_s is not None else self.lock_after - state.failures

    def reset(self, owner: tuple[int, int] | None = None) -> None:
        """A fresh count with no lock: what `kiosk hash-pin` and `kiosk reset-pin-lock`
        write (whoever can run them can read the PIN hash); `owner` (uid, gid) for the file
        when root writes it for the kiosk's user."""
        if not self.enabled:
            raise ValueError("no maintenance PIN is configured")
        with self._lock:
            # Above any number the running kiosk has written since it last read the file.
            with contextlib.suppress(_Untrusted):
                self._read()  # takes the file's sequence number when it is valid
            self._seq = max(self._seq, time.time_ns() // 1000)
            self._save(_State(), owner)
        log.info("maintenance PIN lock reset")

    def try_pin(self, pin: str) -> PinResult:
        if not self.enabled:
            log.warning("maintenance PIN entered, but no PIN is configured")
            return PinResult(PinStatus.DISABLED)
        with self._lock:
            state = self._load()
            if state.lock_left_s is not None:
                log.warning("maintenance PIN entered while locked")
                return self._locked(state.lock_left_s)
            # Counted before checking: a power cut during the check (or a kill timed to it)
            # must not give a free attempt.
            state.failures += 1
            self._save(state)
            if verify_pin(pin, self._hash):
                self._save(_State())
                log.info("maintenance PIN accepted")
                return PinResult(PinStatus.OK)
            if state.failures >= self.lock_after:
                state.lock_left_s = self.lock_s
                self._save(state)
                log.warning("maintenance PIN wrong %d times: locked for %.0f min",
                            state.failures, self.lock_s / 60)
                return self._locked(self.lock_s)
            remaining = self.lock_after - state.failures
            log.warning("maintenance PIN wrong (%d attempts left)", remaining)
            return PinResult(PinStatus.WRONG, remaining=remaining)

    def _locked(self, left: float) -> PinResult:
        return PinResult(PinStatus.LOCKED, until=self._wall() + left)

    # --- the state file ------------------------------------------------------------------
    def _load(self) -> _State:
        """The current state with the time served counted; fails closed."""
        try:
            state, boot, mono = self._read()
        except _Untrusted as why:
            # Fail closed: a state that cannot be believed must not become a fresh set of
            # attempts. Written down, so the lock runs from now and then ends.
            log.error("PIN state file %s %s: locked for %.0f min (or `kiosk reset-pin-lock`)",
                      self.state_file, why, self.lock_s / 60)
            state = _State(self.lock_after, self.lock_s)
            with contextlib.suppress(OSError):  # unwritable: locked at every check, closed
                self._save(state)
            return state
        if state.failures >= self.lock_after and state.lock_left_s is None:
            # The last attempt was counted but the process died before writing the lock.
            state.lock_left_s = self.lock_s
        elif state.lock_left_s is None:
            return state
        elif boot == self._boot_id():
            state.lock_left_s -= self._clock() - mono
        # else another boot: the time since the last write is unknown and does not count.
        if state.lock_left_s <= 0:
            state = _State()  # the lock has run out: a fresh set of attempts
        # Written down again, so that the time served so far survives a reboot.
        self._save(state)
        return state

    def _read(self) -> tuple[_State, str, float]:
        try:
            text = self.state_file.read_text("utf-8")
        except FileNotFoundError:
            raise _Untrusted("is missing") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise _Untrusted(f"is unreadable ({type(exc).__name__})") from None
        try:
            raw = json.loads(text, parse_constant=_refuse_constant)
        except ValueError:
            raise _Untrusted("is not JSON") from None
        if not isinstance(raw, dict) or set(raw) != {"v", "seq", "failures", "lock_left_s",
                                                     "boot", "mono", "mac"}:
            raise _Untrusted("has the wrong fields")
        mac = raw.pop("mac")
        if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(self._key, raw)):
            raise _Untrusted("does not match its MAC (edited, or written for another PIN)")
        failures, seq, left, boot = raw["failures"], raw["seq"], raw["lock_left_s"], raw["boot"]
        if raw["v"] != 2 or not isinstance(boot, str):
            raise _Untrusted("has the wrong version")
        for name, value in (("failures", failures), ("seq", seq)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise _Untrusted(f"has a bad {name}")
        mono = _finite(raw["mono"], "mono")
        if left is not None:
            # A shorter lock_minutes in the config shortens a lock already running.
            left = min(_finite(left, "lock_left_s"), self.lock_s)
        if boot == self._boot_id() and mono > self._clock():
            raise _Untrusted("is from the future (monotonic time never runs back in a boot)")
        if seq < self._seq:
            raise _Untrusted("is older than one this kiosk wrote (copied back)")
        self._seq = seq
        return _State(failures, left), boot, mono


    def _save(self, state: _State, owner: tuple[int, int] | None = None) -> None:
        self._seq += 1
        fields: dict[str, Any] = {
            "v": 2, "seq": self._seq, "failures": state.failures,
            "lock_left_s": state.lock_left_s, "boot": self._boot_id(), "mono": self._clock(),
        }
        fields["mac"] = _mac(self._key, fields)
        atomic_write(self.state_file, json.dumps(fields, allow_nan=False).encode("utf-8"),
                     owner)


def atomic_write(path: Path, data: bytes, owner: tuple[int, int] | None = None) -> None:
    """Replace `path` with `data` (mode 0600, and `owner` uid, gid if given) so that a crash
    leaves the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)  # mkstemp's mode already, said here on purpose
            if owner is not None:
                os.fchown(f.fileno(), *owner)
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
