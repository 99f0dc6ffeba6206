"""The resident's phone: a ticket's page and an application's timeline, read with no
credential at all. The unguessable id in the QR code's address (a ticket id, an
application's public id) is the capability; the replies carry no personal data beyond a
masked surname (store/public.py).

The ticket's live stream is the hall's event stream narrowed to one ticket: its own
changes are read and sent at once; its category's traffic (tickets issued, called,
finished) moves its place in the queue, which every phone of the category takes from one
reading of the queue (PhoneQueues), at most once per COALESCE_S however busy the category
and however many phones follow it. The other categories' events never wake the phone
(the hub hands it only its category's). A view is sent when it changed, so a phone's data
plan pays for what it shows, and the page never learns of other residents' tickets.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import json
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.types import Receive, Scope, Send

from kiosk.backend.interface import (
    RATING_LEVELS,
    RATING_REASONS,
    ApplicationStatus,
    reasons_for_level,
)
from kiosk.common import resources
from kiosk.domain.text import Bilingual
from kiosk.hall.api.deps import HallError, Key, claim_key, now, pool, read_pool, settings
from kiosk.hall.api.pages import PUBLIC_ID, TICKET_ID
from kiosk.hall.api.stream import HEARTBEAT_S, RETRY_MS
from kiosk.hall.events import EventHub
from kiosk.hall.store import calls, idempotency, tickets
from kiosk.hall.store import public as store

router = APIRouter(prefix="/v1/public", tags=["public"])

COALESCE_S = 0.5
"""At most one reading of a category's queue per this many seconds for its traffic: a busy
category has several events a second, each of which may change every waiting phone's
"ahead", and a reading (every waiting ticket in fairness order) is the costly part. The
ticket's own changes (its call) are not held back. A reading is used for this long of the
hall's time at most, as the queue moves with time too."""

STREAMS_PER_TICKET = 4
"""Live streams one ticket may hold at once, in one server process. A phone's page holds
one; a resident may also open the link on a relative's phone, or scan the paper again in an
app that keeps the earlier page alive. Past this a stream is refused (429) and that page
reads the ticket every BUSY_RETRY_S instead, so a client that opens streams without end for
its ticket cannot take the server's connections from everyone else."""

BUSY_RETRY_S = 15
"""Seconds a page refused a stream waits before it reads the ticket and asks again."""

TicketId = Annotated[str, Path(pattern=TICKET_ID)]
PublicId = Annotated[str, Path(pattern=PUBLIC_ID)]

class RatingState(BaseModel):
    allowed: bool  # finished and not rated yet: the page offers the form
    given: bool


class PublicTicketOut(BaseModel):
    ticket_id: str
    number: str
    category: str
    category_title: Bilingual
    state: Literal["waiting", "called", "finished", "no_show", "withdrawn", "transferred"]
    priority: bool
    ahead: int | None  # waiting today: tickets to be called before it; else None
    estimated_wait_min: int | None
    counter: int | None  # the counter that called it
    counter_name: Bilingual | None
    called_at: dt.datetime | None
    issued_at: dt.datetime
    return_until: dt.datetime | None  # no_show: the last moment it may rejoin the queue
    now_ticket_id: str | None  # transferred: the resident's ticket now
    masked_surname: str | None  # "张*", or None for a ticket without a resident
    center_name: Bilingual
    rating: RatingState
    at: dt.datetime  # the hall's time of this view


class PublicRatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: int = Field(ge=1, le=5)
    reasons: list[str] = Field(default_factory=list, max_length=2 * len(RATING_REASONS))

    @field_validator("reasons")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in RATING_REASONS]
        if unknown:
            raise ValueError(f"reasons are among {', '.join(RATING_REASONS)}")
        return list(dict.fromkeys(value))  # a double tap on a tag counts once


class Recorded(BaseModel):
    recorded: bool = True


class LevelChoice(BaseModel):
    level: int
    title: Bilingual
    reasons: list[str]  # the reason ids that suit this level, in display order


