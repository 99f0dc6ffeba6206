"""SIGKILL the whole kiosk (GUI, camera worker, printing, outbox) mid-session, again and again.

tests/crash/test_crash.py kills a harness around the outbox, backend and printer code at
named crash points, hundreds of times. This one kills the real kiosk process, built as
`kiosk run` builds it and driven through its screens by `kiosk simulate`'s random residents
(tickets, 一件事 applications, ratings, help calls, with paper-out and network faults), at
random moments, restarting it on the same data folder each time. Then a last start drains
the outbox and the test checks:

* every start came back to Home;
* every item stored in the outbox was applied by the backend exactly once (its idempotency
  key is there, and the row it made; each rating row has its own key), and nothing was
  applied that the kiosk never gave its outbox;
* no ticket number was issued twice, and every number shown on screen is in the backend
  (or was withdrawn, when the kiosk died before that screen was recorded as seen);
* no ticket is waiting in the backend that no screen showed: a ticket request stored
  before a kill is cancelled at the restart, never issued for nobody;
* no print job went to the printer twice.

Runs: KIOSK_KILLS (default 60; each costs 2-4 s: a start of the kiosk and its camera worker
and a random stretch of sessions). `KIOSK_KILLS=200` is the figure in docs/RELIABILITY.md.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from tests.helpers.paths import REPO_ROOT
from tests.helpers.waits import HANG_GUARD_S

CHILD = Path(__file__).with_name("kiosk_child.py")
TABLE = {"application": "applications", "help": "help_calls"}
# The backend operations the outbox's kinds other than tickets become.
OUTBOX_OPS = ("rate", "submit_application", "call_help")


def run(data: Path, *, kill_after_s: float | None, seed: int, mode: str = "run",
        control: str = "") -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "KIOSK_SEED": str(seed),
           "QT_QPA_PLATFORM": "offscreen", "KIOSK_CONTROL": control}
    with subprocess.Popen([sys.executable, str(CHILD), str(data), mode],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env) as proc:
        lines: list[str] = []
        home = threading.Event()
        errors: list[str] = []

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                if line.startswith("HOME"):
                    home.set()

        def read_err() -> None:
            assert proc.stderr is not None
            errors.append(proc.stderr.read())

        readers = [threading.Thread(target=f, daemon=True) for f in (read, read_err)]
        for t in readers:
            t.start()
        deadline = time.monotonic() + 2 * HANG_GUARD_S  # outlasts the child's own hang guard
        while not home.wait(0.02):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                for t in readers:
                    t.join(5)
                raise AssertionError(
                    f"the kiosk did not come back to Home: {''.join(errors)[-3000:]}")
        if kill_after_s is None:
            proc.wait(timeout=120)
        else:
            time.sleep(kill_after_s)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        for t in readers:
            t.join(10)
        if kill_after_s is None:
            assert proc.returncode == 0, "".join(errors)[-3000:]
        else:
            assert proc.returncode == -signal.SIGKILL, (
                f"the kiosk exited {proc.returncode} before it was killed: "
                f"{''.join(errors)[-3000:]}")
        return lines


def backend_state(data: Path) -> dict:
    conn = sqlite3.connect(data / "kiosk.sqlite3")  # the embedded backend
    try:
        keys = {k: (op, ref) for k, op, ref in
                conn.execute("SELECT key, operation, result_ref FROM idempotency_keys")}
        tickets = conn.execute("SELECT day, number FROM tickets").fetchall()
        refs = {
            "applications": {r for (r,) in conn.execute("SELECT reference FROM applications")},
            "help_calls": {r for (r,) in conn.execute("SELECT call_id FROM help_calls")},
        }
        ratings = [str(seq) for (seq,) in conn.execute("SELECT seq FROM ratings")]
        cancelled = {k: number for k, number in
                     conn.execute("SELECT key, number FROM ticket_cancellations")}
    finally:
        conn.close()
    return {"keys": keys, "tickets": tickets, "refs": refs, "ratings": ratings,
            "cancelled": cancelled}


def enough_happened(history: list[str], kills: int) -> bool:
    shown = sum(1 for ln in history if ln.startswith("SHOWN ticket"))
    kinds = Counter(ln.split()[1] for ln in history if ln.startswith("STORED"))
    return shown >= kills // 4 and kinds["application"] + kinds["rating"] > 0


def kill_runs(data: Path, kills: int, control: str = "") -> tuple[list[str], int]:
    """At least `kills` kills, and more (up to four times as many) until enough happened
    between them: on a busy machine the kiosk does less in the same wall-clock time, and
    the kill points stay random in time either way."""
    rng = random.Random(2026)
    history: list[str] = []
    i = 0
    while i < kills or (not enough_happened(history, kills) and i < 4 * kills):
        history += run(data, kill_after_s=rng.uniform(0.05, 2.5), seed=i, control=control)
        i += 1
    return history + run(data, kill_after_s=None, seed=0, mode="drain"), i


def lost_items(history: list[str], state: dict) -> list[list[str]]:
    # Tickets carry a time to live: one the kiosk could not send before it died is dropped,
    # never issued later for nobody. Every other kind must arrive.
    stored = [ln.split()[1:] for ln in history if ln.startswith("STORED")]
    return [[kind, key] for kind, key in stored
            if (kind not in ("ticket", "ticket_cancel") and key not in state["keys"])
            or (kind == "ticket_cancel" and key.removeprefix("cancel:") not in state["cancelled"])]


def test_the_check_sees_an_outbox_that_forgets(tmp_path):
    history, _ = kill_runs(tmp_path / "data", 3, control="forget")
    assert lost_items(history, backend_state(tmp_path / "data"))


def test_killing_the_real_kiosk_loses_and_doubles_nothing(tmp_path):
    kills = int(os.environ.get("KIOSK_KILLS", "60"))
    data = tmp_path / "data"
    started = time.monotonic()
    requested = kills
    history, kills = kill_runs(data, requested)
    state = backend_state(data)

    stored = [ln.split()[1:] for ln in history if ln.startswith("STORED")]
    kinds = Counter(kind for kind, _ in stored)
    lost = lost_items(history, state)
    assert not lost, f"stored but never applied: {lost[:5]} ({len(lost)})"
    for kind, key in stored:
        if kind in TABLE and key in state["keys"]:
            _, ref = state["keys"][key]
            assert ref in state["refs"][TABLE[kind]], (kind, key, ref)
    # Each rating row was made by one key, and each key by one resident's tap. A kill
    # between the outbox's commit and the STORED line leaves an item applied that only its
    # STORING line announced: counted as tried, not as doubled.
    rate_refs = [ref for op, ref in state["keys"].values() if op == "rate"]
    assert sorted(rate_refs) == sorted(state["ratings"]), "a rating row without its own key"
    tried = {ln.split()[2] for ln in history if ln.startswith("STORING")}
    applied = [k for k, (op, _) in state["keys"].items() if op in OUTBOX_OPS]
    from_nowhere = [k for k in applied if k not in tried]
    assert not from_nowhere, f"applied but never given to the outbox: {from_nowhere[:5]}"
    stored_keys = {key for _, key in stored}
    unreported = [k for k in applied if k not in stored_keys]
    taps = sum(1 for ln in history if ln == "TAPPED rating")
    rated = sum(1 for ln in history if ln.startswith("STORING rating"))
    assert rated <= taps, f"{rated} ratings given to the outbox for {taps} taps"

    numbers = Counter(state["tickets"])
    assert not [t for t, n in numbers.items() if n > 1], "a ticket number was issued twice"
    shown = [ln.split()[2] for ln in history if ln.startswith("SHOWN ticket")]
    issued = {number for _, number in state["tickets"]}
    withdrawn = {n for n in state["cancelled"].values() if n is not None}
    assert set(shown) <= issued | withdrawn, set(shown) - issued - withdrawn
    # A number waiting in the queue that no screen showed: nobody holds it.
    ghosts = issued - set(shown)
    assert not ghosts, f"tickets issued with nobody at the screen: {sorted(ghosts)[:5]}"
    again = {ln.split()[2] for ln in history if ln.startswith("SHOWN again")}
    assert again <= set(shown), again - set(shown)  # one person, one number: theirs
    assert not [n for n, c in Counter(shown).items() if c > 1], "a number was shown twice"
    printed = Counter(ln.split()[1] for ln in history if ln.startswith("PRINTED"))
    assert not [h for h, n in printed.items() if n > 1], "a print job went out twice"

    homes = sum(1 for ln in history if ln == "HOME")
    assert homes == kills + 1
    print(f"\n{kills} kills of the real kiosk in {time.monotonic() - started:.0f} s: "
          f"{len(stored)} items stored ({dict(kinds)}), {len(shown)} tickets shown, "
          f"{sum(printed.values())} print jobs; lost 0, applied twice 0, numbers twice 0, "
          f"printed twice 0, tickets for nobody 0 ({len(withdrawn)} withdrawn); "
          f"back at Home after every start; {len(unreported)} applied items "
          f"were killed between the outbox's commit and their STORED line")
    assert enough_happened(history, requested), (
        "too little happened between the kills for the test to mean anything")
