"""The kiosk side of talking to the backend: nothing a resident was promised is lost.

`outbox.py` stores every ticket, application, rating and help call on disk before it is
sent; `deliverer.py` sends them once, by idempotency key, with retries; `http_client.py`
is the `Backend` of a kiosk in a hall (`backend.kind = "http"`) and `http_factory.py`
builds it from the config; `faults.py` injects network faults for tests and the simulator.

Runs in the GUI process, on worker threads (never the GUI thread). May import kiosk.common,
kiosk.domain, kiosk.config and kiosk.backend (the interface); never Qt or hardware.
"""