class ReasonChoice(BaseModel):
    id: str
    title: Bilingual


class RatingChoices(BaseModel):
    levels: list[LevelChoice]  # best first, as the kiosk shows them
    reasons: list[ReasonChoice]


class TimelineEntry(BaseModel):
    status: ApplicationStatus
    status_title: Bilingual
    at: dt.datetime
    note: str


class PublicApplicationOut(BaseModel):
    reference: str  # 办件编号, for a counter or a phone call
    bundle_id: str
    bundle_title: Bilingual
    center_name: Bilingual | None
    submitted_at: dt.datetime
    processing_days: int  # working days until the result is expected
    status: ApplicationStatus
    status_title: Bilingual
    timeline: list[TimelineEntry]  # oldest first; the last one is `status`
    at: dt.datetime


def _unknown_ticket() -> HallError:
    return HallError(404, "unknown_ticket", "没有查到这个号，请核对二维码或到取号机重新取号。",
                     "No such ticket: check the QR code, or take a new number at a kiosk.")


def _unknown_application() -> HallError:
    return HallError(404, "unknown_application", "没有查到这个办件。",
                     "No application with this reference.")


def _view(request: Request, ticket_id: str) -> store.TicketView | None:
    with read_pool(request).connection() as conn:
        return store.ticket_view(conn, settings(request).rules, ticket_id, now(request))


def _wire(view: dict[str, Any]) -> dict[str, Any]:
    """A view's body as the GET answers it, which the stream sends as is."""
    return PublicTicketOut.model_validate(view).model_dump(mode="json")


@router.get("/tickets/{ticket_id}", response_model=PublicTicketOut)
def ticket(request: Request, ticket_id: TicketId) -> dict[str, Any]:
    view = _view(request, ticket_id)
    if view is None:
        raise _unknown_ticket()
    return _wire(view.body)


def _frame(body: dict[str, Any]) -> str:
    return f"event: ticket\ndata: {json.dumps(body, ensure_ascii=False)}\n\n"


