"""A kiosk process for the crash test: submits applications and issues and prints tickets
through the real outbox, delivery, backend and printer code, forever, until it is killed.

It prints one line per thing the resident was told (flushed at once), which the parent
uses as the history to check against the final state:
  ACK application <key> <state>   the resident saw 已提交 / 已暂存
  ACK ticket <key> <number>       the ticket was on screen (then claimed: never withdrawn)
  PRINTED <number>                its bytes went to the printer
"""

from __future__ import annotations

import os
import signal
import sys
import uuid
from pathlib import Path

from kiosk.app import load_or_create_key
from kiosk.backend.embedded import EmbeddedBackend
from kiosk.delivery.deliverer import Deliverer, crash_point, issued_ticket
from kiosk.delivery.faults import FaultyLink
from kiosk.delivery.outbox import Outbox
from kiosk.domain.catalog import load_catalog
from kiosk.domain.ticket import TicketView, ticket_document
from kiosk.hardware.printer.emulated import EmulatedPrinter
from kiosk.hardware.printer.escpos_layout import PrinterProfile
from kiosk.hardware.printer.printer import Printer
from tests.helpers.paths import CATALOG_FILE  # the parent test puts the checkout on PYTHONPATH


def main(data: Path) -> None:
    backend = EmbeddedBackend(data / "backend.sqlite3", load_catalog(CATALOG_FILE),
                              signing_key=load_or_create_key(data / "key.pem"), key_id="crash")
    link = FaultyLink(backend)
    outbox = Outbox(data / "outbox.sqlite3")
    deliverer = Deliverer(outbox, link)
    printer = Printer(EmulatedPrinter(data / "printed"), PrinterProfile())
    control = os.environ.get("CRASH_CONTROL") == "ack_before_store"
    # As the kiosk starts: ticket requests the last run left are cancelled (nobody is at the
    # screen for them), then what it left behind goes out first.
    deliverer.withdraw_unclaimed()
    outbox._conn.execute("UPDATE outbox SET next_at=0 WHERE state='pending'")
    deliverer.drain(limit=1000)
    print("READY", flush=True)
    if os.environ.get("CRASH_DRAIN_ONLY") == "1":
        # The last start of a test: it withdraws and sends what the kills left, nothing new.
        os.kill(os.getpid(), signal.SIGKILL)
    flaky = os.environ.get("CRASH_FLAKY") == "1"
    i = 0
    while True:
        i += 1
        # Some submissions meet a dead network, so the outbox has pending items to lose.
        link.set_mode("down" if flaky and i % 3 == 0 else "up")
        key = uuid.uuid4().hex
        payload = {"resident_id": "R0001", "processing_days": 5,
                   "submission": {"bundle_id": "retirement", "client_ref": key,
                                  "answers": {}, "fields": {}, "materials": {}}}
        if control:
            # The bug the test must be able to see: telling the resident before storing.
            print(f"ACK application {key} pending", flush=True)
            crash_point("control_gap")
            link.set_mode("down")
            deliverer.deliver("application", key, payload)
            continue
        result = deliverer.deliver("application", key, payload)
        print(f"ACK application {key} {result.state}", flush=True)
        link.set_mode("up")
        tkey = uuid.uuid4().hex
        request = {"category": "social_security", "priority": False, "priority_reason": "",
                   "resident_id": None, "kiosk_id": "CRASH", "appointment_id": None}
        t = deliverer.deliver("ticket", tkey, request)
        if t.state == "done" and t.result is not None:
            issued = issued_ticket(t.result)
            print(f"ACK ticket {tkey} {issued.number}", flush=True)
            deliverer.claim_ticket(tkey)  # on screen: the resident's from now on
            view = TicketView("crash test", issued.number, "社保", "", issued.ahead,
                              issued.estimated_wait_min, issued.issued_at, "",
                              issued.tracking_code)
            printer.print_document(ticket_document(view))
            print(f"PRINTED {issued.number}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
