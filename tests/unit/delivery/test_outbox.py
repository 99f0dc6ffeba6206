"""The outbox itself: durable on disk, and retry delays that grow with jitter."""

from __future__ import annotations

import sqlite3

from kiosk.delivery.outbox import Outbox, backoff_s


def test_outbox_is_durable(world, tmp_path):
    _d, _link, outbox, _backend, _ = world
    mode = sqlite3.connect(outbox.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert outbox._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_outbox_overwrites_what_it_deletes(world):
    """Set explicitly: SQLite's own default is off (Debian's build turns it on)."""
    _d, _link, outbox, _backend, _ = world
    assert outbox._conn.execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_backoff_grows_with_jitter():
    import random

    rng = random.Random(1)
    values = [backoff_s(n, rng) for n in range(1, 12)]
    assert values[0] < 2 and max(values) <= 450
    assert values[8] > values[1]


# What a resident typed into an application: recognisable, so a byte search of the files
# finds every copy, whatever page or WAL frame it sits in.
CARD = "6222020200112233446"
PHONE = "13987654321"


def _application(n: int) -> dict[str, object]:
    return {"resident_id": "R0001", "processing_days": 5,
            "submission": {"bundle_id": "retirement", "answers": {}, "materials":
                           {"exempt": [], "to_bring": []},
                           "fields": {"phone": PHONE, "bank_card": CARD, "n": str(n)}}}


def _outbox_bytes(outbox) -> dict[str, bytes]:
    """The raw bytes of every file SQLite keeps for the outbox (database, WAL, index, any
    rollback journal), as they are on disk now."""
    found = {}
    for path in sorted(outbox.path.parent.glob(outbox.path.name + "*")):
        found[path.name] = path.read_bytes()
    return found


def _copies(outbox) -> dict[str, int]:
    return {name: data.count(CARD.encode()) + data.count(PHONE.encode())
            for name, data in _outbox_bytes(outbox).items()
            if CARD.encode() in data or PHONE.encode() in data}


def test_a_sent_application_leaves_no_typed_data_on_disk(world):
    d, link, outbox, _backend, clock = world
    # Sent at once, and sent after a wait (the typed data then sat in the outbox for a while).
    for n in range(3):
        assert d.deliver("application", f"now{n}", _application(n)).state == "done"
    link.set_mode("down")
    assert d.deliver("application", "later", _application(9)).state == "pending"
    assert _copies(outbox), "a pending application must be on disk: the test sees it"
    link.set_mode("up")
    clock.seconds += 600
    assert [r.state for r in d.drain()] == ["done"]
    # While the kiosk runs on, not only after it closes the file.
    assert _copies(outbox) == {}
    assert all(CARD not in str(item.payload) for item in outbox.all_items())


def test_a_refused_application_leaves_no_typed_data_on_disk(world):
    d, _link, outbox, _backend, _clock = world
    bad = _application(0)
    bad["resident_id"] = ""  # refused for good: kept for staff, redacted
    assert d.deliver("application", "bad", bad).state == "failed"
    assert _copies(outbox) == {}


def test_redaction_reaches_the_disk_once_a_reader_lets_go(world):
    """A checkpoint cannot empty the WAL while another connection (a technician's sqlite3
    shell, a backup) reads an older snapshot: the outbox neither waits for it nor gives up,
    it tries again on its next round."""
    d, _link, outbox, _backend, _clock = world
    reader = sqlite3.connect(outbox.path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM outbox").fetchone()
        assert d.deliver("application", "k1", _application(1)).state == "done"
        assert outbox.get("k1").state == "done"
        assert _copies(outbox), "the reader's snapshot keeps the WAL: the retry is tested"
    finally:
        reader.execute("COMMIT")
        reader.close()
    d.drain()  # the retry timer's next round
    assert _copies(outbox) == {}


def test_typed_data_left_by_a_crash_is_scrubbed_at_the_next_start(tmp_path):
    """A kiosk killed after redacting, before its checkpoint, leaves the redaction only in the
    WAL and the typed data in the database file: the next start checkpoints it."""
    import json

    path = tmp_path / "outbox.sqlite3"
    first = Outbox(path)
    first.put("application", "k1", _application(1))
    first.close()
    # What mark_done does (secure_delete on), by a connection killed before its checkpoint:
    # it stays open, so that closing it does not checkpoint either.
    crashed = sqlite3.connect(path, isolation_level=None)
    try:
        crashed.execute("PRAGMA wal_autocheckpoint=0")
        crashed.execute("PRAGMA secure_delete=ON")
        crashed.execute("UPDATE outbox SET state='done', payload=? WHERE idem_key='k1'",
                        (json.dumps({"bundle_id": "retirement"}),))
        second = Outbox(path)
        try:
            assert _copies(second) == {}
        finally:
            second.close()
    finally:
        crashed.close()
