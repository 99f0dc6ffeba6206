"""The outbox itself: durable on disk, and retry delays that grow with jitter."""

from __future__ import annotations

import sqlite3

from kiosk.delivery.outbox import backoff_s


def test_outbox_is_durable(world, tmp_path):
    _d, _link, outbox, _backend, _ = world
    mode = sqlite3.connect(outbox.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert outbox._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_backoff_grows_with_jitter():
    import random

    rng = random.Random(1)
    values = [backoff_s(n, rng) for n in range(1, 12)]
    assert values[0] < 2 and max(values) <= 450
    assert values[8] > values[1]
