"""Live events: PostgreSQL LISTEN/NOTIFY fanned out to this process's subscribers.

Every state change notifies `hall_events` in its own transaction, so an event goes out only
if the change committed, and every server process (uvicorn workers, other hosts) hears every
change, whichever process made it. Each process holds one listening connection; when it
drops (PostgreSQL restarted) the hub reconnects and tells subscribers to reload their state
(`resync`), since notifications sent meanwhile are lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import psycopg

log = logging.getLogger(__name__)

CHANNEL = "hall_events"
QUEUE_LIMIT = 1000  # a subscriber that falls this far behind is told to resync instead


class EventHub:
    def __init__(self, dsn: str, *, retry_s: float = 1.0) -> None:
        self._dsn = dsn
        self._retry_s = retry_s
        self._subscribers: set[tuple[str, asyncio.Queue[dict[str, Any]]]] = set()
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

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
        center = event.get("center")
        for sub_center, queue in list(self._subscribers):
            if sub_center == center:
                self._put(queue, event)

    def _broadcast_all(self, event: dict[str, Any]) -> None:
        for _, queue in list(self._subscribers):
            self._put(queue, event)

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
    async def subscribe(self, center_id: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        entry = (center_id, queue)
        self._subscribers.add(entry)
        try:
            yield queue
        finally:
            self._subscribers.discard(entry)
