"""Run blocking work (backend calls, printing, disk) off the GUI thread.

Hardware and backend code is plain blocking Python. A `TaskQueue` runs such calls on its own
worker thread, one at a time and in order, and delivers the result or the exception back on
the GUI thread through a queued Qt signal. One queue per resource (the backend, the printer)
gives "one owner of the printer's I/O" and serialised SQLite writes without locks in the UI.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class TaskQueue(QObject):
    # Emitted from the worker thread; Qt queues it to this object's (the GUI) thread.
    _done = Signal(int, object, object)
    busyChanged = Signal(bool)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Callback | None, ErrorCallback | None]] = {}
        # Queued even when emitted on the GUI thread: a task that finishes before
        # add_done_callback is attached (a fast job, a GUI thread preempted inside submit) runs
        # its callback there, and a direct connection would then call on_done inside submit(),
        # before the caller has even learned the task's (or its print job's) number.
        self._done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._closed = False

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> int:
        """Queue `fn`; its result goes to `on_done`, an exception to `on_error` (GUI thread)."""
        if self._closed:
            raise RuntimeError(f"task queue {self._name} is closed")
        task_id = next(self._ids)
        self._callbacks[task_id] = (on_done, on_error)
        if len(self._callbacks) == 1:
            self.busyChanged.emit(True)
        future = self._executor.submit(fn)
        future.add_done_callback(functools.partial(self._finished, task_id))
        return task_id

    def cancel_callbacks(self, task_id: int) -> None:
        """Forget a task's callbacks (its screen is gone); the work itself still completes."""
        if task_id in self._callbacks:
            self._callbacks[task_id] = (None, None)

    @property
    def closed(self) -> bool:
        return self._closed

    def pending(self) -> int:
        return len(self._callbacks)

    def _finished(self, task_id: int, future: Future[Any]) -> None:
        exc = future.exception()
        # RuntimeError: the QObject was deleted during shutdown; nobody is left to tell.
        with contextlib.suppress(RuntimeError):
            self._done.emit(task_id, None if exc else future.result(), exc)

    def _deliver(self, task_id: int, result: object, exc: object) -> None:
        on_done, on_error = self._callbacks.pop(task_id, (None, None))
        if not self._callbacks:
            self.busyChanged.emit(False)
        if isinstance(exc, BaseException):
            if on_error is not None:
                on_error(exc)
            else:
                log.error("%s task failed: %s", self._name, type(exc).__name__)
            return
        if on_done is not None:
            on_done(result)

    def shutdown(self, wait: bool = True) -> None:
        self._closed = True
        self._executor.shutdown(wait=wait, cancel_futures=not wait)
