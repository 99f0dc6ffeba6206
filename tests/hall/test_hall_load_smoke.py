"""benchmarks/hall_load.py runs end to end at a tiny size: it sets up its own hall, drives
kiosks, counters and boards and the old stdlib server, and prints every figure and the
command that reproduces them. How fast anything was is the benchmark's to report, never
this test's to judge: it checks that nothing went wrong, which holds on any machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.hall import server_dsn
from tests.helpers.paths import REPO_ROOT

# The whole run (a database, migrations, Argon2 staff passwords, two servers started and
# stopped) takes seconds; the guard only ends a run that hangs, on however busy a machine,
# and covers the benchmark's wait past 23:59 Shanghai time (its hall closes for a minute).
HANG_GUARD_S = 600

FIGURES = (
    "tickets issued (asked for)", "tickets/s", "issue p50", "**issue p99**",
    "call-next p50 / p99", "finish p50 / p99", "board delay after the call's answer, p50",
    "**board delay after the call's answer, p99**",
    "board delay after the call was sent, p50 / p99",
    "call events at boards (missed; resyncs)", "**errors**", "**duplicates**",
    "issued to nobody / answered but not stored",
)


def test_a_tiny_run_prints_every_figure_with_no_error_and_no_duplicate(tmp_path: Path) -> None:
    server_dsn()  # fails with the way to run it when PostgreSQL is not there
    figures = tmp_path / "figures.json"
    run = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "hall_load.py"), "--kiosks", "4",
         "--counters", "2", "--boards", "2", "--seconds", "3", "--json", str(figures)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = {line.split(" | ")[0].removeprefix("| ") for line in run.stdout.splitlines()
            if line.startswith("| ")}
    assert not [f for f in FIGURES if f not in rows], run.stdout
    assert "reproduce: pg_virtualenv -v 15 -- .venv/bin/python benchmarks/hall_load.py " \
           "--kiosks 4 --counters 2 --boards 2 --seconds 3" in run.stdout

    result = json.loads(figures.read_text(encoding="utf-8"))
    hall, old = result["hall"], result["legacy"]
    assert hall["tickets"] > 0  # the arrivals are seeded: the same schedule on any machine
    assert (hall["errors"], hall["error_kinds"]) == (0, {})
    assert hall["duplicates"] == 0
    assert (hall["issued_to_nobody"], hall["answered_not_stored"]) == (0, 0)
    assert hall["db_tickets"] == hall["tickets"]
    assert hall["board_missed"] == 0
    # The anchor ran on the same arrivals and its figures are there to compare with.
    assert old is not None and old["tickets"] > 0 and old["duplicates"] == 0
    assert old["issue_p99_ms"] is not None
