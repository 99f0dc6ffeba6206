"""Offline numbers on a kiosk of a hall: the blocks topped up in the background, and the
outbox's offline tickets and cancellations sent as soon as the hall answers again.

The rules are in kiosk.delivery.leases; this service only runs its rounds off the GUI thread,
on a queue of their own (a hall that hangs holds up no resident's ticket), at start and on a
timer, and tells the outbox when the hall is back.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from kiosk.delivery.deliverer import OFFLINE_TICKET
from kiosk.delivery.leases import LeaseKeeper
from kiosk.services.delivery import DeliveryService
from kiosk.services.tasks import TaskQueue

log = logging.getLogger(__name__)

# Seconds between rounds: how soon after midnight new blocks are taken, and how soon after
# an outage the offline tickets go out (the outbox's own backoff may wait minutes by then).
ROUND_S = 30
# Sent at once when the hall answers again: what a resident holds paper for (an offline
# ticket) and what withdraws a ticket nobody holds (a cancellation), the oldest first.
HURRIED = (OFFLINE_TICKET, "ticket_cancel")


class OfflineService(QObject):
    """Runs LeaseKeeper.top_up at start, every ROUND_S seconds, and on request."""

    # True: the hall answered the round throughout; False: it could not be reached.
    roundDone = Signal(bool)

    def __init__(self, keeper: LeaseKeeper, queue: TaskQueue, delivery: DeliveryService, *,
                 round_ms: int = ROUND_S * 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.keeper = keeper
        self.queue = queue
        self.delivery = delivery
        self._stopped = False
        self._running = False
        self._again = False  # asked for while a round ran: one more after it
        self.timer = QTimer(self)
        self.timer.setInterval(round_ms)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    def refresh(self) -> None:
        """A round now (or right after the one running): figures, blocks, and the outbox
        if the hall answered."""
        if self._stopped or self.queue.closed:
            return
        if self._running:
            self._again = True
            return
        self._running = True
        self.queue.submit(self.keeper.top_up, self._done, self._failed)

    def _done(self, reachable: bool) -> None:
        self._running = False
        if self._stopped:
            return
        if reachable:
            self._hurry()
        self.roundDone.emit(reachable)
        self._next()

    def _failed(self, exc: BaseException) -> None:
        self._running = False
        log.warning("offline numbers: round failed: %s", type(exc).__name__)
        if not self._stopped:
            self.roundDone.emit(False)
            self._next()

    def _next(self) -> None:
        if self._again:
            self._again = False
            self.refresh()

    def _hurry(self) -> None:
        """The hall answers: what waits for it is sent now, whatever its backoff. On the
        outbox's own queue, before its drain, so one thread sends each item."""
        deliverer = self.delivery.deliverer
        queue = self.delivery.queue
        if queue.closed:
            return
        outbox = deliverer.outbox
        queue.submit(lambda: outbox.hurry(HURRIED), self._hurried,
                     lambda exc: log.warning("outbox not hurried: %s", type(exc).__name__))

    def _hurried(self, count: int) -> None:
        if count and not self._stopped:
            log.info("offline numbers: the hall answers again; %d waiting item(s) sent now",
                     count)
            self.delivery.drain()

    def stop(self) -> None:
        self._stopped = True
        self.timer.stop()
