"""Live events: PostgreSQL LISTEN/NOTIFY fanned out to this process's subscribers.

Every state change notifies `hall_events` in its own transaction, so an event goes out only
if the change committed, and every server process (uvicorn workers, other hosts) hears every
change, whichever process made it. Each process holds one listening connection; when it
drops (PostgreSQL restarted) the hub reconnects and tells subscribers to reload their state
(`resync`), since notifications sent meanwhile are lost.

A subscriber hears every event of its center, or only those of some categories (an event
names its category, a transfer the target's too), optionally filtered further: a
resident's phone is not woken by the traffic of the other categories. The hub numbers the
events of each category (`sequence`), so that what was read from the database after the
number was taken is known to reflect every event of the category up to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

log = logging.getLogger(__name__)

CHANNEL = "hall_events"
QUEUE_LIMIT = 1000  # a subscriber that falls this far behind is told to resync instead

Accept = Callable[[dict[str, Any]], bool]


@dataclass(eq=False)
class _Subscriber:
    queue: asyncio.Queue[dict[str, Any]]
    accept: Accept | None


def _categories(event: dict[str, Any]) -> list[str]:
    """The categories an event changes: its own, and a transfer's target."""
    found = [c for c in (event.get("category"), event.get("to_category")) if isinstance(c, str)]
    return found if len(found) < 2 or found[0] != found[1] else found[:1]


class EventHub:
    def __init__(self, dsn: str, *, retry_s: float = 1.0) -> None:
        self._dsn = dsn
        self._retry_s = retry_s
        self._everything: dict[str, set[_Subscriber]] = {}  # by center
        self._narrow: dict[tuple[str, str], set[_Subscriber]] = {}  # by (center, category)
        self._ticks = 0  # events that changed a category, and resyncs, so far
        self._changed: dict[tuple[str, str], int] = {}  # (center, category) -> its last tick
        self._lost = 0  # the tick of the last resync
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def sequence(self, center_id: str, category: str) -> int:
        """A number that grows when an event of the category at the center arrives, or
        events may have been lost (a resync): a value read before the database was, and
        still the same, means no event of the category has arrived since."""
        return max(self._changed.get((center_id, category), 0), self._lost)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="hall-events")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._dsn, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    if not self.connected.is_set():
                        self.connected.set()
                    else:
                        self._broadcast_all({"kind": "resync"})
                    async for note in conn.notifies():
                        self._dispatch(note.payload)
            except asyncio.CancelledError:
                raise
            except psycopg.Error as exc:
                log.warning("live events: lost the database (%s); reconnecting",
                            type(exc).__name__)
                self._broadcast_all({"kind": "resync"})
                await asyncio.sleep(self._retry_s)

    def _dispatch(self, payload: str) -> None:
        try:
            event = json.loads(payload)
        except ValueError:
            return
        center = event.get("center") if isinstance(event, dict) else None
        if not isinstance(center, str):
            return
        if event.get("kind") == "resync":  # the center's events were lost: every subscriber
            self._resync([*self._everything.get(center, ()), *(
                sub for (c, _), subs in self._narrow.items() if c == center for sub in subs)],
                event)
            return
        categories = _categories(event)
        if categories:
            self._ticks += 1
            for category in categories:
                self._changed[(center, category)] = self._ticks
        for sub in self._everything.get(center, ()):
            self._offer(sub, event)
        narrow: Iterable[_Subscriber] = ()
        if len(categories) == 1:
            narrow = self._narrow.get((center, categories[0]), ())
        elif categories:  # a transfer: a subscriber of both categories hears it once
            narrow = set().union(*(self._narrow.get((center, c), ()) for c in categories))
        for sub in narrow:
            self._offer(sub, event)

    def _offer(self, sub: _Subscriber, event: dict[str, Any]) -> None:
        if sub.accept is None or sub.accept(event):
            self._put(sub.queue, event)

    def _broadcast_all(self, event: dict[str, Any]) -> None:
        self._resync(set().union(*self._everything.values(), *self._narrow.values()), event)

    def _resync(self, subs: Iterable[_Subscriber], event: dict[str, Any]) -> None:
        self._ticks += 1
        self._lost = self._ticks
        for sub in set(subs):
            self._put(sub.queue, event)

    @staticmethod
    def _put(queue: asyncio.Queue[dict[str, Any]], event: dict[str, Any]) -> None:
        try:
            queue.put_nowait(event)
        except asyncio.QueueFull:
            with contextlib.suppress(asyncio.QueueEmpty):
                while True:
                    queue.get_nowait()
            queue.put_nowait({"kind": "resync"})

    @contextlib.asynccontextmanager
    async def subscribe(self, center_id: str, *, categories: Iterable[str] | None = None,
                        accept: Accept | None = None,
                        ) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """The center's events as they arrive; with `categories`, only the events that
        change one of them; with `accept`, only those it returns True for (it runs in the
        hub's dispatch, once per event, and must not block). A `resync` always arrives."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        sub = _Subscriber(queue, accept)
        keys: list[tuple[str, str]] = (
            [] if categories is None else [(center_id, c) for c in set(categories)])
        if categories is None:
            self._everything.setdefault(center_id, set()).add(sub)
        for key in keys:
            self._narrow.setdefault(key, set()).add(sub)
        try:
            yield queue
        finally:
            if categories is None:
                self._drop(self._everything, center_id, sub)
            for key in keys:
                self._drop(self._narrow, key, sub)

    @staticmethod
    def _drop(index: dict[Any, set[_Subscriber]], key: Any, sub: _Subscriber) -> None:
        subs = index.get(key)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del index[key]
