"""The ID card reader as the UI sees it: a card was read, a card did not read, the reader's
state. The reader is polled on a thread of its own, never the GUI thread.

A card is read once per placement, and only while a screen accepts an identity (`wanted`:
the scan screens, a bundle's identify step). A card placed before such a screen opens is
read when it opens; one still lying there when a session ends (forgotten by the resident
before) is not read for the next session until it is lifted and placed again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import Enum
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

from kiosk.hardware.id_card.reader import CardUnreadable, IdCardReader, ReaderUnavailable

log = logging.getLogger(__name__)

POLL_S = 0.3  # how often the reader is asked for a card: a placed card reads within this
REOPEN_S = 3.0  # how often a reader that stopped answering is tried again
READ_ATTEMPTS = 2  # a card read again at once before the resident is asked to re-place it
ABSENT_FINDS = 2  # "no card" answers in a row before a card counts as lifted

RUNNING = "running"
UNAVAILABLE = "unavailable"
STARTING = "starting"


class _Placement(Enum):
    ABSENT = "absent"
    NEW = "new"  # on the reader, not read yet
    DONE = "done"  # read (or given up on) for this placement


def _emit(signal: SignalInstance, *args: Any) -> None:
    try:
        signal.emit(*args)
    except RuntimeError:  # the service was deleted with its window while the thread ran on
        log.debug("ID card signal not emitted: receiver gone")


class IdCardService(QObject):
    """Owns the reader and its thread. `start()` once, `stop()` before the window goes."""

    cardRead = Signal(object)  # kiosk.domain.id_card.IdCard
    cardUnreadable = Signal()  # a card is there but did not read: place it again
    stateChanged = Signal(str)  # RUNNING | UNAVAILABLE

    def __init__(self, reader: IdCardReader, wanted: Callable[[], bool], *,
                 poll_s: float = POLL_S, reopen_s: float = REOPEN_S,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self._wanted = wanted
        self.poll_s = poll_s
        self.reopen_s = reopen_s
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._placement = _Placement.ABSENT
        self._absent_finds = 0
        self._state = STARTING
        self.last_error = ""  # for the maintenance screen and the log, never personal data

    @property
    def state(self) -> str:
        return self._state

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="id-card", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.reader.close()

    def session_ended(self) -> None:
        """A card still on the reader belongs to the session that ended."""
        with self._lock:
            if self._placement is _Placement.NEW:
                self._placement = _Placement.DONE

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.reader.is_open and not self._open():
                self._stop.wait(self.reopen_s)
                continue
            try:
                self._poll()
            except ReaderUnavailable as exc:
                self.reader.close()
                self._set_state(UNAVAILABLE, str(exc))
                self._stop.wait(self.reopen_s)
                continue
            self._stop.wait(self.poll_s)

    def _open(self) -> bool:
        try:
            self.reader.open()
        except ReaderUnavailable as exc:
            self._set_state(UNAVAILABLE, str(exc))
            return False
        self._set_state(RUNNING, "")
        return True

    def _poll(self) -> None:
        try:
            present = self.reader.find_card()
        except CardUnreadable:
            return  # a garbled answer says nothing either way: ask again at the next poll
        with self._lock:
            if not present:
                self._absent_finds += 1
                if self._absent_finds >= ABSENT_FINDS:
                    self._placement = _Placement.ABSENT
                return
            self._absent_finds = 0
            if self._placement is _Placement.ABSENT:
                self._placement = _Placement.NEW
            if self._placement is not _Placement.NEW or not self._wanted():
                return
            self._placement = _Placement.DONE  # whatever happens next, once per placement
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                card = self.reader.read_card()
            except CardUnreadable as exc:
                log.info("ID card not read (attempt %d): %s", attempt, exc)
                continue
            log.info("ID card read")  # never what it holds
            _emit(self.cardRead, card)
            return
        _emit(self.cardUnreadable)

    def _set_state(self, state: str, error: str) -> None:
        self.last_error = error
        if state != self._state:
            if state == UNAVAILABLE:
                log.warning("ID card reader unavailable: %s", error)
            else:
                log.info("ID card reader ready (%s)", self.reader.describe)
            self._state = state
            _emit(self.stateChanged, state)
