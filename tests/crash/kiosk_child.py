"""The real kiosk, GUI and all, for the SIGKILL test: random resident sessions until killed.

Unlike crash_child.py (the outbox, backend and printer code without the UI), this is the
whole kiosk as `kiosk run` builds it (offscreen, emulated camera and printer, embedded
backend, the camera worker process), driven by `kiosk simulate`'s resident sessions on one
data folder that every run reuses. It prints, flushed at once:

  HOME                         the kiosk is up and showing Home (after a restart too)
  STORING <kind> <key>         an item is about to go into the outbox (a kill from here
                               until STORED may or may not have committed it)
  STORED <kind> <key>          an item is in the outbox (SQLite, committed) before it is sent
  TAPPED rating                the resident pressed 提交评价 (before the rating is stored)
  SHOWN ticket <number>        a ticket number is on the screen
  SHOWN again <number>         a resident's waiting ticket shown again (scanned once more)
  PRINTED <sha1>               a whole print job went to the printer transport

With `drain` as the second argument it only starts, waits until the outbox has nothing
pending and prints DRAINED.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_OUT = threading.Lock()


def say(line: str) -> None:
    # One write per line under a lock: the outbox and the printer report from their worker
    # threads, and print() writes the text and its newline separately.
    with _OUT:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def main(data: Path, mode: str, seed: int) -> None:
    from kiosk.config.checked import load_checked_config
    from kiosk.config.schema import EmulatedCameraConfig
    from kiosk.devtools.demo import offscreen_app, wait_until
    from kiosk.devtools.simulate import Simulator
    from tests.helpers.paths import SHIPPED_CONFIG as SHIPPED  # the checkout is on PYTHONPATH

    app = offscreen_app()
    base = load_checked_config(SHIPPED)
    cfg = base.model_copy(update={
        "camera": EmulatedCameraConfig(source="blank"),
        "paths": base.paths.model_copy(update={"data_dir": str(data)}),
        "screen": base.screen.model_copy(update={"fullscreen": False}),
    })
    sim = Simulator(cfg, SHIPPED, seed)
    kiosk = sim.kiosk
    outbox_put = kiosk.outbox.put

    control = os.environ.get("KIOSK_CONTROL") == "forget"

    def put(kind: str, key: str, payload: dict, **kw: object):
        say(f"STORING {kind} {key}")
        item = outbox_put(kind, key, payload, **kw)  # type: ignore[arg-type]
        say(f"STORED {kind} {key}")
        if control:
            # The bug the test must see: an outbox that forgets what it was given.
            kiosk.outbox._conn.execute("DELETE FROM outbox WHERE idem_key=?", (key,))
        return item

    kiosk.outbox.put = put  # type: ignore[method-assign]
    if control:  # the network is always down, so nothing is sent before it is forgotten
        set_mode = kiosk.link.set_mode
        kiosk.link.set_mode = lambda _mode: set_mode("down")  # type: ignore[method-assign]
        set_mode("down")
    transport = kiosk.printer_transport
    write = transport.write

    def printed(data: bytes) -> None:
        write(data)
        say(f"PRINTED {hashlib.sha1(data).hexdigest()}")

    transport.write = printed  # type: ignore[method-assign]
    tickets = kiosk.controller.ticket
    kiosk.window.screenChanged.connect(
        lambda name: name == "ticket" and tickets.ticket is not None
        and say(f"SHOWN {'again' if tickets.reprint_button.isVisibleTo(tickets) else 'ticket'}"
                f" {tickets.ticket.number}"))
    # Pressed comes before the click that submits: a tap is announced before its rating.
    kiosk.window.screens["rating"].submit_button.pressed.connect(lambda: say("TAPPED rating"))
    wait_until(lambda: kiosk.window.current().name == "home")
    app.processEvents()
    say("HOME")
    if mode == "drain":
        # Backoff may have put the next try minutes away: due now, and drained until empty.
        kiosk.outbox._conn.execute("UPDATE outbox SET next_at=0 WHERE state='pending'")
        deadline = time.monotonic() + 60
        while kiosk.outbox.pending()[0] and time.monotonic() < deadline:
            kiosk.delivery.drain()
            wait_until(lambda: not kiosk.busy() and not kiosk.delivery.queue.pending())
            time.sleep(0.05)
        say("DRAINED")
        sim.close()
        return
    while True:
        try:
            sim.session()
        except TimeoutError:
            # A loaded machine can miss a demo timeout; the next session starts from Home.
            say("SLOW")
            kiosk.window.go_home("home")
        time.sleep(0.001)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "run",
         int(os.environ.get("KIOSK_SEED", "1")))
