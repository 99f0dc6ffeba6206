"""The outbox on the backend's task queue, with a retry timer on the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from kiosk.delivery.deliverer import Deliverer, Delivery
from kiosk.services.tasks import TaskQueue

log = logging.getLogger(__name__)


class DeliveryService(QObject):
    """deliver(): stored, then sent; the caller hears done / pending / failed on the GUI thread."""

    delivered = Signal(str, str)  # kind, key: an item sent later by a retry
    pendingChanged = Signal(int)
    # key: a ticket request got no answer; the kiosk is finding out whether it was issued.
    # Emitted on the sending thread, received on the GUI thread (a queued connection).
    ticketResolving = Signal(str)
    # kind, "done" | "pending" | "failed": the answer to each deliver() (an exception is
    # "failed"), on the GUI thread before the caller's; the terminal's metrics count them.
    answered = Signal(str, str)

    def __init__(self, deliverer: Deliverer, queue: TaskQueue, *, retry_ms: int = 5000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.deliverer = deliverer
        self.queue = queue
        self.timer = QTimer(self)
        self.timer.setInterval(retry_ms)
        self.timer.timeout.connect(self.drain)
        self.timer.start()
        self._stopped = False
        deliverer.on_resolving = self.ticketResolving.emit
        # Ticket requests the last run left behind belong to nobody at the screen now: they
        # are cancelled, not sent. Then what a crash or power cut left behind goes out first.
        queue.submit(deliverer.withdraw_unclaimed, lambda _n: None,
                     lambda exc: log.warning("ticket withdrawal failed: %s",
                                             type(exc).__name__))
        self.drain()

    def deliver(
        self,
        kind: str,
        key: str,
        payload: dict[str, Any],
        on_result: Callable[[Delivery], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        deliverer = self.deliverer

        def result(delivery: Delivery) -> None:
            self.answered.emit(kind, delivery.state)
            on_result(delivery)

        def error(exc: BaseException) -> None:
            self.answered.emit(kind, "failed")
            on_error(exc)

        self.queue.submit(lambda: deliverer.deliver(kind, key, payload), result, error)

    def claim_ticket(self, key: str) -> None:
        """The ticket is on the resident's screen: never withdrawn after this."""
        deliverer = self.deliverer
        self.queue.submit(lambda: deliverer.claim_ticket(key), lambda _r: None,
                          lambda exc: log.warning("ticket claim failed: %s",
                                                  type(exc).__name__))

    def withdraw_ticket(self, key: str, reason: str) -> None:
        """A ticket issued for a resident who has left before seeing it: cancelled."""
        deliverer = self.deliverer
        self.queue.submit(lambda: deliverer.withdraw_ticket(key, reason), lambda _r: None,
                          lambda exc: log.warning("ticket withdrawal failed: %s",
                                                  type(exc).__name__))

    def drain(self) -> None:
        deliverer = self.deliverer
        self.queue.submit(deliverer.drain, self._drained,
                          lambda exc: log.warning("outbox drain failed: %s", type(exc).__name__))

    def _drained(self, results: list[Delivery]) -> None:
        if self._stopped:
            return  # a reply queued before shutdown; the outbox is closed by now
        for r in results:
            if r.state == "done":
                log.info("outbox: %s delivered on retry", r.kind)
                self.delivered.emit(r.kind, r.key)
        self.pendingChanged.emit(self.deliverer.outbox.pending()[0])

    def stop(self) -> None:
        self._stopped = True
        self.timer.stop()
