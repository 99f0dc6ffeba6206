"""Live events as server-sent events (`text/event-stream`): boards, counters and consoles
hear every change of their center; a kiosk hears only what concerns itself (its help
calls being acknowledged, its faults), never the queue's traffic.

Each event is `event: <kind>` and `data: <json>`, the JSON being what the change notified
(without the center, which is the listener's own). A `resync` event means events may have
been missed (the hub lost the database, or this client fell too far behind): reload the
state. A comment line comes first, once the subscription is in place, and then every
HEARTBEAT_S seconds of silence, so that proxies keep the connection open and a client that
went away is found out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from kiosk.hall.api.deps import allow
from kiosk.hall.auth import Principal, Role
from kiosk.hall.events import EventHub

router = APIRouter(prefix="/v1", tags=["events"])

HEARTBEAT_S = 15.0
RETRY_MS = 3000  # how soon a browser's EventSource reconnects after losing the stream

Listener = Annotated[Principal, Depends(allow(Role.KIOSK, Role.BOARD, Role.COUNTER,
                                              Role.CLERK, Role.SUPERVISOR))]


def visible(who: Principal, event: dict[str, Any]) -> bool:
    if event.get("kind") == "resync":
        return True
    if who.role is Role.KIOSK:
        return who.device_id is not None and event.get("device") == str(who.device_id)
    return True


# What a screen in the hall (a board, a counter's display) must not learn: a ticket id is the
# capability that opens the ticket's page on the resident's phone, and a device id names a
# kiosk's credential row. Staff consoles and counters operated by a clerk get them.
_PUBLIC_SCREENS = (Role.BOARD, Role.COUNTER)
_CAPABILITIES = ("ticket", "to_ticket", "device", "call")
_FRAMES = "_frames"  # not a key any notify() sends: db.notify's data is the hall's own


def frame(event: dict[str, Any], who: Principal | None = None) -> str:
    public = who is not None and who.role in _PUBLIC_SCREENS
    # The hub hands one dict to every subscriber: its text is made once per audience and
    # kept with it, not once per board (fifty boards, hundreds of events a second).
    cached = event.get(_FRAMES, {}).get(public)
    if cached is not None:
        return str(cached)
    kind = str(event.get("kind", "message"))
    hidden = ("center", "kind", _FRAMES) + (_CAPABILITIES if public else ())
    data = {k: v for k, v in event.items() if k not in hidden}
    # json.dumps writes no raw newline, which would end the data line early.
    text = f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
    event.setdefault(_FRAMES, {})[public] = text
    return text


async def _events(request: Request, hub: EventHub, who: Principal) -> AsyncIterator[str]:
    async with hub.subscribe(who.center_id) as queue:
        # "subscribed" promises every event from now on, which needs the hub's LISTEN in
        # place (a server just started may not have it yet).
        while not hub.connected.is_set():
            try:
                await asyncio.wait_for(hub.connected.wait(), HEARTBEAT_S)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield ": ping\n\n"
        yield f"retry: {RETRY_MS}\n: subscribed\n\n"
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield ": ping\n\n"
                continue
            if visible(who, event):
                yield frame(event, who)


@router.get("/stream", response_class=StreamingResponse, responses={200: {
    "description": "Server-sent events, one per change of the caller's center",
    "content": {"text/event-stream": {}}}})
async def stream(request: Request, who: Listener) -> StreamingResponse:
    hub: EventHub = request.app.state.events
    return StreamingResponse(
        _events(request, hub, who), media_type="text/event-stream",
        # No caching and no proxy buffering (nginx holds responses back otherwise).
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
