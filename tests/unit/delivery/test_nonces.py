"""The kiosk's used personal-code nonces: on disk until the code's expiry, so a restart
forgets none, and asked of the hall backend too, so a neighbouring kiosk refuses them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.backend.interface import BackendError
from kiosk.delivery.nonces import KioskNonces, UsedNonces
from tests.helpers.clock import FakeClock

T0 = 1_800_000_000.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "used-nonces.sqlite3"


@pytest.fixture
def opened(path: Path, clock: FakeClock) -> Iterator[list[UsedNonces]]:
    stores: list[UsedNonces] = []
    yield stores
    for s in stores:
        s.close()


def open_store(opened: list[UsedNonces], path: Path, clock: FakeClock) -> UsedNonces:
    store = UsedNonces(path, clock=clock.time)
    opened.append(store)
    return store


def rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        count = int(conn.execute("SELECT count(*) FROM used_nonces").fetchone()[0])
    conn.close()
    return count


def test_a_nonce_is_claimed_once_and_a_restart_forgets_none(opened, path, clock):
    store = open_store(opened, path, clock)
    assert store.claim("demo", "n0nce-AAAA", int(T0) + 70)
    assert not store.claim("demo", "n0nce-AAAA", int(T0) + 70)
    assert store.claim("other", "n0nce-AAAA", int(T0) + 70)  # nonces are per issuer key
    store.close()
    again = open_store(opened, path, clock)  # the kiosk restarted
    assert not again.claim("demo", "n0nce-AAAA", int(T0) + 70)
    assert again.pragmas() == {"journal_mode": "wal", "synchronous": 2}


def test_used_nonces_are_pruned_once_the_code_has_expired(opened, path, clock):
    store = open_store(opened, path, clock)
    for i in range(5):
        assert store.claim("demo", f"nonce-{i:04d}", int(T0) + 70)
    assert store.claim("demo", "nonce-later", int(T0) + 500)
    assert rows(path) == 6
    clock.seconds = T0 + 71  # the first five can no longer be accepted anywhere
    assert store.claim("demo", "nonce-new1", int(T0) + 141)
    assert rows(path) == 2  # the later one and the new one
    assert not store.claim("demo", "nonce-later", int(T0) + 500)


class Hall:
    def __init__(self) -> None:
        self.used: set[tuple[str, str]] = set()
        self.down = False

    def claim_nonce(self, key_id: str, nonce: str, expires_at: int) -> bool:
        if self.down:
            raise BackendError("connection refused")
        if (key_id, nonce) in self.used:
            return False
        self.used.add((key_id, nonce))
        return True


def test_a_code_used_at_another_kiosk_of_the_hall_is_refused(opened, path, clock, tmp_path):
    hall = Hall()
    here = KioskNonces(open_store(opened, path, clock), hall)
    there = KioskNonces(open_store(opened, tmp_path / "other.sqlite3", clock), hall)
    assert here.claim("demo", "nonce-0001", int(T0) + 70)
    assert not there.claim("demo", "nonce-0001", int(T0) + 70)
    assert not here.claim("demo", "nonce-0001", int(T0) + 70)


def test_a_hall_that_cannot_answer_leaves_the_code_unused_here(opened, path, clock):
    """The backend is down: the scan fails with "system unavailable", and the same code
    shown again once the backend is back is not refused as already used."""
    hall = Hall()
    here = KioskNonces(open_store(opened, path, clock), hall)
    hall.down = True
    with pytest.raises(BackendError):
        here.claim("demo", "nonce-0002", int(T0) + 70)
    hall.down = False
    assert here.claim("demo", "nonce-0002", int(T0) + 70)
