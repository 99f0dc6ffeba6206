"""What an offline search for the maintenance PIN costs on this machine.

Someone who copies the config has the PIN's salted hash and can try every PIN at their own
pace. This measures, with the hash `kiosk hash-pin` writes today (`kiosk/domain/pin.py`:
Argon2id and its parameters), how many hashes per second this machine computes on all of its
cores at once (one process per core: memory-hard hashes are limited by memory bandwidth too,
so one core's speed times the cores would flatter the guesser), and from it the time to try
every PIN of the shortest allowed length, and every allowed PIN. The same is measured for
the scrypt hash of before (n = 2**14) and its 6-digit PINs, for comparison.

    .venv/bin/python benchmarks/pin_cost.py [--seconds 20] [--cores 2]

The figures move with the machine's load: run it with nothing else running.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import sys
import time
from collections.abc import Callable

from kiosk.domain import pin as pinmod

YEAR_S = 365.25 * 86400


def _argon2(pin: str, salt: bytes) -> bytes:
    return pinmod._argon2(pin, pinmod.ARGON2_MEMORY_KIB, pinmod.ARGON2_TIME,
                          pinmod.ARGON2_LANES, salt, pinmod.HASH_BYTES)


def _scrypt(pin: str, salt: bytes) -> bytes:
    return pinmod._scrypt(pin, 2**14, 8, 1, salt, 32)


KDFS: dict[str, Callable[[str, bytes], bytes]] = {"argon2id": _argon2, "scrypt": _scrypt}


def _worker(kdf: str, until: float, digits: int) -> tuple[int, float]:
    """Hashes random PINs until `until` (time.monotonic); how many it finished, and the CPU
    seconds they took."""
    fn = KDFS[kdf]
    salt = secrets.token_bytes(16)
    done = 0
    cpu = time.process_time()
    while time.monotonic() < until:
        fn(f"{secrets.randbelow(10**digits):0{digits}d}", salt)
        done += 1
    return done, time.process_time() - cpu


def rate(kdf: str, digits: int, cores: int, seconds: float) -> tuple[float, float, float]:
    """(seconds per hash on one core alone, hashes per second on `cores` processes as
    measured, and as they would be with each core to itself: from the CPU time each hash
    took, which other load on the machine does not stretch much)."""
    fn = KDFS[kdf]
    salt = secrets.token_bytes(16)
    fn("0" * digits, salt)  # warm up: first allocation of the memory
    runs = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds / 3 or len(runs) < 3:
        t0 = time.perf_counter()
        fn(f"{secrets.randbelow(10**digits):0{digits}d}", salt)
        runs.append(time.perf_counter() - t0)
    one = sorted(runs)[len(runs) // 2]
    until = time.monotonic() + seconds
    t0 = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(cores) as pool:
        results = pool.starmap(_worker, [(kdf, until, digits)] * cores)
    wall = time.monotonic() - t0
    done = sum(n for n, _ in results)
    cpu = sum(c for _, c in results)
    return one, done / wall, cores * done / cpu


def years(space: int, per_s: float) -> float:
    return space / per_s / YEAR_S


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0,
                    help="how long the all-cores run of each hash lasts")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    lo, hi = pinmod.PIN_MIN_DIGITS, pinmod.PIN_MAX_DIGITS
    shortest = 10**lo
    allowed = sum(10**d for d in range(lo, hi + 1))
    print(f"machine: {args.cores} core(s) used, {os.cpu_count()} present; "
          f"{args.seconds:.0f} s per all-cores run")

    one, per_s, idle_per_s = rate("argon2id", lo, args.cores, args.seconds)
    print(f"argon2id m={pinmod.ARGON2_MEMORY_KIB} KiB, t={pinmod.ARGON2_TIME}, "
          f"p={pinmod.ARGON2_LANES}: {one * 1000:.0f} ms per hash on one core (median), "
          f"{per_s:.2f} hashes/s on {args.cores} core(s) as measured, {idle_per_s:.2f} "
          f"with each core to itself (CPU time)")
    print(f"  every {lo}-digit PIN ({shortest:.0e}): {years(shortest, per_s):,.0f} years as "
          f"measured, {years(shortest, idle_per_s):,.0f} years with each core to itself "
          f"(half of that on average)")
    print(f"  every allowed PIN, {lo}-{hi} digits ({allowed:.3e}): "
          f"{years(allowed, idle_per_s):,.0f} years with each core to itself")

    old_one, old_per_s, old_idle = rate("scrypt", pinmod.LEGACY_PIN_MIN_DIGITS, args.cores,
                                        args.seconds)
    old_space = 10**pinmod.LEGACY_PIN_MIN_DIGITS
    print(f"before: scrypt n=2**14, r=8, p=1: {old_one * 1000:.0f} ms per hash on one core, "
          f"{old_per_s:.1f} hashes/s on {args.cores} core(s) ({old_idle:.1f} with each core "
          f"to itself); every {pinmod.LEGACY_PIN_MIN_DIGITS}-digit PIN ({old_space:.0e}): "
          f"{old_space / old_per_s / 3600:.1f} hours ({old_space / old_idle / 3600:.1f})")
    print(f"command: .venv/bin/python benchmarks/pin_cost.py --seconds {args.seconds:g} "
          f"--cores {args.cores}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
