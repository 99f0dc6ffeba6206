"""Fixtures for the kiosk side of delivery: an outbox on a fake clock, delivering through a
link that can fail to an embedded backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.backend.embedded import EmbeddedBackend
from kiosk.delivery.deliverer import Deliverer
from kiosk.delivery.faults import FaultyLink
from kiosk.delivery.outbox import Outbox
from kiosk.domain.catalog import load_catalog
from tests.helpers.clock import FakeClock
from tests.helpers.paths import CATALOG_FILE

World = tuple[Deliverer, FaultyLink, Outbox, EmbeddedBackend, FakeClock]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    backend = EmbeddedBackend(tmp_path / "b.sqlite3", load_catalog(CATALOG_FILE),
                              signing_key=Ed25519PrivateKey.generate(), key_id="t")
    link = FaultyLink(backend, timeout_s=0.01)
    clock = FakeClock(1_800_000_000.0)
    outbox = Outbox(tmp_path / "outbox.sqlite3", clock=clock.time)
    yield Deliverer(outbox, link), link, outbox, backend, clock
    outbox.close()
    backend.close()
