"""`kiosk simulate`: random sessions through the real UI, with the leak figures it reports."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from kiosk.config.loader import load_config
from kiosk.devtools.simulate import run_simulation
from tests.helpers.paths import SHIPPED_CONFIG


def test_a_short_run_reports_both_processes_and_flat_counts(capsys) -> None:
    rows = run_simulation(load_config(SHIPPED_CONFIG), SHIPPED_CONFIG, sessions=40, every=20,
                          seed=7)
    assert [r["sessions"] for r in rows] == [20, 40]
    first, last = rows
    assert 50 < first["rss_mb"] < 1000
    # The camera runs in its own process; its memory belongs to the kiosk's footprint.
    assert last["worker_rss_mb"] > 20
    assert last["fds"] == first["fds"] and last["threads"] == first["threads"]
    assert last["qobjects"] == first["qobjects"]
    assert "worker_rss_mb=" in capsys.readouterr().out
