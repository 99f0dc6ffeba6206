"""Fixtures for the hall side's tests: an embedded backend on a temporary database, at a
fixed Monday morning, with a throwaway signing key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.backend.embedded import EmbeddedBackend
from kiosk.domain.catalog import Catalog, load_catalog
from tests.helpers.backend import OpenBackend
from tests.helpers.clock import MONDAY_MORNING, FakeClock
from tests.helpers.paths import CATALOG_FILE


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG_FILE)


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_MORNING)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "kiosk.sqlite3"


@pytest.fixture
def open_backend(
    db: Path, catalog: Catalog, key: Ed25519PrivateKey, clock: FakeClock
) -> Iterator[OpenBackend]:
    opened: list[EmbeddedBackend] = []

    def _open(**kwargs: object) -> EmbeddedBackend:
        args: dict[str, object] = {"signing_key": key, "key_id": "kiosk1", "clock": clock}
        args.update(kwargs)
        backend = EmbeddedBackend(db, catalog, **args)  # type: ignore[arg-type]
        opened.append(backend)
        return backend

    yield _open
    for backend in opened:
        backend.close()


@pytest.fixture
def backend(open_backend: OpenBackend) -> EmbeddedBackend:
    return open_backend()