def _unchanged(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {**a, "at": None} == {**b, "at": None}


# ------------------------------------------------------------------- the phones' queues

def _category_queue(request: Request, center_id: str, category: str) -> tickets.Queue:
    """A category's queue read for the phones following it (in a worker thread)."""
    at = now(request)
    center = settings(request).rules.center(center_id)
    with read_pool(request).connection() as conn:
        return tickets.category_queue(conn, center, category, calls.today(at), at)


def _phone_view(request: Request, ticket_id: str,
                queue: tickets.Queue | None) -> store.TicketView | None:
    """The ticket's view read afresh, its place from `queue` when that holds it (in a
    worker thread)."""
    with read_pool(request).connection() as conn:
        return store.ticket_view(conn, settings(request).rules, ticket_id, now(request),
                                 queue)


@dataclass(eq=False)
class _Shared:
    queue: tickets.Queue | None = None
    sequence: int = -1  # the hub's sequence number of the category before it was read
    started: float = -math.inf  # when the last reading began, loop time
    reading: asyncio.Task[None] | None = None


class PhoneQueues:
    """The queues of the categories that phones follow, in this server process: each is
    read once for every phone of its category, when an event of the category arrived
    since the last reading (the hub's sequence number moved), and for the category's
    traffic at most once per COALESCE_S (the phones wait for the same moment). The
    reading is tickets.category_queue, whose positions are the kiosk's (tickets.position),
    so phone and paper agree."""

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub
        self._shared: dict[tuple[str, str], _Shared] = {}

    def _entry(self, center_id: str, category: str) -> _Shared:
        return self._shared.setdefault((center_id, category), _Shared())

    def cached(self, center_id: str, category: str, sequence: int,
               at: dt.datetime) -> tickets.Queue | None:
        """The queue read last, if it was read after the event numbered `sequence`, today,
        and less than COALESCE_S before `at` of the hall's time (time moves a queue too:
        ordinary tickets come due, measured service times age)."""
        entry = self._shared.get((center_id, category))
        queue = None if entry is None or entry.sequence < sequence else entry.queue
        if queue is None or queue.day != calls.today(at):
            return None
        return queue if abs((at - queue.at).total_seconds()) <= COALESCE_S else None

    def next_reading(self, center_id: str, category: str) -> float:
        """The earliest moment (loop time) the category's traffic has its queue read again."""
        entry = self._shared.get((center_id, category))
        return -math.inf if entry is None else entry.started + COALESCE_S

    def _offer(self, entry: _Shared, sequence: int, queue: tickets.Queue) -> None:
        if sequence >= entry.sequence:
            entry.queue, entry.sequence = queue, sequence

    async def current(self, request: Request, center_id: str, category: str,
                      sequence: int) -> tickets.Queue:
        """The queue as read after the event numbered `sequence`: the last reading, or one
        begun now, shared with every phone asking meanwhile."""
        found = self.cached(center_id, category, sequence, now(request))
        if found is not None:
            return found
        entry = self._entry(center_id, category)
        while True:
            if entry.reading is None:
                entry.reading = asyncio.create_task(
                    self._read(request, entry, center_id, category))
                # A reading whose askers all went away still has its failure retrieved.
                entry.reading.add_done_callback(
                    lambda t: None if t.cancelled() else t.exception())
            # Shielded: a phone that hangs up does not cancel the others' reading.
            await asyncio.shield(entry.reading)
            # A reading this one joined may have begun before the event it asks about.
            if entry.queue is not None and entry.sequence >= sequence:
                return entry.queue

    async def _read(self, request: Request, entry: _Shared, center_id: str,
                    category: str) -> None:
        try:
            sequence = self.hub.sequence(center_id, category)
            entry.started = asyncio.get_running_loop().time()
            queue = await run_in_threadpool(_category_queue, request, center_id, category)
            self._offer(entry, sequence, queue)
        finally:
            entry.reading = None

    async def view(self, request: Request, ticket_id: str, center_id: str, category: str,
                   *, share: bool) -> store.TicketView | None:
        """The ticket's view read afresh, as of now. Its place is from the category's last
        reading when that is recent enough and holds the ticket; else, with `share`, from
        a reading shared with the other phones asking (all of them, after a resync), and
        otherwise from one read with the ticket (a phone opening, a ticket's own change:
        not kept waiting for anyone else's), which the others may then use."""
        sequence = self.hub.sequence(center_id, category)
        queue = self.cached(center_id, category, sequence, now(request))
        if queue is None and share:
            queue = await self.current(request, center_id, category, sequence)
        started = asyncio.get_running_loop().time()
        view = await run_in_threadpool(_phone_view, request, ticket_id, queue)
        if view is not None and view.queue is not None:
            entry = self._entry(center_id, category)
            entry.started = max(entry.started, started)
            self._offer(entry, sequence, view.queue)
        return view


def _phone_queues(request: Request) -> PhoneQueues:
    state = request.app.state
    found: PhoneQueues | None = getattr(state, "phone_queues", None)
    if found is None:
        found = state.phone_queues = PhoneQueues(state.events)
    return found


class _Follower:
    """What one phone needs of its category's events, decided in the hub as they arrive:
    every change of the ticket itself, and of the category's traffic only the first since
    the phone last looked at the queue (the reading it looks at then answers for every
    event before it); none while the ticket has no place in the queue (called, a no-show),
    which only a change of its own gives it back."""

    def __init__(self, ticket_id: str) -> None:
        self.ticket_id = ticket_id
        self.queued = True  # the last view had a place in the queue
        self.told = False  # traffic was passed on since the phone last looked

    def accept(self, event: dict[str, Any]) -> bool:
        if store.about_itself(event, self.ticket_id):
            return True
        if self.told or not self.queued:
            return False
        self.told = True
        return True


async def _next_event(events: asyncio.Queue[dict[str, Any]],
                      deadline: float) -> dict[str, Any] | None:
    """The next event, or None at `deadline` (loop time)."""
    with contextlib.suppress(asyncio.QueueEmpty):
        return events.get_nowait()
    if deadline <= asyncio.get_running_loop().time():
        return None
    try:
        async with asyncio.timeout_at(deadline):
            return await events.get()
    except TimeoutError:
        return None


async def _ticket_events(request: Request, hub: EventHub, ticket_id: str,
                         center_id: str, category: str) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    queues = _phone_queues(request)
    me = _Follower(ticket_id)
    async with hub.subscribe(center_id, categories=(category,), accept=me.accept) as events:
        while not hub.connected.is_set():
            try:
                async with asyncio.timeout(HEARTBEAT_S):
                    await hub.connected.wait()
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield ": ping\n\n"
        yield f"retry: {RETRY_MS}\n: subscribed\n\n"
        # The view as of the subscription: every change after it arrives as an event. Read
        # in one go with the queue when the last reading will not do (a phone opens on a
        # ticket just issued, which that reading does not hold).
        view = await queues.view(request, ticket_id, center_id, category, share=False)
        if view is None:
            return
        shown = view.body  # the last view sent
        yield _frame(_wire(shown))
        last_out = loop.time()
        look: float | None = None  # when the category's traffic has the queue looked at
        while not view.final:
            me.queued = shown["ahead"] is not None
            # The heartbeat counts from the last line sent, so a phone whose category is
            # busy but whose view does not change still pings.
            deadline = last_out + HEARTBEAT_S
            event = await _next_event(events, deadline if look is None else min(look, deadline))
            forced = event is not None and event.get("kind") == "resync"
            itself = event is not None and store.about_itself(event, ticket_id)
            if event is not None and not (forced or itself) and look is None:
                # The phones of the category look at the same moment, and share a reading.
                look = max(loop.time(), queues.next_reading(center_id, category))
            if forced or itself:
                # The ticket's own change (its call above all) is answered at once: it is
                # what the resident waits for (docs/PERFORMANCE.md, phones).
                # Until this view says otherwise the ticket may have a place, and the
                # traffic during its reading must not be lost.
                look, me.told, me.queued = None, False, True
                view = await queues.view(request, ticket_id, center_id, category,
                                         share=forced)
                if view is None:
                    return
                new = view.body
            elif look is not None and loop.time() >= look:
                look, me.told = None, False
                if shown["ahead"] is None:  # no place to move (traffic during a reading)
                    continue
                sequence = hub.sequence(center_id, category)
                queue = await queues.current(request, center_id, category, sequence)
                if ticket_id in queue:
                    new = store.placed(shown, queue, now(request))
                else:  # called meanwhile: its own event is on its way, or was read first
                    view = await queues.view(request, ticket_id, center_id, category,
                                             share=False)
                    if view is None:
                        return
                    new = view.body
            elif loop.time() >= last_out + HEARTBEAT_S:
                if await request.is_disconnected():
                    return
                last_out = loop.time()
                yield ": ping\n\n"
                continue
            else:
                continue
            if forced or not _unchanged(new, shown):
                shown, last_out = new, loop.time()
                yield _frame(_wire(new))


@router.get("/tickets/{ticket_id}/stream", response_class=StreamingResponse, responses={200: {
    "description": "Server-sent events: `event: ticket` with the GET's body, first at once "
                   "and then whenever it changed; ends once the ticket is final",
    "content": {"text/event-stream": {}}},
    429: {"description": "The ticket holds STREAMS_PER_TICKET streams already: read it with "
                         "the GET every `retry_after_s` seconds, then ask again"}})
async def ticket_stream(request: Request, ticket_id: TicketId) -> StreamingResponse:
    place = await run_in_threadpool(_place, request, ticket_id)
    if place is None:
        raise _unknown_ticket()
    # Counted here, on the event loop (no await between the test and the count), and
    # given back by the response however it ends.
    held = _open_streams(request)
    if held[ticket_id] >= STREAMS_PER_TICKET:
        raise HallError(
            429, "too_many_streams",
            f"这个号码已在多个页面实时更新，本页每 {BUSY_RETRY_S} 秒刷新一次。",
            f"This number is followed live on several pages already; this page refreshes"
            f" every {BUSY_RETRY_S} seconds.", retry_after_s=BUSY_RETRY_S)
    held[ticket_id] += 1

    def release() -> None:
        held[ticket_id] -= 1
        if held[ticket_id] <= 0:
            del held[ticket_id]

    hub: EventHub = request.app.state.events
    return _HeldStream(
        _ticket_events(request, hub, ticket_id, *place), release,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _open_streams(request: Request) -> collections.Counter[str]:
    """The live streams of each ticket, in this process."""
    state = request.app.state
    found: collections.Counter[str] | None = getattr(state, "ticket_streams", None)
    if found is None:
        found = state.ticket_streams = collections.Counter()
    return found


class _HeldStream(StreamingResponse):
    """A stream that gives its ticket's place back however the response ends: sent to the
    end, the phone gone, the server stopping, or never started at all (a generator that
    never ran has no `finally` to do it)."""

    def __init__(self, content: AsyncIterator[str], release: Callable[[], None],
                 **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _place(request: Request, ticket_id: str) -> tuple[str, str] | None:
    with read_pool(request).connection() as conn:
        return store.ticket_place(conn, settings(request).rules, ticket_id)


@router.post("/tickets/{ticket_id}/rating", response_model=Recorded)
def rate(request: Request, ticket_id: TicketId, body: PublicRatingIn,
         key: Key) -> dict[str, Any]:
    """The 好差评 of the visit, once the ticket is finished, once. The keys of a phone
    are kept under its ticket (nobody else holds them): a retry after a lost answer gets
    the first one."""
    with pool(request).connection() as conn:
        if conn.execute("SELECT 1 FROM ticket WHERE id = %s", (ticket_id,)).fetchone() is None:
            raise _unknown_ticket()
        claim = claim_key(conn, f"public:{ticket_id}", key, "public.rating",
                          body.model_dump())
        if not claim.first:
            assert claim.response is not None
            return claim.response
        try:
            store.rate_ticket(conn, ticket_id, body.level, body.reasons, now(request))
        except store.NotFinished:
            raise HallError(409, "not_finished", "办理完成后才能评价。",
                            "You can rate the service once it is finished.") from None
        except store.AlreadyRated:
            raise HallError(409, "already_rated", "您已经评价过了，感谢您的反馈。",
                            "This has been rated already. Thank you.") from None
        reply = {"recorded": True}
        idempotency.finish(conn, f"public:{ticket_id}", key, reply)
        return reply


@router.get("/rating-choices", response_model=RatingChoices)
def rating_choices() -> dict[str, Any]:
    """The 好差评 levels and reasons as the kiosk names them, and which reasons suit each
    level: the phone's form shows the hall's own vocabulary."""
    return {
        "levels": [{"level": level, "title": title.model_dump(),
                    "reasons": reasons_for_level(level)}
                   for level, title in sorted(RATING_LEVELS.items(), reverse=True)],
        "reasons": [{"id": r, "title": title.model_dump()}
                    for r, title in RATING_REASONS.items()],
    }


@lru_cache(maxsize=1)
def bundle_titles() -> dict[str, dict[str, str]]:
    """Bundle id -> title, from the bundle files the hall ships with (the hall stores only
    the id a kiosk filed)."""
    from kiosk.domain.bundles import load_bundles

    found = load_bundles(resources.default("bundles"), None)
    return {b.id: b.title.model_dump() for b in found.bundles}


@router.get("/applications/{public_id}", response_model=PublicApplicationOut)
def application(request: Request, public_id: PublicId) -> dict[str, Any]:
    titles = bundle_titles()
    with read_pool(request).connection() as conn:
        found = store.application_view(conn, settings(request).rules, public_id,
                                       now(request), titles)
    if found is None:
        raise _unknown_application()
    return found
