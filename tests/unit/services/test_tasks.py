"""TaskQueue: results come back on the GUI thread, always after submit() has returned."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from kiosk.services.tasks import TaskQueue
from tests.helpers.waits import HANG_GUARD_MS


def test_a_task_finished_before_submit_returns_is_still_delivered_later(qtbot, monkeypatch):
    """A task can finish before add_done_callback is attached (a fast print job while the
    GUI thread is preempted inside submit). Its callback must not run inside submit():
    callers record the task's number (a print job's) from submit's return value and match
    it in the callback; delivered inside submit, the match failed and the ticket screen
    kept saying "正在打印凭条…" for ever."""
    queue = TaskQueue("test")
    events: list[str] = []

    def already_done(fn: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn())
        return future

    monkeypatch.setattr(queue._executor, "submit", already_done)
    try:
        queue.submit(lambda: 42, lambda result: events.append(f"done {result}"))
        events.append("submit returned")
        qtbot.waitUntil(lambda: len(events) == 2, timeout=HANG_GUARD_MS)
        assert events == ["submit returned", "done 42"]
    finally:
        queue.shutdown()
